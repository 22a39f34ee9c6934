"""The numbers of a document, computed once and kept as plain floats (no printing here).

* ``Point``: ``Derivation.evaluate`` at the values, plus a map from every named scalar (x_k, y_j,
  w^l_{jk}, z^l_j, a^l_j, δ^l_j, graph nodes, ∂f/∂q) to its number, for substituting into the
  symbolic factors of a chain.  A network of more than ``EVALUATE_MAX`` parameters is evaluated
  by ``symbprop.symbolic.reference.Reference`` instead (the same equations in index form, lambdified
  to mpmath, as the cross-check does for wide nets): as exact, in seconds instead of the minutes
  ``evaluate`` takes to instantiate one SymPy equation per weight of 784-128-10.  (Lowering
  ``EVALUATE_MAX`` to 0 leaves every bundled example's document unchanged, byte for byte; a
  test checks that.)
* ``finite_differences``: central differences of the composed loss (``Derivation.composed_loss``
  with every symbprop function written in elementary functions, evaluated by SymPy at 30 digits),
  independent of the reverse sweep.
* ``activation_slopes``: σ'(z^l_j) at the point (saturated neurons).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import mpmath
import numpy as np
import sympy

from symbprop.errors import DomainError
from symbprop.functions.sympy_classes import as_elementary
from symbprop.spec.values import Values, load_values
from symbprop.spec.variables import INPUT, TARGET, split_element
from symbprop.symbolic.indexing import index_values, instantiate
from symbprop.symbolic.ir import EqnRole, label
from symbprop.symbolic.reference import Reference
from symbprop.symbolic.rules import local_partial

FD_STEP = 1e-7
PRECISION = 30
#: Above this many parameters the composed loss is too large to build; no FD column then.
FD_PARAM_LIMIT = 3000
#: Above this many parameters a network's point is evaluated by ``Reference`` (see above): the
#: documents of the bundled examples come out byte for byte the same either way, and at 2410
#: parameters (64-32-10) ``evaluate`` took 7 s, ``Reference`` a fraction of a second.  The
#: cross-check switches at the same size (``crosscheck.compare.EVALUATE_MAX``).
EVALUATE_MAX = 300


@dataclass(frozen=True)
class Point:
    """A worked example: validated values, ``evaluate``'s result, scalar -> number."""

    values: Values
    result: dict
    numbers: Mapping  # sympy element/symbol -> sympy.Float (first sample for a batch)

    @property
    def batch(self) -> bool:
        return self.values.batch

    def number(self, expr: sympy.Expr) -> float:
        """``expr`` (in named scalars) at the point."""
        value = expr.xreplace(self.numbers).evalf(PRECISION)
        return float(value)


def point(d, values) -> Point:
    """Evaluate ``d`` at ``values`` (path, dict or ``Values``); raises ``ValuesError``."""
    vals = load_values(d.model, values)
    wide = d.model.kind == "network" and d.model.param_count > EVALUATE_MAX
    result = _reference_result(d, vals) if wide else d.evaluate(vals)
    numbers = _graph_numbers(d, vals, result) if d.model.kind == "graph" else _network_numbers(
        d, vals, result)
    return Point(vals, result, numbers)


