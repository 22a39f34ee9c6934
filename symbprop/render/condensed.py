"""What keeps a wide network's gradients readable: paths that start at δᴸ for a softmax output,
and every parameter of a layer stated once in the δ form.

* ``through_delta``: a softmax output couples its neurons, so a path from the loss to z^L_m runs
  through every output a^L_i (n_L paths where one would do).  Their sum is the output error
  δ^L_m = ∂C/∂z^L_m (BP1, a^L_m − y_m for cross-entropy), so the paths start there instead:
  one factor ∂C/∂z^L_m in place of the pairs ∂C/∂a^L_i · ∂a^L_i/∂z^L_m.  The products still add
  up to the same gradient, ``Derivation.gradient``.
* ``every_parameter``: ∂C/∂w^l_jk = a^{l−1}_k δ^l_j and ∂C/∂b^l_j = δ^l_j, layer by layer, read
  off ``Derivation.adjoints`` (BP3, BP4): what covers the weights that are not worked out.

``wide``: a network too wide to draw neuron by neuron (``tikz.MAX_NEURONS``) works out one
representative weight per layer and covers the others in the δ form.
"""

from __future__ import annotations

import sympy

import symbprop.render.tikz as tikz
from symbprop.render.blocks import math, para
from symbprop.render.notation import Partial
from symbprop.spec.variables import ACT, BIAS, PRE, WEIGHT
from symbprop.symbolic.paths import Factor


def wide(d) -> bool:
    """Whether ``d`` is a network with a layer wider than the drawing shows neuron by neuron."""
    return d.model.kind == "network" and max(d.model.sizes) > tikz.MAX_NEURONS


def softmax_output(d) -> bool:
    return d.model.kind == "network" and d.model.layers[-1].activation.is_softmax


def through_delta(d, name: str, max_paths: int) -> tuple[list[list[Factor]], int]:
    """(the first ``max_paths`` chain-rule paths of ∂C/∂``name``, how many there are in all):
    ``d.chain`` as it is, or for a softmax output the paths from δ^L (see the module)."""
    if not softmax_output(d):
        return d.chain(name, max_paths=max_paths), d.path_count(name)
    outputs = d.model.sizes[-1]
    found: dict = {}  # the part below z^L -> the path from δ^L
    for path in d.chain(name, max_paths=max_paths * outputs):
        z = path[1].wrt  # path: ∂C/∂a^L_i, ∂a^L_i/∂z^L_m, then the steps below z^L_m
        key = (z, *path[2:])
        if key not in found and len(found) < max_paths:
            found[key] = [Factor(path[0].of, z, d.scalar_adjoint(z)), *path[2:]]
    return list(found.values()), d.path_count(name) // outputs


def delta_note(d, s) -> dict | None:
    """The sentence saying that a softmax output's paths start at δ^L, or None."""
    if not softmax_output(d):
        return None
    L, n = len(d.model.layers), d.model.sizes[-1]
    z = d.variable(PRE, L)
    m = sympy.Symbol("m")
    delta = Partial(sympy.Symbol("C"), z[m])
    return para(
        f"The softmax output couples its {n} neurons: from {s.m(sympy.Symbol('C'))} to "
        f"{s.m(z[m])} there are {n} paths, one through every output "
        f"{s.m(d.variable(ACT, L)[sympy.Symbol('i')])}.  The backward pass has added them up "
        f"already, in the output error {s.meq(delta, d.adjoints[z].expr.xreplace({_j(d): m}))} "
        f"(case 1), so every path below starts at {s.m(delta)}: one factor instead of {n} "
        "pairs.")


def _j(d):
    (j,) = d.adjoints[d.variable(PRE, len(d.model.layers))].indices
    return j


def every_parameter(d, s) -> list[dict]:
    """The δ form of every weight and bias, one pair of lines per layer (BP3, BP4)."""
    C = sympy.Symbol("C")
    lines = []
    counts = []
    for layer in range(1, len(d.model.layers) + 1):
        n, m = d.model.sizes[layer], d.model.sizes[layer - 1]
        weights = d.variable(WEIGHT, layer)
        adjoint = d.adjoints[weights]
        lines.append((s.expr(Partial(C, weights[adjoint.indices])), "=", s.expr(adjoint.expr)))
        spec = d.model.layers[layer - 1]
        biases = 0
        if spec.bias != "none":
            bias = d.variable(BIAS, layer)
            adjoint = d.adjoints[bias]
            target = bias[adjoint.indices] if adjoint.indices else bias
            lines.append((s.expr(Partial(C, target)), "=", s.expr(adjoint.expr)))
            biases = n if spec.bias == "per_neuron" else 1
        shape = s.inline(f"{n} {s.note('times')} {m}")
        also = f" and {biases} bias{'es' if biases > 1 else ''}" if biases else ""
        counts.append(f"layer {layer}, {shape} weights{also}")
    return [para("Every other parameter is worked out the same way, and the errors do the "
                 "summing over paths: once the backward pass has the error of every neuron, "
                 "each weight's gradient is the error of the neuron it leads to times the "
                 "input it connects (BP4), each bias gradient the error of its neuron (BP3).  "
                 "These lines cover all of them (" + "; ".join(counts) + "):"),
            math(lines)]
