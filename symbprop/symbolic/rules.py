"""Local derivative rules: ∂out/∂input for one equation of the IR.

The default rule is ``sympy.diff`` of the equation (whose functions carry textbook ``fdiff``s,
see ``symbprop.functions.sympy_classes``).  ``OUTPUT_FORM`` overrides it where the derivative is
best written with the equation's own output — σ' = a(1 − a), tanh' = 1 − a², exp' = out, and
softmax's ∂a_i/∂z_p = a_i(δ_ip − a_p) — which is what a textbook writes and what the kernels reuse.
Every override is tested equal to ``sympy.diff``.  A derivative SymPy cannot evaluate fails loudly,
naming the operation.

Rule contract: ``rule(out, arg) -> expr`` for ``out = F(arg)``; the chain through ``arg`` (e.g. a
Kronecker delta for indexed elements) is applied by ``local_partial``.

Equations of the same form (every hidden layer of a deep net: ``z^l = W^l a^(l-1) + b^l`` and
``a^l = tanh(z^l)``, with other names) are differentiated once: ``local_partial`` renames the
equation's arrays, indices and symbols to placeholders in order of appearance, differentiates
that (memoized, ``MEMO_SIZE`` entries) and renames the result back.  ``shape_of`` finds the
placeholders and a key for the form in one walk; the sweep memoizes whole chain-rule terms by
that key (``symbolic.sweep``), so that 256 hidden layers derive about ten distinct terms.
"""

from __future__ import annotations

from functools import lru_cache

import sympy
from sympy import Idx, Indexed, IndexedBase, KroneckerDelta, Sum

from symbprop.errors import SymbpropError
from symbprop.functions.sympy_classes import sigmoid
from symbprop.symbolic.indexing import rename, sum_over

OUTPUT_FORM = {
    sigmoid: lambda out, arg: out * (1 - out),
    sympy.tanh: lambda out, arg: 1 - out**2,
    sympy.exp: lambda out, arg: out,
}


class DerivationError(SymbpropError):
    """A local derivative cannot be formed (an operation without a rule)."""


#: Distinct equation forms whose local derivatives are remembered (a few per kind of layer).
MEMO_SIZE = 4096


def local_partial(out: sympy.Expr, expr: sympy.Expr, target: sympy.Expr, *, output_form=True):
    """∂out/∂target where ``out = expr``; ``target`` is a Symbol or an Indexed element.

    With ``output_form=False`` the textbook derivative in the input is returned instead
    (σ(z)(1 − σ(z)) rather than a(1 − a)); both are equal, the tests check it."""
    renaming, names = placeholders((out, expr, target))
    try:
        result = _memoized(*(rename(e, renaming) for e in (out, expr, target)), output_form)
    except DerivationError:  # again with the equation's own names, for the message
        return _partial(out, expr, target, output_form)
    return rename(result, names)


@lru_cache(maxsize=MEMO_SIZE)
def _memoized(out, expr, target, output_form: bool) -> sympy.Expr:
    return _partial(out, expr, target, output_form)


def placeholders(exprs: tuple) -> tuple[dict, dict]:
    """(renaming, its inverse): each array (IndexedBase), index (Idx) and other symbol of
    ``exprs`` to ``_b0, _i0, _s0, …`` in order of first appearance, keeping shapes, index ranges
    and assumptions, so that equations that differ only in names become equal."""
    renaming, names, _ = shape_of(exprs)
    return renaming, names


def shape_of(exprs: tuple) -> tuple[dict, dict, tuple]:
    """``placeholders`` and a key: a tuple equal for two tuples of expressions exactly when
    they are equal after their renamings (the tree in preorder, each node's class and number
    of arguments, names as their placeholders), made without building the renamed trees."""
    renaming: dict = {}
    key: list = []

    def visit(node) -> None:  # preorder, as sympy.preorder_traversal; a renamed name ends it
        if node in renaming:
            key.append(renaming[node])
            return
        if isinstance(node, (IndexedBase, Idx, sympy.Symbol)):
            renaming[node] = _placeholder(node, len(renaming))
            key.append(renaming[node])
            if not isinstance(node, sympy.Symbol) or not node.args:
                return
        args = node.args
        key.append((type(node), len(args)) if args else node)
        for arg in args:
            visit(arg)

    for expr in exprs:
        visit(expr)
    return renaming, {new: old for old, new in renaming.items()}, tuple(key)


