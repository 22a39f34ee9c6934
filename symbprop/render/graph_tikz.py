"""The computational graph of a graph model as a TikZ picture (seed 003): one operation per node,
forward values above the nodes, and on every edge the backward product "upstream × local".

Layout, deterministic and layered: the variables in column 0, every node one column right of its
rightmost input (``graph_columns``); within a column the nodes are ordered by the mean position
of their inputs (fewer crossings), and centred.  An edge that skips columns is drawn straight if
no node is in its way, else it bends through a free slot of every column it passes.  The gap
between two columns is wide enough for the nodes and the labels of the edges between them (widths
from ``measure.latex_width``).  When the full labels "upstream · local = value" would make the
picture wider than the page, every edge carries only its value ("compact" labels; the edge table
of the backward pass has the factors).
"""

from __future__ import annotations

import sympy

from symbprop.render.blocks import figure
from symbprop.render.measure import latex_width
from symbprop.render.notation import Chain
from symbprop.render.tikz import ROW_CM, WIDTH_CM
from symbprop.symbolic.rules import local_partial

#: The columns are spread over ``WIDTH_CM`` and rows are ``ROW_CM`` apart, as in the network
#: pictures (``tikz``); the text is 16.6 cm wide, and a wider picture is scaled down to it.  Full
#: edge labels are kept while the picture is at most ``MAX_WIDTH_CM`` wide (scaled to no less
#: than 80%).
MAX_WIDTH_CM = 20.5
#: A straight edge passes a node at least this far (cm) above or below its centre.
CLEARANCE_CM = 0.75
PT_PER_CM = 28.45
SCRIPTSIZE = 8 / 11


def inputs_order(d) -> list[str]:
    """The parameters and constants in the order the nodes first use them (ties by name), then
    any unused; without constants, the parameters as declared."""
    if not d.model.constants:
        return list(d.model.params)
    given = {*d.model.params, *d.model.constants}
    order: list[str] = []
    for eqn in d.program.eqns:
        order += [v.name for v in sorted(eqn.expr.free_symbols, key=sympy.default_sort_key)
                  if v.name in given and v.name not in order]
    return order + [n for n in (*d.model.params, *d.model.constants) if n not in order]


def graph_columns(d) -> dict[str, int]:
    """Column of every variable: parameters and constants in 0, a node one right of its
    rightmost input."""
    columns = {name: 0 for name in inputs_order(d)}
    for eqn in d.program.eqns:
        inputs = [s.name for s in eqn.expr.free_symbols if s.name in columns]
        columns[eqn.out.name] = 1 + max((columns[i] for i in inputs), default=0)
    return columns


def graph_edges(d) -> list[tuple[sympy.Symbol, sympy.Symbol, sympy.Expr]]:
    """(input, node, local ∂node/∂input) for every edge, in evaluation order (formed once per
    derivation: the document asks for them once per node)."""
    if "_graph_edges" not in d.__dict__:
        d.__dict__["_graph_edges"] = _graph_edges(d)
    return list(d.__dict__["_graph_edges"])


def _graph_edges(d) -> list:
    edges = []
    known = set(d.program.params) | {e.out for e in d.program.eqns}
    for eqn in d.program.eqns:
        for variable in sorted(eqn.expr.free_symbols & known, key=sympy.default_sort_key):
            edges.append((variable, eqn.out, local_partial(eqn.out, eqn.expr, variable)))
    return edges


def upstream(d, node: sympy.Symbol) -> sympy.Expr:
    """∂f/∂node (or ∂L/∂node, seeded) by name: the seed (1, or the symbol ∂L/∂f) for the output
    itself, else the node's adjoint symbol."""
    if node == d.program.output:
        return d.seed
    return d.adjoints[node].symbol


def graph_figure(d, style, pt=None) -> dict:
    """The figure block: the picture and a caption that says what the edges carry."""
    tikz, compact = graph_picture(d, style, pt)
    if pt is None:
        edges = ("each edge carries its local derivative" if compact else
                 "each edge carries upstream times local")
        return figure(tikz, f"The computational graph; {edges}.")
    edges = ("on each edge the value of the backward product upstream times local (its "
             "factors are in the edge table of the backward pass)" if compact else
             "on each edge the backward product upstream times local")
    seed = (f", below the output the seed {style.m(d.seed)} from the values" if d.seed != 1
            else "")
    return figure(tikz, f"The computational graph: forward values above the nodes{seed}, and "
                        f"{edges}.")


