"""Numbers for a derivation: the worked example, evaluated with SymPy at 30 significant digits.

``evaluate(derivation, values)`` follows the derivation itself — the forward equations, then the
named adjoints δ (or ∂f/∂q), then each gradient in named intermediates — substituting numbers
into the scalar form, so every number in a document is the derivation's own.  It returns::

    {"loss": L, "grad": {name: ∂L/∂θ}, "forward": {"z1": ..., "a1": ...}, "delta": {"delta1": ...},
     "per_sample": [...], "step": {"lr": η, "params": θ − η∇L, "loss": L after the step}}

For a batch, L and ∇L are reduced as the model says (mean or sum); ``forward``/``delta`` hold one
row per sample (a single sample given as ``x``/``y`` gives flat lists).  The point must lie inside
the domains of the model's functions; the step need not: where θ − η∇L leaves them (or overflows
the floats), the step's ``loss`` is ``None``.
"""

from __future__ import annotations

import math

import sympy

from .errors import DomainError
from .indexing import index_values, instantiate
from .ir import label
from .values import Values, load_values

PRECISION = 30


def evaluate(derivation, values) -> dict:
    """The numbers above; raises ``ValuesError`` for values that do not fit the model and
    ``DomainError`` (naming the values file, if one was given) where there is no real value."""
    vals = load_values(derivation.model, values)
    try:
        if derivation.model.kind == "graph":
            return _graph(derivation, vals)
        return _network(derivation, vals)
    except DomainError as err:
        if vals.source:
            raise DomainError(f"{vals.source}: {err}") from None
        raise


def _number(expr: sympy.Expr, numbers: dict) -> sympy.Float:
    value = expr.xreplace(numbers).evalf(PRECISION)
    if not value.is_Number or not value.is_finite:
        at = ", ".join(f"{s} = {float(numbers[s]):g}"
                       for s in sorted(expr.free_symbols & numbers.keys(), key=str))
        kind = "is infinite" if value.has(sympy.zoo, sympy.oo, -sympy.oo) else "is not real"
        raise DomainError(f"{expr} {kind} at {at or 'this point'}; choose values inside the "
                          "domains of its functions")
    return value


def _float(value: float) -> sympy.Float:
    return sympy.Float(repr(float(value)), PRECISION)


# ---------------------------------------------------------------- graphs


def _graph(d, vals: Values) -> dict:
    result = _graph_point(d, vals.params)
    new = {p: v - vals.lr * result["grad"][p] for p, v in vals.params.items()}
    after = _outside_is_none(lambda: _graph_point(d, new, gradients=False)["loss"])
    result["step"] = {"lr": vals.lr, "params": new, "loss": after}
    return result


def _outside_is_none(loss) -> float | None:
    """``loss()``, or None where it has no finite real value (a step out of the domain)."""
    try:
        value = loss()
    except DomainError:
        return None
    return value if math.isfinite(value) else None


def _graph_point(d, params: dict, gradients: bool = True) -> dict:
    numbers = {sympy.Symbol(p): _float(v) for p, v in params.items()}
    forward = {}
    for eqn in d.program.eqns:
        numbers[eqn.out] = _number(eqn.expr, numbers)
        forward[eqn.out.name] = float(numbers[eqn.out])
    result = {"loss": forward[d.program.output.name], "forward": forward}
    if not gradients:
        return result
    adjoints = {}
    for adjoint in d.adjoints.values():  # reverse evaluation order: upstream first
        if adjoint.symbol is not None:
            numbers[adjoint.symbol] = _number(adjoint.expr, numbers)
            adjoints[adjoint.symbol.name] = float(numbers[adjoint.symbol])
    result["adjoint"] = adjoints
    result["grad"] = {p: float(_number(d.gradient(p), numbers)) for p in d.params}
    return result


# ---------------------------------------------------------------- networks


def _network(d, vals: Values) -> dict:
    samples = [_sample(d, vals.params, x, y) for x, y in zip(vals.X, vals.Y, strict=True)]
    scale = 1.0 / len(samples) if d.model.reduction == "mean" else 1.0
    loss = scale * sum(s["loss"] for s in samples)
    grad = {p: scale * sum(s["grad"][p] for s in samples) for p in d.params}
    new = _step(d, vals.params, grad, vals.lr)
    after = _outside_is_none(lambda: scale * sum(
        _sample(d, new, x, y, gradients=False)["loss"] for x, y in zip(vals.X, vals.Y, strict=True)
    ))
    pick = (lambda key: [s[key] for s in samples]) if vals.batch else (lambda key: samples[0][key])
    return {
        "loss": loss,
        "grad": grad,
        "forward": _transpose(pick("forward"), vals.batch),
        "delta": _transpose(pick("delta"), vals.batch),
        "per_sample": [s["loss"] for s in samples],
        "step": {"lr": vals.lr, "params": new, "loss": after},
    }


def _sample(d, params: dict, x: list, y: list, gradients: bool = True) -> dict:
    numbers = _leaf_numbers(d, params, x, y)
    forward = {}
    for eqn in d.program.eqns[:-1]:
        row = []
        for idx in index_values(eqn.indices):
            element = instantiate(eqn.out, dict(zip(eqn.indices, idx, strict=True)))
            numbers[element] = _number(d.definition(element), numbers)
            row.append(float(numbers[element]))
        forward[eqn.base.label.name] = row
    loss = float(_number(d.definition(d.program.output), numbers))
    if not gradients:
        return {"loss": loss}
    deltas = {}
    for adjoint in d.adjoints.values():
        if adjoint.symbol is not None:
            deltas[adjoint.symbol.label.name] = _delta_row(d, adjoint, numbers)
    grad = {p: float(_number(d.gradient(p), numbers)) for p in d.params}
    return {"loss": loss, "forward": forward, "delta": deltas, "grad": grad}


def _delta_row(d, adjoint, numbers: dict) -> list[float]:
    row = []
    for idx in index_values(adjoint.indices):
        element = adjoint.symbol[idx]
        numbers[element] = _number(d.definition(element), numbers)
        row.append(float(numbers[element]))
    return row


def _leaf_numbers(d, params: dict, x: list, y: list) -> dict:
    numbers: dict = {}
    for base in d.program.params:
        _fill(numbers, base, params[label(base)])
    _fill(numbers, d.base("x"), x)
    _fill(numbers, d.base("y"), y)
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
