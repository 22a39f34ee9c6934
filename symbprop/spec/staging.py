"""Stage an expression into a computational graph with one operation per node (seed 003).

``(x + y)*z`` becomes ``t1 = x + y; f = t1*z``; ``exp(1/x)`` becomes ``t1 = 1/x; f = exp(t1)``.
A repeated sub-expression becomes one node used twice.  Node names are ``t1, t2, ...`` in
evaluation order (skipping names already taken); the last node is named ``output``.
"""

from __future__ import annotations

import itertools

import sympy


def stage(expr: sympy.Expr, output: str, taken: set[str]) -> tuple[tuple[str, sympy.Expr], ...]:
    """The nodes (name, one-operation expression), in evaluation order, ending with ``output``."""
    names = (f"t{i}" for i in itertools.count(1))
    nodes: list[tuple[str, sympy.Expr]] = []
    staged: dict[sympy.Expr, sympy.Symbol] = {}

    def visit(node: sympy.Expr) -> sympy.Expr:
        if not _is_operation(node):
            return node
        if node in staged:
            return staged[node]
        operation = node.func(*(visit(arg) for arg in node.args))
        symbol = sympy.Symbol(_fresh(names, taken | {output}))
        staged[node] = symbol
        nodes.append((symbol.name, operation))
        return symbol

    top = expr.func(*(visit(arg) for arg in expr.args)) if _is_operation(expr) else expr
    nodes.append((output, top))
    return tuple(nodes)


def _is_operation(node: sympy.Expr) -> bool:
    """Anything with arguments is an operation; a negated or scaled operand is folded in."""
    return bool(node.args) and not node.is_Number and not isinstance(node, sympy.NumberSymbol)


def _fresh(names, taken: set[str]) -> str:
    for name in names:
        if name not in taken:
            return name
    raise AssertionError("unreachable: the name generator is infinite")