def data_edges(d) -> list[tuple[sympy.Symbol, sympy.Symbol]]:
    """(constant, node) for every edge from a constant, in evaluation order: drawn, but no
    gradient flows back along them (constants are data)."""
    constants = {sympy.Symbol(c) for c in d.model.constants}
    return [(c, eqn.out) for eqn in d.program.eqns
            for c in sorted(eqn.expr.free_symbols & constants, key=sympy.default_sort_key)]


def graph_picture(d, style, pt=None) -> tuple[str, bool]:
    """(TikZ source, whether the labels are compact) of the graph of ``d``."""
    order = inputs_order(d) + [e.out.name for e in d.program.eqns]
    columns = graph_columns(d)
    edges = [(s.name, t.name, local) for s, t, local in graph_edges(d)]
    edges += [(c.name, t.name, None) for c, t in data_edges(d)]  # no gradient flows back
    nodes = {name: _node_label(d, style, name) for name in order}
    half = {name: (latex_width(label.strip("$")) + 6) / PT_PER_CM / 2
            for name, label in nodes.items()}
    bends, ys = _rows(order, columns, edges)
    for compact in (False, True):
        labels = [_edge_label(d, style, t, local, pt, compact) for _, t, local in edges]
        xs = _column_x(columns, edges, bends, half, labels)
        if picture_width(xs, columns, half) <= MAX_WIDTH_CM:
            break
    ids = {name: f"v{i}" for i, name in enumerate(order)}  # TikZ names, whatever the variable
    lines = [r"\begin{tikzpicture}[x=1cm, y=1cm, >=stealth,",
             r"  var/.style={draw, rounded corners, inner sep=3pt, fill=white},",
             r"  fwd/.style={font=\scriptsize, text=green!40!black},",
             r"  bwd/.style={font=\scriptsize, text=red!70!black, fill=white, inner sep=1pt}]"]
    for name in order:
        value = ""
        if pt is not None:
            value = (rf" node[fwd, above=1pt] at ({ids[name]}.north) "
                     rf"{{{style.num(pt.number(sympy.Symbol(name)))}}}")
        lines.append(rf"\node[var] ({ids[name]}) at ({xs[columns[name]]:.2f}, {ys[name]:.2f}) "
                     rf"{{{nodes[name]}}}{value};")
    if d.seed != 1:  # the upstream gradient that seeds the backward pass, under the output
        f = d.program.output.name
        seed = (style.m(d.seed) if pt is None else
                style.meq(d.seed, sympy.Float(pt.number(d.seed))))
        lines.append(rf"\node[bwd, below=2pt] at ({ids[f]}.south) {{{seed}}};")
    for n, (source, target, _) in enumerate(edges):
        via = "".join(f"({xs[c]:.2f}, {ys[(n, c)]:.2f}) -- " for c in bends.get(n, []))
        style_ = "->, rounded corners=6pt" if via else "->"
        side = _side(n, edges, bends, ys)
        lines.append(rf"\draw[{style_}] ({ids[source]}) -- {via}node[bwd, {side}=1pt, sloped] "
                     rf"{{{labels[n]}}} ({ids[target]});")
    lines.append(r"\end{tikzpicture}")
    return "\n".join(lines), compact


def picture_width(xs: dict, columns: dict, half: dict) -> float:
    """The width (cm) of the nodes placed in columns at ``xs``, from left edge to right edge."""
    return max(xs[columns[n]] + half[n] for n in half) - min(xs[columns[n]] - half[n]
                                                             for n in half)


