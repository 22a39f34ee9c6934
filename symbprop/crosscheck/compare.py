"""The three-way cross-check: symbolic gradient vs compiled kernels vs central finite differences.

``check(model, values=None, samples=5, strategy="auto", dtypes=("float64",))`` evaluates, at the
given point (``values``) and at ``samples`` random points:

* the **symbolic** loss and gradient, exactly as derived, at 30 significant digits (more where
  that is not enough for float64 precision, ``symbprop.symbolic.precision``):
  ``Derivation.evaluate`` for models of up to ``EVALUATE_MAX`` parameters; above that, the
  derivation's index-form equations evaluated with mpmath (``Reference``), which scales with
  the layer sizes instead of the number of weights;
* the **compiled** kernels (``symbprop.compile``) of every lowering that applies (``auto``: both
  ``unrolled`` and ``looped`` for networks that ``auto`` would unroll, else ``looped``; graphs have
  one lowering) and every dtype in ``dtypes``;
* **central finite differences** of the compiled float64 loss, step h = 1e-6·max(1, |θ|).  Where
  0 < |θ| < 1e-3 or the loss is not finite at θ ± h, the relative step 1e-6·|θ| is tried too,
  and the one with the smaller relative error estimate (the change when the step is halved,
  plus rounding) is used: so the difference stays inside a domain that ends at 0 (log(x),
  sqrt(x) at x = 1e-7) and does not cross a pole (1/x), while a smooth function keeps the
  larger step.

Random points: weights ~ N(0, 1/n_in), biases ~ N(0, 0.5²), a batch of 2 inputs ~ N(0, 1),
targets that fit the loss (probability rows for softmax cross-entropy, values in (0, 1) for BCE);
graphs: every variable and constant ~ N(0, 1), drawn again (later half-normal, i.e. positive)
where the graph has no finite real value or gradient (``log``, ``sqrt`` of a negative
number).  Network points where a kinked activation (relu, leaky_relu, elu, or a custom one
with max/min/abs) has some |z| < 1e-3 are drawn again.  A parameter array with more than
``MAX_ENTRIES`` entries is checked on a fixed random subset of that many.

An entry passes when |other − symbolic| <= atol·s + rtol·|symbolic|, s = max(1, max |symbolic|
over the group at that point), with ``TOLERANCES`` (``symbprop.crosscheck.report``, which also
tallies the rows): compiled float64 (1e-12, 1e-9), compiled float32 (1e-4, 2e-3), finite
differences (1e-6, 1e-5).  The report has one row per parameter group and comparison (plus the
loss); ``ok`` is True when every row passes.  A value that is
not finite never passes: where the symbolic value is not finite (``exp(x)`` at x = 1e10
overflows) or the loss is not finite at both steps of a finite difference, there is nothing to
compare, and the row fails with a ``note`` saying so (the report's title: NOT CHECKABLE).
"""

from __future__ import annotations

import math

import numpy as np

from symbprop.codegen.options import AUTO_UNROLL_MAX, check_dtype, check_target, resolve_strategy
from symbprop.crosscheck.report import CheckReport, Tally
from symbprop.crosscheck.sampling import random_point
from symbprop.errors import SymbpropError, require_count
from symbprop.runtime import first_compile
from symbprop.runtime.compiling import compile_model
from symbprop.runtime.input_checks import checked_seed
from symbprop.spec.values import load_values
from symbprop.symbolic.derivation import derive
from symbprop.symbolic.reference import Reference

EVALUATE_MAX = 300
MAX_ENTRIES = 64
#: Below this |θ| (and above 0) finite differences also try the relative step (see
#: ``_central_difference``).
NEAR_ZERO = 1e-3
EPSILON = float(np.finfo(np.float64).eps)


# -------------------------------------------------------------------- the driver


