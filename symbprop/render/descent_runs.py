"""The gradient-descent runs a document shows (seed 003's learning-rate lesson).

``lesson(d, pt)`` runs the one loop (``symbprop.render.descent_loop.run``) from the values' point
four times: with a ten times smaller rate, the values' rate η, a ten times larger one, and the
decaying schedule η^(k) = 10η/k (it starts at the larger rate and passes η at k = 10).  Each run
takes at most ``STEP_LIMIT`` steps and stops when α‖∇f‖ ≤ ε = ``EPSILON``, or where |f| or ‖∇f‖
passes ``BOUND``, a step leaves the domain or overflows.

f and ∇f are exact: a graph's by ``symbprop.symbolic.evaluate`` without its step (with an upstream
gradient g = ∂L/∂f in the values the function is L = g·f, the loss to first order, and ∇L = g∇f); a
network's cost C and ∇C by ``symbprop.symbolic.reference.Reference`` (the derivation's equations
lambdified to mpmath, right to float64 precision; about a millisecond a step for the bundled nets).
A network of more than ``EXACT_PARAMS`` parameters is run in float64 instead (``exact``), and its
document says so: the lesson takes about 200 gradients, and exactly each cost 0.08 s at 2410
parameters (64-32-10: 17 s of a 20 s document), in float64 a twentieth of that. The iterates a
document prints (``shown_steps``) then get their f and ∇f again, exactly: float64 is not enough for
what is printed, since a cross-entropy near its minimum loses every digit (64-32-10 after one step
at 10η: C = 5.55e-16 in float64, 7.68e-16 exactly).
"""

from __future__ import annotations

import math
from collections import OrderedDict
from dataclasses import dataclass, replace

import numpy as np
import sympy

import symbprop.render.descent_loop as loop
from symbprop.errors import DomainError, FloatRangeError
from symbprop.functions.sympy_classes import as_elementary
from symbprop.render.descent_loop import Trajectory
from symbprop.render.diagnosis import DEFAULT_STEPS as STEP_LIMIT
from symbprop.render.diagnosis import DEFAULT_TOL as EPSILON
from symbprop.render.numbers import reduced_loss
from symbprop.spec.variables import split_element
from symbprop.symbolic.evaluate import evaluate as exact_numbers
from symbprop.symbolic.reference import Reference

#: A run whose |f| or ‖∇f‖ passes this bound at an iterate is taken to diverge.
BOUND = 1e12
#: The rates of the lesson, as factors of the values' η; the schedule starts at the larger one.
FACTORS = (0.1, 1.0, 10.0)
DECAY_START = 10.0
#: Models of at most this many parameters are drawn over their function (curve or contours).
GRID_PARAMS = 2
#: Networks of at most this many parameters have their runs computed exactly (see above).
EXACT_PARAMS = 200
#: A steps table shows every iterate up to this many, else the first ones, ⋮ and the last.
SHOWN_STEPS = 6
#: ``lesson`` keeps the lessons of models of at most ``KEPT_PARAMS`` parameters, the most
#: recent ones up to ``KEPT_BYTES`` of arrays in all (see there).
KEPT_PARAMS = 5000
KEPT_BYTES = 64 << 20


@dataclass(frozen=True)
class Lesson:
    """The runs of a document: ``fixed`` {factor: run} for ``FACTORS`` and ``decaying``."""

    lr: float
    fixed: dict
    decaying: Trajectory

    @property
    def given(self) -> Trajectory:
        return self.fixed[1.0]

    @property
    def all(self) -> list[Trajectory]:
        return [*self.fixed.values(), self.decaying]


def decay(lr: float):
    """η^(k) = 10η/k for update k = 1, 2, ... (the loop passes k − 1)."""
    return lambda k0: DECAY_START * lr / (k0 + 1)


def objective(d, vals):
    """θ (``d.params`` order) -> (f(θ), ∇f(θ)), exact or in float64 (``exact``); raises
    ``DomainError`` outside the domain and ``FloatRangeError`` past the range of floats."""
    if d.model.kind == "graph":
        return _graph(d, vals)
    return _network(d, vals)


def exact(d) -> bool:
    """Whether the runs of ``d`` compute f and ∇f exactly (else in float64; see above)."""
    return d.model.kind == "graph" or len(d.params) <= EXACT_PARAMS


def shown_steps(count: int) -> list[int | None]:
    """The rows of a steps table: every iterate, or the first ``SHOWN_STEPS``, None (a ⋮ row)
    and the last."""
    if count <= SHOWN_STEPS + 1:
        return list(range(count))
    return [*range(SHOWN_STEPS), None, count - 1]


def start(d, vals) -> np.ndarray:
    """The values' parameters as one vector in ``d.params`` order."""
    return np.array([_element(vals.params, name) for name in d.params], dtype=np.float64)


def run(d, vals, lr: float, schedule=None, f=None, described=None, printed=None) -> Trajectory:
    """One run from the values' point (see the module docstring); ``f`` the objective and, where
    the run is in float64, ``printed`` the exact one for the printed iterates (both built here
    when not given)."""
    f = objective(d, vals) if f is None else f
    trajectory = loop.run(f, start(d, vals), lr, STEP_LIMIT, EPSILON, schedule=schedule,
                          bound=BOUND, names=tuple(d.params), described=described)
    if exact(d):
        return trajectory
    return _printed_exactly(printed or _network(d, vals, exact_values=True), trajectory)


