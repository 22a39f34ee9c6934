"""``History``: what a training run records per epoch (losses, accuracies, learning rates,
gradient norms), why it stopped, and a plot of it."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

STOP_REASONS = {
    "epochs": "ran all epochs",
    "tol": "η‖∇L‖ ≤ ε (stopping rule)",
    "interrupted": "interrupted (Ctrl-C); kept the parameters of the last completed epoch",
    "diverged": "the loss became NaN/inf; kept the parameters of the last finite epoch",
    "callback": "stopped by the callback",
}


@dataclass
class History:
    """Per-epoch records of a training run (index i = after epoch i + 1)."""

    losses: list[float] = field(default_factory=list)
    accuracies: list[float] = field(default_factory=list)
    test_losses: list[float] = field(default_factory=list)
    test_accuracies: list[float] = field(default_factory=list)
    learning_rates: list[float] = field(default_factory=list)
    grad_norms: list[float] = field(default_factory=list)
    initial_loss: float = math.nan
    initial_accuracy: float | None = None
    initial_test_loss: float | None = None
    initial_test_accuracy: float | None = None
    stopped_because: str = "epochs"
    wall_time: float = 0.0
    params: dict = field(default_factory=dict, repr=False)

    @property
    def epochs(self) -> int:
        return len(self.losses)

    @property
    def final_loss(self) -> float:
        return self.losses[-1] if self.losses else self.initial_loss

    @property
    def reason(self) -> str:
        return STOP_REASONS.get(self.stopped_because, self.stopped_because)

    def __len__(self) -> int:
        return self.epochs

    def as_dict(self) -> dict:
        keys = ("losses", "accuracies", "test_losses", "test_accuracies", "learning_rates",
                "grad_norms", "initial_loss", "stopped_because", "wall_time")
        return {key: getattr(self, key) for key in keys}

    def plot(self, path: str | Path, title: str | None = None) -> Path:
        """Write the loss curve (and accuracy, if recorded) to PNG/PDF/SVG; returns the path.
        Needs matplotlib (see ``symbprop.render.plots``)."""
        # Imported here: the symbprop.render package loads the document renderers (0.07 s),
        # which sp.compile, whose Kernels.fit returns a history, does not need.
        from symbprop.render.plots import plot_history

        return plot_history(self, path, title)
