"""TikZ pictures of a network: neurons and labelled weights, or layer blocks for wide layers (the
computational graph of a graph model is drawn by ``graph_tikz``).

Every label is printed by the document's ``Style`` (so it is ``SymbpropLatexPrinter`` math); this
module only places nodes and edges.  Output depends only on the model and the numbers, so it is
deterministic.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import sympy

from symbprop.render.measure import latex_width
from symbprop.render.notation import vector
from symbprop.spec.variables import WEIGHT, Var, neurons

#: Draw every neuron while no layer is wider than this; otherwise draw one block per layer.
MAX_NEURONS = 12
#: Label every weight of a layer when it has at most this many; else only those into neuron 0.
MAX_LABELLED = 16
WIDTH_CM = 14.0
#: Rows of neurons are ``ROW_CM`` apart, closer (not below ``MIN_ROW_CM``) where a layer is so
#: wide that the drawing would be taller than ``MAX_HEIGHT_CM``.
ROW_CM = 1.7
MIN_ROW_CM = 1.0
MAX_HEIGHT_CM = 11.0
#: The radius of a neuron (``minimum size=8mm``): edges, and ``pos`` along them, start there.
RADIUS_CM = 0.4
#: Where along an edge a weight's label may sit, in order of preference, and how far (cm, width
#: counted half) it should stay from edge crossings.
CANDIDATES = (0.5, 0.3, 0.7, 0.4, 0.6, 0.25, 0.75, 0.35, 0.65, 0.2, 0.8, 0.15, 0.85, 0.1, 0.9)
CLEAR = 0.55
#: A weight's label: ``\scriptsize`` (8 pt in an 11 pt document) with 1 pt inner sep, and
#: the room kept free between two labels and around a neuron (cm).
LABEL_SCALE = 8 / 11
LABEL_HEIGHT_CM = 0.42
LABEL_GAP_CM = 0.05
PT_CM = 2.54 / 72.27


def network_picture(d, style) -> str:
    """The network as neurons and weights (small layers) or as layer blocks (wide ones)."""
    sizes = d.model.sizes
    if max(sizes) > MAX_NEURONS:
        return _blocks(d, style)
    return _neurons(d, style)


def row_gap(sizes) -> float:
    """The distance between two neurons of a layer, in cm (see ``ROW_CM``)."""
    widest = max(sizes)
    if widest < 2:
        return ROW_CM
    return max(MIN_ROW_CM, min(ROW_CM, MAX_HEIGHT_CM / (widest - 1)))


def layer_step(sizes) -> float:
    """The distance between two layers, in cm."""
    return min(4.2, WIDTH_CM / len(sizes))


def label_width(printed: str) -> float:
    """The width in cm kept for a label ``printed`` as inline math (``$...$``), with its inner
    sep: ``measure.latex_width`` at ``LABEL_SCALE``, and a fifth more for the estimate's
    error."""
    return 1.2 * (latex_width(printed.strip("$")) * LABEL_SCALE + 2.0) * PT_CM


def weight_labels(d, style, layer: int, step: float, gap: float, text,
                  radius: float = RADIUS_CM) -> dict:
    """(j, k) -> (pos, label) of the weights of ``layer`` that are labelled: all of them while
    there are at most ``MAX_LABELLED`` and their labels fit without overlapping, else those
    into neuron 0.  ``text(j, k)`` is the printed label of a weight; ``radius``: see
    ``place_labels``."""
    inputs, outputs = d.model.sizes[layer - 1], d.model.sizes[layer]
    every = [(j, k) for j in range(outputs) for k in range(inputs)]
    texts = {edge: text(*edge) for edge in every}
    widths = {edge: label_width(texts[edge]) for edge in every}
    if len(every) <= MAX_LABELLED:
        places, fits = place_labels(inputs, outputs, step, every, widths, gap, radius)
        if fits:
            return {edge: (places[edge], texts[edge]) for edge in every}
    into_first = [(0, k) for k in range(inputs)]
    places, _ = place_labels(inputs, outputs, step, into_first, widths, gap, radius)
    return {edge: (places[edge], texts[edge]) for edge in into_first}


def _neurons(d, style) -> str:
    sizes = d.model.sizes
    step, gap = layer_step(sizes), row_gap(sizes)
    lines = [r"\begin{tikzpicture}[x=1cm, y=1cm, >=stealth,",
             r"  neuron/.style={circle, draw, minimum size=8mm, inner sep=0pt, fill=white},",
             r"  weight/.style={font=\scriptsize, fill=white, inner sep=1pt}]"]
    for layer, size in enumerate(sizes):
        for j in range(size):
            label = _neuron_label(d, style, layer, j)
            lines.append(rf"\node[neuron] (n{layer}_{j}) at ({layer * step:.2f}, "
                         rf"{_row(j, size, gap):.2f}) {{{label}}};")
    labelled = []
    for layer in range(1, len(sizes)):
        weights = d.program.params[_weight_position(d, layer)]
        labels = weight_labels(d, style, layer, step, gap,
                               lambda j, k, w=weights: style.m(w[j, k]))
        for j in range(sizes[layer]):
            for k in range(sizes[layer - 1]):
                lines.append(rf"\draw[->] (n{layer - 1}_{k}) -- (n{layer}_{j});")
        for (j, k), (pos, label) in labels.items():  # over every edge, none drawn across them
            labelled.append(rf"\path (n{layer - 1}_{k}) -- node[weight, pos={pos:.2f}] "
                            rf"{{{label}}} (n{layer}_{j});")
    last = len(sizes) - 1
    lines.append(rf"\node[draw, rectangle, minimum size=8mm] (loss) at "
                 rf"({last * step + 2.2:.2f}, 0) {{{style.m(sympy.Symbol('C'))}}};")
    lines += [rf"\draw[->] (n{last}_{j}) -- (loss);" for j in range(sizes[last])]
    lines += [*labelled, r"\end{tikzpicture}"]
    return "\n".join(lines)


def label_positions(inputs: int, outputs: int, step: float, shown: list,
                    widths: dict | None = None, gap: float = ROW_CM) -> dict:
    """``pos`` along its edge of the label of every weight (j, k) in ``shown`` (see
    ``place_labels``; where no place is free, the one that keeps clearest of crossings)."""
    return place_labels(inputs, outputs, step, shown, widths, gap)[0]


def place_labels(inputs: int, outputs: int, step: float, shown: list,
                 widths: dict | None = None, gap: float = ROW_CM,
                 radius: float = RADIUS_CM) -> tuple[dict, bool]:
    """(``pos`` of the label of every weight (j, k) in ``shown``, whether every label is free).

    Edges run from ``inputs`` neurons to ``outputs`` neurons ``step`` cm to the right, rows
    ``gap`` cm apart, between the borders of circles of ``radius`` (a neuron's), as TikZ draws
    them.  A label is a box of ``widths[j, k]`` cm (0.6 if not given) by ``LABEL_HEIGHT_CM``;
    it takes the first of ``CANDIDATES`` where its box stays between the two columns, overlaps
    no neuron and no label placed before it (``LABEL_GAP_CM`` apart) and stays ``CLEAR`` of
    every crossing of two edges (distances
    with the width counted half, labels being wider than tall); else the first free one; else,
    not free, the one that keeps clearest of crossings."""
    widths = widths or {}
    centres = [(0.0, _row(k, inputs, gap)) for k in range(inputs)]
    centres += [(step, _row(j, outputs, gap)) for j in range(outputs)]

    def point(edge: tuple[int, int], t: float) -> tuple[float, float]:
        (x0, y0), (x1, y1) = (0.0, _row(edge[1], inputs, gap)), (step, _row(edge[0], outputs,
                                                                              gap))
        length = math.hypot(x1 - x0, y1 - y0)
        ux, uy = (x1 - x0) / length, (y1 - y0) / length
        sx, sy = x0 + radius * ux, y0 + radius * uy
        ex, ey = x1 - radius * ux, y1 - radius * uy
        return sx + t * (ex - sx), sy + t * (ey - sy)

    def box(edge, t) -> tuple[float, float, float, float]:
        x, y = point(edge, t)
        half_w, half_h = widths.get(edge, 0.6) / 2, LABEL_HEIGHT_CM / 2
        return x - half_w, y - half_h, x + half_w, y + half_h

    def free(edge, t, placed: dict) -> bool:
        mine = box(edge, t)
        if mine[0] < 0 or mine[2] > step:
            return False
        if any(boxes_overlap(mine, box(e, p), LABEL_GAP_CM) for e, p in placed.items()):
            return False
        return all(circle_box_distance(c, mine) >= radius + LABEL_GAP_CM for c in centres)

    def room(edge, t) -> float:
        if not len(crossings):
            return math.inf
        x, y = point(edge, t)
        # over every crossing at once: 12-12-12 has 4 356 of them, for each candidate place
        return float(np.min(np.hypot((x - crossings[:, 0]) / 2, y - crossings[:, 1])))

    # edges (j, k) and (j2, k2) with k2 < k and j2 > j cross, at the t where their ys meet
    crossings = np.array([
        _crossing(_row(k, inputs, gap), _row(j, outputs, gap), _row(k2, inputs, gap),
                  _row(j2, outputs, gap), step)
        for j, k, j2, k2 in itertools.product(range(outputs), range(inputs), repeat=2)
        if k2 < k and j2 > j], dtype=float).reshape(-1, 2)
    placed: dict = {}
    fits = True
    for edge in shown:
        free_places = [t for t in CANDIDATES if free(edge, t, placed)]
        if free_places:
            placed[edge] = next((t for t in free_places if room(edge, t) >= CLEAR),
                                free_places[0])
        else:
            fits = False
            placed[edge] = max(CANDIDATES, key=lambda t, e=edge: room(e, t))
    return placed, fits


def _crossing(a0: float, a1: float, b0: float, b1: float, step: float) -> tuple[float, float]:
    """Where the segments (0, a0)-(step, a1) and (0, b0)-(step, b1) cross."""
    t = (b0 - a0) / ((a1 - a0) - (b1 - b0))
    return t * step, a0 + t * (a1 - a0)


def boxes_overlap(a: tuple, b: tuple, gap: float = 0.0) -> bool:
    """Whether boxes (x0, y0, x1, y1) ``a`` and ``b`` come closer than ``gap``."""
    return a[0] < b[2] + gap and b[0] < a[2] + gap and a[1] < b[3] + gap and b[1] < a[3] + gap


def circle_box_distance(centre: tuple[float, float], b: tuple) -> float:
    """The distance from ``centre`` to the nearest point of box (x0, y0, x1, y1) ``b``."""
    x, y = centre
    return math.hypot(max(b[0] - x, 0.0, x - b[2]), max(b[1] - y, 0.0, y - b[3]))


def _weight_position(d, layer: int) -> int:
    names = [getattr(p, "name", None) or p.label.name for p in d.program.params]
    return names.index(Var(WEIGHT, layer).name)


def _neuron_label(d, style, layer: int, j: int) -> str:
    return style.m(d.base(neurons(layer).name)[j])


def _row(j: int, size: int, gap: float) -> float:
    return ((size - 1) / 2 - j) * gap


def _blocks(d, style) -> str:
    sizes = d.model.sizes
    step = min(3.6, WIDTH_CM / len(sizes))
    lines = [r"\begin{tikzpicture}[x=1cm, y=1cm, >=stealth,",
             r"  layer/.style={draw, rectangle, rounded corners, minimum height=22mm,",
             r"  minimum width=17mm, align=center, font=\small}]"]
    for layer, size in enumerate(sizes):
        name = neurons(layer).name
        title = style.m(vector(name, size))
        what = "input" if layer == 0 else d.model.layers[layer - 1].activation.name
        lines.append(rf"\node[layer] (l{layer}) at ({layer * step:.2f}, 0) "
                     rf"{{{title}\\ {size} units\\ \texttt{{{_tt(what)}}}}};")
    for layer in range(1, len(sizes)):
        shape = style.m(sympy.Symbol(Var(WEIGHT, layer).name))
        lines.append(rf"\draw[->] (l{layer - 1}) -- node[above, font=\scriptsize] {{{shape}}} "
                     rf"node[below, font=\scriptsize] {{{sizes[layer]}$\times${sizes[layer - 1]}}} "
                     rf"(l{layer});")
    lines.append(rf"\node[draw, rectangle, minimum size=8mm] (loss) at "
                 rf"({(len(sizes) - 1) * step + 2.2:.2f}, 0) {{{style.m(sympy.Symbol('C'))}}};")
    lines.append(rf"\draw[->] (l{len(sizes) - 1}) -- (loss);")
    lines.append(r"\end{tikzpicture}")
    return "\n".join(lines)


def _tt(name: str) -> str:
    return name.replace("_", r"\_")
