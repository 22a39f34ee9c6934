"""The one gradient-descent loop of symbprop (seed 003), for documents and the training API alike.

    k = 1;  θ^(1) = the start;  choose α (or α^(k)), ε
    while α^(k) ‖∇f(θ^(k))‖ > ε:   θ^(k+1) = θ^(k) − α^(k) ∇f(θ^(k));   k = k + 1

``run(evaluate, start, lr, steps, tol, schedule=None, bound=None)`` runs exactly that loop, at
most ``steps`` updates, with ``evaluate(θ) -> (f(θ), ∇f(θ))`` (the exact evaluation of a
derivation for documents, the compiled kernels or ``lambdify`` for ``training.descent``), and
returns a ``Trajectory``: every kept iterate, its value and gradient, the rate of every update,
and ``stopped_because``, one word of ``STOPS``:

* ``"tol"``: the stopping rule α‖∇f‖ ≤ ε held at the last iterate;
* ``"steps"``: the step limit came first;
* ``"overflow"``: the next iterate left the floating-point range (|θ| ≥ ``OVERFLOW``, not finite,
  or ``evaluate`` raised ``FloatRangeError``; without a ``bound``, also a value or gradient that
  is not finite there): that iterate is not kept;
* ``"domain"``: ``evaluate`` raised ``DomainError`` at the next iterate (not kept);
* ``"loss"``, ``"gradient"``, ``"infinite"`` (only with a ``bound``): |f| or ‖∇f‖ passed the
  bound at the last iterate, or one of them is not finite there (that iterate is kept).

``start``'s evaluation is not guarded: a start outside the domain raises.  ``Trajectory.diagnosis``
reads what the run shows (``symbprop.render.diagnosis``).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from symbprop.errors import DomainError, FloatRangeError
from symbprop.render.diagnosis import Diagnosis, diagnose

#: An iterate with a coordinate this large (or not finite) has left the floating-point range.
OVERFLOW = 1e100
STOPS = ("tol", "steps", "overflow", "domain", "loss", "gradient", "infinite")


@dataclass(frozen=True)
class Trajectory:
    """One run: row k − 1 of ``iterates`` is θ^(k) (θ^(1) the start), ``values`` and
    ``gradients`` f and ∇f there, ``rates`` the α^(k) of each update taken (one fewer)."""

    lr: float
    names: tuple[str, ...]
    iterates: np.ndarray  # (K + 1, p)
    values: np.ndarray  # (K + 1,)
    gradients: np.ndarray  # (K + 1, p)
    rates: np.ndarray  # (K,)
    tol: float
    stopped_because: str  # one of STOPS
    schedule: str | None = None  # how α^(k) varies ("10α/k"), None for a constant rate

    @property
    def steps(self) -> int:
        """Updates taken: the last iterate is θ^(steps + 1)."""
        return len(self.rates)

    @property
    def grad_norms(self) -> np.ndarray:
        return np.linalg.norm(self.gradients, axis=1)

    @property
    def converged(self) -> bool:
        return self.stopped_because == "tol"

    @property
    def ended_early(self) -> bool:
        """Stopped by neither the rule nor the step limit: overflow, domain or the bound."""
        return self.stopped_because not in ("tol", "steps")

    @property
    def diverged(self) -> bool:
        """Ended early (overflow, domain, bound) or ended above its start."""
        return self.ended_early or self.values[-1] > self.values[0]

    @property
    def label(self) -> str:
        """Short: the outcome ('slow', 'no minimum in sight', ...)."""
        outcome = self.diagnosis.outcome
        return "no minimum in sight" if outcome == "no minimum" else outcome

    @property
    def diagnosis(self) -> Diagnosis:
        """What the trajectory shows: converged, slow, oscillating, diverging, no minimum."""
        ended = None if self.stopped_because in ("tol", "steps") else self.stopped_because
        return diagnose(self.values, self.grad_norms, met=self.converged, ended=ended,
                        iterates=self.iterates)


def run(evaluate: Callable, start, lr: float, steps: int, tol: float,
        schedule: Callable | None = None, bound: float | None = None,
        names: tuple[str, ...] = (), described: str | None = None) -> Trajectory:
    """Gradient descent from ``start`` (see the module docstring).  ``schedule(k0)`` gives
    α for update k0 = 0, 1, ... (α^(k0+1)); without it every update uses ``lr``.
    ``described``: the schedule in words for plots and tables ("10α/k")."""
    x = np.asarray(start, dtype=np.float64)
    value, grad = evaluate(x)
    iterates, values, gradients, rates = [x], [float(value)], [np.asarray(grad, float)], []
    stopped = _beyond(values[-1], gradients[-1], bound)
    k = 0
    while stopped is None:
        alpha = float(schedule(k)) if schedule is not None else lr
        if alpha * float(np.linalg.norm(gradients[-1])) <= tol:
            stopped = "tol"
            break
        if k == steps:
            stopped = "steps"
            break
        with np.errstate(all="ignore"):
            x = x - alpha * gradients[-1]
        if not (np.all(np.isfinite(x)) and np.max(np.abs(x), initial=0.0) < OVERFLOW):
            stopped = "overflow"
            break
        try:
            with np.errstate(all="ignore"):
                value, grad = evaluate(x)
        except FloatRangeError:
            stopped = "overflow"
            break
        except DomainError:
            stopped = "domain"
            break
        grad = np.asarray(grad, dtype=np.float64)
        if bound is None and not (math.isfinite(value) and np.all(np.isfinite(grad))):
            stopped = "overflow"
            break
        iterates.append(x)
        values.append(float(value))
        gradients.append(grad)
        rates.append(alpha)
        k += 1
        stopped = _beyond(values[-1], grad, bound)
    return Trajectory(lr, tuple(names), np.array(iterates), np.array(values),
                      np.array(gradients), np.array(rates, dtype=np.float64), tol, stopped,
                      described if schedule is not None else None)


def _beyond(value: float, grad: np.ndarray, bound: float | None) -> str | None:
    """Why an iterate ends the run past the ``bound`` ("infinite", "loss", "gradient")."""
    if bound is None:
        return None
    norm = float(np.linalg.norm(grad))
    if not (math.isfinite(value) and math.isfinite(norm)):
        return "infinite"
    if abs(value) > bound:
        return "loss"
    return "gradient" if norm > bound else None
