"""The backward pass at the point as a reverse network (seed 000): the net drawn a second time
with the forward values on its neurons, then run from right to left, the errors δ flowing back
along the same edges and each neuron an amplifier that multiplies what arrives by σ'(z), a
constant fixed by the forward pass:

    δ^l_j = σ'(z^l_j) · (Σ_k w^{l+1}_kj δ^{l+1}_k),    δ^L_j = σ'(z^L_j) · ∂C/∂a^L_j.

Every number is the point's (``numbers.Point``: ``evaluate``'s forward values and δ's,
``numbers.activation_slopes``, ``Point.number`` for ∂C/∂a^L), of the first sample for a batch;
nothing is recomputed here.  Drawn (LaTeX) for nets that ``tikz`` draws neuron by neuron; the
same equations with numbers, in every format, for small nets (``NetView.small``).
"""

from __future__ import annotations

import sympy

import symbprop.render.numbers as numbers
import symbprop.render.tikz as tikz
from symbprop.render.blocks import figure, math, para, section
from symbprop.render.notation import Chain, Partial, Slope, Terms, slope
from symbprop.render.numbers import param_value
from symbprop.spec.variables import ACT, DELTA, INPUT, PRE, WEIGHT, Var
from symbprop.symbolic.indexing import instantiate

#: Significant digits of the numbers in the drawings (the equations use the document's).
DIGITS = 4
#: Horizontal room of the edges between two columns (more for wide layers, whose drawing is
#: shrunk to its height), and of the loss's edges (cm).
SPAN_CM = 2.6
MAX_SPAN_CM = 5.0
LOSS_SPAN_CM = 2.0
#: The largest height of each drawing, a fraction of the text height: both fit on one page.
HEIGHT = 0.34
#: A value box's height and the amplifier's size (cm).
BOX_CM = 0.5
AMP_CM = 0.5


def reverse_section(v, s, pt) -> dict | None:
    """The section, or None for a net too wide both to draw and to list neuron by neuron."""
    drawn = s.fmt == "tex" and max(v.sizes) <= tikz.MAX_NEURONS
    if not (drawn or v.small):
        return None
    at = _values(v, pt)
    name = slope(v.activation(1))
    gain = s.m(Slope(name, sympy.Symbol("z")))
    blocks = [para(
        "The backward pass is the network run backwards (seed 000).  The errors "
        f"{s.m(sympy.Symbol('delta'))} flow from right to left along the same edges, multiplied "
        f"by the same weights, and every neuron is an amplifier: it multiplies what arrives by "
        f"the slope of its activation, such as {gain}, a constant here because "
        f"{s.m(sympy.Symbol('z'))} is already known from the forward pass.  Into an output "
        f"neuron arrives {s.m(Partial(sympy.Symbol('C'), v.variable(ACT, v.L)[sympy.Symbol('j')]))}"
        + (", except that a softmax output couples its neurons: its errors come straight from "
           "case 1." if v.activation(v.L).is_softmax else "."))]
    if pt.batch:
        blocks.append(para("The numbers are those of the first sample."))
    if drawn:
        blocks += [figure(forward_picture(v, s, at), _forward_caption(v, s), HEIGHT),
                   figure(backward_picture(v, s, at), _backward_caption(v, s), HEIGHT)]
    if v.small:
        blocks += [para("Amplifier by amplifier, from the output back (the numbers in the "
                        "order of the symbols):"), math(amplifier_lines(v, s, at))]
    return section("The backward pass as a reverse network", blocks)


