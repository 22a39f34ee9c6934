"""All of symbprop's figures: training loss curves and gradient-descent pictures (matplotlib).

matplotlib is optional (the ``plot`` extra: ``pip install -e ".[plot]"``) and imported only
when a figure is drawn; without it ``pyplot()`` raises a ``SymbpropError`` saying how to install
it.  Figures are written atomically as PNG, PDF or SVG, chosen by the file's suffix.

``plot_history`` draws a ``training.History`` (``History.plot``); ``plot_descent`` draws
``gd.Descent`` runs (``gd.plot``).
"""

from __future__ import annotations

import io
import math
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from symbprop.errors import SymbpropError
from symbprop.files.atomic import write_bytes

if TYPE_CHECKING:
    from symbprop.training.descent import Descent, Objective
    from symbprop.training.history import History

#: The file suffixes (lower case) a figure can be written to; the suffix picks the format.
PLOT_SUFFIXES = (".png", ".pdf", ".svg")


def pyplot():
    """``matplotlib.pyplot`` with a file-only backend, or a clear error when not installed."""
    try:
        # Imported here: matplotlib is optional (the [plot] extra).
        import matplotlib
    except ImportError:
        raise SymbpropError(
            'plotting needs matplotlib: pip install matplotlib (in a checkout of symbprop: '
            'pip install -e ".[plot]")'
        ) from None
    if matplotlib.get_backend().lower() not in ("agg", "pdf", "svg", "cairo"):
        try:
            matplotlib.use("Agg")
        except Exception:  # noqa: BLE001 - an interactive session keeps its backend
            pass
    # Imported here: matplotlib is optional (the [plot] extra).
    import matplotlib.pyplot as plt

    return plt


def save_figure(figure, path: str | Path) -> Path:
    """Save a matplotlib figure atomically; the format follows the suffix (png, pdf, svg).
    The figure is closed either way."""
    path = Path(path)
    if path.suffix.lower() not in PLOT_SUFFIXES:
        raise SymbpropError(f"{path}: plots are written as .png, .pdf or .svg")
    kind = path.suffix.lower().lstrip(".")
    buffer = io.BytesIO()
    try:
        figure.savefig(buffer, format=kind, dpi=130)
    finally:
        # Imported here: matplotlib is optional (the [plot] extra).
        import matplotlib.pyplot as plt

        plt.close(figure)
    return write_bytes(path, buffer.getvalue())


# ---------------------------------------------------------------- training history


def plot_history(history: History, path: str | Path, title: str | None = None) -> Path:
    """The loss curve (with the learning rate when it changes) and, if recorded, the accuracy,
    training and held out, from epoch 0; written to ``path``, which is returned."""
    plt = pyplot()
    panels = 2 if history.accuracies else 1
    figure, axes = plt.subplots(1, panels, figsize=(6.0 * panels, 4.2), layout="constrained",
                                squeeze=False)
    epochs = np.arange(0, history.epochs + 1)
    _loss_panel(axes[0][0], history, epochs)
    if history.accuracies:
        _accuracy_panel(axes[0][1], history, epochs)
    figure.suptitle(title or f"training: {history.epochs} epochs, {history.reason}", fontsize=11)
    return save_figure(figure, path)


def _loss_panel(axes, history: History, epochs: np.ndarray) -> None:
    _curve(axes, epochs, history.initial_loss, history.losses, "training")
    _curve(axes, epochs, history.initial_test_loss, history.test_losses, "held out")
    if all(v > 0 for v in [history.initial_loss, *history.losses] if math.isfinite(v)):
        axes.set_yscale("log")
    axes.set(xlabel="epoch", ylabel="loss", title="loss")
    axes.grid(alpha=0.3)
    axes.legend(loc="upper right")
    if len(set(history.learning_rates)) > 1:
        rate_axes = axes.twinx()
        rates = [history.learning_rates[0], *history.learning_rates]  # epoch e+1 runs at η(e)
        rate_axes.step(epochs, rates, where="pre", color="0.5", ls="--", lw=1)
        rate_axes.set_ylabel("learning rate η (dashed)", color="0.4")


def _accuracy_panel(axes, history: History, epochs: np.ndarray) -> None:
    _curve(axes, epochs, history.initial_accuracy, history.accuracies, "training")
    _curve(axes, epochs, history.initial_test_accuracy, history.test_accuracies, "held out")
    axes.set(xlabel="epoch", ylabel="accuracy", title="accuracy", ylim=(0, 1.02))
    axes.grid(alpha=0.3)
    axes.legend(loc="lower right")


def _curve(axes, epochs, initial, values, label) -> None:
    """Plot per-epoch values, starting at epoch 0 when the initial value is known."""
    if not values:
        return
    marker = "." if len(values) <= 60 else None
    if initial is None or not math.isfinite(initial):
        axes.plot(epochs[1:], values, marker=marker, label=label)
    else:
        axes.plot(epochs, [initial, *values], marker=marker, label=label)


# ---------------------------------------------------------------- gradient descent


