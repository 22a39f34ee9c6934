"""Chain-rule paths: every route from a parameter to the loss, as lists of local factors.

Seed 001 writes ∂L/∂w₁ = ∂L/∂g · ∂g/∂h · ∂h/∂w₁ (one path); seeds 002 and 004 sum over the
neurons of the next layer (several paths).  A path is found by following, from the parameter,
the scalar elements that consume it; each step's factor is the local derivative of the IR
equation, instantiated at concrete indices.  Paths are listed loss-first, as the seeds write them.

Their number grows like the product of the layer widths (2^15 per weight in a 2-unit net 15
layers deep), so nothing here lists more than it is asked for: ``count_paths`` multiplies (units
per layer for a network, one sweep over the nodes for a graph), ``paths(..., limit)`` yields the
first ``limit`` paths in the order of the full list, and ``longest_path``/``passes_through``
answer without listing any.
"""

from __future__ import annotations

import functools
import itertools
from dataclasses import dataclass

import sympy
from sympy import Indexed

from symbprop.spec.variables import BIAS
from symbprop.symbolic.indexing import IndexFactory, index_values, instantiate
from symbprop.symbolic.rules import local_partial

#: ``Derivation.chain`` lists every path only up to this many; beyond, ask for the first few.
MAX_CHAIN_PATHS = 10_000


@dataclass(frozen=True)
class Factor:
    """One local derivative on a chain-rule path: ∂``of``/∂``wrt`` = ``value``."""

    of: sympy.Expr
    wrt: sympy.Expr
    value: sympy.Expr


def paths(derivation, element: sympy.Expr, limit: int | None = None) -> list[list]:
    """The paths from ``element`` to the output, each as [Factor, ...] from the loss backwards:
    all of them, or the first ``limit``."""
    finder = _finder(derivation)
    output = derivation.program.output

    def walk(node):
        if node == output:
            yield []
            return
        for consumer, local in finder(node):
            for rest in walk(consumer):
                yield [*rest, Factor(consumer, node, local)]

    return list(itertools.islice(walk(element), limit))


def count_paths(derivation, element: sympy.Expr) -> int:
    """How many paths lead from ``element`` to the output, without listing them."""
    if derivation.model.kind == "network":
        return _network_count(derivation, element)
    return _graph_sweep(derivation, sum, 1).get(element, 0)


def longest_path(derivation, element: sympy.Expr) -> int:
    """The number of factors on the longest path from ``element`` (0 if none reaches the
    output)."""
    if derivation.model.kind == "network":
        base = element.base if isinstance(element, Indexed) else element
        eqn = next(i for i, e in enumerate(derivation.program.eqns)
                   if base in _used_bases(e.expr))  # the z equation of the parameter's layer
        return len(derivation.program.eqns) - eqn if count_paths(derivation, element) else 0
    lengths = _graph_sweep(derivation, lambda found: max(found) + 1, 0)
    return lengths.get(element, 0)


def passes_through(derivation, element: sympy.Expr, of: sympy.Expr, wrt: sympy.Expr) -> bool:
    """Whether some path from ``element`` to the output takes the step ``of`` ← ``wrt``."""
    finder = _finder(derivation)
    return (_reaches(finder, element, wrt) and any(c == of for c, _ in finder(wrt))
            and _reaches(finder, of, derivation.program.output))


def _reaches(finder, start, target) -> bool:
    seen, stack = {start}, [start]
    while stack:
        node = stack.pop()
        if node == target:
            return True
        for consumer, _ in finder(node):
            if consumer not in seen:
                seen.add(consumer)
                stack.append(consumer)
    return False


def _graph_sweep(derivation, combine, at_output: int) -> dict:
    """One backward sweep over a graph's scalar nodes: ``value(output) = at_output``,
    ``value(v) = combine([value(c) for each consumer c of v that reaches the output])``."""
    program = derivation.program
    finder = _finder(derivation)
    values = {program.output: at_output}
    for variable in [*(e.out for e in reversed(program.eqns)), *program.params]:
        found = [values[c] for c, _ in finder(variable) if c in values]
        if found and variable != program.output:
            values[variable] = combine(found)
    return values