def _values(v, pt) -> dict:
    """The point's numbers by name: ``z``, ``a``, ``delta`` [layer][j], ``slope`` [layer][j],
    ``x`` [k], ``dC_da`` [j] (∂C/∂a^L_j), ``W`` [layer][j][k], ``loss``."""
    first = (lambda rows: rows[0]) if pt.batch else (lambda rows: rows)
    forward, deltas = pt.result["forward"], pt.result["delta"]
    at = {"z": {}, "a": {}, "delta": {}, "slope": {}, "W": {}}
    for layer in range(1, v.L + 1):
        at["z"][layer] = list(first(forward[Var(PRE, layer).name]))
        at["a"][layer] = list(first(forward[Var(ACT, layer).name]))
        at["delta"][layer] = list(first(deltas[Var(DELTA, layer).name]))
        at["W"][layer] = [[param_value(pt.values.params, Var(WEIGHT, layer).element(j, k))
                           for k in range(v.sizes[layer - 1])] for j in range(v.sizes[layer])]
        at["slope"][layer] = [0.0] * v.sizes[layer]
    for layer, j, value in numbers.activation_slopes(v.d, pt):
        at["slope"][layer][j] = value
    at["x"] = list(pt.values.X[0])
    adjoint = v.d.adjoints[v.variable(ACT, v.L)]
    (j,) = adjoint.indices
    at["dC_da"] = [pt.number(instantiate(adjoint.expr, {j: n})) for n in range(v.sizes[v.L])]
    at["loss"] = pt.result["per_sample"][0]
    return at


def amplifier_lines(v, s, at: dict) -> list[tuple[str, str, str]]:
    """δ^l_j = gain · (what arrives) = numbers = value, for every neuron, output layer first."""
    C, F = sympy.Symbol("C"), sympy.Float
    lines = []
    for layer in range(v.L, 0, -1):
        z, delta = v.variable(PRE, layer), v.variable(DELTA, layer)
        softmax = v.activation(layer).is_softmax
        identity = v.activation(layer).name == "identity" and not v.activation(layer).is_custom
        for j in range(v.sizes[layer]):
            if layer == v.L:
                arrives = Partial(C, v.variable(ACT, layer)[j])
                arriving = F(at["dC_da"][j])
            else:
                ahead, w = v.variable(DELTA, layer + 1), v.variable(WEIGHT, layer + 1)
                count = v.sizes[layer + 1]
                arrives = Terms(*(Chain(w[k, j], ahead[k]) for k in range(count))) \
                    if count > 1 else Chain(w[0, j], ahead[0])
                numbers_ = [Chain(F(at["W"][layer + 1][k][j]), F(at["delta"][layer + 1][k]))
                            for k in range(count)]
                arriving = Terms(*numbers_) if count > 1 else numbers_[0]
            lhs = s.expr(delta[j])
            if softmax:
                lines.append((lhs, "=", s.expr(v.d.definition(delta[j]))))
            elif identity:  # the gain is 1
                lines.append((lhs, "=", s.expr(arrives)))
                if layer < v.L:
                    lines.append(("", "=", s.expr(arriving)))
            else:
                gain = Slope(slope(v.activation(layer)), z[j])
                lines += [(lhs, "=", s.expr(Chain(gain, arrives))),
                          ("", "=", s.expr(Chain(F(at["slope"][layer][j]), arriving)))]
            lines.append(("", "=", s.expr(F(at["delta"][layer][j]))))
    return lines


# ---------------------------------------------------------------- the drawings


def _num(s, value: float) -> str:
    return s.num(value, digits=DIGITS)


def _eq(s, lhs, value: float) -> str:
    return s.inline(f"{s.expr(lhs)} = {_num(s, value).strip('$')}")


def _width(labels) -> float:
    return max(tikz.label_width(label) for label in labels) + 0.1