def plot_descent(runs: list[Descent], path: str | Path, objective: Objective | None) -> Path:
    """The runs side by side, written to ``path`` (returned), in the derivation document's
    notation: the function is called by the model's output (f), the iterates θ^(k) are numbered
    from k = 1 (θ^(1) is the start).

    One panel per learning rate: the iterates on the curve f(x) (one parameter), on a contour
    plot of f (two parameters), or each coordinate against k (more, or no ``objective`` to draw
    f with); below, f(θ^(k)) against k for every rate.  ``objective``: ``function`` (the name
    of f), ``grid(*axes)`` (f on a grid), optionally ``loss_expr`` (f written out in the title)
    and ``rate`` (the learning rate's symbol, α unless given); a run's ``schedule`` names a
    decaying rate."""
    plt = pyplot()
    f = objective.function if objective is not None else runs[0].function
    rate = getattr(objective, "rate", "α")  # a network's document calls it η
    count = len(runs)
    figure = plt.figure(figsize=(4.2 * count + 0.6, 7.4), layout="constrained")
    grid = figure.add_gridspec(2, count, height_ratios=[3, 2])
    calm = [run.iterates for run in runs if not run.diverged] or [runs[0].iterates]
    shared = np.concatenate(calm)  # one view for the runs that stay in the valley
    for column, run in enumerate(runs):
        axes = figure.add_subplot(grid[0, column])
        dims = run.iterates.shape[1]
        points = run.iterates if run.diverged else shared
        if dims == 1 and objective is not None:
            _curve_panel(axes, run, objective, _span(points[:, 0]), f)
        elif dims == 2 and objective is not None:
            _contour_panel(axes, run, objective, _span(points[:, 0]), _span(points[:, 1]), f)
        else:
            _trace_panel(axes, run, getattr(objective, "labels", {}))
        axes.set_title(f"{_rate(run, rate)}: {run.label}", fontsize=11)
    _values_panel(figure.add_subplot(grid[1, :]), runs, f, rate)
    expr = getattr(objective, "loss_expr", None)
    formula = f":  {f} = {str(expr).replace('**', '^')}" if expr is not None else ""
    figure.suptitle(f"Gradient descent θ⁽ᵏ⁺¹⁾ = θ⁽ᵏ⁾ − {rate}∇{f}(θ⁽ᵏ⁾) from θ⁽¹⁾ = the start"
                    f"{formula}", fontsize=12)
    return save_figure(figure, path)


def _span(points: np.ndarray) -> tuple[float, float]:
    lo, hi = float(np.min(points)), float(np.max(points))
    pad = 0.15 * (hi - lo) if hi > lo else 1.0
    return lo - pad, hi + pad


def _colours(run: Descent):
    # Imported here: matplotlib is optional (the [plot] extra).
    import matplotlib

    return matplotlib.colormaps["viridis"](np.linspace(0, 0.9, len(run.iterates)))


def _steps(run: Descent) -> np.ndarray:
    """k of every iterate: 1 for the start θ^(1), as the documents number them."""
    return np.arange(1, len(run.iterates) + 1)


def _curve_panel(axes, run: Descent, objective: Objective, span, f: str) -> None:
    xs = run.iterates[:, 0]
    lo, hi = span
    grid = np.linspace(lo, hi, 400)
    axes.plot(grid, objective.grid(grid), color="0.55", lw=1.5, label=f"{f}({run.names[0]})",
              zorder=1)
    axes.plot(xs, run.values, color="C3", lw=0.8, alpha=0.6, zorder=2)
    axes.scatter(xs, run.values, c=_colours(run), s=22, zorder=3,
                 label=f"{run.names[0]}⁽ᵏ⁾ (dark = early)")
    axes.scatter(xs[:1], run.values[:1], marker="s", s=60, facecolor="none",
                 edgecolor="k", zorder=4, label="start")
    axes.set_xlabel(run.names[0])
    axes.set_ylabel(f)
    axes.legend(fontsize=8, loc="best")


def _contour_panel(axes, run: Descent, objective: Objective, x_span, y_span, f: str) -> None:
    xs, ys = run.iterates[:, 0], run.iterates[:, 1]
    gx, gy = np.meshgrid(np.linspace(*x_span, 200), np.linspace(*y_span, 200))
    levels = objective.grid(gx, gy)
    finite = levels[np.isfinite(levels)]
    if finite.size and np.ptp(finite) > 0:
        filled = axes.contourf(gx, gy, levels, levels=30, cmap="Greys_r", alpha=0.65)
        axes.contour(gx, gy, levels, levels=15, colors="0.3", linewidths=0.4)
        axes.figure.colorbar(filled, ax=axes, shrink=0.8, label=f)
    axes.plot(xs, ys, color="C3", lw=1.0, zorder=2)
    axes.scatter(xs, ys, c=_colours(run), s=18, zorder=3)
    axes.scatter(xs[:1], ys[:1], marker="s", s=60, facecolor="none", edgecolor="k", zorder=4)
    axes.set_xlabel(run.names[0])
    axes.set_ylabel(run.names[1])


def _trace_panel(axes, run: Descent, labels: dict) -> None:
    """Each parameter against k, named by ``labels`` (the document's names) where given."""
    for index, name in enumerate(run.names):
        axes.plot(_steps(run), run.iterates[:, index], marker=".", ms=3,
                  label=labels.get(name, name))
    axes.set_xlabel("k")
    axes.set_ylabel("parameter value")
    axes.legend(fontsize=8, loc="best")


def _rate(run, rate: str) -> str:
    """'α = 0.1', or 'α⁽ᵏ⁾ = 10α/k' for a run with a schedule."""
    schedule = getattr(run, "schedule", None)
    return f"{rate}⁽ᵏ⁾ = {schedule}" if schedule else f"{rate} = {run.lr:g}"


def _values_panel(axes, runs: list[Descent], f: str, rate: str = "α") -> None:
    positive = all(np.all(run.values > 0) for run in runs)
    styles = ("-", "--", ":", "-.")
    for index, run in enumerate(runs):
        axes.plot(_steps(run), run.values, marker=".", ms=4,
                  ls=styles[index % len(styles)], color=f"C{index}",
                  label=f"{_rate(run, rate)} ({run.label})")
    if positive:
        axes.set_yscale("log")
    axes.set_xlabel("k")
    axes.set_ylabel(f"{f}(θ⁽ᵏ⁾)" + (" (log scale)" if positive else ""))
    axes.grid(alpha=0.3)
    axes.legend(fontsize=8, loc="best")
