"""The syntax a formula may use: text -> a checked Python AST, without SymPy.

``FormulaReader(text, variables, what)`` reads the text with Python's ``ast`` parser and holds
it to the whitelist: int and float literals, names, ``+ - * / **``, unary ``-``/``+``, and calls,
with positional arguments only and the right number of them, to the functions of
``grammar.FUNCTION_ARITY``; names are ASCII identifiers not starting with ``__``.  It checks the
text's length, the number of AST nodes, their depth and how deeply calls nest (``MAX_*`` of
``symbprop.spec.grammar``).  Everything else fails through ``fail``: a ``FormulaError`` of one
line that quotes the formula, says what is wrong and what is allowed.

``parse()`` returns the root of the checked tree; the SymPy builder
(``symbprop.spec.formula``) subclasses the reader, calls ``check_name`` and ``check_call`` as it
visits names and calls, and reports its own limits through ``fail``.
"""

from __future__ import annotations

import ast
from collections.abc import Collection
from typing import NoReturn

from symbprop.errors import FormulaError
from symbprop.spec.grammar import (
    CONSTANT_NAMES,
    FUNCTION_ARITY,
    MAX_DEPTH,
    MAX_FUNCTION_DEPTH,
    MAX_LENGTH,
    MAX_NODES,
)

_LEAVES = (ast.expr_context, ast.operator, ast.unaryop, ast.cmpop, ast.boolop)
# fmt: off
_REFUSED = {
    ast.Subscript: "a subscript (x[...])", ast.Slice: "a slice", ast.Lambda: "a lambda",
    ast.ListComp: "a comprehension", ast.SetComp: "a comprehension",
    ast.DictComp: "a comprehension", ast.GeneratorExp: "a comprehension", ast.List: "a list",
    ast.Tuple: "a tuple", ast.Set: "a set", ast.Dict: "a dict",
    ast.Compare: "a comparison (<, ==, ...)", ast.BoolOp: "the boolean operator and/or",
    ast.IfExp: "a conditional expression (... if ... else ...)", ast.JoinedStr: "an f-string",
    ast.FormattedValue: "an f-string", ast.NamedExpr: "an assignment (:=)",
    ast.Starred: "a starred argument (*...)", ast.Await: "await", ast.Yield: "yield",
    ast.YieldFrom: "yield", ast.FloorDiv: "floor division (//)", ast.Mod: "the remainder (%)",
    ast.MatMult: "the matrix product (@)", ast.BitXor: "the operator ^ (write powers as **)",
    ast.BitAnd: "the bitwise operator &", ast.BitOr: "the bitwise operator |",
    ast.LShift: "the shift <<", ast.RShift: "the shift >>", ast.Not: "the operator not",
    ast.Invert: "the bitwise operator ~", str: "a text string", bytes: "a byte string",
    complex: "a complex number (1j)", bool: "True or False", type(None): "None",
    type(...): "the ellipsis (...)",
}
# fmt: on


def shorten(text: str, limit: int) -> str:
    """``text`` on one printable line of at most ``limit`` characters (for messages)."""
    text = "".join(ch if ch.isprintable() else "?" for ch in " ".join(text.split()))
    return text if len(text) <= limit else text[: limit - 3] + "..."


