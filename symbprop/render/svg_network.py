"""A network as inline SVG for the HTML page, as in the PDF's drawing (``tikz``): one circle per
neuron and a labelled arrow per weight while no layer is wider than ``tikz.MAX_NEURONS``, else one
block per layer.  The forward value appears above a neuron (or a block), δ below it, a weight's
gradient under the weight's label; the loss box shows C.

``picture(d, s, pt, marks)`` takes ``marks``: ``{"forward": {(layer, j): step}, "delta":
{(layer, j): step}, "grad": {name: step}, "loss": step, "new": step}`` (a block is ``(layer,
None)``), the step from which each label is shown.  Element ids: ``n<l>_<j>`` (neurons),
``l<l>`` (blocks), ``w<l>_<j>_<k>`` and ``W<l>`` (edges), ``loss``.
"""

from __future__ import annotations

import sympy

from symbprop.render.notation import Partial
from symbprop.render.svg_place import Room, box
from symbprop.render.tikz import MAX_LABELLED, MAX_NEURONS, ROW_CM, label_positions
from symbprop.spec.variables import DELTA, WEIGHT, Var, neurons

STEP_PX = 260
#: Rows of neurons are this far apart in nets of at most ``FEW`` neurons per layer (room for the
#: labels of crossing weights), ``ROW_PX`` apart otherwise.
ROW_FEW_PX = 150
FEW = 4
ROW_PX = 92
RADIUS = 23
MARGIN = 50
#: Values of a wide layer written above (and δ below) its block.
BLOCK_VALUES = 2
#: Layers are this far apart when drawn as blocks (room for those values).
STEP_WIDE_PX = 360
#: Where along its edge a weight's label may go (besides the PDF's place).
ALONG = [n / 40 for n in range(4, 37)]


def wide(d) -> bool:
    return max(d.model.sizes) > MAX_NEURONS


def picture(d, s, pt, marks: dict) -> tuple[str, str]:
    """(SVG markup, its text equivalent)."""
    sizes = d.model.sizes
    tall = 1 if wide(d) else max(sizes)
    height = MARGIN * 2 + max(tall - 1, 1) * _row_px(d) + (150 if wide(d) else 60)
    middle = height / 2 - 10
    room = Room()
    body = (_blocks if wide(d) else _neurons)(d, s, pt, marks, middle, room)
    right = max(b[2] for b, _ in room.boxes)
    width = round(max(_x(len(sizes) - 1, wide(d)) + 150 + MARGIN, right + 8))
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
           f'width="{width}" height="{height}" role="img" '
           'aria-labelledby="picture-title picture-desc">',
           '<title id="picture-title">The network</title>',
           f'<desc id="picture-desc">{describe(d, s)}</desc>',
           '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="10" '
           'markerHeight="10" markerUnits="userSpaceOnUse" orient="auto-start-reverse">'
           '<path d="M0,0 L10,5 L0,10 z"/></marker></defs>']
    out += body
    out.append("</svg>")
    return "\n".join(out), describe(d, s)


def _x(layer: int, wide_: bool = False) -> float:
    return MARGIN + (110 if wide_ else 30) + layer * (STEP_WIDE_PX if wide_ else STEP_PX)


def _row_px(d) -> int:
    return ROW_FEW_PX if max(d.model.sizes) <= FEW else ROW_PX


def _y(j: int, size: int, middle: float, row: int = ROW_PX) -> float:
    return middle - ((size - 1) / 2 - j) * row


