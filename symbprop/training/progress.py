"""The progress bar of a training run: epochs done, loss, accuracy, learning rate, time left.

The one bar of symbprop: ``symbprop.training.loop.train`` updates it after each epoch with a
``History``, ``Kernels.fit`` (``symbprop.runtime.fitting``) after each chunk of epochs run in
compiled code with the last loss.  rich is imported only when the bar is shown.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from symbprop.training.history import History


class EpochProgress:
    """A context manager: a rich progress bar over ``epochs`` (on stderr, or ``console``), or
    nothing when not ``enabled``; ``update(history)`` shows the last epoch's loss, accuracies and
    rate."""

    def __init__(self, enabled: bool, epochs: int, console=None) -> None:
        self.enabled, self.epochs, self.console = enabled, epochs, console
        self.bar = None

    def __enter__(self) -> EpochProgress:
        if not self.enabled:
            return self
        # Imported here: rich loads only when a progress bar is shown.
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )

        self.bar = Progress(TextColumn("epoch"), MofNCompleteColumn(), BarColumn(),
                            TextColumn("{task.fields[stats]}"), TimeElapsedColumn(),
                            TimeRemainingColumn(), console=self.console or bar_console())
        self.bar.start()
        self.task = self.bar.add_task("train", total=self.epochs, stats="")
        return self

    def update(self, history: History) -> None:
        """Show the epochs of ``history`` and its last loss, accuracies and rate."""
        if self.bar is None:
            return
        stats = f"loss {history.losses[-1]:.4g}"
        if history.accuracies:
            stats += f"  acc {history.accuracies[-1]:.1%}"
        if history.test_accuracies:
            stats += f"  test {history.test_accuracies[-1]:.1%}"
        stats += f"  η {history.learning_rates[-1]:.3g}"
        self.bar.update(self.task, completed=history.epochs, stats=stats)

    def advance(self, epochs_done: int, loss: float) -> None:
        """Show ``epochs_done`` epochs and the last epoch's ``loss``."""
        if self.bar is not None:
            self.bar.update(self.task, completed=epochs_done, stats=f"loss {loss:.4g}")

    def __exit__(self, *exc) -> None:
        if self.bar is not None:
            self.bar.stop()


def bar_console():
    """stderr as rich sees it.  Not on a terminal (a log, a notebook's captured stream), rich
    draws the bar once, when it stops, wrapped at 80 columns; a wide console keeps that line
    whole.  In Jupyter rich draws a live widget with ipywidgets; without ipywidgets it would
    only warn and show nothing, so the bar is then plain text, printed once at the end."""
    # Imported here: rich loads only when a progress bar is shown.
    from rich.console import Console

    console = Console(stderr=True)
    if console.is_jupyter and not _have_ipywidgets():
        return Console(stderr=True, width=1000, force_jupyter=False, force_terminal=False)
    return console if console.is_terminal else Console(stderr=True, width=1000)


def _have_ipywidgets() -> bool:
    try:  # ipywidgets is optional: only a notebook shows a widget bar
        import ipywidgets  # noqa: F401
    except ImportError:
        return False
    return True
