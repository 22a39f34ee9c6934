"""The point of one exercise sheet: numbers a student can work with by hand.

``draw(d, rng)`` returns a values mapping in the format of ``symbprop.spec.values`` (what
``symbprop derive --at`` reads):

* a network: one sample ``x``, ``y`` and ``params``, every input, weight and bias a one-digit
  decimal (±0.1 … ±0.9, inputs up to ±1.0); targets that fit the loss (one-hot for softmax
  cross-entropy, 0 or 1 for BCE, 0.1 … 0.9 after a sigmoid output); and ``lr``;
* a graph or expression: every variable (and declared constant) from ±0.5, ±1, …, ±3, and
  ``lr``.

A point is drawn again (up to ``TRIES`` times) when it is no good for a sheet: no finite real
value, a saturated unit (|z| > ``SATURATED`` for sigmoid, tanh), an input within ``KINK_MARGIN``
of a kink (a kinked activation of the registry, |·|, max, min: never on the kink), a zero loss or a
gradient entry that is zero, or (graphs) two variables of the same size or a node whose value
repeats a variable's or another node's (degenerate questions).  After ``TRIES`` draws the last one
defined is used; a model with no defined point at all is a ``SymbpropError``.  The same
generator state gives the same point.
"""

from __future__ import annotations

import numpy as np
import sympy

import symbprop.functions.registry as registry
from symbprop.errors import SymbpropError
from symbprop.render.kinks import kinked_operations
from symbprop.spec.variables import PRE, Var

TRIES = 200
SATURATED = 2.5
KINK_MARGIN = 0.05
#: Activations whose derivative jumps at 0.
LEARNING_RATES = (0.1, 0.2, 0.5)
GRAPH_NUMBERS = (0.5, 1.0, 1.5, 2.0, 2.5, 3.0)


def draw(d, rng) -> dict:
    """A values mapping for ``d.model`` drawn from ``rng`` (see the module docstring)."""
    fallback = None
    for attempt in range(TRIES):
        values = _draw_graph(d.model, rng, attempt >= TRIES // 2) if d.model.kind == "graph" \
            else _draw_network(d.model, rng)
        try:
            result = d.evaluate(values)
        except (ArithmeticError, SymbpropError, TypeError, ValueError):
            continue
        if not _finite(result):
            continue
        fallback = values
        if _good(d, values, result):
            return values
    if fallback is None:
        raise SymbpropError(f"{d.model.name}: no point with a finite real value found in "
                            f"{TRIES} draws; exercise sheets need one")
    return fallback


def _decimal(rng, high: int = 9, positive: bool = False) -> float:
    """A one-digit decimal ±0.1 … ±high/10, never 0."""
    value = int(rng.integers(1, high + 1)) / 10
    return value if positive or rng.integers(2) else -value


def _draw_network(model, rng) -> dict:
    params = {}
    for name, shape in model.param_shapes.items():
        array = [_decimal(rng) for _ in range(int(np.prod(shape, dtype=int)))]
        params[name] = np.reshape(array, shape).tolist() if shape else array[0]
    x = [_decimal(rng, 10) for _ in range(model.inputs)]
    return {"x": x, "y": _targets(model, rng), "params": params,
            "lr": float(rng.choice(LEARNING_RATES))}


def _targets(model, rng) -> list[float]:
    n_out = model.sizes[-1]
    if model.loss.targets_sum_to_one:
        hot = int(rng.integers(n_out))
        return [1.0 if j == hot else 0.0 for j in range(n_out)]
    if model.loss.name == "bce":
        return [float(rng.integers(2)) for _ in range(n_out)]
    positive = model.layers[-1].activation.name == "sigmoid"
    return [_decimal(rng, positive=positive) for _ in range(n_out)]


def _draw_graph(model, rng, positive: bool) -> dict:
    names = [*model.params, *getattr(model, "constants", ())]
    values = {}
    for name in names:
        value = float(rng.choice(GRAPH_NUMBERS))
        values[name] = value if positive or rng.integers(2) else -value
    values["lr"] = float(rng.choice(LEARNING_RATES))
    return values


def _finite(result) -> bool:
    numbers = [result["loss"], *result["grad"].values()]
    return all(n is not None and np.isfinite(n) for n in numbers)


def _good(d, values, result) -> bool:
    """Not saturated, away from kinks, no zero loss or gradient (see the module docstring)."""
    grads = np.abs(list(result["grad"].values()))
    if abs(result["loss"]) < 1e-9 or np.any(grads < 1e-6):
        return False
    if d.model.kind == "graph":
        return _distinct(values, result) and _graph_good(d, values, result)
    for number, layer in enumerate(d.model.layers, start=1):
        z = np.abs(np.asarray(result["forward"][Var(PRE, number).name], dtype=float))
        name = layer.activation.name
        record = None if layer.activation.is_custom else registry.activation(name)
        if record is not None and record.saturates and np.any(z > SATURATED):
            return False
        if ((record is not None and record.kink) or layer.activation.is_custom) and np.any(
                z < KINK_MARGIN):
            return False
    return True


def _distinct(values, result) -> bool:
    """A graph's variables differ in size, and no node's value repeats a variable's or another
    node's (else two answers coincide, or an answer is a number given on the sheet)."""
    leaves = [round(abs(v), 9) for k, v in values.items() if k != "lr"]
    nodes = [round(abs(v), 9) for v in result["forward"].values()]
    if len(leaves) <= len(GRAPH_NUMBERS) and len(set(leaves)) < len(leaves):
        return False
    return len(set(leaves + nodes)) == len(leaves) + len(nodes)


def _graph_good(d, values, result) -> bool:
    """No node of a graph with a kinked operation at or near its kink (the kink of relu, |·|
    is 0; of max/min, equal arguments): every node value and every difference of a max/min's
    arguments at least ``KINK_MARGIN`` away from 0."""
    kinked = kinked_operations()
    if not any(eqn.expr.has(*kinked) for eqn in d.program.eqns):
        return True
    numbers = {sympy.Symbol(n): v for n, v in values.items() if n != "lr"}
    numbers |= {sympy.Symbol(n): v for n, v in result["forward"].items()}
    for eqn in d.program.eqns:
        for op in eqn.expr.atoms(*kinked):
            args = [float(a.xreplace(numbers)) for a in op.args]
            gaps = [args[0] - args[1]] if len(args) == 2 else args
            if any(abs(g) < KINK_MARGIN for g in gaps):
                return False
    return True
