"""Index-form helpers: sums that stay symbolic, Kronecker-delta collapse, instantiation.

The layer-level derivation works with ``sympy.Indexed`` elements (``W1[j, k]``) and ``sympy.Idx``
indices that carry their ranges.  Two rules keep it independent of layer width:

* ``sum_over`` collapses a sum only where a Kronecker delta pins the summation index; every other
  term stays an unevaluated ``Sum`` (SymPy's ``doit`` would expand ``Σ_k`` into 784 terms), and
  nothing is multiplied out that need not be (σ'(z)·Σ_k stays a product).
* ``instantiate`` turns an index-form expression into the scalar form for concrete indices; only
  then are the remaining sums expanded.
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Iterable, Mapping

import sympy
from sympy import Idx, Indexed, IndexedBase, KroneckerDelta, Sum
from sympy.core.basic import _args_sortkey


class IndexFactory:
    """Deterministic fresh indices (``p1``, ``p2``, ...) for one derivation."""

    def __init__(self, prefix: str = "p") -> None:
        self._prefix = prefix
        self._counter = itertools.count(1)

    def __call__(self, size: int) -> Idx:
        return Idx(f"{self._prefix}{next(self._counter)}", size)


def sum_over(expr: sympy.Expr, indices: Iterable[Idx]) -> sympy.Expr:
    """Σ over ``indices`` of ``expr``: Kronecker deltas collapse, other sums stay symbolic."""
    for idx in indices:
        expr = _sum_one(expr, idx)
    return expr


def _sum_one(expr: sympy.Expr, idx: Idx) -> sympy.Expr:
    total = sympy.S.Zero
    for term in sympy.Add.make_args(expr):
        for piece in _distribute_deltas(term, idx):
            total += _sum_term(piece, idx)
    return total


def _sum_term(term: sympy.Expr, idx: Idx) -> sympy.Expr:
    if not term.has(idx):
        return term * (idx.upper - idx.lower + 1)
    delta = _pinning_delta(term, idx)
    if delta is not None:  # Σ_i f(i) δ_{i,p} = f(p); the IR's index ranges always agree
        other = delta.args[1] if delta.args[0] == idx else delta.args[0]
        return (term / delta).xreplace({idx: other})
    inside, outside = [], []
    for factor in sympy.Mul.make_args(term):
        (inside if factor.has(idx) else outside).append(factor)
    return sympy.Mul(*outside) * Sum(sympy.Mul(*inside), (idx, idx.lower, idx.upper))


def _distribute_deltas(term: sympy.Expr, idx: Idx) -> list[sympy.Expr]:
    """Multiply out only the factors whose sums contain a delta on ``idx`` (nothing else)."""
    if isinstance(term, sympy.Mul):
        for factor in term.args:
            if isinstance(factor, sympy.Add) and _pinning_delta_in(factor, idx):
                rest = sympy.Mul(*[f for f in term.args if f is not factor])
                return [p for part in factor.args for p in _distribute_deltas(rest * part, idx)]
    return [term]


def _pinning_delta(term: sympy.Expr, idx: Idx) -> KroneckerDelta | None:
    factors = term.args if isinstance(term, sympy.Mul) else (term,)
    for factor in factors:
        if isinstance(factor, KroneckerDelta) and idx in factor.args:
            return factor
    return None


def _pinning_delta_in(factor: sympy.Expr, idx: Idx) -> bool:
    return any(_pinning_delta(t, idx) is not None for t in sympy.Add.make_args(factor))


def rename_indices(expr: sympy.Expr, mapping: Mapping[Idx, Idx]) -> sympy.Expr:
    """Rename free and bound indices, also inside ``Sum`` limits (``rename``)."""
    return rename(expr, mapping)


def bound_indices(expr: sympy.Expr) -> list[Idx]:
    """Summation indices of every ``Sum`` in ``expr``, in a deterministic order."""
    found: list[Idx] = []

    def visit(node) -> None:  # preorder, as sympy.preorder_traversal
        if isinstance(node, Sum):
            for limit in node.limits:
                if limit[0] not in found:
                    found.append(limit[0])
        for arg in node.args:
            visit(arg)

    visit(expr)
    return found


def instantiate(expr: sympy.Expr, values: Mapping[Idx, int]) -> sympy.Expr:
    """The scalar form: substitute concrete index values, then expand the remaining sums.
    Remembered for the process (``INSTANTIATED_MAX`` forms): documents and evaluations ask for
    the same forms many times, and SymPy's ``Sum.doit`` is slow."""
    return _instantiate(expr, tuple(values.items()))


