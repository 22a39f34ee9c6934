"""TikZ pictures of a network: neurons and labelled weights, or layer blocks for wide layers (the
computational graph of a graph model is drawn by ``graph_tikz``).

Every label is printed by the document's ``Style`` (so it is ``SymbpropLatexPrinter`` math); this
module only places nodes and edges.  Output depends only on the model and the numbers, so it is
deterministic.
"""

from __future__ import annotations

import itertools
import math

import sympy

from symbprop.render.notation import vector

#: Draw every neuron while no layer is wider than this; otherwise draw one block per layer.
MAX_NEURONS = 12
#: Label every weight of a layer when it has at most this many; else only those into neuron 0.
MAX_LABELLED = 16
WIDTH_CM = 14.0
ROW_CM = 1.7
#: Where along an edge a weight's label may sit, in order of preference, and how far (cm, width
#: counted half) it should stay from edge crossings and other labels.
CANDIDATES = (0.5, 0.3, 0.7, 0.25, 0.75, 0.2, 0.8)
CLEAR = 0.55


def network_picture(d, style) -> str:
    """The network as neurons and weights (small layers) or as layer blocks (wide ones)."""
    sizes = d.model.sizes
    if max(sizes) > MAX_NEURONS:
        return _blocks(d, style)
    return _neurons(d, style)


def _neurons(d, style) -> str:
    sizes = d.model.sizes
    step = min(4.2, WIDTH_CM / len(sizes))
    lines = [r"\begin{tikzpicture}[x=1cm, y=1cm, >=stealth,",
             r"  neuron/.style={circle, draw, minimum size=8mm, inner sep=0pt, fill=white},",
             r"  weight/.style={font=\scriptsize, fill=white, inner sep=1pt}]"]
    for layer, size in enumerate(sizes):
        for j in range(size):
            label = _neuron_label(d, style, layer, j)
            lines.append(rf"\node[neuron] (n{layer}_{j}) at ({layer * step:.2f}, "
                         rf"{_row(j, size, ROW_CM):.2f}) {{{label}}};")
    for layer in range(1, len(sizes)):
        weights = d.program.params[_weight_position(d, layer)]
        labelled = sizes[layer] * sizes[layer - 1] <= MAX_LABELLED
        shown = [(j, k) for j in range(sizes[layer]) for k in range(sizes[layer - 1])
                 if labelled or j == 0]
        places = label_positions(sizes[layer - 1], sizes[layer], step, shown)
        for j in range(sizes[layer]):
            for k in range(sizes[layer - 1]):
                text = ""
                if (j, k) in places:
                    text = rf"node[weight, pos={places[j, k]:.2f}] " \
                           rf"{{{style.m(weights[j, k])}}} "
                lines.append(rf"\draw[->] (n{layer - 1}_{k}) -- {text}(n{layer}_{j});")
    last = len(sizes) - 1
    lines.append(rf"\node[draw, rectangle, minimum size=8mm] (loss) at "
                 rf"({last * step + 2.2:.2f}, 0) {{{style.m(sympy.Symbol('C'))}}};")
    lines += [rf"\draw[->] (n{last}_{j}) -- (loss);" for j in range(sizes[last])]
    lines.append(r"\end{tikzpicture}")
    return "\n".join(lines)


def label_positions(inputs: int, outputs: int, step: float, shown: list) -> dict:
    """``pos`` along its edge of the label of every weight (j, k) in ``shown`` (edges from
    ``inputs`` neurons to ``outputs`` neurons, ``step`` cm apart): the first of ``CANDIDATES``
    that keeps a label ``CLEAR`` of every crossing of two edges and of the labels placed before
    it (distances with the width counted half, labels being wider than tall), else the best."""
    def point(edge: tuple[int, int], t: float) -> tuple[float, float]:
        y0, y1 = _row(edge[1], inputs, ROW_CM), _row(edge[0], outputs, ROW_CM)
        return t * step, y0 + t * (y1 - y0)

    def room(edge: tuple[int, int], t: float, placed: dict) -> float:
        x, y = point(edge, t)
        others = crossings + [point(e, pos) for e, pos in placed.items()]
        return min((math.hypot((x - a) / 2, y - b) for a, b in others), default=math.inf)

    # edges (j, k) and (j2, k2) with k2 < k and j2 > j cross, at the t where their ys meet
    crossings = []
    for j, k, j2, k2 in itertools.product(range(outputs), range(inputs), repeat=2):
        if k2 < k and j2 > j:
            rise, rise2 = (_row(j, outputs, ROW_CM) - _row(k, inputs, ROW_CM),
                           _row(j2, outputs, ROW_CM) - _row(k2, inputs, ROW_CM))
            t = (_row(k2, inputs, ROW_CM) - _row(k, inputs, ROW_CM)) / (rise - rise2)
            crossings.append(point((j, k), t))
    placed: dict = {}
    for edge in shown:
        clear = [t for t in CANDIDATES if room(edge, t, placed) >= CLEAR]
        placed[edge] = clear[0] if clear else max(CANDIDATES,
                                                  key=lambda t: room(edge, t, placed))
    return placed


def _weight_position(d, layer: int) -> int:
    names = [getattr(p, "name", None) or p.label.name for p in d.program.params]
    return names.index(f"W{layer}")


def _neuron_label(d, style, layer: int, j: int) -> str:
    return style.m(d.base("x" if layer == 0 else f"a{layer}")[j])


def _row(j: int, size: int, gap: float) -> float:
    return ((size - 1) / 2 - j) * gap


def _blocks(d, style) -> str:
    sizes = d.model.sizes
    step = min(3.6, WIDTH_CM / len(sizes))
    lines = [r"\begin{tikzpicture}[x=1cm, y=1cm, >=stealth,",
             r"  layer/.style={draw, rectangle, rounded corners, minimum height=22mm,",
             r"  minimum width=17mm, align=center, font=\small}]"]
    for layer, size in enumerate(sizes):
        name = "x" if layer == 0 else f"a{layer}"
        title = style.m(vector(name, size))
        what = "input" if layer == 0 else d.model.layers[layer - 1].activation.name
        lines.append(rf"\node[layer] (l{layer}) at ({layer * step:.2f}, 0) "
                     rf"{{{title}\\ {size} units\\ \texttt{{{_tt(what)}}}}};")
    for layer in range(1, len(sizes)):
        shape = style.m(sympy.Symbol(f"W{layer}"))
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