class FormulaReader:
    """The checks of one formula's syntax (see the module docstring).  ``variables``: the names
    it may use (None: any name, collected by the builder)."""

    def __init__(self, text: str, variables: Collection[str] | None, what: str):
        self.text, self.variables, self.what = text, variables, what

    def fail(self, problem: str, allowed: str | None = None) -> NoReturn:
        if allowed is None:
            if self.variables is None:
                names = "variables, "
            else:
                names = ", ".join(sorted(set(self.variables) - set(FUNCTION_ARITY)
                                         - set(CONSTANT_NAMES)))
                names = f"the variables {names}, " if names else ""
            allowed = (f"a formula may use numbers, {names}the constants pi and e, + - * / ** "
                       f"and the functions {', '.join(FUNCTION_ARITY)}")
        raise FormulaError(f'{self.what} "{shorten(str(self.text), 60)}": {problem}; {allowed}')

    def parse(self) -> ast.expr:
        """The root of the formula's AST, its size checked; nodes are checked as visited."""
        text = self.text
        if not isinstance(text, str):
            self.fail(f"is not text but {type(text).__name__}", "a formula is text")
        if len(text) > MAX_LENGTH:
            self.fail(f"is {len(text)} characters long", f"the limit is {MAX_LENGTH} characters")
        if not text.strip():
            self.fail("is empty")
        try:
            tree = ast.parse(text.strip(), mode="eval")
        except (SyntaxError, ValueError) as err:  # ValueError: null bytes, on Python < 3.12
            self.fail(f"is not a valid formula ({getattr(err, 'msg', err)})")
        except (RecursionError, MemoryError):  # the parser's own limits on pathological input
            self.fail("is nested too deeply", f"the limit is {MAX_DEPTH} levels")
        self.check_size(tree.body)
        return tree.body

    def check_size(self, root: ast.AST) -> None:
        stack, count = [(root, 1, 0)], 0
        while stack:
            node, depth, calls = stack.pop()
            count += 1
            calls += isinstance(node, ast.Call)
            if calls > MAX_FUNCTION_DEPTH:
                self.fail("nests functions too deeply", f"the limit is {MAX_FUNCTION_DEPTH} "
                          "levels of functions inside one another, such as "
                          "exp(tanh(tanh(sin(cos(x)))))")
            if count > MAX_NODES:
                self.fail(f"has more than {MAX_NODES} parts",
                          "parts are numbers, names, operators and calls")
            if depth > MAX_DEPTH:
                self.fail("is nested too deeply", f"the limit is {MAX_DEPTH} levels")
            children = ast.iter_child_nodes(node)
            stack += [(child, depth + 1, calls) for child in children
                      if not isinstance(child, _LEAVES)]

    def refuse(self, kind: type) -> NoReturn:
        self.fail(f"{_REFUSED.get(kind, f'a {kind.__name__} expression')} is not allowed")

    def visit_Attribute(self, node: ast.Attribute) -> NoReturn:
        self.fail(f'attribute access (".{shorten(node.attr, 20)}") is not allowed')

    def check_name(self, name: str) -> str:
        # an ASCII identifier is exactly [A-Za-z_][A-Za-z0-9_]*
        if not (name.isascii() and name.isidentifier()) or name.startswith("__"):
            allowed = 'names use A-Z, a-z, 0-9 and _ and do not start with "__"'
            self.fail(f'the name "{shorten(name, 20)}" is not allowed', allowed)
        return name

    def check_call(self, node: ast.Call) -> tuple[str, int]:
        """The function's name and the most arguments it takes, for a call the whitelist
        allows: a listed function, positional arguments only, as many as it takes."""
        name = self.check_callee(node.func)
        for keyword in node.keywords:
            shown = f"{keyword.arg}=..." if keyword.arg else "**..."
            self.fail(f"a keyword argument ({shown}) is not allowed")
        if any(isinstance(arg, ast.Starred) for arg in node.args):
            self.refuse(ast.Starred)
        arity = FUNCTION_ARITY[name]
        low, _, high = arity.partition(" to ")
        low, high = int(low), int(high or low)
        if not low <= len(node.args) <= high:
            self.fail(f"{name} takes {arity} argument{'s' * (high > 1)}, not {len(node.args)}",
                      f"call it like {name}({', '.join('xy'[:low])}{', ...' * (high > low)})")
        return name, high

    def check_callee(self, func: ast.expr) -> str:
        if isinstance(func, ast.Attribute):
            self.visit_Attribute(func)
        if not isinstance(func, ast.Name):
            self.fail("only the listed functions can be called")
        name = self.check_name(func.id)
        if name not in FUNCTION_ARITY:
            known = name in CONSTANT_NAMES or name in (self.variables or ())
            self.fail(f'"{name}" is not a function' if known else f'unknown function "{name}"')
        return name