def _rows(order, columns, edges) -> tuple[dict, dict]:
    """(edge index -> columns it bends through, item -> y).  Items are node names and, for a
    bent edge, ``(edge index, column)`` slots; a column's items are centred, ``ROW_CM`` apart."""
    bends: dict[int, list[int]] = {}
    while True:
        slots = _order(order, columns, edges, bends)
        ys = {item: ((len(items) - 1) / 2 - i) * ROW_CM
              for items in slots.values() for i, item in enumerate(items)}
        blocked = [n for n, (s, t, _) in enumerate(edges) if n not in bends
                   and _blocked(s, t, columns, slots, ys)]
        if not blocked:  # an edge whose way has cleared keeps its slots but goes straight
            return {n: cs for n, cs in bends.items()
                    if _blocked(edges[n][0], edges[n][1], columns, slots, ys)}, ys
        for n in blocked:
            source, target, _ = edges[n]
            bends[n] = list(range(columns[source] + 1, columns[target]))


def _order(order, columns, edges, bends) -> dict[int, list]:
    """Items per column, each column sorted by the mean position of its items' inputs."""
    inputs: dict = {name: [] for name in order}
    members: dict[int, list] = {}
    for name in order:
        members.setdefault(columns[name], []).append(name)
    for n, (source, target, _) in enumerate(edges):
        previous = source
        for c in bends.get(n, []):
            members[c].append((n, c))
            inputs[(n, c)] = [previous]
            previous = (n, c)
        inputs[target].append(previous)
    position: dict = {}
    slots = {}
    for column in sorted(members):
        items = members[column]
        if column:
            rank = {item: sum(position[i] for i in inputs[item]) / len(inputs[item])
                    if inputs[item] else 0.0 for item in items}
            items = sorted(items, key=lambda item: rank[item])  # stable: ties keep their order
        slots[column] = items
        position |= {item: i - (len(items) - 1) / 2 for i, item in enumerate(items)}
    return slots


def _side(n: int, edges, bends, ys) -> str:
    """``above`` for an edge that runs higher than every other edge at its two ends (its label
    then faces away from them), ``below`` for every other edge."""
    source, target, _ = edges[n]

    def middle(m: int) -> float:
        start = ys[(m, bends[m][-1])] if m in bends else ys[edges[m][0]]
        return (start + ys[edges[m][1]]) / 2

    siblings = [middle(m) for m, (s, t, _) in enumerate(edges)
                if m != n and (s == source or t == target)]
    return "above" if siblings and middle(n) > max(siblings) else "below"


def _blocked(source, target, columns, slots, ys) -> bool:
    """Whether the straight edge source -> target passes too close to a node between them."""
    first, last = columns[source], columns[target]
    for c in range(first + 1, last):
        y = ys[source] + (ys[target] - ys[source]) * (c - first) / (last - first)
        if any(abs(ys[item] - y) < CLEARANCE_CM for item in slots[c] if isinstance(item, str)):
            return True
    return False


def _column_x(columns, edges, bends, half, labels) -> dict[int, float]:
    """x of every column: gaps of at least min(4.6, WIDTH_CM / columns) cm, wider where the
    nodes and the edge labels between two columns need it."""
    count = max(columns.values()) + 1
    base = min(4.6, WIDTH_CM / count)
    widest = {c: max(h for n, h in half.items() if columns[n] == c) for c in range(count)}
    need = {c: base for c in range(count - 1)}
    for n, (source, target, _) in enumerate(edges):
        gap = bends[n][-1] if n in bends else columns[source]
        if n in bends or columns[target] - columns[source] == 1:
            label = latex_width(labels[n].strip("$")) * SCRIPTSIZE / PT_PER_CM
            need[gap] = max(need[gap], widest[gap] + label + widest[gap + 1] + 0.8)
    xs, x = {}, 0.0
    for c in range(count):
        xs[c] = x
        x += need.get(c, 0.0)
    return xs


def _node_label(d, style, name: str) -> str:
    symbol = sympy.Symbol(name)
    eqn = d.program.defining(symbol)
    if eqn is None:
        return style.m(symbol)
    return style.inline(f"{style.expr(symbol)} = {style.expr(eqn.expr)}")


def _edge_label(d, style, target, local, pt, compact: bool) -> str:
    if local is None:  # from a constant: data, not differentiated
        return ""
    up = upstream(d, sympy.Symbol(target))
    if pt is None:
        return style.m(local if compact else Chain(up, local))
    up_value, local_value = pt.number(up), pt.number(local)
    if compact:
        return style.num(up_value * local_value)
    product = Chain(sympy.Float(up_value), sympy.Float(local_value))
    return style.meq(product, up_value * local_value)