def _placeholder(node, number: int):
    """The ``number``-th placeholder, of the kind, shape, range and assumptions of ``node``;
    one object for equal placeholders, so that keys compare by identity."""
    if isinstance(node, IndexedBase):
        return _made(IndexedBase, number, node.shape, tuple(sorted(node.assumptions0.items())))
    if isinstance(node, Idx):
        return _made(Idx, number, None if node.lower is None else (node.lower, node.upper), ())
    return _made(sympy.Symbol, number, None, tuple(sorted(node.assumptions0.items())))


@lru_cache(maxsize=MEMO_SIZE)
def _made(kind, number: int, extent, assumptions: tuple):
    if kind is IndexedBase:
        return IndexedBase(f"_b{number}", shape=extent, **dict(assumptions))
    if kind is Idx:
        return Idx(f"_i{number}", extent)
    return sympy.Symbol(f"_s{number}", **dict(assumptions))


def _partial(out, expr, target, output_form: bool) -> sympy.Expr:
    overridden = _override(out, expr, target, output_form)
    if overridden is not None:
        return _checked(overridden, expr)
    return _checked(collapse_sums(sympy.diff(expr, target)), expr)


def _override(out, expr, target, output_form: bool):
    if _is_elementwise(expr):  # out = F(arg, constants...): F'(arg) · ∂arg/∂target
        arg = expr.args[0]
        rule = OUTPUT_FORM.get(expr.func) if output_form else None
        outer = rule(out, arg) if rule is not None else expr.fdiff(1)
        return outer * collapse_sums(sympy.diff(arg, target))
    softmax = softmax_parts(expr)
    if not output_form or softmax is None:
        return None
    if isinstance(target, Indexed) and target.base == softmax[0]:
        z, j = softmax
        (p,) = target.indices
        return out * (KroneckerDelta(j, p) - out.base[p])
    return None


def _is_elementwise(expr: sympy.Expr) -> bool:
    """A function application whose first argument is the only non-constant one."""
    if not isinstance(expr, sympy.Function) or not expr.args:
        return False
    return all(a.is_number for a in expr.args[1:]) and not expr.args[0].is_number


def softmax_parts(expr: sympy.Expr):
    """(z base, j) if ``expr`` is ``exp(z[j]) / Σ_m exp(z[m])``, else None."""
    if not isinstance(expr, sympy.Mul) or len(expr.args) != 2:
        return None
    numerator, denominator = sorted(expr.args, key=lambda e: isinstance(e, sympy.Pow))
    if not (isinstance(numerator, sympy.exp) and isinstance(denominator, sympy.Pow)):
        return None
    total, power = denominator.args
    if power != -1 or not isinstance(total, Sum) or not isinstance(total.function, sympy.exp):
        return None
    element = numerator.args[0]
    if not isinstance(element, Indexed) or len(element.indices) != 1:
        return None
    return element.base, element.indices[0]


def collapse_sums(expr: sympy.Expr) -> sympy.Expr:
    """Re-sum every ``Sum`` so that Kronecker deltas collapse and other sums stay symbolic."""
    if not expr.has(Sum):
        return expr
    return expr.replace(
        lambda e: isinstance(e, Sum),
        lambda e: sum_over(e.function, [limit[0] for limit in e.limits]),
    )


def _checked(result: sympy.Expr, expr: sympy.Expr) -> sympy.Expr:
    if result.has(sympy.Derivative) or result.has(sympy.Subs):
        ops = sorted({type(d.expr).__name__ for d in result.atoms(sympy.Derivative)} or {"?"})
        raise DerivationError(
            f"no derivative rule for {', '.join(ops)} in {expr}; "
            "add one to symbprop.symbolic.rules.OUTPUT_FORM or give the function an fdiff"
        )
    return result
