"""Gradients shrinking or growing layer by layer, measured at the point (seed 002's insights):
the size ‖δ^l‖ of each layer's error vector, the ratio ‖δ^l‖/‖δ^{l+1}‖ from one layer to the one
before it, and a sentence that names the vanishing or exploding gradient when every ratio says
so.  The numbers are ``evaluate``'s δ's (first sample of a batch), not recomputed here.
"""

from __future__ import annotations

import numpy as np
import sympy

from symbprop.render.blocks import para, table
from symbprop.render.notation import vector
from symbprop.spec.variables import Var

#: Below this ratio per layer the gradient is said to vanish, above ``GROWING`` to explode.
SHRINKING = 0.5
GROWING = 2.0


def layer_norms(pt) -> dict[int, float]:
    """layer -> ‖δ^l‖ (Euclidean norm, first sample of a batch) at the point."""
    norms = {}
    for name, values in pt.result["delta"].items():
        array = np.asarray(values, dtype=float)
        if pt.batch and array.ndim > 1:
            array = array[0]
        norms[Var.parse(name).layer] = float(np.linalg.norm(array))
    return dict(sorted(norms.items()))


def flow_blocks(v, s, pt) -> list[dict]:
    """The table of ‖δ^l‖ and ratios, and what they say; [] for a single layer."""
    norms = layer_norms(pt)
    layers = sorted(norms, reverse=True)  # the output layer first, as backpropagation goes
    if len(layers) < 2:
        return []
    rows, ratios = [], []
    for position, layer in enumerate(layers):
        ratio = ""
        if position:
            above = norms[layers[position - 1]]
            value = norms[layer] / above if above else float("inf")
            ratios.append(value)
            ratio = s.num(value, 3)
        rows.append([s.layer(layer), s.num(norms[layer], 3), ratio])
    delta = s.m(sympy.Symbol("delta^l"))
    header = ["layer", s.inline(f"\\lVert {s.expr(vector('delta^l', 1))} \\rVert")
              if s.latex else f"‖{s.expr(vector('delta^l', 1))}‖", "ratio to the layer above"]
    sample = " (first sample)" if pt.batch else ""
    return [para(f"How the error changes layer by layer at this point{sample}: the size of each "
                 f"layer's error vector {delta}, from the output layer back to the first, and "
                 "the ratio to the layer above it (BP2 multiplies by the weights and by the "
                 "slopes of the activations at every step back):"),
            table(header, rows, "rrr"), para(_verdict(ratios, _uses_sigmoid(v)))]


def _uses_sigmoid(v) -> bool:
    return any(v.activation(layer).name == "sigmoid" for layer in range(1, v.L + 1))


def _verdict(ratios: list[float], sigmoid: bool) -> str:
    if all(r < SHRINKING for r in ratios):
        return ("The error shrinks at every step back towards the input (every ratio below "
                f"{SHRINKING}): a vanishing gradient.  The weights near the input learn more "
                "slowly than those near the output, the more so the deeper the network; the "
                "slopes of saturated or flat activations"
                + (" (a sigmoid's is at most 1/4)" if sigmoid else "")
                + " and small weights are what make each step smaller.")
    if all(r > GROWING for r in ratios):
        return (f"The error grows at every step back towards the input (every ratio above "
                f"{GROWING}): an exploding gradient.  The weights near the input get the "
                "largest updates, and a fixed learning rate that suits the output layer may "
                "overshoot for them.")
    return ("The error neither vanishes nor explodes across these layers: the ratios stay "
            f"between {SHRINKING} and {GROWING}, or change direction.")
