"""Learning rates per epoch (seed 003), and the checks of the settings that drive descent.

Schedules (epoch e = 0, 1, ...): ``constant`` η; ``step`` η·γ^⌊e/s⌋; ``inverse`` η/(1 + k·e);
``exponential`` η·exp(−k·e).  ``check_rate`` and ``check_tol`` are shared by network training
(``symbprop.training.loop``) and gradient descent on an expression (``symbprop.training.descent``).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

from symbprop.errors import SymbpropError
from symbprop.spec.fields import did_you_mean

SCHEDULES = ("constant", "step", "inverse", "exponential")


def check_rate(lr: float) -> None:
    """Raise ``SymbpropError`` unless ``lr`` is a finite number > 0."""
    if not (math.isfinite(lr) and lr > 0):
        raise SymbpropError(f"learning rate must be a positive number, got {lr}")


def check_tol(tol: float) -> None:
    """Raise ``SymbpropError`` unless the stopping threshold ε is ≥ 0 (NaN is refused)."""
    if not tol >= 0:
        raise SymbpropError(f"tol must be ≥ 0, got {tol}")


@dataclass(frozen=True)
class Schedule:
    """The learning rate of epoch ``e``: see the module docstring."""

    kind: str = "constant"
    lr: float = 0.1
    gamma: float = 0.5  # step: factor per step
    step_size: int = 10  # step: epochs per step
    decay: float = 0.05  # inverse, exponential: k

    def __post_init__(self) -> None:
        if self.kind not in SCHEDULES:
            raise SymbpropError(f"schedule: unknown {self.kind!r}"
                                f"{did_you_mean(self.kind, SCHEDULES)}; "
                                f"allowed: {', '.join(SCHEDULES)}")
        check_rate(self.lr)
        if not 0 < self.gamma <= 1:
            raise SymbpropError(f"gamma must be in (0, 1], got {self.gamma}")
        if self.step_size < 1:
            raise SymbpropError(f"step size must be at least 1 epoch, got {self.step_size}")
        if not (math.isfinite(self.decay) and self.decay >= 0):
            raise SymbpropError(f"decay must be ≥ 0, got {self.decay}")

    def __call__(self, epoch: int) -> float:
        if self.kind == "step":
            return self.lr * self.gamma ** (epoch // self.step_size)
        if self.kind == "inverse":
            return self.lr / (1.0 + self.decay * epoch)
        if self.kind == "exponential":
            return self.lr * math.exp(-self.decay * epoch)
        return self.lr

    def describe(self) -> str:
        return {
            "constant": f"constant η = {self.lr:g}",
            "step": f"step η·γ^⌊e/s⌋, η = {self.lr:g}, γ = {self.gamma:g}, s = {self.step_size}",
            "inverse": f"inverse η/(1 + k·e), η = {self.lr:g}, k = {self.decay:g}",
            "exponential": f"exponential η·exp(−k·e), η = {self.lr:g}, k = {self.decay:g}",
        }[self.kind]


def schedule(kind: str | Schedule | Callable = "constant", lr: float = 0.1, **options) -> Callable:
    """A schedule from its name (with ``lr`` and ``options``), or ``kind`` itself when it is
    already callable (a ``Schedule`` or any function epoch -> rate)."""
    if callable(kind):
        return kind
    return Schedule(kind, lr, **options)
