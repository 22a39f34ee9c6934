"""Numbers for a derivation: the worked example, evaluated with SymPy at 30 significant digits,
or more where that is not enough for float64 precision (``symbprop.symbolic.precision``).

``evaluate(derivation, values)`` follows the derivation itself — the forward equations, then the
named adjoints δ (or ∂f/∂q), then each gradient in named intermediates — substituting numbers
into the scalar form, so every number in a document is the derivation's own.  A network's scalar
form is instantiated at its first evaluation and kept while the derivation lives, so further
points and precisions only substitute numbers; a graph's equations are compiled once with mpmath
(``symbprop.symbolic.exact``: one expression at a point, SymPy behind it where a point has no
value), for the many points of a descent lesson.  It returns::

    {"loss": L, "grad": {name: ∂L/∂θ}, "forward": {"z1": ..., "a1": ...}, "delta": {"delta1": ...},
     "per_sample": [...], "step": {"lr": η, "params": θ − η∇L, "loss": L after the step}}

A graph's "loss" is its output's value and "adjoint" holds ∂f/∂q by name; where the values give
an ``upstream`` gradient ∂L/∂f, "grad" and "adjoint" are ∂L/∂· (the backward pass seeded with it)
and "upstream" repeats it.

For a batch, L and ∇L are reduced as the model says (mean or sum); ``forward``/``delta`` hold one
row per sample (a single sample given as ``x``/``y`` gives flat lists).  The point must lie inside
the domains of the model's functions; the step need not: where θ − η∇L leaves them (or overflows
the floats), the step's ``loss`` is ``None``.  A value beyond the float range (|v| > 1.8e308) is
a ``DomainError`` too: every number here is one the kernels could compute.

A network's cost is evaluated as a function of the output layer's z, not of its rounded
activations, with log σ and log(1 − σ) written as softplus: a saturated output (σ(60) =
1 − 9e-27 at 30 digits) gives the exact cost, not one off in the 8th digit (or none at all
beyond z ≈ 70).
"""

from __future__ import annotations

import math
import weakref
from typing import NamedTuple

import mpmath
import sympy

from symbprop.errors import DomainError
from symbprop.functions.sympy_classes import sigmoid, softplus
from symbprop.spec.values import Values, load_values
from symbprop.spec.variables import INPUT, TARGET
from symbprop.symbolic.exact import compiled, number
from symbprop.symbolic.indexing import index_values, instantiate
from symbprop.symbolic.ir import EqnRole, label
from symbprop.symbolic.precision import DIGITS, settled


def evaluate(derivation, values, step: bool = True) -> dict:
    """The numbers above; raises ``ValuesError`` for values that do not fit the model and
    ``DomainError`` (naming the values file, if one was given) where there is no real value.
    ``step=False`` leaves out "step", and the evaluation at θ − η∇L it takes (a descent run
    needs only L and ∇L at each iterate)."""
    vals = load_values(derivation.model, values)
    at = _graph if derivation.model.kind == "graph" else _network
    try:
        return settled(lambda digits: at(derivation, vals, step))
    except DomainError as err:
        if vals.source:
            raise DomainError(f"{vals.source}: {err}") from None
        raise


def _float(value: float) -> sympy.Float:
    return sympy.Float(float(value), DIGITS.get())  # the binary value the kernels see


# ---------------------------------------------------------------- graphs


def _graph(d, vals: Values, step: bool) -> dict:
    """A graph's numbers; with an ``upstream`` gradient, those of ``d.seeded`` (every adjoint
    and gradient ∂L/∂·, the seed ∂L/∂f = upstream).  Constants are numbers, not parameters."""
    if vals.upstream is not None:
        d = d.seeded
    given = {**vals.constants, **({d.seed.name: vals.upstream} if d.seed != 1 else {})}
    result = _graph_point(d, vals.params, given)
    if step:
        new = {p: v - vals.lr * result["grad"][p] for p, v in vals.params.items()}
        after = _outside_is_none(lambda: _graph_point(d, new, given, gradients=False)["loss"])
        result["step"] = {"lr": vals.lr, "params": new, "loss": after}
    if vals.upstream is not None:
        result["upstream"] = vals.upstream
    return result