def forward_picture(v, s, at: dict) -> str:
    """The net with z and a on every neuron (x on the inputs), the weights' values on the
    edges and the loss at the right."""
    sizes, gap = v.sizes, tikz.row_gap(v.sizes)
    text = {(0, k): _eq(s, v.variable(INPUT)[k], at["x"][k]) for k in range(sizes[0])}
    for layer in range(1, v.L + 1):
        for j in range(sizes[layer]):
            text[layer, j] = (_eq(s, v.variable(PRE, layer)[j], at["z"][layer][j]) + r"\\[2pt] "
                              + _eq(s, v.variable(ACT, layer)[j], at["a"][layer][j]))
    width = _width(part for label in text.values() for part in label.split(r"\\[2pt] "))
    step = width + _span(sizes)
    lines = [r"\begin{tikzpicture}[x=1cm, y=1cm, >=stealth,",
             r"  value/.style={draw, rounded corners, align=center, font=\scriptsize,",
             rf"    minimum width={width:.2f}cm, minimum height={BOX_CM}cm, inner sep=1pt}},",
             r"  weight/.style={font=\scriptsize, fill=white, inner sep=1pt}]"]
    for (layer, j), label in text.items():
        lines.append(rf"\node[value] (f{layer}_{j}) at ({layer * step:.2f}, "
                     rf"{_row(j, sizes[layer], gap):.2f}) {{{label}}};")
    labels = []
    for layer in range(1, v.L + 1):
        x0, x1 = (layer - 1) * step + width / 2, layer * step - width / 2
        places = tikz.weight_labels(v.d, s, layer, x1 - x0, gap,
                                    lambda j, k, n=layer: _num(s, at["W"][n][j][k]), radius=0.0)
        for j in range(sizes[layer]):
            for k in range(sizes[layer - 1]):
                ends = (f"({x0:.2f}, {_row(k, sizes[layer - 1], gap):.2f})",
                        f"({x1:.2f}, {_row(j, sizes[layer], gap):.2f})")
                lines.append(rf"\draw[->] {ends[0]} -- {ends[1]};")
                labels += _weight_label(ends, places.get((j, k)))
    loss_x = v.L * step + width / 2 + LOSS_SPAN_CM
    lines.append(rf"\node[draw, rectangle, minimum height=8mm, font=\scriptsize] (loss) at "
                 rf"({loss_x:.2f}, 0) {{{_eq(s, sympy.Symbol('C'), at['loss'])}}};")
    lines += [rf"\draw[->] (f{v.L}_{j}.east) -- (loss);" for j in range(sizes[v.L])]
    return "\n".join([*lines, *labels, r"\end{tikzpicture}"])


