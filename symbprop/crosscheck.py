"""The three-way cross-check: symbolic gradient vs compiled kernels vs central finite differences.

``check(model, values=None, samples=5, strategy="auto", dtypes=("float64",))`` evaluates, at the
given point (``values``) and at ``samples`` random points:

* the **symbolic** loss and gradient, exactly as derived, at 30 significant digits:
  ``Derivation.evaluate`` for models of up to ``EVALUATE_MAX`` parameters; above that, the
  derivation's index-form equations evaluated with mpmath (``Reference``), which scales with
  the layer sizes instead of the number of weights;
* the **compiled** kernels (``symbprop.compile``) of every lowering that applies (``auto``: both
  ``unrolled`` and ``looped`` for networks that ``auto`` would unroll, else ``looped``; graphs have
  one lowering) and every dtype in ``dtypes``;
* **central finite differences** of the compiled float64 loss, step h = 1e-6·max(1, |θ|).

Random points: weights ~ N(0, 1/n_in), biases ~ N(0, 0.5²), a batch of 2 inputs ~ N(0, 1),
targets that fit the loss (probability rows for softmax cross-entropy, values in (0, 1) for BCE);
graphs: every variable ~ N(0, 1), drawn again (later half-normal, i.e. positive) where the graph
has no finite real value or gradient (``log``, ``sqrt`` of a negative number).  Network points
where a kinked activation (relu, leaky_relu, elu, or a custom one with max/min/abs) has some
|z| < 1e-3 are drawn again.  A parameter array with more
than ``MAX_ENTRIES`` entries is checked on a fixed random subset of that many.

An entry passes when |other − symbolic| <= atol·s + rtol·|symbolic|, s = max(1, max |symbolic|
over the group at that point), with ``TOLERANCES``: compiled float64 (1e-12, 1e-9), compiled
float32 (1e-4, 2e-3), finite differences (1e-6, 1e-5).  The report has one row per parameter
group and comparison (plus the loss); ``ok`` is True when every row passes.
"""

from __future__ import annotations

import numpy as np

from .checkreport import CheckReport, Row
from .codegen import AUTO_UNROLL_MAX, check_dtype, resolve_strategy
from .derivation import derive
from .errors import SymbpropError
from .kernels import compile_model
from .reference import Reference
from .sampling import random_point
from .values import load_values

EVALUATE_MAX = 300
MAX_ENTRIES = 64
#: (atol, rtol) per comparison with the symbolic value (see the module docstring).
TOLERANCES = {"float64": (1e-12, 1e-9), "float32": (1e-4, 2e-3), "fd": (1e-6, 1e-5)}


# -------------------------------------------------------------------- the driver


def check(
    model,
    values=None,
    samples: int = 5,
    strategy: str = "auto",
    dtypes: tuple[str, ...] = ("float64",),
    seed: int = 0,
) -> CheckReport:
    """Cross-check ``model`` at ``values`` (if given) and ``samples`` random points.

    ``samples`` is an integer ≥ 0, and ≥ 1 when no ``values`` are given (a report of no points
    would say "all agree" having checked nothing); otherwise ``SymbpropError``."""
    _check_samples(samples, values)
    d = derive(model)
    lowerings = _lowerings(model, strategy)
    kernels = {(s, t): compile_model(model, s, check_dtype(t)) for s in lowerings for t in dtypes}
    reference = kernels.get((lowerings[0], "float64")) or compile_model(model, lowerings[0])
    symbolic = _Symbolic(d)
    rng = np.random.default_rng(seed)
    points = [_given(model, values)] if values is not None else []
    points += [random_point(model, symbolic, rng) for _ in range(samples)]
    tally = _Tally()
    for params, data in points:
        sym_loss, sym_grad, entries = symbolic(params, data, rng)
        for (s, t), k in kernels.items():
            loss, grad = _compiled(k, params, data)
            tally.add("loss", f"{s} {t}", np.array([sym_loss]), np.array([loss]), t)
            for name, idx in entries.items():
                tally.add(name, f"{s} {t}", sym_grad[name], grad[name].ravel()[idx], t)
        fd = _finite_differences(reference, params, data, entries)
        for name in entries:
            tally.add(name, "finite differences", sym_grad[name], fd[name], "fd")
    return CheckReport(model.name, len(points), tally.rows())


def _check_samples(samples, values) -> None:
    if isinstance(samples, bool) or not isinstance(samples, (int, np.integer)) or samples < 0:
        raise SymbpropError(f"samples: must be an integer ≥ 0, got {samples!r}")
    if samples == 0 and values is None:
        raise SymbpropError("samples=0 and no values: nothing to check; give samples ≥ 1 or "
                            "values to check at")


def _lowerings(model, strategy: str) -> tuple[str, ...]:
    if model.kind == "graph":
        return ("unrolled",)
    if strategy != "auto":
        return (resolve_strategy(model, strategy),)
    return ("unrolled", "looped") if model.param_count <= AUTO_UNROLL_MAX else ("looped",)


