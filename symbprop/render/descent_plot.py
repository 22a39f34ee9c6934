"""The loss-against-step plot of a document's gradient-descent runs, drawn in TikZ (LaTeX,
so that the PDF carries it with no image file; Markdown refers to a PNG instead, see
``file_name``): one line per learning rate of the lesson
(``descent_runs.Lesson``), the function's value f(θ^(k)) (C for a network) against k from
k = 1, the start, as the document's tables number the iterates; a logarithmic axis where every
value is positive.  Deterministic: coordinates are printed with 4 decimals.
"""

from __future__ import annotations

import math

import numpy as np
import sympy

from symbprop.render.blocks import figure, image

WIDTH_CM, HEIGHT_CM = 11.0, 5.0
STYLES = ("blue, thick", "red, thick, dashed", "black!60!green, thick, dotted",
          "orange!90!black, thick, dash dot")
TICKS = 5


def file_name(model_name: str) -> str:
    """The PNG a Markdown document refers to, written next to it (``descent_figure.write``)."""
    return f"{model_name}-descent.png"


def loss_figure(s, lesson, rate, model_name: str) -> dict | None:
    """A figure block in LaTeX; in Markdown an image block for the PNG ``file_name`` (the runs
    drawn by ``render.plots.plot_descent``); None in text."""
    if s.fmt == "md":
        return image(file_name(model_name), f"gradient descent on {model_name}: "
                     f"{s.loss.name} against k for each learning rate")
    if s.fmt != "tex":
        return None
    runs = lesson.all
    k = sympy.Symbol("k")
    names = [s.meq(rate, r.lr) for r in lesson.fixed.values()] + [s.meq(
        sympy.Symbol(f"{rate.name}^(k)"), 10 * rate / k)]
    finite = [v for r in runs for v in r.values if math.isfinite(v)]
    log = all(v > 0 for v in finite) and min(finite) > 0
    ys = [_y(r.values, log) for r in runs]
    flat = [v for y in ys for v in y if math.isfinite(v)]
    lo, hi = min(flat), max(flat)
    if hi - lo < 1e-12:
        lo, hi = lo - 1, hi + 1
    last = max(len(r.values) for r in runs)
    sx = WIDTH_CM / max(last - 1, 1)
    sy = HEIGHT_CM / (hi - lo)
    lines = [r"\begin{tikzpicture}",
             rf"\draw[->] (0,0) -- ({WIDTH_CM + 0.3:.4f},0) node[right] {{$k$}};",
             rf"\draw[->] (0,0) -- (0,{HEIGHT_CM + 0.3:.4f}) node[above] "
             rf"{{${s.expr(s.loss)}(\theta^{{(k)}})${' (log scale)' if log else ''}}};"]
    for tick in _k_ticks(last):
        x = (tick - 1) * sx
        lines.append(rf"\draw ({x:.4f},0) -- ({x:.4f},-0.1) node[below] {{\small {tick}}};")
    for value in np.linspace(lo, hi, TICKS):
        y = (value - lo) * sy
        label = 10 ** value if log else value
        lines.append(rf"\draw (0,{y:.4f}) -- (-0.1,{y:.4f}) node[left] {{\small "
                     rf"${s.expr(_float(label))}$}};")
    for index, y in enumerate(ys):
        points = [f"({i * sx:.4f},{(v - lo) * sy:.4f})" for i, v in enumerate(y)
                  if math.isfinite(v)]
        if len(points) == 1:
            points.append(points[0])
        lines.append(rf"\draw[{STYLES[index % len(STYLES)]}] " + " -- ".join(points) + ";")
    legend = ", ".join(f"{name} ({_style_name(i)})" for i, name in enumerate(names))
    lines.append(r"\end{tikzpicture}")
    caption = (f"{s.m(s.loss)} against the step {s.m(k)} from {s.meq(k, 1)}, the start, "
               f"for each learning rate: {legend}.")
    return figure("\n".join(lines), caption)


def _y(values, log: bool) -> list[float]:
    if not log:
        return [float(v) for v in values]
    return [math.log10(v) if math.isfinite(v) and v > 0 else math.nan for v in values]


def _k_ticks(last: int) -> list[int]:
    step = max(1, math.ceil((last - 1) / 10 / 5) * 5) if last > 11 else 1
    ticks = list(range(1, last + 1, step))
    if ticks[-1] != last:
        ticks.append(last)
    if len(ticks) > 2 and last - ticks[-2] < step / 2:
        del ticks[-2]
    return ticks


def _float(value: float) -> sympy.Float:
    return sympy.Float(float(f"{value:.3g}"))


def _style_name(index: int) -> str:
    return ("solid", "dashed", "dotted", "dash-dotted")[index % 4]