def backward_picture(v, s, at: dict) -> str:
    """The reverse network: the loss at the right, δ on every neuron, each neuron's amplifier
    (a triangle pointing left, its gain σ'(z) above it), the weights' values on the edges."""
    sizes, gap = v.sizes, tikz.row_gap(v.sizes)
    softmax = v.activation(v.L).is_softmax
    deltas = {(layer, j): _eq(s, v.variable(DELTA, layer)[j], at["delta"][layer][j])
              for layer in range(1, v.L + 1) for j in range(sizes[layer])}
    gains = {key: s.inline(rf"\times {_num(s, at['slope'][key[0]][key[1]]).strip('$')}")
             for key in deltas if not (softmax and key[0] == v.L)}
    width = _width(deltas.values())
    pair = width + 0.15 + AMP_CM  # the δ box and its amplifier
    width += max(0.0, max(map(tikz.label_width, gains.values()), default=0.0) - pair)
    pair = width + 0.15 + AMP_CM
    step = pair + _span(sizes)
    lines = [r"\begin{tikzpicture}[x=1cm, y=1cm, >=stealth,",
             r"  value/.style={draw, rounded corners, align=center, font=\scriptsize,",
             rf"    minimum width={width:.2f}cm, minimum height={BOX_CM}cm, inner sep=1pt}},",
             r"  amp/.style={draw, isosceles triangle, shape border rotate=180, inner sep=0pt,",
             rf"    minimum height={AMP_CM}cm, minimum width={AMP_CM}cm, fill=black!8}},",
             r"  gain/.style={font=\scriptsize, inner sep=1pt},",
             r"  weight/.style={font=\scriptsize, fill=white, inner sep=1pt}]"]
    east = {}  # (layer, j) -> where what arrives enters: the amplifier's tip, or the δ box
    for (layer, j), label in deltas.items():
        x, y = (layer - 1) * step, _row(j, sizes[layer], gap)
        lines.append(rf"\node[value] (d{layer}_{j}) at ({x:.2f}, {y:.2f}) {{{label}}};")
        if (layer, j) in gains:
            amp = x + width / 2 + 0.15 + AMP_CM / 2
            lines += [rf"\node[amp] (t{layer}_{j}) at ({amp:.2f}, {y:.2f}) {{}};",
                      rf"\draw[->] (t{layer}_{j}.apex) -- (d{layer}_{j}.east);",
                      rf"\node[gain, anchor=south east] at ({amp + AMP_CM / 2:.2f}, "
                      rf"{y + BOX_CM / 2:.2f}) {{{gains[layer, j]}}};"]
            east[layer, j] = amp + AMP_CM / 2
        else:
            east[layer, j] = x + width / 2
    labels = []
    for layer in range(1, v.L):
        x0, x1 = east[layer, 0], layer * step - width / 2
        places = tikz.weight_labels(v.d, s, layer + 1, x1 - x0, gap,
                                    lambda k, j, n=layer + 1: _num(s, at["W"][n][k][j]),
                                    radius=0.0)
        for k in range(sizes[layer + 1]):
            for j in range(sizes[layer]):
                ends = (f"({x0:.2f}, {_row(j, sizes[layer], gap):.2f})",
                        f"({x1:.2f}, {_row(k, sizes[layer + 1], gap):.2f})")
                lines.append(rf"\draw[<-] {ends[0]} -- {ends[1]};")
                labels += _weight_label(ends, places.get((k, j)))
    loss_x = east[v.L, 0] + max(LOSS_SPAN_CM, _span(sizes) - 0.6) + 0.4
    lines.append(rf"\node[draw, rectangle, minimum size=8mm] (loss) at ({loss_x:.2f}, 0) "
                 rf"{{{s.m(sympy.Symbol('C'))}}};")
    outputs = range(sizes[v.L])
    texts = {(0, j): _num(s, at["dC_da"][j]) for j in outputs}
    places = {} if softmax else tikz.place_labels(
        sizes[v.L], 1, loss_x - 0.4 - east[v.L, 0], list(texts),
        {key: tikz.label_width(text) for key, text in texts.items()}, gap, 0.0)[0]
    for j in outputs:
        ends = (f"({east[v.L, j]:.2f}, {_row(j, sizes[v.L], gap):.2f})", f"({loss_x - 0.4:.2f}, 0)")
        lines.append(rf"\draw[<-] {ends[0]} -- {ends[1]};")
        if (0, j) in places:
            labels.append(rf"\path {ends[0]} -- node[weight, pos={places[0, j]:.2f}] "
                          rf"{{{texts[0, j]}}} {ends[1]};")
    return "\n".join([*lines, *labels, r"\end{tikzpicture}"])


def _span(sizes) -> float:
    return min(MAX_SPAN_CM, SPAN_CM + 0.25 * max(0, max(sizes) - 2))


def _row(j: int, size: int, gap: float) -> float:
    return ((size - 1) / 2 - j) * gap


def _forward_caption(v, s) -> str:
    return (f"The forward pass at the point: {s.m(sympy.Symbol('z'))} and "
            f"{s.m(sympy.Symbol('a'))} of every neuron, the weights on the edges, the loss "
            f"{s.m(sympy.Symbol('C'))}.")


def _backward_caption(v, s) -> str:
    C = sympy.Symbol("C")
    out = v.variable(ACT, v.L)[sympy.Symbol("j")]
    first = ("the output errors come from the loss (softmax, case 1)"
             if v.activation(v.L).is_softmax else
             f"{s.m(Partial(C, out))} leaves the loss for every output")
    gain = s.m(Slope(slope(v.activation(1)), sympy.Symbol("z")))
    return (f"The backward pass as a reverse network: {first}; every triangle is an amplifier "
            f"that multiplies what arrives by the slope {gain} of its neuron (its gain above "
            f"it), giving the error {s.m(sympy.Symbol('delta'))} in the box; the errors flow "
            "left along the edges, times the weights.")


def _weight_label(ends: tuple[str, str], place) -> list[str]:
    """The label of the edge between ``ends`` at ``place`` (position, text), if it has one."""
    if place is None:
        return []
    pos, label = place
    return [rf"\path {ends[0]} -- node[weight, pos={pos:.2f}] {{{label}}} {ends[1]};"]