def _neurons(d, s, pt, marks, middle, room: Room) -> list[str]:
    sizes = d.model.sizes
    row = _row_px(d)
    out: list[str] = []
    labels: list[str] = []
    for layer, size in enumerate(sizes):
        for j in range(size):
            x, y = _x(layer), _y(j, size, middle, row)
            element = d.base(neurons(layer).name)[j]
            out.append(f'<g class="neuron" id="n{layer}_{j}"><circle cx="{x:.1f}" cy="{y:.1f}" '
                       f'r="{RADIUS}"/><text x="{x:.1f}" y="{y + 5:.1f}">{s.text(element)}'
                       "</text></g>")
            room.add((x - RADIUS, y - RADIUS, x + RADIUS, y + RADIUS))
            labels.append(_text(f"fwd-{layer}-{j}", "fwd", marks["forward"][(layer, j)], x,
                                y - RADIUS - 7, s.label(pt.number(element)), room))
            if (layer, j) in marks["delta"]:
                delta = d.variable(DELTA, layer)[j]
                labels.append(_text(f"delta-{layer}-{j}", "bwd", marks["delta"][(layer, j)], x,
                                    y + RADIUS + 18,
                                    f"{s.text(delta)} = {s.label(pt.number(delta))}", room))
    ends = [(_x(len(sizes) - 1) + RADIUS, _y(j, sizes[-1], middle, row))
            for j in range(sizes[-1])]
    loss = _loss(d, s, pt, marks, middle, ends, room)
    edges: list[str] = []
    for layer in range(1, len(sizes)):
        labels += _weights(d, s, pt, marks, middle, room, layer)
        n_in, n_out = sizes[layer - 1], sizes[layer]
        for j in range(n_out):
            for k in range(n_in):
                x0, y0 = _x(layer - 1) + RADIUS, _y(k, n_in, middle, row)
                x1, y1 = _x(layer) - RADIUS, _y(j, n_out, middle, row)
                edges.append(f'<g class="edge" id="w{layer}_{j}_{k}"><line x1="{x0:.1f}" '
                             f'y1="{y0:.1f}" x2="{x1:.1f}" y2="{y1:.1f}" '
                             'marker-end="url(#arrow)"/></g>')
    return edges + out + loss + labels


def _weights(d, s, pt, marks, middle, room: Room, layer: int) -> list[str]:
    """The labels of layer ``layer``'s weights: value, and the gradient under it at its step,
    each at the free place along its edge nearest the PDF's."""
    row, (n_in, n_out) = _row_px(d), d.model.sizes[layer - 1:layer + 1]
    weights = d.variable(WEIGHT, layer)
    shown = [(j, k) for j in range(n_out) for k in range(n_in)
             if n_in * n_out <= MAX_LABELLED or j == 0]
    places = label_positions(n_in, n_out, STEP_PX / row * ROW_CM, shown)
    labels = []
    for j, k in shown:
        x0, y0 = _x(layer - 1) + RADIUS, _y(k, n_in, middle, row)
        x1, y1 = _x(layer) - RADIUS, _y(j, n_out, middle, row)
        element, name = weights[j, k], Var(WEIGHT, layer).element(j, k)
        text = f"{s.text(element)} = {s.label(pt.number(element))}"
        grad = (f"\u2202C/\u2202{s.text(element)} = {s.label(pt.result['grad'][name])}"
                if name in marks["grad"] else None)
        at = marks["grad"].get(name)
        candidates = []
        for t in sorted(ALONG, key=lambda t: abs(t - places[j, k])):
            lx, ly = x0 + t * (x1 - x0), y0 + t * (y1 - y0)
            for below in (15, -21) if grad else (15,):  # the gradient under the value, or over
                boxes = [(box(lx, ly - 4, text, "weight"), None)]
                if grad:
                    boxes.append((box(lx, ly + below, grad, "bwd small"), at))
                candidates.append((boxes, lx, ly, below))
        boxes, lx, ly, below = room.best(candidates)
        labels.append(_text("", "weight", None, lx, ly - 4, text, room))
        if grad:
            labels.append(_text(f"grad-{name}", "bwd small", at, lx, ly + below, grad, room,
                                only=True))
    return labels


def _loss(d, s, pt, marks, middle, starts, room: Room) -> list[str]:
    """The loss box with C above it and the loss after the step below (lower if that clears
    the output layer's labels), as little right of the output layer as those labels allow."""
    per_sample, after = pt.result["per_sample"][0], pt.result["step"]["loss"]
    base = _x(len(d.model.sizes) - 1, wide(d)) + 110
    candidates = []
    for x in range(int(base), int(base) + 400, 10):
        for below in (40, 66):
            texts = [("fwd-loss", "fwd", marks["loss"], middle - 26,
                      f"C = {s.label(per_sample)}")]
            if after is not None:
                texts.append(("new-loss", "new", marks["new"], middle + below,
                              f"{s.text(s.loss)} after: {s.label(after)}"))
            boxes = [((x - 22, middle - 18, x + 22, middle + 18), None)]
            boxes += [(box(x, y, text, cls), None) for _, cls, _, y, text in texts]
            candidates.append((boxes, x, texts))
    _, x, texts = room.best(candidates)
    out = [f'<g class="edge"><line x1="{x0:.1f}" y1="{y0:.1f}" x2="{x - 22:.1f}" '
           f'y2="{middle:.1f}" marker-end="url(#arrow)"/></g>' for x0, y0 in starts]
    out.append(f'<g class="loss" id="loss"><rect x="{x - 22}" y="{middle - 18:.1f}" width="44" '
               f'height="36" rx="4"/><text x="{x}" y="{middle + 5:.1f}">C</text></g>')
    room.add((x - 22, middle - 18, x + 22, middle + 18))
    out += [_text(ident, cls, step, x, y, text, room) for ident, cls, step, y, text in texts]
    return out


