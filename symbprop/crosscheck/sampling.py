"""Random points for the cross-check: parameters and a small batch that fit the model, drawn
again where a kinked activation sits at |z| < 1e-3 (finite differences straddling a kink would
disagree with any derivative) or where a graph has no finite value (log, sqrt of a negative).

Weights ~ N(0, 1/n_in), biases ~ N(0, 0.5²), inputs ~ N(0, 1); targets fit the loss
(probability rows for softmax cross-entropy, values in (0, 1) for BCE); graph variables ~ N(0, 1),
half-normal in the later attempts.
"""

from __future__ import annotations

import numpy as np
import sympy

import symbprop.functions.registry as registry
from symbprop.functions.sympy_classes import as_elementary
from symbprop.spec.variables import WEIGHT, Var


def random_point(model, symbolic, rng, tries: int = 50):
    """(params, data) away from kinks; ``symbolic`` supplies ``defined`` and ``forward_z``
    (asked only of a network with a kinked activation)."""
    kinked = [] if model.kind == "graph" else _kinked_layers(model)
    for attempt in range(tries):
        params, data = _draw(model, rng, positive=attempt >= tries // 2)
        if model.kind == "graph":
            if symbolic.defined(params, data):
                return params, data
        elif not any(kinked) or not _near_kink(kinked, symbolic.forward_z(params, data)):
            return params, data
    return params, data


def _draw(model, rng, positive: bool = False):
    if model.kind == "graph":  # N(0, 1); half-normal if the graph is undefined there (log, sqrt)
        draw = (lambda: abs(rng.standard_normal())) if positive else rng.standard_normal
        params = {name: np.float64(draw()) for name in model.params}
        return params, ({c: float(draw()) for c in model.constants} if model.constants else None)
    params = {}
    for name, shape in model.param_shapes.items():
        spread = 1.0 / np.sqrt(shape[1]) if Var.parse(name).role is WEIGHT else 0.5
        params[name] = rng.normal(0.0, spread, shape)
    n_out, batch = model.sizes[-1], 2
    X = rng.standard_normal((batch, model.inputs))
    if model.loss.targets_sum_to_one:
        Y = rng.dirichlet(np.ones(n_out), batch)
    elif model.loss.required_output == "sigmoid":  # bce: targets in (0, 1)
        Y = rng.uniform(0.05, 0.95, (batch, n_out))
    else:
        Y = rng.standard_normal((batch, n_out))
    return params, (X, Y)


def _kinked_layers(model) -> list[bool]:
    """For each layer of a network, whether its activation has a kink (relu, or a formula with
    max, min, abs, a step, a piecewise or a sign)."""
    flags = []
    for layer in model.layers:
        act = layer.activation
        record = None if act.is_custom else registry.activation(act.name)
        flags.append(bool(record is not None and record.kink) or (
            act.is_custom
            and as_elementary(act.expr).has(
                sympy.Max, sympy.Min, sympy.Abs, sympy.Heaviside, sympy.Piecewise, sympy.sign
            )
        ))
    return flags


def _near_kink(kinked: list[bool], zs) -> bool:
    return any(flag and np.min(np.abs(z)) < 1e-3 for flag, z in zip(kinked, zs, strict=True))