def check(
    model,
    values=None,
    samples: int = 5,
    strategy: str = "auto",
    dtypes: str | tuple[str, ...] = ("float64",),
    seed: int = 0,
    target: str = "numba",
) -> CheckReport:
    """Cross-check ``model`` at ``values`` (if given) and ``samples`` random points.

    ``samples`` is an integer ≥ 0, and ≥ 1 when no ``values`` are given (a report of no points
    would say "all agree" having checked nothing); ``dtypes`` one dtype name or a sequence of
    them; ``seed`` an integer 0 ≤ seed < 2**63; otherwise ``SymbpropError``.  ``target``: the
    code target whose kernels are checked ("numba", or "numpy", which has no lowerings)."""
    _check_samples(samples, values)
    dtypes, seed = _dtypes(dtypes), checked_seed(seed)
    d = derive(model)
    lowerings = ("numpy",) if check_target(target) == "numpy" else _lowerings(model, strategy)
    kernels = {(s, t): compile_model(model, s, t, target) for s in lowerings for t in dtypes}
    reference = (kernels.get((lowerings[0], "float64"))
                 or compile_model(model, lowerings[0], target=target))
    # kernels written here: half of them compiled in a second process
    first_compile.compile_written([reference, *kernels.values()], "loss_and_grad_into")
    symbolic = _Symbolic(d)
    rng = np.random.default_rng(seed)
    given = load_values(model, values) if values is not None else None
    points = [_given(model, given)] if given is not None else []
    points += [random_point(model, symbolic, rng) for _ in range(samples)]
    tally = Tally()
    for number, (params, data) in enumerate(points):
        source = given.source if given is not None and number == 0 else None
        sym_loss, sym_grad, entries = _at(symbolic, params, data, rng, source)
        point = ("the given point" if given is not None and number == 0
                 else f"random point {number + (given is None)}")
        where = {name: [f"{_entry(name, i, model.param_shapes[name])} at {point}" for i in idx]
                 for name, idx in entries.items()}
        for (s, t), k in kernels.items():
            loss, grad = _compiled(k, params, data)
            tally.add("loss", f"{s} {t}", np.array([sym_loss]), np.array([loss]), t,
                      [f"loss at {point}"])
            for name, idx in entries.items():
                tally.add(name, f"{s} {t}", sym_grad[name], grad[name].ravel()[idx], t,
                          where[name])
        fd = _finite_differences(reference, params, data, entries)
        for name in entries:
            tally.add(name, "finite differences", sym_grad[name], fd[name], "fd", where[name])
    return CheckReport(model.name, len(points), tally.rows())


def _entry(name: str, flat: int, shape: tuple[int, ...]) -> str:
    """The scalar name of a parameter's entry at a flat (row-major) index, as
    ``Derivation.params`` spells it: "W1[2,0]" for 2·n_in in W1; a scalar parameter is its name."""
    if not shape:
        return name
    return f"{name}[{','.join(str(i) for i in np.unravel_index(flat, shape))}]"


def _check_samples(samples, values) -> None:
    require_count("samples", samples, 0)
    if samples == 0 and values is None:
        raise SymbpropError("samples=0 and no values: nothing to check; give samples ≥ 1 or "
                            "values to check at")


def _dtypes(dtypes) -> tuple[str, ...]:
    """``dtypes`` as a tuple of valid names (one name alone is a tuple of one)."""
    if isinstance(dtypes, str):
        dtypes = (dtypes,)
    try:
        return tuple(check_dtype(t) for t in dtypes)
    except TypeError:
        raise SymbpropError(f"dtypes: expected a dtype name or a sequence of them (float64, "
                            f"float32), got {dtypes!r}") from None


def _lowerings(model, strategy: str) -> tuple[str, ...]:
    if model.kind == "graph":
        return ("unrolled",)
    if strategy != "auto":
        return (resolve_strategy(model, strategy),)
    return ("unrolled", "looped") if model.param_count <= AUTO_UNROLL_MAX else ("looped",)


# -------------------------------------------------------------------- points


def _at(symbolic, params, data, rng, source: str | None):
    """``symbolic(params, data, rng)``; an error at a point read from a file names the file."""
    try:
        return symbolic(params, data, rng)
    except SymbpropError as err:
        if source:
            raise SymbpropError(f"{source}: {err}") from None
        raise


def _given(model, vals):
    params = {name: np.asarray(v, dtype=np.float64) for name, v in vals.params.items()}
    if model.kind == "graph":  # a graph's data: its constants, if it has any
        return params, (dict(vals.constants) if model.constants else None)
    return params, (np.asarray(vals.X, dtype=np.float64), np.asarray(vals.Y, dtype=np.float64))


# -------------------------------------------------------------------- the three sources


def _compiled(k, params, data):
    if data is None or isinstance(data, dict):  # a graph (data: its constants)
        value, grad = k.loss_and_grad({n: float(v) for n, v in params.items()} | (data or {}))
        return value, {n: np.array([g]) for n, g in grad.items()}
    return k.loss_and_grad(params, *data)


def _finite_differences(k, params, data, entries) -> dict[str, np.ndarray]:
    graph = data is None or isinstance(data, dict)
    theta = k.flatten({n: (float(v) if graph else v) for n, v in params.items()})
    # The loss that loss_and_grad_into returns, not the module's own `loss`: that would be one
    # more compilation of the forward pass (1–2 s a model) for the same printed equations.
    into, grad = k.module.loss_and_grad_into, np.empty_like(theta)
    if graph and data:
        const = np.array([data[c] for c in k.constants], dtype=np.float64)
        call = lambda t: into(t, const, grad)  # noqa: E731
    elif graph:
        call = lambda t: into(t, grad)  # noqa: E731
    else:
        work = k.work(data[0].shape[0])
        call = lambda t: into(t, *data, grad, work)  # noqa: E731
    result = {}
    for name, idx in entries.items():
        offset = k.module.PARAM_OFFSETS[name]
        result[name] = np.array([_central_difference(call, theta, offset + i) for i in idx])
    return result


