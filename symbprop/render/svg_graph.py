"""The computational graph of a graph model as inline SVG for the HTML page (seed 003): one box
per variable and per operation, an arrow per edge; the forward value appears above a node, the
gradient ∂f/∂v below it, and on every edge the backward product "upstream · local = value".

Layout as in the PDF's picture (``graph_tikz.graph_columns``): variables in column 0, a node one
column right of its rightmost input; within a column the nodes are ordered by the mean row of
their inputs.  Widths are estimated from the length of the labels (a monospace-free estimate,
``CHAR_PX`` per character), so the output depends only on the model and the numbers.

``picture(d, s, pt, marks)`` takes ``marks``: ``{"forward": {name: step}, "gradient": {name: step},
"edge": {edge index: step}, "new": step}``, the step from which each label is shown.  An edge's
label slides along its edge, within the gap after its source's column, to the place nearest the
middle where it overlaps no other label (``svg_place``).
"""

from __future__ import annotations

import html

import sympy

from symbprop.render.graph_tikz import (
    data_edges,
    graph_columns,
    graph_edges,
    inputs_order,
    upstream,
)
from symbprop.render.svg_place import Room, box
from symbprop.spec.variables import adjoint_name

CHAR_PX = 8.6
#: Where in the gap after its source's column an edge's label may go (0.5: the middle).
ALONG = sorted((n / 20 for n in range(4, 17)), key=lambda f: (abs(f - 0.5), f))
#: Width of a character of an edge's label (bold, and larger at its own step).
LABEL_CHAR_PX = 10.0
ROW_PX = 112
GAP_PX = 150
MARGIN_PX = 24
BOX_H = 34


def node_order(d) -> list[str]:
    """Variables, constants, then nodes in evaluation order (the ids ``n0``, ``n1``, ...
    follow it)."""
    return inputs_order(d) + [e.out.name for e in d.program.eqns]


def picture(d, s, pt, marks: dict) -> tuple[str, str]:
    """(SVG markup, its text equivalent)."""
    order = node_order(d)
    columns = graph_columns(d)
    edges = graph_edges(d)
    data = [(c, t, None) for c, t in data_edges(d)]  # from constants: no gradient flows back
    labels = {name: _node_label(d, s, name) for name in order}
    rows = _rows(order, columns, edges + data)
    widths = {name: max(44.0, CHAR_PX * len(html.unescape(labels[name])) + 22) for name in order}
    count = max(columns.values()) + 1
    col_w = [max(widths[n] for n in order if columns[n] == c) for c in range(count)]
    texts = [_edge_text(d, s, pt, target, local) for _, target, local in edges]
    gaps = [GAP_PX] * count  # wide enough for the labels of the edges leaving a column
    for (source, _, _), text in zip(edges, texts, strict=True):
        column = columns[source.name]
        gaps[column] = max(gaps[column], LABEL_CHAR_PX * len(text) + 30)
    xs, x = [], MARGIN_PX + 70  # room for the new values, left of the variables
    for c in range(count):
        xs.append(x + col_w[c] / 2)
        x += col_w[c] + gaps[c]
    height_rows = max(rows.values()) + 1
    width = x - gaps[-1] + MARGIN_PX + 40
    height = height_rows * ROW_PX + 2 * MARGIN_PX + 30
    pos = {n: (xs[columns[n]], MARGIN_PX + 40 + rows[n] * ROW_PX) for n in order}
    ids = {name: f"n{i}" for i, name in enumerate(order)}
    room = Room()
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width:.0f} {height:.0f}" '
           f'width="{width:.0f}" height="{height:.0f}" role="img" '
           'aria-labelledby="picture-title picture-desc">',
           '<title id="picture-title">The computational graph</title>', "{DESC}",
           '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="11" '
           'markerHeight="11" markerUnits="userSpaceOnUse" orient="auto-start-reverse">'
           '<path d="M0,0 L10,5 L0,10 z"/></marker></defs>']
    for n, (source, target, _) in enumerate(edges + data):
        (x0, y0), (x1, y1) = pos[source.name], pos[target.name]
        x0 += widths[source.name] / 2
        x1 -= widths[target.name] / 2
        id_ = f"e{n}" if n < len(edges) else f"c{n - len(edges)}"
        out.append(f'<g class="edge" id="{id_}"><line x1="{x0:.1f}" y1="{y0:.1f}" '
                   f'x2="{x1:.1f}" y2="{y1:.1f}" marker-end="url(#arrow)"/></g>')
    for name in order:
        cx, cy = pos[name]
        w = widths[name]
        kind = "var" if columns[name] == 0 else "op"
        out.append(f'<g class="node {kind}" id="{ids[name]}"><rect x="{cx - w / 2:.1f}" '
                   f'y="{cy - BOX_H / 2:.1f}" width="{w:.1f}" height="{BOX_H}" rx="8"/>'
                   f'<text x="{cx:.1f}" y="{cy + 5:.1f}">{labels[name]}</text></g>')
        room.add((cx - w / 2, cy - BOX_H / 2, cx + w / 2, cy + BOX_H / 2))
    for name in order:
        cx, cy = pos[name]
        symbol = sympy.Symbol(name)
        value = s.label(pt.number(symbol))
        out.append(_text(f"fwd-{name}", "fwd", marks["forward"][name], cx, cy - BOX_H / 2 - 8,
                         value, room))
        if name in marks["gradient"]:
            grad = s.label(_gradient(d, pt, name))
            top = s.text(d.top)
            partial = s.text(sympy.Symbol(adjoint_name(d.top.name, name))) if name != \
                d.model.output else f"\u2202{top}/\u2202{s.text(symbol)}"
            out.append(_text(f"grad-{name}", "bwd", marks["gradient"][name], cx,
                             cy + BOX_H / 2 + 20, f"{partial} = {grad}", room))
        if name in d.model.params:
            new = s.label(pt.result["step"]["params"][name])
            out.append(_text(f"new-{name}", "new", marks["new"], cx - widths[name] / 2 - 6, cy + 5,
                             f"{new} \u2190", room, anchor="end"))
    for n, (source, target, _) in enumerate(edges):
        candidates = [([(box(mx, my, texts[n], "bwd"), None)], mx, my) for mx, my in
                      (_label_place(pos, widths, xs, col_w, columns, source.name, target.name, f)
                       for f in ALONG)]
        _, mx, my = room.best(candidates)
        out.append(_text(f"edge-{n}", "bwd edge-label", marks["edge"][n], mx, my, texts[n],
                         room))
    out.append("</svg>")
    desc = describe(d, s, edges + data)
    svg = "\n".join(out).replace("{DESC}", f'<desc id="picture-desc">{desc}</desc>')
    return svg, desc


