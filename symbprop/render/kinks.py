"""Kinks at a document's point: where a central difference need not match the derivative.

A function such as relu, |·|, max or min has a derivative that jumps at its kink; backpropagation
uses the derivative's conventional value there (relu′(0) = 0, ∂|x|/∂x = 0 at x = 0), while a
central difference straddles the kink and averages the slopes of its two sides.  A ``Kink`` is
one such place at the point, found by evaluating the textbook local derivative just below and
just above the input (``FD_STEP`` away): a neuron's activation (networks, first sample) or a
node's operation with respect to one of its inputs (graphs).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import sympy

import symbprop.functions.registry as registry
from symbprop.functions.sympy_classes import absolute
from symbprop.render.numbers import FD_STEP, Point
from symbprop.symbolic.indexing import index_values, instantiate
from symbprop.symbolic.ir import EqnRole
from symbprop.symbolic.rules import local_partial


def kinked_operations() -> tuple:
    """Operations whose derivative jumps somewhere: |x|, max, min and every registered
    activation with a kink.  Smooth ones are never checked, so a steep but smooth derivative
    (1/x near 0) is not called a kink."""
    kinked = [r.function_class for r in registry.ACTIVATIONS.values() if r.kink and r.function]
    return (absolute, sympy.Max, sympy.Min, *kinked)


@dataclass(frozen=True)
class Kink:
    """An input sitting on a kink: ``node`` (a^l_j, or a graph node) is computed from ``wrt``
    (z^l_j, or the node's input) by ``operation``; ``value`` is the input's number, ``slope``
    the derivative used there and ``left``/``right`` the one-sided slopes.  ``layer`` and ``j``
    locate a neuron (0 for a graph)."""

    node: sympy.Expr
    wrt: sympy.Expr
    operation: sympy.Expr
    value: float
    slope: float
    left: float
    right: float
    layer: int = 0
    j: int = 0


def kinks(d, pt: Point) -> list[Kink]:
    """Every kink at the point, in evaluation order ([] for softmax layers and smooth models)."""
    return _network_kinks(d, pt) if d.model.kind == "network" else _graph_kinks(d, pt)


def _network_kinks(d, pt: Point) -> list[Kink]:
    found = []
    for eqn in d.program.eqns:
        if eqn.role is not EqnRole.ACT or d.model.layers[eqn.layer - 1].activation.is_softmax:
            continue
        z_base = next(e.base for e in d.program.eqns
                      if e.role is EqnRole.PRE and e.layer == eqn.layer)
        (j,) = eqn.indices
        used = local_partial(eqn.out, eqn.expr, z_base[j])
        textbook = local_partial(eqn.out, eqn.expr, z_base[j], output_form=False)
        for (value,) in index_values(eqn.indices):
            kink = _kink(pt, eqn.base[value], z_base[value], instantiate(eqn.expr, {j: value}),
                         instantiate(used, {j: value}), instantiate(textbook, {j: value}))
            if kink is not None:
                found.append(replace(kink, layer=eqn.layer, j=value))
    return found


def _graph_kinks(d, pt: Point) -> list[Kink]:
    found = []
    for eqn in d.program.eqns:
        if not eqn.expr.has(*kinked_operations()):
            continue
        for wrt in sorted(eqn.expr.free_symbols, key=sympy.default_sort_key):
            used = local_partial(eqn.out, eqn.expr, wrt)
            textbook = local_partial(eqn.out, eqn.expr, wrt, output_form=False)
            kink = _kink(pt, eqn.out, wrt, eqn.expr, used, textbook)
            if kink is not None:
                found.append(kink)
    return found


def _kink(pt: Point, node, wrt, operation, used, textbook) -> Kink | None:
    """The kink of ``node = operation`` in ``wrt`` at the point, if its slope jumps there."""
    value = pt.number(wrt)
    left, right = (pt.number(textbook.xreplace({wrt: value + side * FD_STEP})) for side in (-1, 1))
    if abs(right - left) <= 1e-3 * max(1.0, abs(left), abs(right)):
        return None
    return Kink(node, wrt, operation, value, pt.number(used), left, right)