def _central_difference(call, theta: np.ndarray, index: int) -> float:
    """dL/dθ_i by a central difference with h = 1e-6·max(1, |θ_i|).  Near an edge of the domain
    at 0 (0 < |θ_i| < ``NEAR_ZERO``, where that step reaches within 1000 steps of 0, or L not
    finite at θ ± h) the relative step 1e-6·|θ_i| is tried as well, and the one with the
    smaller relative error estimate is used: how much the result changes when the step is
    halved, plus the rounding error ε·|L|/h, over the result.  So log(x) or 1/x at x = 1e-7
    get the relative step (the other leaves the domain or crosses the pole) and a smooth
    function keeps the larger step.  Not finite if L is not finite at both steps."""
    value = abs(theta[index])
    h = 1e-6 * max(1.0, value)
    result, noise = _difference(call, theta, index, h)
    if not (0.0 < value < NEAR_ZERO or (0.0 < value < 1.0 and not np.isfinite(result))):
        return result
    small = 1e-6 * value
    other, other_noise = _difference(call, theta, index, small)
    if not np.isfinite(result):
        return other
    error = abs(result - _difference(call, theta, index, h / 2)[0]) + noise
    other_error = abs(other - _difference(call, theta, index, small / 2)[0]) + other_noise
    return other if other_error * abs(result) < error * abs(other) else result  # relative


def _difference(call, theta: np.ndarray, index: int, h: float) -> tuple[float, float]:
    """(L(θ + h e_i) − L(θ − h e_i)) / (2h), with the step as represented in floating point, and
    its rounding error ε·max |L(θ ± h e_i)| / h."""
    plus, minus = theta.copy(), theta.copy()
    plus[index] += h
    minus[index] -= h
    high, low = call(plus), call(minus)
    step = plus[index] - minus[index]
    if step == 0.0:  # h is below the spacing of floats at θ (θ subnormal): no difference
        return math.nan, math.inf
    return (high - low) / step, EPSILON * max(abs(high), abs(low)) / step


class _Symbolic:
    """The derivation's loss and gradients at a point, right to float64 precision (see the module
    docstring)."""

    def __init__(self, d) -> None:
        self.d = d
        self.small = d.model.param_count <= EVALUATE_MAX
        self.reference = None if self.small else Reference(d)
        self.float64 = None  # the reference in float64, for z (made when first asked)

    def defined(self, params, data=None) -> bool:
        """A graph has a finite, real value and gradient at ``params`` (and constants ``data``)."""
        try:
            result = self.d.evaluate(_values_dict(params, data))
        except (ArithmeticError, TypeError, ValueError):
            return False
        return all(np.isfinite([result["loss"], *result["grad"].values()]))

    def forward_z(self, params, data) -> list[np.ndarray]:
        """z^l of every layer for every sample, in float64 (to stay away from kinks by 1e-3,
        where float64's rounding does not matter): the index-form equations, not an exact
        evaluation of every weight's equation (0.14 s a point at 3-2-3).  Where float64 leaves
        the range or the domain (a formula's exp(exp(z))), the exact reference says."""
        if self.d.model.kind == "graph":
            return []
        if self.float64 is None:
            self.float64 = Reference(self.d, exact=False)
        try:
            return self.float64.forward_z(params, data)
        except (ArithmeticError, ValueError):
            return (self.reference or Reference(self.d)).forward_z(params, data)

    def __call__(self, params, data, rng):
        """(loss, {group: exact values at the checked entries}, {group: flat entry indices})."""
        shapes = self.d.model.param_shapes
        entries = {n: _subset(int(np.prod(s, dtype=int)), rng) for n, s in shapes.items()}
        if not self.small:
            return (*self.reference.loss_and_grad(params, data, entries), entries)
        try:
            result = self.d.evaluate(_values_dict(params, data))
        except ArithmeticError as err:
            raise SymbpropError(
                f"{self.d.model.name}: no real value at this point ({err})"
            ) from None
        grads = {name: np.array([result["grad"][_entry(name, i, shape)] for i in entries[name]])
                 for name, shape in shapes.items()}
        return result["loss"], grads, entries


def _subset(size: int, rng) -> np.ndarray:
    if size <= MAX_ENTRIES:
        return np.arange(size)
    return np.sort(rng.choice(size, MAX_ENTRIES, replace=False))


def _values_dict(params, data) -> dict:
    if data is None or isinstance(data, dict):  # a graph; data: its constants
        return {n: float(v) for n, v in params.items()} | (data or {})
    return {
        "X": data[0].tolist(),
        "Y": data[1].tolist(),
        "params": {n: np.asarray(v).tolist() for n, v in params.items()},
    }
