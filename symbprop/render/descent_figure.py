"""The PNG a Markdown document's gradient-descent section refers to (``descent_plot.file_name``):
the document's runs (``descent_runs.lesson``, the same numbers as its tables) drawn by
``render.plots.plot_descent``: one panel per learning rate (the path on the curve f(x) for one
parameter, over the contours of f for two, each parameter against k for more), and f (C for a
network) against k from k = 1 for every rate.  Needs matplotlib (the ``plot`` extra).

    write(d, values, folder) -> the path written, or None without values
"""

from __future__ import annotations

from pathlib import Path

import symbprop.render.descent_runs as dr
from symbprop.render.context import seeded_for
from symbprop.render.descent_plot import file_name
from symbprop.render.plots import plot_descent
from symbprop.render.style import Style
from symbprop.spec.values import load_values


class _Drawn:
    """What ``plot_descent`` asks of an objective: the function's name, the rate's symbol, f on
    a grid (asked for one or two parameters only: ``descent_runs.grid_function``), and the
    parameters' names as the document prints them (w¹₀₀, or a spec's ``notation``)."""

    def __init__(self, d, vals) -> None:
        network = d.model.kind == "network"
        self.function = "C" if network else d.top.name
        self.rate = "η" if network else "α"
        self.loss_expr = None
        self.grid = dr.grid_function(d, vals)
        style = Style.of(d, "txt")
        self.labels = {name: style.expr(d.element(name)) for name in d.params}


def write(d, values, folder: str | Path) -> Path | None:
    """Draw the document's runs at ``values`` into ``folder``/``file_name``; None if
    ``values`` is None (a document without values has no runs)."""
    if values is None:
        return None
    d = seeded_for(d, values)
    vals = load_values(d.model, values)
    lesson = dr.lesson(d, vals, rate="η" if d.model.kind == "network" else "α")
    return plot_descent(lesson.all, Path(folder) / file_name(d.model.name), _Drawn(d, vals))