class _Tally:
    """Largest errors per (group, method), with the pass/fail of every entry."""

    def __init__(self) -> None:
        self._rows: dict = {}

    def add(self, group: str, method: str, exact, other, kind: str) -> None:
        exact = np.asarray(exact, dtype=np.float64)
        other = np.asarray(other, dtype=np.float64)
        atol, rtol = TOLERANCES[kind]
        scale = max(1.0, float(np.max(np.abs(exact), initial=0.0)))
        error = np.abs(other - exact)
        error = np.where(np.isfinite(error), error, np.inf)
        ok = bool(np.all(error <= atol * scale + rtol * np.abs(exact)))
        relevant = np.abs(exact) > atol * scale
        rel = float(np.max(error[relevant] / np.abs(exact[relevant]), initial=0.0))
        key = (group, method)
        n, abs_err, rel_err, ok_before = self._rows.get(key, (0, 0.0, 0.0, True))
        self._rows[key] = (
            n + exact.size,
            max(abs_err, float(np.max(error, initial=0.0))),
            max(rel_err, rel),
            ok_before and ok,
        )

    def rows(self) -> tuple[Row, ...]:
        result = []
        groups = list(dict.fromkeys(group for group, _ in self._rows))
        methods = list(dict.fromkeys(method for _, method in self._rows))
        order = sorted(self._rows, key=lambda k: (groups.index(k[0]), methods.index(k[1])))
        for group, method in order:
            n, abs_err, rel_err, ok = self._rows[group, method]
            kind = "fd" if method == "finite differences" else method.split()[-1]
            result.append(Row(group, method, n, abs_err, rel_err, *TOLERANCES[kind], ok))
        return tuple(result)


# -------------------------------------------------------------------- points


def _given(model, values):
    vals = load_values(model, values)
    params = {name: np.asarray(v, dtype=np.float64) for name, v in vals.params.items()}
    if model.kind == "graph":
        return params, None
    return params, (np.asarray(vals.X, dtype=np.float64), np.asarray(vals.Y, dtype=np.float64))


# -------------------------------------------------------------------- the three sources


def _compiled(k, params, data):
    if data is None:
        value, grad = k.loss_and_grad({n: float(v) for n, v in params.items()})
        return value, {n: np.array([g]) for n, g in grad.items()}
    return k.loss_and_grad(params, *data)


def _finite_differences(k, params, data, entries) -> dict[str, np.ndarray]:
    theta = k.flatten({n: (float(v) if data is None else v) for n, v in params.items()})
    loss = k.module.loss
    call = (lambda t: loss(t)) if data is None else (lambda t: loss(t, *data))
    result = {}
    for name, idx in entries.items():
        offset = k.module.PARAM_OFFSETS[name]
        values = []
        for i in idx:
            h = 1e-6 * max(1.0, abs(theta[offset + i]))
            plus, minus = theta.copy(), theta.copy()
            plus[offset + i] += h
            minus[offset + i] -= h
            values.append((call(plus) - call(minus)) / (2 * h))
        result[name] = np.array(values)
    return result


class _Symbolic:
    """The derivation's loss and gradients at a point, at 30 digits (see the module docstring)."""

    def __init__(self, d) -> None:
        self.d = d
        self.small = d.model.param_count <= EVALUATE_MAX
        self.reference = None if self.small else Reference(d)

    def defined(self, params) -> bool:
        """A graph has a finite, real value and gradient at ``params``."""
        try:
            result = self.d.evaluate(_values_dict(params, None))
        except (ArithmeticError, TypeError, ValueError):
            return False
        return all(np.isfinite([result["loss"], *result["grad"].values()]))

    def forward_z(self, params, data) -> list[np.ndarray]:
        """z^l of every layer for every sample (to stay away from kinks)."""
        if self.d.model.kind == "graph":
            return []
        if self.small:
            result = self.d.evaluate(_values_dict(params, data))["forward"]
            layers = range(1, len(self.d.model.layers) + 1)
            return [np.asarray(result[f"z{n}"], dtype=float) for n in layers]
        return self.reference.forward_z(params, data)

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
        grads = {}
        for name, shape in shapes.items():
            keys = [f"{name}[{','.join(map(str, i))}]" for i in np.ndindex(*shape)]
            keys = keys if shape else [name]
            grads[name] = np.array([result["grad"][keys[i]] for i in entries[name]])
        return result["loss"], grads, entries


def _subset(size: int, rng) -> np.ndarray:
    if size <= MAX_ENTRIES:
        return np.arange(size)
    return np.sort(rng.choice(size, MAX_ENTRIES, replace=False))


def _values_dict(params, data) -> dict:
    if data is None:
        return {n: float(v) for n, v in params.items()}
    return {
        "X": data[0].tolist(),
        "Y": data[1].tolist(),
        "params": {n: np.asarray(v).tolist() for n, v in params.items()},
    }
