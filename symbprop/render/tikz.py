"""TikZ pictures: the network (neurons and labelled weights, or layer blocks for wide layers) and
the computational graph of a graph model (one operation per node, forward values on the nodes,
backward "upstream × local" on the edges, as in seed 003).

Every label is printed by the document's ``Style`` (so it is ``SymbpropLatexPrinter`` math); this
module only places nodes and edges.  Output depends only on the model and the numbers, so it is
deterministic.
"""

from __future__ import annotations

import sympy

from ..rules import local_partial
from .notation import Chain, vector

#: Draw every neuron while no layer is wider than this; otherwise draw one block per layer.
MAX_NEURONS = 12
#: Label every weight of a layer when it has at most this many; else only those into neuron 0.
MAX_LABELLED = 16
WIDTH_CM = 14.0


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
                         rf"{_row(j, size, 1.7):.2f}) {{{label}}};")
    for layer in range(1, len(sizes)):
        weights = d.program.params[_weight_position(d, layer)]
        labelled = sizes[layer] * sizes[layer - 1] <= MAX_LABELLED
        for j in range(sizes[layer]):
            for k in range(sizes[layer - 1]):
                text = ""
                if labelled or j == 0:
                    text = rf"node[weight, pos=0.72] " \
                           rf"{{{style.m(weights[j, k])}}} "
                lines.append(rf"\draw[->] (n{layer - 1}_{k}) -- {text}(n{layer}_{j});")
    last = len(sizes) - 1
    lines.append(rf"\node[draw, rectangle, minimum size=8mm] (loss) at "
                 rf"({last * step + 2.2:.2f}, 0) {{{style.m(sympy.Symbol('C'))}}};")
    lines += [rf"\draw[->] (n{last}_{j}) -- (loss);" for j in range(sizes[last])]
    lines.append(r"\end{tikzpicture}")
    return "\n".join(lines)


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


# ---------------------------------------------------------------- computational graphs


def graph_columns(d) -> dict[str, int]:
    """Column of every variable: parameters in 0, a node one right of its rightmost input."""
    columns = {name: 0 for name in d.model.params}
    for eqn in d.program.eqns:
        inputs = [s.name for s in eqn.expr.free_symbols if s.name in columns]
        columns[eqn.out.name] = 1 + max((columns[i] for i in inputs), default=0)
    return columns


def graph_edges(d) -> list[tuple[sympy.Symbol, sympy.Symbol, sympy.Expr]]:
    """(input, node, local ∂node/∂input) for every edge, in evaluation order."""
    edges = []
    known = set(d.program.params) | {e.out for e in d.program.eqns}
    for eqn in d.program.eqns:
        for variable in sorted(eqn.expr.free_symbols & known, key=sympy.default_sort_key):
            edges.append((variable, eqn.out, local_partial(eqn.out, eqn.expr, variable)))
    return edges


def upstream(d, node: sympy.Symbol) -> sympy.Expr:
    """∂output/∂node by name: 1 for the output itself, else the node's adjoint symbol."""
    if node == d.program.output:
        return sympy.S.One
    return d.adjoints[node].symbol


def graph_picture(d, style, pt=None) -> str:
    """Nodes left to right by column; forward values above nodes, "upstream × local" on edges."""
    columns = graph_columns(d)
    rows: dict[int, list[str]] = {}
    order = list(d.model.params) + [e.out.name for e in d.program.eqns]
    for name in order:
        rows.setdefault(columns[name], []).append(name)
    step = min(4.6, WIDTH_CM / max(len(rows), 1))
    lines = [r"\begin{tikzpicture}[x=1cm, y=1cm, >=stealth,",
             r"  var/.style={draw, rounded corners, inner sep=3pt, fill=white},",
             r"  fwd/.style={font=\scriptsize, text=green!40!black},",
             r"  bwd/.style={font=\scriptsize, text=red!70!black, fill=white, inner sep=1pt}]"]
    ids = {name: f"v{i}" for i, name in enumerate(order)}  # TikZ names, whatever the variable
    for column, names in sorted(rows.items()):
        for i, name in enumerate(names):
            y = _row(i, len(names), 1.7)
            lines.append(_graph_node(d, style, name, ids[name], column * step, y, pt))
    for source, target, local in graph_edges(d):
        label = _edge_label(d, style, target, local, pt)
        lines.append(rf"\draw[->] ({ids[source.name]}) -- node[bwd, below, sloped] {{{label}}} "
                     rf"({ids[target.name]});")
    lines.append(r"\end{tikzpicture}")
    return "\n".join(lines)


def _graph_node(d, style, name: str, node_id: str, x: float, y: float, pt) -> str:
    symbol = sympy.Symbol(name)
    eqn = d.program.defining(symbol)
    label = style.m(symbol) if eqn is None else style.inline(
        f"{style.expr(symbol)} = {style.expr(eqn.expr)}")
    value = ""
    if pt is not None:
        value = rf" node[fwd, above=1pt] at ({node_id}.north) {{{style.num(pt.number(symbol))}}}"
    return rf"\node[var] ({node_id}) at ({x:.2f}, {y:.2f}) {{{label}}}{value};"


def _edge_label(d, style, target, local, pt) -> str:
    up = upstream(d, target)
    if pt is None:
        return style.m(Chain(up, local))
    up_value, local_value = pt.number(up), pt.number(local)
    product = Chain(sympy.Float(up_value), sympy.Float(local_value))
    return style.meq(product, up_value * local_value)