def _edge_text(d, s, pt, target, local) -> str:
    """The backward product of an edge: upstream · local = value."""
    up, lo = pt.number(upstream(d, target)), pt.number(local)
    return f"{s.factor(up)} \u00b7 {s.factor(lo)} = {s.label(up * lo)}"


def _label_place(pos, widths, xs, col_w, columns, source: str, target: str,
                 along: float = 0.5):
    """Where an edge's label goes: ``along`` the gap after the source's column (0.5: its
    middle), on the edge (a long edge keeps its label clear of the nodes it passes), a little
    above it."""
    (x0, y0), (x1, y1) = pos[source], pos[target]
    x0 += widths[source] / 2
    x1 -= widths[target] / 2
    column = columns[source]
    gap_end = xs[column + 1] - col_w[column + 1] / 2 if columns[target] > column + 1 else x1
    mx = x0 + along * (gap_end - x0)
    t = (mx - x0) / (x1 - x0) if x1 != x0 else 0.5
    return mx, y0 + t * (y1 - y0) - 7


def _gradient(d, pt, name: str) -> float:
    if name == d.model.output:
        return pt.number(d.seed)
    if name in d.model.params:
        return pt.result["grad"][name]
    return pt.number(upstream(d, sympy.Symbol(name)))


def _text(id_: str, cls: str, step: int, x: float, y: float, text: str, room: Room,
          anchor: str = "middle") -> str:
    """A label shown from ``step`` on; its box joins ``room``."""
    room.add(box(x, y, text, cls, anchor))
    return (f'<text id="{id_}" class="{cls}" data-from="{step}" x="{x:.1f}" y="{y:.1f}" '
            f'text-anchor="{anchor}">{text}</text>')


def _node_label(d, s, name: str) -> str:
    symbol = sympy.Symbol(name)
    eqn = d.program.defining(symbol)
    return s.text(symbol) if eqn is None else f"{s.text(symbol)} = {s.text(eqn.expr)}"


def _rows(order, columns, edges) -> dict[str, float]:
    """Row of every node: a column's nodes ordered by the mean row of their inputs, centred
    on the tallest column."""
    inputs: dict = {name: [] for name in order}
    for source, target, _ in edges:
        inputs[target.name].append(source.name)
    by_column: dict[int, list[str]] = {}
    for name in order:
        by_column.setdefault(columns[name], []).append(name)
    tallest = max(len(v) for v in by_column.values())
    rows: dict[str, float] = {}
    for column in sorted(by_column):
        names = by_column[column]
        if column:
            names = sorted(names, key=lambda n: sum(rows[i] for i in inputs[n])
                           / max(1, len(inputs[n])))
        offset = (tallest - len(names)) / 2
        rows |= {name: offset + i for i, name in enumerate(names)}
    return rows


def describe(d, s, edges) -> str:
    """The text equivalent of the picture."""
    parts = [f"{s.text(e.out)} = {s.text(e.expr)}" for e in d.program.eqns]
    links = [f"{s.text(a)} \u2192 {s.text(b)}" for a, b, _ in edges]
    given = (f" with the constants {', '.join(html.escape(c) for c in d.model.constants)}"
             if d.model.constants else "")
    return (f"Computational graph of {', '.join(html.escape(p) for p in d.model.params)}{given}: "
            f"{'; '.join(parts)}. Edges: {', '.join(links)}.")