def _reference_result(d, vals: Values) -> dict:
    """``evaluate``'s result (same keys, same numbers to float64 precision) by ``Reference``:
    loss and every gradient, the forward values and δ of each sample, one gradient-descent
    step and the loss after it (None where that has no finite real value)."""
    ref = Reference(d)
    params = {n: np.asarray(v, dtype=float) for n, v in vals.params.items()}
    data = (np.asarray(vals.X, dtype=float), np.asarray(vals.Y, dtype=float))
    try:
        loss, flat, samples = ref.loss_grad_and_samples(
            params, data, {n: np.arange(a.size) for n, a in params.items()},
            lambda env: _reference_sample(d, ref, env))
    except (TypeError, ValueError, ZeroDivisionError, OverflowError):  # mpc, log(0), ...
        loss = math.nan
    if not math.isfinite(loss):
        raise DomainError("the loss has no finite real value at this point; choose values "
                          "inside the domains of its functions")
    grads = {n: flat[n].reshape(a.shape) for n, a in params.items()}
    grad = {name: param_value(grads, name) for name in d.params}
    new = {n: params[n] - vals.lr * grads[n] for n in params}
    try:
        after = ref.loss_and_grad(new, data, {})[0]
    except (TypeError, ValueError, ZeroDivisionError, OverflowError):
        after = None
    pick = (lambda key: [s[key] for s in samples]) if vals.batch else (
        lambda key: samples[0][key])
    rows = {key: pick(key) for key in ("forward", "delta")}
    if vals.batch:
        rows = {key: {n: [r[n] for r in rows[key]] for n in rows[key][0]} for key in rows}
    return {"loss": loss, "grad": grad, **rows, "per_sample": [s["loss"] for s in samples],
            "step": {"lr": vals.lr, "params": {n: a.tolist() for n, a in new.items()},
                     "loss": after if after is not None and math.isfinite(after) else None}}


def _reference_sample(d, ref: Reference, env: dict) -> dict:
    """One sample's forward values, δ's and loss from its ``Reference.run``."""
    forward = [e.base for e in d.program.eqns[:-1]]
    deltas = [a.symbol for a in d.adjoints.values() if a.symbol is not None]
    return {"loss": float(env[ref.output][()]),
            "forward": {label(b): [float(v) for v in env[b]] for b in forward},
            "delta": {label(b): [float(v) for v in env[b]] for b in deltas}}


def _graph_numbers(d, vals: Values, result: dict) -> dict:
    """Every named scalar of a graph at the point: variables, constants, nodes, adjoints and,
    where the values give one, the seed ∂L/∂f (``d`` is then ``d.seeded``)."""
    given = vals.params | vals.constants
    if vals.upstream is not None:
        given = given | {d.seeded.seed.name: vals.upstream}
    numbers = {sympy.Symbol(p): sympy.Float(v, PRECISION) for p, v in given.items()}
    numbers |= {sympy.Symbol(n): sympy.Float(v, PRECISION) for n, v in result["forward"].items()}
    numbers |= {sympy.Symbol(n): sympy.Float(v, PRECISION) for n, v in result["adjoint"].items()}
    return numbers


def _network_numbers(d, vals: Values, result: dict) -> Mapping:
    arrays = dict(vals.params) | {"x": vals.X[0], "y": vals.Y[0]}
    first = (lambda rows: rows[0]) if vals.batch else (lambda rows: rows)
    arrays |= {name: first(rows) for name, rows in result["forward"].items()}
    arrays |= {name: first(rows) for name, rows in result["delta"].items()}
    return _Scalars({d.base(name): array for name, array in arrays.items()})


class _Scalars(Mapping):
    """Named scalar (``w[1, 0]``, or a symbol) -> ``sympy.Float``, made when looked up from
    nested lists of floats: a 784-128-10 net has 100,000 weights, and making every element
    and its number up front took seconds."""

    def __init__(self, arrays: dict) -> None:
        self._arrays = arrays  # IndexedBase or Symbol -> nested lists of floats, or a float

    def __getitem__(self, key) -> sympy.Float:
        base, indices = (key.base, key.indices) if isinstance(key, sympy.Indexed) else (key, ())
        try:
            value = self._arrays[base]
        except (KeyError, TypeError):
            raise KeyError(key) from None
        for i in indices:
            if not (isinstance(value, list) and i.is_Integer and 0 <= i < len(value)):
                raise KeyError(key)
            value = value[int(i)]
        if isinstance(value, list):
            raise KeyError(key)
        return sympy.Float(value, PRECISION)

    def __iter__(self):
        for base, array in self._arrays.items():
            yield from _elements(base, array, ())

    def __len__(self) -> int:
        return sum(1 for _ in self)

    def __bool__(self) -> bool:  # xreplace asks at every node: not by counting
        return bool(self._arrays)


