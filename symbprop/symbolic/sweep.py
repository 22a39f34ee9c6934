"""The reverse sweep: adjoints of every variable of the IR, by the chain rule.

For each equation ``out = expr``, taken from the last to the first, and each variable ``v`` that
``expr`` uses, the sweep adds ``Σ_out-indices  upstream(out) · ∂out/∂v`` to the adjoint of ``v``
(``upstream`` is the adjoint of ``out``; the sum is the chain rule over every element that ``v``
feeds).  On a network's index-form IR this *derives* the four fundamental equations: the adjoint
of ``z^l`` is δ^l (BP1, BP2), of ``b^l`` is δ^l (BP3), of ``W^l`` is δ^l (a^{l-1})ᵀ (BP4).

Adjoints of ``z^l`` (networks) and of graph nodes are kept as named symbols (δ^l_j, ∂f/∂q), so
nothing is expanded; adjoints of ``a^l`` are used once and inlined.

Time linear in depth: every term is computed in placeholder names and memoized by its form
(``rules.shape_of``), an adjoint of one term is tidied once per form, and names go back by
``indexing.rename``; the result is the same expression tree as without the memos (tested).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import sympy
from sympy import Idx, Indexed, IndexedBase, Sum

from symbprop.spec.formula import degree_bound
from symbprop.spec.variables import DELTA, Var, adjoint_name
from symbprop.symbolic.indexing import (
    IndexFactory,
    bound_indices,
    rename,
    rename_indices,
    sum_over,
)
from symbprop.symbolic.ir import EqnRole, Program
from symbprop.symbolic.rules import MEMO_SIZE, DerivationError, local_partial, shape_of

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
            return rename(self.expr, dict(zip(self.indices, indices, strict=True)))
        return self.symbol[indices] if indices else self.symbol


def adjoint_symbol(program: Program, variable: sympy.Basic,
                   top: str | None = None) -> sympy.Basic | None:
    """The name of a variable's adjoint, or None when it is inlined (a^l, inputs).  A graph
    node q's adjoint is ``d<top>_dq``: ``top`` is the output's name, or the loss L beyond it
    when the sweep is seeded with ∂L/∂output (``reverse_sweep``)."""
    eqn = program.defining(variable)
    if eqn is None or variable == program.output:
        return None
    if eqn.role is EqnRole.PRE:
        return IndexedBase(Var(DELTA, eqn.layer).name, shape=program.shapes[variable])
    if eqn.role is EqnRole.NODE:
        return sympy.Symbol(adjoint_name(top or program.output.name, variable.name))
    return None


def reverse_sweep(program: Program, seed: sympy.Symbol | None = None,
                  top: str | None = None) -> dict[sympy.Basic, Adjoint]:
    """Adjoint of every variable that the output depends on, in reverse evaluation order.

    The output's adjoint is 1 (∂f/∂f), or ``seed``: a symbol for the gradient ∂L/∂f arriving
    from a loss ``top`` beyond the output (a graph's ``upstream``), so that every adjoint is
    ∂L/∂·, named ``d<top>_d<node>``."""
    fresh = IndexFactory()
    targets: dict[sympy.Basic, sympy.Expr] = {}
    terms: dict[sympy.Basic, list[Term]] = {}
    adjoints = {program.output: Adjoint(program.output, (),
                                        sympy.S.One if seed is None else seed)}
    order = {v: i for i, v in enumerate(program.params)}
    order |= {e.base: len(order) + i for i, e in enumerate(program.eqns)}
    for eqn in reversed(program.eqns):
        if eqn.base not in adjoints:
            adjoints[eqn.base] = _finish(program, eqn.base, targets, terms, fresh, top)
        upstream = adjoints[eqn.base].at(eqn.indices)
        for variable in _inputs(eqn.expr, order):
            target = targets.setdefault(variable, _element(variable, program, fresh))
            term = _contribution(upstream, eqn.out, eqn.expr, target, eqn.indices)
            terms.setdefault(variable, []).append(term)
    for variable in program.params:
        adjoints[variable] = _finish(program, variable, targets, terms, fresh, top)
    return adjoints


@dataclass(frozen=True)
class Term:
    """One equation's term of an adjoint, ``expr`` in placeholder names: ``names`` renames it
    back; ``key`` (``rules.shape_of``) identifies it up to names, None if it is not memoized."""

    expr: sympy.Expr
    names: dict
    key: tuple | None

    def renamed(self) -> sympy.Expr:
        return rename(self.expr, self.names) if self.names else self.expr


#: Terms (and tidied single terms) of equations of one form up to names, by ``shape_of`` key.
_TERMS: dict = {}
_TIDIED: dict = {}


def _contribution(upstream, out, expr, target, indices) -> Term:
    """``Σ_indices upstream · ∂out/∂target``, the chain rule's term for one equation.

    Computed with every name replaced by a placeholder (``rules.shape_of``) and memoized, so
    that the equations of layers of the same shape and activation, which differ only in names,
    are differentiated and summed once."""
    parts = (upstream, out, expr, target, indices)
    try:
        renaming, names, key = shape_of((upstream, out, expr, target, *indices))
    except RecursionError:  # too deep to key: derived in its own names
        return Term(_term(*parts), {}, None)
    result = _TERMS.get(key)
    if result is None:
        try:
            result = _term(*(rename(e, renaming) for e in parts[:4]),
                           tuple(renaming[i] for i in indices))
        except DerivationError:  # again with the equation's own names, for the message
            return Term(_term(*parts), {}, None)
        if len(_TERMS) >= MEMO_SIZE:
            _TERMS.clear()
        _TERMS[key] = result
    return Term(result, names, key)


def _term(upstream, out, expr, target, indices) -> sympy.Expr:
    return sum_over(upstream * local_partial(out, expr, target), indices)


def _finish(program, variable, targets, terms, fresh, top=None) -> Adjoint:
    target = targets.get(variable, variable)
    indices = tuple(target.indices) if isinstance(target, Indexed) else ()
    found = terms.get(variable, [])
    if len(found) == 1 and found[0].key is not None:
        expr = _finish_one(found[0], program, fresh)
    else:
        total = sympy.S.Zero
        for term in found:
            total = total + term.renamed()
        expr = _fresh_bound(tidy(total, program), fresh)
    return Adjoint(variable, indices, expr, adjoint_symbol(program, variable, top))


def _fresh_bound(expr: sympy.Expr, fresh: IndexFactory) -> sympy.Expr:
    """Summation indices get fresh names, so that ``Adjoint.at`` can never capture one."""
    return rename_indices(expr, {b: fresh(int(b.upper) + 1) for b in bound_indices(expr)})


def _finish_one(term: Term, program: Program, fresh: IndexFactory) -> sympy.Expr:
    """A single memoized term, tidied once per form (``_TIDIED``) and renamed once: to the
    equation's names and fresh summation indices."""
    targets = frozenset(new for new, old in term.names.items()
                        if isinstance(old, IndexedBase) and old.label.name == "y")
    memo = (term.key, program.targets_sum_to_one, targets)
    found = _TIDIED.get(memo)
    if found is None:
        if len(_TIDIED) >= MEMO_SIZE:
            _TIDIED.clear()
        tidied = tidy(term.expr, program, targets)
        found = _TIDIED[memo] = (tidied, bound_indices(tidied))
    tidied, bound = found
    if len(bound) > 1:  # their order is the expression's in its own names
        return _fresh_bound(rename(tidied, term.names), fresh)
    return rename(tidied, term.names | {b: fresh(int(b.upper) + 1) for b in bound})


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


def tidy(expr: sympy.Expr, program: Program, targets: frozenset | None = None) -> sympy.Expr:
    """Light, predictable simplification: Σ_j y_j = 1 where assumed; cancel if it is shorter.
    Only a small expression is cancelled (``_cheap_to_cancel``); a big one stays as it is.
    ``targets``: the arrays that are y (an expression in placeholder names), else named y."""
    if program.targets_sum_to_one:
        expr = expr.replace(lambda e: _is_target_total(e, targets), lambda e: sympy.S.One)
    if not expr.has(Sum) and _cheap_to_cancel(expr):  # BCE: (−y/a + (1−y)/(1−a))·a(1−a) -> a − y
        numerator, denominator = sympy.fraction(sympy.cancel(expr))
        if denominator == 1 and sympy.count_ops(numerator) < sympy.count_ops(expr):
            expr = numerator
    return expr


def _is_target_total(e: sympy.Expr, targets: frozenset | None = None) -> bool:
    """Σ_j y[j] over the whole output layer (y: one of ``targets``, or an array named y)."""
    if not isinstance(e, Sum) or not isinstance(e.function, Indexed):
        return False
    ((idx, lower, upper),) = e.limits
    base = e.function.base
    is_y = base.label.name == "y" if targets is None else base in targets
    return is_y and e.function.indices == (idx,) and lower == 0


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