def _blocks(d, s, pt, marks, middle, room: Room) -> list[str]:
    sizes = d.model.sizes
    out: list[str] = []
    for layer in range(1, len(sizes)):
        x0, x1 = _x(layer - 1, True) + 60, _x(layer, True) - 60
        out.append(f'<g class="edge" id="{Var(WEIGHT, layer).name}"><line x1="{x0}" '
                   f'y1="{middle:.1f}" x2="{x1}" y2="{middle:.1f}" marker-end="url(#arrow)"/></g>')
        out.append(_text("", "weight", None, (x0 + x1) / 2, middle - 8,
                         f"{s.text(sympy.Symbol(Var(WEIGHT, layer).name))}: {sizes[layer]} \u00d7 "
                         f"{sizes[layer - 1]}", room))
    for layer, size in enumerate(sizes):
        x = _x(layer, True)
        name = neurons(layer).name
        what = "input" if layer == 0 else d.model.layers[layer - 1].activation.name
        out.append(f'<g class="block" id="l{layer}"><rect x="{x - 60}" y="{middle - 45:.1f}" '
                   f'width="120" height="90" rx="8"/><text x="{x}" y="{middle - 14:.1f}">'
                   f"{s.text(sympy.Symbol(name))}</text><text x=\"{x}\" y=\"{middle + 8:.1f}\">"
                   f"{size} units</text><text x=\"{x}\" y=\"{middle + 30:.1f}\">{what}</text>"
                   "</g>")
        room.add((x - 60, middle - 45, x + 60, middle + 45))
        base = d.base(name)
        values = ", ".join(s.label(pt.number(base[j])) for j in range(min(size, BLOCK_VALUES)))
        more = ", \u2026" if size > BLOCK_VALUES else ""
        out.append(_text(f"fwd-{layer}", "fwd", marks["forward"][(layer, None)], x,
                         middle - 55, f"({values}{more})", room))
        if (layer, None) in marks["delta"]:
            delta = d.variable(DELTA, layer)
            values = ", ".join(s.label(pt.number(delta[j]))
                               for j in range(min(size, BLOCK_VALUES)))
            out.append(_text(f"delta-{layer}", "bwd", marks["delta"][(layer, None)], x,
                             middle + 68, f"{s.text(sympy.Symbol(Var(DELTA, layer).name))} = "
                             f"({values}{more})", room))
    out += _loss(d, s, pt, marks, middle, [(_x(len(sizes) - 1, True) + 60, middle)], room)
    return out


def _text(id_: str, cls: str, step: int | None, x: float, y: float, text: str, room: Room,
          only: bool = False) -> str:
    """A label, shown from ``step`` on (always if None; at that step alone if ``only``); its box
    joins ``room``."""
    room.add(box(x, y, text, cls), step if only else None)
    ident = f' id="{id_}"' if id_ else ""
    shown = "" if step is None else f' data-{"at" if only else "from"}="{step}"'
    return (f'<text{ident} class="{cls}"{shown} x="{x:.1f}" y="{y:.1f}" '
            f'text-anchor="middle">{text}</text>')


def describe(d, s) -> str:
    """The text equivalent of the picture."""
    sizes = d.model.sizes
    layers = ", ".join(f"layer {n}: {size} {layer.activation.name} neurons"
                       for n, (size, layer) in enumerate(zip(sizes[1:], d.model.layers,
                                                             strict=True), start=1))
    partial = s.text(Partial(sympy.Symbol("C"), sympy.Symbol("w")))
    return (f"Network {d.model.name}: {sizes[0]} inputs; {layers}; every neuron of a layer "
            f"feeds every neuron of the next, and the output feeds the loss C.  Values "
            f"(forward), errors \u03b4 and gradients {partial} appear as the steps go.")