def _elements(base, array, prefix: tuple):
    if not isinstance(array, list):
        yield base[prefix] if prefix else base
        return
    for i, item in enumerate(array):
        yield from _elements(base, item, (*prefix, i))


# ---------------------------------------------------------------- finite differences


def fd_available(d) -> bool:
    """Whether the loss can be composed into one expression for finite differences: few
    parameters, and not too many parts written out (``Derivation.MAX_COMPOSED_SIZE``)."""
    if d.model.param_count > FD_PARAM_LIMIT:
        return False
    limit = d.MAX_COMPOSED_SIZE
    return d.composed_size(d.definition(d.program.output), limit) <= limit


def finite_differences(d, pt: Point, names: list[str], h: float = FD_STEP) -> dict[str, float]:
    """Central differences (L(θ + h e_i) − L(θ − h e_i)) / 2h of the composed, reduced loss,
    compiled once (``lambdify`` with common subexpressions, mpmath at 30 digits)."""
    elements = [d.element(n) for n in d.params]
    loss = sympy.lambdify(elements, reduced_loss(d, pt.values), modules="mpmath", cse=True)
    with mpmath.workdps(PRECISION):
        theta = [mpmath.mpf(repr(param_value(pt.values.params, n))) for n in d.params]
        step = mpmath.mpf(repr(h))
        result = {}
        for name in names:
            i = d.params.index(name)
            plus, minus = list(theta), list(theta)
            plus[i] += step
            minus[i] -= step
            result[name] = float((loss(*plus) - loss(*minus)) / (2 * step))
    return result


def reduced_loss(d, vals: Values) -> sympy.Expr:
    """L(θ) as an expression of the parameters only: the batch reduction of C over samples."""
    composed = as_elementary(d.composed_loss())
    if d.model.kind == "graph":  # constants and the seed ∂L/∂f are numbers, not parameters
        given = dict(vals.constants)
        if d.seed != 1:
            given[d.seed.name] = vals.upstream
        return composed.xreplace({sympy.Symbol(n): sympy.Float(v, PRECISION)
                                  for n, v in given.items()})
    terms = []
    for x_row, y_row in zip(vals.X, vals.Y, strict=True):
        sample = {d.variable(INPUT)[k]: sympy.Float(v, PRECISION) for k, v in enumerate(x_row)}
        sample |= {d.variable(TARGET)[j]: sympy.Float(v, PRECISION) for j, v in enumerate(y_row)}
        terms.append(composed.xreplace(sample))
    scale = sympy.Rational(1, len(terms)) if d.model.reduction == "mean" else 1
    return scale * sympy.Add(*terms)


def param_value(params: Mapping, name: str) -> float:
    """The number of scalar parameter ``name`` (``"W1[0,1]"``) in ``params`` (nested lists or
    arrays by array name)."""
    head, indices = split_element(name)
    value = params[head]
    for i in indices:
        value = value[i]
    return float(value)


# ---------------------------------------------------------------- activations at the point


def activation_slopes(d, pt: Point) -> list[tuple[int, int, float]]:
    """(layer, j, ∂a^l_j/∂z^l_j) for every neuron, at the first sample of the point."""
    slopes = []
    for eqn in d.program.eqns:
        if eqn.role is not EqnRole.ACT:
            continue
        z_base = next(e.base for e in d.program.eqns
                      if e.role is EqnRole.PRE and e.layer == eqn.layer)
        (j,) = eqn.indices
        local = local_partial(eqn.out, eqn.expr, z_base[j])
        for (value,) in index_values(eqn.indices):
            slope = pt.number(instantiate(local, {j: value}))
            slopes.append((eqn.layer, value, slope))
    return slopes