def _network_count(derivation, element: sympy.Expr) -> int:
    """Paths in a dense network, by multiplication: from a^l[i], each of the n_{l+1} neurons of
    the next layer; from z^l[i], one a^l[i] (n_l with softmax, which mixes the layer)."""
    layers = derivation.model.layers
    sizes = derivation.model.sizes
    base = element.base if isinstance(element, Indexed) else element
    var = derivation.role_of(base)  # a weight W<l> or a bias b<l>
    layer = var.layer
    from_z = 1  # paths from z^L[i] ... back to z^layer[i], built from the output down
    for number in range(len(layers), layer - 1, -1):
        from_z *= sizes[number] if layers[number - 1].activation.is_softmax else 1
        if number > layer:
            from_z *= sizes[number]  # a^{number-1}[i] feeds every z^number[m]
    shared = not isinstance(element, Indexed) and var.role is BIAS
    return from_z * (sizes[layer] if shared else 1)


def _finder(derivation) -> _Consumers:
    """The derivation's one ``_Consumers``, so that each local derivative is formed once."""
    finder = derivation.__dict__.get("_path_finder")
    if finder is None:
        finder = derivation.__dict__["_path_finder"] = _Consumers(derivation.program)
    return finder


class _Consumers:
    """consumers(element) -> iterator of (scalar element it feeds, local derivative), with
    index-form locals computed once per (equation, variable), instantiated per element when
    first asked for, and kept."""

    def __init__(self, program) -> None:
        self.program = program
        self._fresh = IndexFactory("q")
        self._found: dict = {}
        self._uses = [_used_bases(eqn.expr) for eqn in program.eqns]

    def __call__(self, element):
        """An iterator over the consumers, each instantiated when first reached: the first path
        of a weight in a layer of a thousand neurons needs one of the next layer's, not all."""
        if element not in self._found:
            self._found[element] = ([], self._consumers(element))
        found, source = self._found[element]
        position = 0
        while True:
            if position == len(found):
                step = next(source, None)
                if step is None:
                    return
                found.append(step)
            yield found[position]
            position += 1

    def _consumers(self, element):
        base = element.base if isinstance(element, Indexed) else element
        values = tuple(int(i) for i in element.indices) if isinstance(element, Indexed) else ()
        for position, eqn in enumerate(self.program.eqns):
            if base not in self._uses[position]:
                continue
            target, local = self._local(position, base)
            fixed = dict(zip(_indices(target), values, strict=True))
            for out_values in index_values(eqn.indices):
                subs = fixed | dict(zip(eqn.indices, out_values, strict=True))
                value = instantiate(local, subs)
                if value != 0:
                    yield instantiate(eqn.out, subs), value

    @functools.cache  # noqa: B019 - one finder per derivation
    def _local(self, position: int, base):
        eqn = self.program.eqns[position]
        shape = self.program.shapes.get(base, ())
        target = base[tuple(self._fresh(n) for n in shape)] if shape else base
        return target, local_partial(eqn.out, eqn.expr, target)


def _used_bases(expr: sympy.Expr) -> set:
    """The IndexedBases and Symbols ``expr`` reads."""
    return {i.base for i in expr.atoms(Indexed)} | set(expr.free_symbols)


def _indices(target) -> tuple:
    return tuple(target.indices) if isinstance(target, Indexed) else ()



def consumers(derivation, element: sympy.Expr) -> list[tuple[sympy.Expr, sympy.Expr]]:
    """The scalar elements ``element`` feeds directly, each with its local derivative
    ∂consumer/∂element: the terms of the chain rule's case 2 at ``element``."""
    return list(_finder(derivation)(element))