def _outside_is_none(loss) -> float | None:
    """``loss()``, or None where it has no finite real value (a step out of the domain, or so
    far that SymPy's exact arithmetic runs out of memory or range)."""
    try:
        value = loss()
    except (DomainError, MemoryError, OverflowError):
        return None
    return value if math.isfinite(value) else None


def _graph_point(d, params: dict, given: dict, gradients: bool = True) -> dict:
    plan = _graph_plan(d)
    with mpmath.workdps(DIGITS.get()):
        numbers = {sympy.Symbol(p): mpmath.mpf(float(v)) for p, v in (given | params).items()}
        forward = {}
        for out, step in plan.forward:
            numbers[out] = step.value(numbers)
            forward[out.name] = float(numbers[out])
        result = {"loss": forward[d.program.output.name], "forward": forward}
        if not gradients:
            return result
        adjoints = {}
        for symbol, step in plan.adjoints:  # reverse evaluation order: upstream first
            numbers[symbol] = step.value(numbers)
            adjoints[symbol.name] = float(numbers[symbol])
        result["adjoint"] = adjoints
        result["grad"] = {p: float(step.value(numbers)) for p, step in plan.grad}
    return result


class _GraphPlan(NamedTuple):
    """A graph derivation's equations compiled once (``symbprop.symbolic.exact``)."""

    forward: list  # (node symbol, Compiled) in evaluation order
    adjoints: list  # (adjoint symbol, Compiled), upstream first
    grad: list  # (parameter, Compiled)


def _graph_plan(d) -> _GraphPlan:
    if d not in _plans:
        forward = [(eqn.out, compiled(eqn.expr)) for eqn in d.program.eqns]
        adjoints = [(a.symbol, compiled(a.expr, f"∂{d.top}/∂{a.variable}"))
                    for a in d.adjoints.values() if a.symbol is not None]
        grad = [(p, compiled(d.gradient(p), f"∂{d.top}/∂{p}")) for p in d.params]
        _plans[d] = _GraphPlan(forward, adjoints, grad)
    return _plans[d]


# ---------------------------------------------------------------- networks


def _network(d, vals: Values, step: bool) -> dict:
    samples = [_sample(d, vals.params, x, y) for x, y in zip(vals.X, vals.Y, strict=True)]
    scale = 1.0 / len(samples) if d.model.reduction == "mean" else 1.0
    loss = scale * sum(s["loss"] for s in samples)
    grad = {p: scale * sum(s["grad"][p] for s in samples) for p in d.params}
    pick = (lambda key: [s[key] for s in samples]) if vals.batch else (lambda key: samples[0][key])
    result = {
        "loss": loss,
        "grad": grad,
        "forward": _transpose(pick("forward"), vals.batch),
        "delta": _transpose(pick("delta"), vals.batch),
        "per_sample": [s["loss"] for s in samples],
    }
    if step:
        new = _step(d, vals.params, grad, vals.lr)
        after = _outside_is_none(lambda: scale * sum(
            _sample(d, new, x, y, gradients=False)["loss"]
            for x, y in zip(vals.X, vals.Y, strict=True)))
        result["step"] = {"lr": vals.lr, "params": new, "loss": after}
    return result


def _sample(d, params: dict, x: list, y: list, gradients: bool = True) -> dict:
    numbers = _leaf_numbers(d, params, x, y)
    plan = _plan(d)
    forward = _rows(plan.forward, numbers)
    loss = float(number(plan.cost, numbers))
    if not gradients:
        return {"loss": loss}
    deltas = _rows(plan.deltas, numbers)
    grad = {p: float(number(gradient, numbers)) for p, gradient in plan.grad}
    return {"loss": loss, "forward": forward, "delta": deltas, "grad": grad}


