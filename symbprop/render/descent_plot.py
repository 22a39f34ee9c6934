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

WIDTH_CM, HEIGHT_CM = 11.0, 4.2
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
    for value, label in _y_ticks(lo, hi, log):
        y = (value - lo) * sy
        lines.append(rf"\draw (0,{y:.4f}) -- (-0.1,{y:.4f}) node[left] {{\small "
                     rf"${s.expr(label)}$}};")
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


def _y_ticks(lo: float, hi: float, log: bool) -> list[tuple[float, sympy.Expr]]:
    """Ticks of the value axis as (position on the axis, label): on a log axis the powers of
    ten inside it (the multiples of a stride of decades, so that about ``TICKS + 1`` remain),
    else, or when the axis spans less than a decade, ``TICKS`` values evenly spread."""
    if log:
        decades = list(range(math.ceil(lo - 1e-9), math.floor(hi + 1e-9) + 1))
        if len(decades) >= 2:
            stride = math.ceil(len(decades) / (TICKS + 1))
            chosen = [n for n in decades if n % stride == 0]  # 10^-6, 10^0, 10^6 ...
            return [(n, sympy.Pow(10, sympy.UnevaluatedExpr(n), evaluate=False))
                    for n in (chosen if len(chosen) >= 2 else decades[::stride])]
    return [(v, _float(10 ** v if log else v)) for v in np.linspace(lo, hi, TICKS)]


def _float(value: float) -> sympy.Float:
    return sympy.Float(float(f"{value:.3g}"))


def _style_name(index: int) -> str:
    return ("solid", "dashed", "dotted", "dash-dotted")[index % 4]


# ---------------------------------------------------------------- the path over the function

#: Samples of the curve (one parameter) and cells per side of the shaded map (two).
CURVE_SAMPLES, MAP_CELLS = 80, 24
PATH_SIZE_CM = 7.0


def path_figure(s, run, grid, names: list, rate=None) -> dict | None:
    """The iterates of ``run`` over the function (LaTeX): on the curve f(x) for one parameter,
    over a shaded map of f (darker is lower) for two; ``grid`` is f vectorised
    (``descent_runs.grid_function``), None for more parameters (no figure); ``rate``: the
    learning rate's symbol (α)."""
    if s.fmt != "tex" or grid is None or run.iterates.shape[1] > 2:
        return None
    points = run.iterates
    spans = [_span(points[:, i]) for i in range(points.shape[1])]
    if points.shape[1] == 1:
        tikz = _curve(s, run, grid, spans[0], names[0])
        where = f"on the curve {s.m(s.loss)}({s.m(names[0])})"
    else:
        tikz = _map(s, run, grid, spans, names)
        where = f"over {s.m(s.loss)} (darker is lower)"
    k = sympy.Symbol("k")
    caption = (f"The iterates {s.m(sympy.Symbol('theta^(k)'))} of the run with "
               f"{s.meq(rate or sympy.Symbol('alpha'), run.lr)} {where}, from {s.meq(k, 1)} "
               f"(the square) to {s.meq(k, len(run.values))} (the last dot).")
    return figure(tikz, caption)


def _span(values: np.ndarray) -> tuple[float, float]:
    lo, hi = float(np.min(values)), float(np.max(values))
    pad = 0.15 * (hi - lo) if hi > lo else 1.0
    return lo - pad, hi + pad


def _curve(s, run, grid, span, name) -> str:
    xs = np.linspace(*span, CURVE_SAMPLES)
    ys = grid(xs)
    finite = np.isfinite(ys)
    lo = min(float(np.min(ys[finite])), float(np.min(run.values)))
    hi = max(float(np.max(ys[finite])), float(np.max(run.values)))
    if 0 < lo < 0.05 * (hi - lo):
        lo = 0.0  # an axis from 0, not from 2.4e-11
    sx = PATH_SIZE_CM / (span[1] - span[0])
    sy = HEIGHT_CM / (hi - lo if hi > lo else 1.0)

    def at(x, y):
        return f"({(x - span[0]) * sx:.4f},{(y - lo) * sy:.4f})"

    lines = [r"\begin{tikzpicture}",
             rf"\draw[->] (0,0) -- ({PATH_SIZE_CM + 0.3:.4f},0) node[right] {{${s.expr(name)}$}};",
             rf"\draw[->] (0,0) -- (0,{HEIGHT_CM + 0.3:.4f}) node[above] {{${s.expr(s.loss)}$}};",
             r"\draw[gray, thick] " + " -- ".join(at(x, y) for x, y in zip(xs, ys, strict=True)
                                                   if np.isfinite(y)) + ";"]
    lines += _ticks(s, span, sx, "x") + _ticks(s, (lo, hi), sy, "y")
    lines += _path([at(x, y) for x, y in zip(run.iterates[:, 0], run.values, strict=True)])
    lines.append(r"\end{tikzpicture}")
    return "\n".join(lines)


def _map(s, run, grid, spans, names) -> str:
    (x0, x1), (y0, y1) = spans
    size = PATH_SIZE_CM / MAP_CELLS
    xs = np.linspace(x0, x1, MAP_CELLS + 1)
    ys = np.linspace(y0, y1, MAP_CELLS + 1)
    centres = grid(*np.meshgrid((xs[:-1] + xs[1:]) / 2, (ys[:-1] + ys[1:]) / 2))
    ranks = np.argsort(np.argsort(centres, axis=None)).reshape(centres.shape) / max(
        centres.size - 1, 1)  # shade by rank: the valley shows even where f is steep
    sx, sy = PATH_SIZE_CM / (x1 - x0), PATH_SIZE_CM / (y1 - y0)
    lines = [r"\begin{tikzpicture}"]
    for j in range(MAP_CELLS):
        for i in range(MAP_CELLS):
            shade = 15 + int(70 * ranks[j, i]) if np.isfinite(centres[j, i]) else 100
            lines.append(rf"\fill[black!{100 - shade}!white] ({i * size:.4f},{j * size:.4f}) "
                         rf"rectangle +({size:.4f},{size:.4f});")
    lines += [rf"\draw (0,0) rectangle ({PATH_SIZE_CM:.4f},{PATH_SIZE_CM:.4f});",
              rf"\node[below] at ({PATH_SIZE_CM / 2:.4f},-0.5) {{${s.expr(names[0])}$}};",
              rf"\node[left] at (-1.3,{PATH_SIZE_CM / 2:.4f}) {{${s.expr(names[1])}$}};"]
    lines += _ticks(s, (x0, x1), sx, "x") + _ticks(s, (y0, y1), sy, "y")
    lines += _path([f"({(x - x0) * sx:.4f},{(y - y0) * sy:.4f})" for x, y in run.iterates])
    lines.append(r"\end{tikzpicture}")
    return "\n".join(lines)


def _ticks(s, span, scale, axis: str) -> list[str]:
    out = []
    for value in np.linspace(span[0], span[1], 3):
        at = (value - span[0]) * scale
        label = rf"{{\small ${s.expr(_float(value))}$}}"
        out.append(rf"\draw ({at:.4f},0) -- ({at:.4f},-0.1) node[below] {label};" if axis == "x"
                   else rf"\draw (0,{at:.4f}) -- (-0.1,{at:.4f}) node[left] {label};")
    return out


def _path(points: list[str]) -> list[str]:
    lines = [r"\draw[red, thin] " + " -- ".join(points) + ";"] if len(points) > 1 else []
    lines += [rf"\fill[blue] {p} circle (1.2pt);" for p in points]
    lines.append(rf"\draw[thick] {points[0]} +(-3pt,-3pt) rectangle +(3pt,3pt);")
    return lines