#: How many scalar forms ``instantiate`` remembers (least recently used first out).
INSTANTIATED_MAX = 1 << 15


@functools.lru_cache(maxsize=INSTANTIATED_MAX)
def _instantiate(expr: sympy.Expr, values: tuple) -> sympy.Expr:
    scalar = expr.xreplace({idx: sympy.Integer(v) for idx, v in values})
    if scalar.has(Sum):
        scalar = scalar.replace(lambda e: isinstance(e, Sum), lambda e: e.doit())
    return scalar


def index_values(indices: tuple[Idx, ...]) -> Iterable[tuple[int, ...]]:
    """Every concrete value tuple of ``indices`` in row-major order."""
    return itertools.product(*(range(int(i.upper) + 1) for i in indices))


def element_indices(element: sympy.Expr) -> tuple:
    """The index tuple of an ``Indexed`` element, or ``()`` for a scalar symbol."""
    return tuple(element.indices) if isinstance(element, Indexed) else ()


def rename(expr: sympy.Expr, mapping: Mapping) -> sympy.Expr:
    """``expr.xreplace(mapping)`` for a one-to-one renaming of arrays, indices and symbols
    (each to one of the same kind, range, shape and assumptions): the same expression tree,
    built faster.  A renaming changes no sum, product or delta, only the canonical order of
    arguments, so ``Add``, ``Mul``, ``Sum`` and ``Indexed`` are rebuilt without being evaluated
    again (their arguments re-sorted as SymPy sorts them); every other node is built as
    ``xreplace`` builds it.  Anything else (a value that is already in ``expr``, a number for
    an index) goes to ``xreplace``."""
    mapping = dict(mapping)
    if not mapping or not all(_same_kind(old, new) for old, new in mapping.items()):
        return expr.xreplace(mapping)
    values = set(mapping.values())
    if len(values) != len(mapping):
        return expr.xreplace(mapping)
    done: dict = {}

    def walk(node):
        if node in mapping:
            return mapping[node]
        if node in values:  # a new name is taken already: not a renaming
            raise _NotARenaming
        if not node.args:
            return node
        if node in done:
            return done[node]
        args = tuple(walk(arg) for arg in node.args)
        if all(new is old for new, old in zip(args, node.args, strict=True)):
            rebuilt = node
        else:
            rebuilt = _rebuild(node, args)
        done[node] = rebuilt
        return rebuilt

    try:
        return walk(expr)
    except (_NotARenaming, RecursionError):
        return expr.xreplace(mapping)


class _NotARenaming(Exception):
    pass


@functools.lru_cache(maxsize=4096)
def _same_kind(old, new) -> bool:
    if type(old) is not type(new):
        return False
    if isinstance(old, Idx):
        return old.lower == new.lower and old.upper == new.upper
    if isinstance(old, IndexedBase):
        return old.shape == new.shape and old.assumptions0 == new.assumptions0
    return isinstance(old, sympy.Symbol) and old.assumptions0 == new.assumptions0


def _rebuild(node, args):
    cls = type(node)
    if cls is sympy.Add or cls is sympy.Mul:  # flatten's order: the number first, then sorted
        first = [args[0]] if args[0].is_Number else []
        rest = sorted(args[len(first):], key=_args_sortkey)
        return cls._from_args(first + rest, node.is_commutative)
    if cls is Sum:
        rebuilt = sympy.Expr.__new__(Sum)
        rebuilt._args = args
        rebuilt.is_commutative = args[0].is_commutative
        return rebuilt
    if cls is Indexed:
        rebuilt = sympy.Expr.__new__(Indexed, *args)
        IndexedBase._set_assumptions(rebuilt, args[0].assumptions0)
        return rebuilt
    if isinstance(node, sympy.Function) and _one_name(args):
        # f(a[p]) with numbers: what eval makes of it depends on a's assumptions, which the
        # renaming keeps (f(z[j]) stood unevaluated, so does f(z[p])); not f(x + y), whose
        # sign SymPy reads in the arguments' order (tanh(-x) = -tanh(x)), nor δ(i, j)
        return node.func(*args, evaluate=False)
    return node.func(*args)


def _one_name(args: tuple) -> bool:
    """One argument an element or a symbol, every other a number."""
    names = [a for a in args if not a.is_Number]
    return len(names) == 1 and isinstance(names[0], (Indexed, sympy.Symbol))