def _rows(rows: list, numbers: dict) -> dict[str, list[float]]:
    """{name: [value, ...]} of a plan's rows, evaluated in order; each element's number is
    added to ``numbers`` for the equations after it."""
    values = {}
    for name, row in rows:
        for element, definition in row:
            numbers[element] = number(definition, numbers)
        values[name] = [float(numbers[element]) for element, _ in row]
    return values


class _Plan(NamedTuple):
    """A network derivation's scalar equations in the order ``_sample`` evaluates them: the
    symbolic half of the work, the same at every point and every precision."""

    forward: list  # (name, [(element, definition), ...]) per forward equation but the cost
    cost: sympy.Expr  # the per-sample cost of the output layer's z (``_cost_of_z``)
    deltas: list  # (name, [(element, definition), ...]) per named adjoint
    grad: list  # (parameter, ∂C/∂parameter in named intermediates)


#: Each derivation's plan, made at its first evaluation and kept while the derivation lives.
_plans: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _plan(d) -> _Plan:
    if d not in _plans:
        forward = []
        for eqn in d.program.eqns[:-1]:
            elements = [instantiate(eqn.out, dict(zip(eqn.indices, idx, strict=True)))
                        for idx in index_values(eqn.indices)]
            forward.append((eqn.base.label.name, [(e, d.definition(e)) for e in elements]))
        deltas = [(a.symbol.label.name, [(a.symbol[idx], d.definition(a.symbol[idx]))
                                         for idx in index_values(a.indices)])
                  for a in d.adjoints.values() if a.symbol is not None]
        _plans[d] = _Plan(forward, _cost_of_z(d), deltas, [(p, d.gradient(p)) for p in d.params])
    return _plans[d]


def _cost_of_z(d) -> sympy.Expr:
    """The per-sample cost with the output activations replaced by their definitions in z."""
    cost = d.definition(d.program.output)
    outputs = {e.base for e in d.program.eqns if e.role is EqnRole.ACT}
    activations = {atom: d.definition(atom) for atom in cost.atoms(sympy.Indexed)
                   if atom.base in outputs}
    return _stable_logs(cost.xreplace(activations))


def _stable_logs(cost: sympy.Expr) -> sympy.Expr:
    """log σ(u) = −softplus(−u) and log(1 − σ(u)) = −softplus(u): softplus evaluates without
    cancellation (symbprop.functions.sympy_classes), where 1 − σ(u) at 30 digits is 0 for u > 70."""
    u = sympy.Wild("u")
    cost = cost.replace(sympy.log(1 - sigmoid(u)), -softplus(u))
    return cost.replace(sympy.log(sigmoid(u)), -softplus(-u))


def _leaf_numbers(d, params: dict, x: list, y: list) -> dict:
    numbers: dict = {}
    for base in d.program.params:
        _fill(numbers, base, params[label(base)])
    _fill(numbers, d.variable(INPUT), x)
    _fill(numbers, d.variable(TARGET), y)
    return numbers


def _fill(numbers: dict, base, array, prefix=()) -> None:
    if not isinstance(array, list):
        numbers[base[prefix] if prefix else base] = _float(array)
        return
    for i, item in enumerate(array):
        _fill(numbers, base, item, (*prefix, i))


def _step(d, params: dict, grad: dict, lr: float) -> dict:
    """θ − η ∇L, as nested lists shaped like ``params``."""
    new = {}
    for name in map(label, d.program.params):
        new[name] = _update(params[name], name, grad, lr)
    return new


def _update(array, name: str, grad: dict, lr: float, prefix=()):
    if not isinstance(array, list):
        key = f"{name}[{','.join(map(str, prefix))}]" if prefix else name
        return array - lr * grad[key]
    return [_update(item, name, grad, lr, (*prefix, i)) for i, item in enumerate(array)]


def _transpose(rows, batch: bool):
    """[{name: row}, ...] (one per sample) -> {name: [row, ...]}; a single sample stays flat."""
    if not batch:
        return rows
    return {name: [r[name] for r in rows] for name in rows[0]} if rows else {}