def _printed_exactly(f, trajectory: Trajectory) -> Trajectory:
    """``trajectory`` with f and ∇f by the exact ``f`` at the iterates a document prints."""
    values, gradients = trajectory.values.copy(), trajectory.gradients.copy()
    for i in {i for i in shown_steps(len(values)) if i is not None}:
        try:
            values[i], gradients[i] = f(trajectory.iterates[i])
        except (DomainError, FloatRangeError):  # keep float64's numbers there
            continue
    return replace(trajectory, values=values, gradients=gradients)


def lesson(d, vals, rate: str = "α") -> Lesson:
    """The four runs of the learning-rate lesson (one objective for all, which evaluates their
    common start once); ``rate`` names the learning rate in the decaying run's description
    ("10α/k").

    A lesson is a function of the model and the values alone, and its exact runs are most of
    a document's time (seed 001's partials: about 1.1 s of each format's 1.2 s), so lessons are
    kept for the process: the same document in another format, or the same example and point
    derived again, reuses them.  The key holds every setting of this module that a run reads,
    so a changed setting is a new lesson.  Kept runs are read-only.  Only models of at most
    ``KEPT_PARAMS`` parameters are kept (the key of a wide net's values costs a tenth of a
    second), and the least recently used lessons go once all take more than ``KEPT_BYTES``."""
    small = len(d.params) <= KEPT_PARAMS
    key = (d.model, d.seed != 1, _values_key(vals), rate, exact(d),
           FACTORS, DECAY_START, STEP_LIMIT, EPSILON, BOUND) if small else None
    if key in _lessons:
        _lessons.move_to_end(key)
        return _lessons[key][0]
    f = _remembered(objective(d, vals))
    printed = None if exact(d) else _remembered(_network(d, vals, exact_values=True))
    fixed = {factor: run(d, vals, vals.lr * factor, f=f, printed=printed) for factor in FACTORS}
    decaying = run(d, vals, DECAY_START * vals.lr, decay(vals.lr), f,
                   described=f"{DECAY_START:g}{rate}/k", printed=printed)
    result = Lesson(vals.lr, fixed, decaying)
    if small:
        _lessons[key] = (result, _frozen_size(result.all))
        while sum(size for _, size in _lessons.values()) > KEPT_BYTES:
            _lessons.popitem(last=False)
    return result


#: {key: (lesson, bytes of its arrays)}, least recently used first.
_lessons: OrderedDict = OrderedDict()


def _values_key(vals) -> str:
    """What of the values a lesson depends on, as text (floats print exactly): everything but
    the file they came from."""
    return repr(replace(vals, source=None))


def _frozen_size(runs: list[Trajectory]) -> int:
    """The bytes of the runs' arrays, each made read-only."""
    size = 0
    for trajectory in runs:
        for array in (trajectory.iterates, trajectory.values, trajectory.gradients,
                      trajectory.rates):
            array.setflags(write=False)
            size += array.nbytes
    return size


def _remembered(f):
    """``f`` evaluated once per distinct θ (its results kept; errors are not)."""
    results: dict[bytes, tuple] = {}

    def remembered(theta: np.ndarray):
        key = np.asarray(theta, dtype=np.float64).tobytes()
        if key not in results:
            results[key] = f(theta)
        return results[key]

    return remembered


def grid_function(d, vals):
    """f on a grid of its parameters, vectorised (``sympy.lambdify`` of the composed loss with
    NumPy), for a model of at most ``GRID_PARAMS`` parameters; None for more."""
    if len(d.params) > GRID_PARAMS:
        return None
    symbols = [d.element(n) for n in d.params]
    f = sympy.lambdify(symbols, as_elementary(reduced_loss(d, vals)), modules="numpy")

    def grid(*axes: np.ndarray) -> np.ndarray:
        with np.errstate(all="ignore"):
            out = f(*axes)
        return np.broadcast_to(np.asarray(out, dtype=np.float64), np.broadcast(*axes).shape)

    return grid


def _graph(d, vals):
    scale = 1.0 if vals.upstream is None else vals.upstream  # L = ∂L/∂f · f, to first order
    names = list(d.params)

    def evaluate(x: np.ndarray):
        params = dict(zip(names, map(float, x), strict=True))
        result = exact_numbers(d, replace(vals, params=params), step=False)
        return scale * result["loss"], np.array([result["grad"][n] for n in names])

    return evaluate


def _network(d, vals, exact_values: bool | None = None):
    ref = Reference(d, exact=exact(d) if exact_values is None else exact_values)
    shapes = {n: np.shape(np.asarray(v, dtype=float)) for n, v in vals.params.items()}
    places = [_place(name) for name in d.params]
    data = (np.asarray(vals.X, dtype=float), np.asarray(vals.Y, dtype=float))
    entries = {n: np.arange(int(np.prod(s, dtype=int))) for n, s in shapes.items()}

    def evaluate(x: np.ndarray):
        params = {n: np.zeros(s) for n, s in shapes.items()}
        for (head, index), value in zip(places, x, strict=True):
            params[head][index] = value
        try:
            loss, flat = ref.loss_and_grad(params, data, entries)
        except OverflowError:
            raise FloatRangeError("beyond the range of floats") from None
        except (TypeError, ValueError, ZeroDivisionError):  # mpc, log(0), ...
            raise DomainError("no finite real value") from None
        if not math.isfinite(loss):
            raise DomainError("no finite real value")
        grads = {n: g.reshape(shapes[n]) for n, g in flat.items()}
        return loss, np.array([grads[head][index] for head, index in places])

    return evaluate


def _place(name: str) -> tuple[str, tuple[int, ...]]:
    """"W1[0,1]" -> ("W1", (0, 1)); "b1" (a shared bias) -> ("b1", ())."""
    return split_element(name)


def _element(params, name: str) -> float:
    head, index = _place(name)
    value = params[head]
    for i in index:
        value = value[i]
    return float(value)
