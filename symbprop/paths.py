"""Chain-rule paths: every route from a parameter to the loss, as lists of local factors.

Seed 001 writes ∂L/∂w₁ = ∂L/∂g · ∂g/∂h · ∂h/∂w₁ (one path); seeds 002 and 004 sum over the
neurons of the next layer (several paths).  A path is found by following, from the parameter,
the scalar elements that consume it; each step's factor is the local derivative of the IR
equation, instantiated at concrete indices.  Paths are listed loss-first, as the seeds write them.
"""

from __future__ import annotations

import functools

import sympy
from sympy import Indexed

from .indexing import IndexFactory, index_values, instantiate
from .rules import local_partial


def paths(derivation, element: sympy.Expr) -> list[list]:
    """All paths from ``element`` to the output, each as [Factor, ...] from the loss backwards."""
    from .derivation import Factor

    finder = _Consumers(derivation.program)
    output = derivation.program.output

    def walk(node) -> list[list]:
        if node == output:
            return [[]]
        found = []
        for consumer, local in finder(node):
            for rest in walk(consumer):
                found.append([*rest, Factor(consumer, node, local)])
        return found

    return walk(element)


class _Consumers:
    """consumers(element) -> [(scalar element it feeds, local derivative)], with index-form
    locals computed once per (equation, variable) and instantiated per element."""

    def __init__(self, program) -> None:
        self.program = program
        self._fresh = IndexFactory("q")

    def __call__(self, element):
        base = element.base if isinstance(element, Indexed) else element
        values = tuple(int(i) for i in element.indices) if isinstance(element, Indexed) else ()
        result = []
        for position, eqn in enumerate(self.program.eqns):
            if not _uses(eqn.expr, base):
                continue
            target, local = self._local(position, base)
            fixed = dict(zip(_indices(target), values, strict=True))
            for out_values in index_values(eqn.indices):
                subs = fixed | dict(zip(eqn.indices, out_values, strict=True))
                value = instantiate(local, subs)
                if value != 0:
                    result.append((instantiate(eqn.out, subs), value))
        return result

    @functools.cache  # noqa: B019 - one finder per call of paths()
    def _local(self, position: int, base):
        eqn = self.program.eqns[position]
        shape = self.program.shapes.get(base, ())
        target = base[tuple(self._fresh(n) for n in shape)] if shape else base
        return target, local_partial(eqn.out, eqn.expr, target)


def _uses(expr: sympy.Expr, base) -> bool:
    if isinstance(base, sympy.IndexedBase):
        return any(i.base == base for i in expr.atoms(Indexed))
    return base in expr.free_symbols


def _indices(target) -> tuple:
    return tuple(target.indices) if isinstance(target, Indexed) else ()
