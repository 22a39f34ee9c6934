"""What a gradient-descent trajectory shows (seed 003: "monitor the learning rate by looking at
how fast the objective function decreases"), read from the run itself, not guessed.

``diagnose(values, grad_norms, met=..., ended=..., iterates=...)`` takes the objective f(θ^(k))
and ‖∇f(θ^(k))‖ at every kept iterate and returns a ``Diagnosis`` with one of five outcomes:

* ``converged``: the stopping rule α‖∇f‖ ≤ ε was met;
* ``diverging``: f grew over the run, a step left the domain of f, or f and ∇f grew past the
  bound or the floating-point range while f was not falling;
* ``oscillating``: f rose at a quarter or more of the recent steps, or the steps reversed their
  direction at more than half of them (jumping across a valley);
* ``no minimum``: f fell at (nearly) every step, but either ‖∇f‖ did not shrink (f falls ever
  faster, or without bound past the bound), or it shrank like a power k^(−p) with p ≤ 1: the
  steps α‖∇f‖ then add up without bound, so the iterates travel on without end — exp(1/x)
  decreasing towards 1 as x → ∞;
* ``slow``: f fell steadily and ‖∇f‖ shrank fast enough (geometrically, or like k^(−p) with
  p > 1) for the iterates to settle, but the step limit ended the run first.

The power is read from how the per-step contraction c_k = −log(‖∇f‖_{k+1}/‖∇f‖_k) changes: a
geometric decay has a constant c; a power law (k + k₀)^(−p) has c ≈ p/(k + k₀), so 1/c grows
with slope 1/p.  The recent half of the run is split into two windows and 1/c compared between
them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

#: Gradient descent on an expression stops after this many steps, or when α‖∇f‖ ≤ DEFAULT_TOL.
DEFAULT_STEPS = 100
DEFAULT_TOL = 1e-6

OUTCOMES = ("converged", "slow", "oscillating", "diverging", "no minimum")
HEADLINES = {"converged": "converged", "slow": "slow", "oscillating": "oscillating",
             "diverging": "diverging", "no minimum": "still decreasing with no minimum in sight"}
#: ``ended`` values: how the run stopped early, besides the stopping rule and the step limit.
BLOWUPS = ("loss", "gradient", "infinite", "overflow")
#: The fewest kept iterates for reading a trend (two windows of at least two steps each).
MIN_TREND = 5
#: f rising at this fraction of the recent steps, or the steps reversing at more than
#: ``FLIP_SHARE`` of them, is oscillation.
RISE_SHARE = 0.25
FLIP_SHARE = 0.5
#: ‖∇f‖ ~ k^(−p) with p at most this is "no minimum": p ≤ 1 in theory (Σ k^(−p) diverges), and
#: an estimate from a finite window scatters around 1 for exp(−x) (p = 1); x⁴ (p = 1.5, a flat
#: minimum) stays clear of it.
NO_BOUND_POWER = 1.25


@dataclass(frozen=True)
class Diagnosis:
    """An outcome of ``OUTCOMES`` and the plain-language reason read from the trajectory (no
    math markup: documents and the terminal print it as it is)."""

    outcome: str
    reason: str
    power: float | None = None  # p of ‖∇f‖ ~ k^(−p), where estimated
    factor: float | None = None  # ‖∇f‖_{k+1}/‖∇f‖_k over the recent steps, where estimated

    @property
    def headline(self) -> str:
        """The outcome in words: 'still decreasing with no minimum in sight' for no minimum."""
        return HEADLINES[self.outcome]

    @property
    def text(self) -> str:
        """'headline: reason'."""
        return f"{self.headline}: {self.reason}"


def diagnose(values, grad_norms, met: bool = False, ended: str | None = None,
             iterates=None) -> Diagnosis:
    """The outcome of a run (see the module docstring).  ``values``, ``grad_norms``: f and
    ‖∇f‖ at the kept iterates θ^(1), ..., θ^(n); ``met``: the stopping rule held at the last;
    ``ended``: None (step limit or rule), "domain" (the next step left the domain of f) or one
    of ``BLOWUPS`` (|f| or ‖∇f‖ past the bound, not finite, or the next step overflowed);
    ``iterates``: the θ^(k) as rows, to see steps reverse (optional)."""
    f = np.asarray(values, dtype=float)
    g = np.asarray(grad_norms, dtype=float)
    if met:
        return Diagnosis("converged", "the stopping rule is met")
    if ended == "domain":
        return Diagnosis("diverging", "a step left the domain of the function")
    falling = _falling(f)
    if ended in BLOWUPS:
        if falling and f[-1] < f[0]:
            fell = int(np.sum(np.diff(f) < 0))
            return Diagnosis("no minimum", f"the function fell at {fell} of {len(f) - 1} steps "
                                           "and is still falling past the bound")
        rose = int(np.sum(np.diff(f) > 0))
        return Diagnosis("diverging", f"the function rose at {rose} of {len(f) - 1} steps and its "
                                      f"size grew past the bound (to {f[-1]:.4g})")
    if len(f) > 1 and f[-1] > f[0]:
        return Diagnosis("diverging", f"the function grew from {f[0]:.4g} to {f[-1]:.4g}")
    if len(f) < 2:
        return Diagnosis("slow", "no step was taken")
    recent = f[len(f) // 2 - (len(f) < 4):]
    rises = np.diff(recent) > 0
    flips = _reversals(iterates)
    if rises.mean() >= RISE_SHARE:
        return Diagnosis("oscillating", f"the function rose at {int(rises.sum())} of the last "
                                        f"{len(rises)} steps")
    if flips is not None and flips[0] > FLIP_SHARE * flips[1]:
        closing = (", while the function still falls at every step" if not rises.any()
                   else "")
        return Diagnosis("oscillating", f"the steps jump back and forth across the valley: "
                                        f"{flips[0]} of {flips[1]} reversed the direction of "
                                        f"the one before{closing}")
    return _trend(f, g)


def _falling(f: np.ndarray) -> bool:
    """f fell at every step of the last three (or of all, if fewer)."""
    tail = np.diff(f[-4:])
    return len(tail) > 0 and bool(np.all(tail < 0))


def _reversals(iterates) -> tuple[int, int] | None:
    """(how many, of how many) steps θ^(k+1) − θ^(k) point against the step before."""
    if iterates is None:
        return None
    x = np.asarray(iterates, dtype=float)
    if len(x) < 3:
        return None
    steps = np.diff(x, axis=0)
    against = np.sum(steps[1:] * steps[:-1], axis=1) < 0
    return int(against.sum()), len(against)


def _trend(f: np.ndarray, g: np.ndarray) -> Diagnosis:
    """slow or no minimum, for a run whose function still falls (see the module docstring)."""
    n = len(g)
    if n < MIN_TREND or not np.all(g > 0):
        return Diagnosis("slow", f"the function still decreases (to {f[-1]:.4g}) after "
                                 f"{n - 1} step{'s' * (n != 2)}, too few to read a trend")
    start = n // 2 - 1 if n >= 2 * MIN_TREND else 0
    logs = np.log(g[start:])
    half = (len(logs) - 1) // 2
    a, b = logs[: half + 1], logs[half:]
    c_a, c_b = (a[0] - a[-1]) / (len(a) - 1), (b[0] - b[-1]) / (len(b) - 1)
    factor = math.exp(-c_b)
    if c_b <= 0:
        grew = "grew" if g[-1] > g[start] else "did not shrink"
        return Diagnosis("no minimum", f"the function still falls (to {f[-1]:.4g}) while the "
                                       f"gradient {grew} (to {g[-1]:.3g}): nothing slows the "
                                       "descent", factor=factor)
    centre_a, centre_b = start + half / 2, start + half + (len(b) - 1) / 2
    slope = (1 / c_b - (1 / c_a if c_a > 0 else 0.0)) / (centre_b - centre_a)
    power = 1 / slope if slope > 0 else math.inf
    if c_a <= 0 or power <= NO_BOUND_POWER:
        return Diagnosis("no minimum", f"the function still falls (to {f[-1]:.4g}), but the "
                                       f"gradient shrinks ever more slowly, like the step count "
                                       f"to the power -{power:.2g}: so slowly that the "
                                       "steps add up without bound, and the iterates travel on "
                                       "without end", power=power, factor=factor)
    return Diagnosis("slow", f"the function still decreases (to {f[-1]:.4g}) and the gradient "
                             f"shrinks steadily, by a factor {factor:.4g} per step: a minimum "
                             "is being approached, but not within the step limit",
                     power=None if math.isinf(power) else power, factor=factor)
