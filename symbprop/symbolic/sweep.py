"""The reverse sweep: adjoints of every variable of the IR, by the chain rule.

For each equation ``out = expr``, taken from the last to the first, and each variable ``v`` that
``expr`` uses, the sweep adds ``Σ_out-indices  upstream(out) · ∂out/∂v`` to the adjoint of ``v``
(``upstream`` is the adjoint of ``out``; the sum is the chain rule over every element that ``v``
feeds).  On a network's index-form IR this *derives* the four fundamental equations: the adjoint
of ``z^l`` is δ^l (BP1, BP2), of ``b^l`` is δ^l (BP3), of ``W^l`` is δ^l (a^{l-1})ᵀ (BP4).

Adjoints of ``z^l`` (networks) and of graph nodes are kept as named symbols (δ^l_j, ∂f/∂q), so
nothing is expanded; adjoints of ``a^l`` are used once and inlined.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import sympy
from sympy import Idx, Indexed, IndexedBase, Sum

from symbprop.spec.formula import degree_bound
from symbprop.symbolic.indexing import (
    IndexFactory,
    bound_indices,
    rename,
    rename_indices,
    sum_over,
)
from symbprop.symbolic.ir import Program
from symbprop.symbolic.rules import MEMO_SIZE, DerivationError, local_partial, placeholders

#: ``tidy`` cancels only expressions this small: ``sympy.cancel`` expands numerator and
#: denominator, and ``((x+1)**64+1)**64`` expanded is past gigabytes.
MAX_TIDY_OPS = 200
MAX_TIDY_DEGREE = 64
MAX_TIDY_TERMS = 2000


@dataclass(frozen=True)
class Adjoint:
    """∂C/∂v[indices] = expr.  ``symbol`` names it where it is a named intermediate."""

    variable: sympy.Basic  # the IndexedBase or Symbol whose adjoint this is
    indices: tuple[Idx, ...]
    expr: sympy.Expr
    symbol: sympy.Basic | None = None  # IndexedBase (δ^l) or Symbol (∂f/∂q), None if inlined

    def at(self, indices: tuple) -> sympy.Expr:
        """The adjoint (its name when it has one) at other indices of the same ranges."""
        if self.symbol is None:
            return self.expr.xreplace(dict(zip(self.indices, indices, strict=True)))
        return self.symbol[indices] if indices else self.symbol


def adjoint_symbol(program: Program, variable: sympy.Basic,
                   top: str | None = None) -> sympy.Basic | None:
    """The name of a variable's adjoint, or None when it is inlined (a^l, inputs).  A graph
    node q's adjoint is ``d<top>_dq``: ``top`` is the output's name, or the loss L beyond it
    when the sweep is seeded with ∂L/∂output (``reverse_sweep``)."""
    eqn = program.defining(variable)
    if eqn is None or variable == program.output:
        return None
    if eqn.role == "z":
        return IndexedBase(f"delta{eqn.layer}", shape=program.shapes[variable])
    if eqn.role == "node":
        return sympy.Symbol(f"d{top or program.output.name}_d{variable.name}")
    return None


def reverse_sweep(program: Program, seed: sympy.Symbol | None = None,
                  top: str | None = None) -> dict[sympy.Basic, Adjoint]:
    """Adjoint of every variable that the output depends on, in reverse evaluation order.

    The output's adjoint is 1 (∂f/∂f), or ``seed``: a symbol for the gradient ∂L/∂f arriving
    from a loss ``top`` beyond the output (a graph's ``upstream``), so that every adjoint is
    ∂L/∂·, named ``d<top>_d<node>``."""
    fresh = IndexFactory()
    targets: dict[sympy.Basic, sympy.Expr] = {}
    partial: dict[sympy.Basic, sympy.Expr] = {}
    adjoints = {program.output: Adjoint(program.output, (),
                                        sympy.S.One if seed is None else seed)}
    order = {v: i for i, v in enumerate(program.params)}
    order |= {e.base: len(order) + i for i, e in enumerate(program.eqns)}
    for eqn in reversed(program.eqns):
        if eqn.base not in adjoints:
            adjoints[eqn.base] = _finish(program, eqn.base, targets, partial, fresh, top)
        upstream = adjoints[eqn.base].at(eqn.indices)
        for variable in _inputs(eqn.expr, order):
            target = targets.setdefault(variable, _element(variable, program, fresh))
            term = _contribution(upstream, eqn.out, eqn.expr, target, eqn.indices)
            partial[variable] = partial.get(variable, 0) + term
    for variable in program.params:
        adjoints[variable] = _finish(program, variable, targets, partial, fresh, top)
    return adjoints


def _contribution(upstream, out, expr, target, indices) -> sympy.Expr:
    """``Σ_indices upstream · ∂out/∂target``, the chain rule's term for one equation.

    Computed with every name replaced by a placeholder (``rules.placeholders``) and memoized,
    so that the equations of layers of the same shape and activation, which differ only in
    names, are differentiated and summed once; the result is renamed back."""
    renaming, names = placeholders((upstream, out, expr, target, *indices))
    try:
        result = _memoized_contribution(
            *(rename(e, renaming) for e in (upstream, out, expr, target)),
            tuple(renaming[i] for i in indices),
        )
    except DerivationError:  # again with the equation's own names, for the message
        return sum_over(upstream * local_partial(out, expr, target), indices)
    return rename(result, names)


@lru_cache(maxsize=MEMO_SIZE)
def _memoized_contribution(upstream, out, expr, target, indices) -> sympy.Expr:
    return sum_over(upstream * local_partial(out, expr, target), indices)


def _finish(program, variable, targets, partial, fresh, top=None) -> Adjoint:
    target = targets.get(variable, variable)
    indices = tuple(target.indices) if isinstance(target, Indexed) else ()
    expr = tidy(partial.get(variable, sympy.S.Zero), program)
    # Summation indices get fresh names, so that ``Adjoint.at`` can never capture one.
    expr = rename_indices(expr, {b: fresh(int(b.upper) + 1) for b in bound_indices(expr)})
    return Adjoint(variable, indices, expr, adjoint_symbol(program, variable, top))


def _element(variable: sympy.Basic, program: Program, fresh: IndexFactory) -> sympy.Expr:
    shape = program.shapes.get(variable, ())
    if not shape:
        return variable
    return variable[tuple(fresh(size) for size in shape)]


def _inputs(expr: sympy.Expr, order: dict) -> list[sympy.Basic]:
    """The differentiable variables ``expr`` uses (not the data x, y), in program order
    (``order``: parameters, then the defined variables, numbered once per sweep)."""
    used = {i.base for i in expr.atoms(Indexed)} | {
        s for s in expr.free_symbols if not isinstance(s, (Idx, Indexed))
    }
    return sorted((v for v in used if v in order), key=order.__getitem__)


def tidy(expr: sympy.Expr, program: Program) -> sympy.Expr:
    """Light, predictable simplification: Σ_j y_j = 1 where assumed; cancel if it is shorter.
    Only a small expression is cancelled (``_cheap_to_cancel``); a big one stays as it is."""
    if program.targets_sum_to_one:
        expr = expr.replace(_is_target_total, lambda e: sympy.S.One)
    if not expr.has(Sum) and _cheap_to_cancel(expr):  # BCE: (−y/a + (1−y)/(1−a))·a(1−a) -> a − y
        numerator, denominator = sympy.fraction(sympy.cancel(expr))
        if denominator == 1 and sympy.count_ops(numerator) < sympy.count_ops(expr):
            expr = numerator
    return expr


def _is_target_total(e: sympy.Expr) -> bool:
    """Σ_j y[j] over the whole output layer."""
    if not isinstance(e, Sum) or not isinstance(e.function, Indexed):
        return False
    ((idx, lower, upper),) = e.limits
    return e.function.base.label.name == "y" and e.function.indices == (idx,) and lower == 0


def _cheap_to_cancel(expr: sympy.Expr) -> bool:
    """Whether expanding ``expr`` (what ``sympy.cancel`` does) stays small: few operations, a
    low degree and few terms, all bounded before anything is expanded."""
    if sympy.count_ops(expr) > MAX_TIDY_OPS or degree_bound(expr) > MAX_TIDY_DEGREE:
        return False
    return _terms_bound(expr) <= MAX_TIDY_TERMS


def _terms_bound(expr: sympy.Expr) -> int:
    """An upper bound on the number of terms of ``expr`` expanded (numerator or denominator)."""
    if expr.is_Pow and expr.exp.is_Integer:
        base = _terms_bound(expr.base)
        return base ** min(abs(int(expr.exp)), 64) if base > 1 else 1
    if expr.is_Add:
        return sum(_terms_bound(arg) for arg in expr.args)
    if expr.is_Mul:
        return math.prod(_terms_bound(arg) for arg in expr.args)
    return 1
