"""The steps of the HTML page for a graph model (seed 003): the point, the forward pass node by
node, the backward pass edge by edge (upstream × local = the gradient that arrives, and the sum
∂f/∂v once every edge out of v is done), the gradient, and one gradient-descent step.

Every number is the point's (``numbers.point``: ``Derivation.evaluate`` and the named values),
the same as in the PDF's worked example; the symbols are those of ``graph_doc``.
"""

from __future__ import annotations

import sympy

from . import svg_graph
from .graph_notation import indirect_edges, local_symbol
from .graph_tikz import graph_edges, upstream
from .notation import Chain, Gradient, Partial, Terms, vector
from .page_common import after_step, chain_lines, descent_table, eq, join_names, step


def graph_page(d, s, pt) -> dict:
    """``{"steps", "svg", "svg_text"}`` of graph derivation ``d`` at point ``pt``."""
    f = d.program.output
    params = list(d.model.params)
    order = svg_graph.node_order(d)
    ids = {name: f"n{i}" for i, name in enumerate(order)}
    edges = graph_edges(d)
    marks: dict = {"forward": {}, "gradient": {}, "edge": {}}
    steps = [_point_step(s, pt, params, ids)]
    marks["forward"] |= {p: 0 for p in params}
    for eqn in d.program.eqns:
        marks["forward"][eqn.out.name] = len(steps)
        steps.append(_forward_step(d, s, pt, eqn, ids, edges))
    marks["gradient"][f.name] = len(steps)
    steps.append(_seed_step(d, s, pt, ids))
    remaining = {}
    for source, _, _ in edges:
        remaining[source] = remaining.get(source, 0) + 1
    indirect = indirect_edges(d)
    for n in reversed(range(len(edges))):
        source, target, local = edges[n]
        remaining[source] -= 1
        marks["edge"][n] = len(steps)
        if remaining[source] == 0:
            marks["gradient"][source.name] = len(steps)
        steps.append(_edge_step(d, s, pt, n, edges, indirect, remaining[source] == 0, ids))
    gradient_step = len(steps)
    for p in params:
        marks["gradient"].setdefault(p, gradient_step)
    steps.append(_gradient_step(d, s, pt, params, ids))
    marks["new"] = len(steps)
    steps.append(_descent_step(d, s, pt, params, ids))
    svg, text = svg_graph.picture(d, s, pt, marks)
    return {"steps": steps, "svg": svg, "svg_text": text}


def _value(pt, symbol) -> sympy.Float:
    return sympy.Float(pt.number(symbol))


def _point_step(s, pt, params, ids) -> dict:
    names = [sympy.Symbol(p) for p in params]
    values = [sympy.Float(pt.values.params[p]) for p in params]
    lines = [eq(s.expr(n), s.expr(v)) for n, v in zip(names, values, strict=True)]
    text = ("The variables at the point of the worked example; their values are written above "
            "the boxes.  Step forward (→) to evaluate the graph node by node.")
    return step("The point", "The inputs", text, lines, [ids[p] for p in params])


def _forward_step(d, s, pt, eqn, ids, edges) -> dict:
    node = eqn.out
    inputs = [a for a, b, _ in edges if b == node]
    given = join_names([s.meq(i, _value(pt, i)) for i in inputs]) if inputs else "no inputs"
    text = (f"Node {s.m(node)} applies its operation to values already known, {given}; its "
            "value is written above the box.")
    focus = [ids[node.name]] + [f"e{n}" for n, (_, b, _) in enumerate(edges) if b == node]
    return step("Forward pass", f"Node {s.text(node)}", text,
                chain_lines(s, node, eqn.expr, _value(pt, node)), focus)


def _seed_step(d, s, pt, ids) -> dict:
    f = d.program.output
    text = (f"The backward pass starts at the output with the seed {s.meq(Partial(f, f), 1)}: "
            "from here every gradient flows back along the edges.  The loss the forward pass "
            f"reached is {s.meq(f, _value(pt, f))}.")
    g = pt.values.upstream
    if g is not None:
        text += (f"  (The values give an upstream gradient {s.num(g)} from a loss beyond the "
                 f"graph; its gradients are {s.num(g)} times the ones of {s.m(f)} shown here.)")
    return step("Backward pass", f"Seed at {s.text(f)}", text,
                [eq(s.expr(Partial(f, f)), s.expr(sympy.S.One))], [ids[f.name]])


def _edge_step(d, s, pt, n, edges, indirect, done: bool, ids) -> dict:
    f = d.program.output
    source, target, local = edges[n]
    up = upstream(d, target)
    up_symbol = Partial(f, target)
    local_name = local_symbol(d, target, source, indirect)
    up_value, local_value = _value(pt, up), _value(pt, local)
    lhs = Chain(up_symbol, local_name)
    forms = [Chain(up_symbol, local) if target != f else Chain(sympy.S.One, local),
             Chain(up_value, local_value), sympy.Float(pt.number(up) * pt.number(local))]
    lines = chain_lines(s, lhs, *forms)
    text = (f"Edge {s.m(source)} → {s.m(target)}: the gradient from upstream, "
            f"{s.meq(up_symbol, up_value)}, times the local derivative of the edge, "
            f"{s.meq(local_name, local)}, is the gradient that arrives at {s.m(source)} along "
            "this edge (written on the edge).")
    focus = [f"e{n}", ids[target.name]]
    if done:
        lines += _sum_lines(d, s, pt, source, edges)
        focus.append(ids[source.name])
        text += (f"  Every edge out of {s.m(source)} is done, so {s.m(Partial(f, source))} is "
                 "complete (written below the box).")
    return step("Backward pass", f"Edge {s.text(source)} \u2192 {s.text(target)}", text,
                lines, focus)


def _sum_lines(d, s, pt, source, edges) -> list[dict]:
    """∂f/∂v as the sum over the edges out of v (when there are several) and its value."""
    f = d.program.output
    outs = [(t, local) for a, t, local in edges if a == source]
    total = (pt.result["grad"][source.name] if source.name in d.model.params
             else pt.number(upstream(d, source)))
    if len(outs) == 1:
        return [eq(s.expr(Partial(f, source)), s.expr(sympy.Float(total)))]
    terms = Terms(*(sympy.Float(pt.number(upstream(d, t)) * pt.number(local)) for t, local in outs))
    return chain_lines(s, Partial(f, source), terms, sympy.Float(total))


def _gradient_step(d, s, pt, params, ids) -> dict:
    f = d.program.output
    theta = vector("theta", len(params))
    names = [sympy.Symbol(p) for p in params]
    lines = chain_lines(s, Gradient(f, theta), sympy.Tuple(*(Partial(f, n) for n in names)),
                        sympy.Tuple(*(sympy.Float(pt.result["grad"][p]) for p in params)))
    unused = [n for n in names if not any(a == n for a, _, _ in graph_edges(d))]
    text = ("The gradient: the derivative of the output with respect to every variable, "
            "collected; the backward pass is complete.")
    if unused:
        text += (f"  {s.m(f)} does not depend on {join_names([s.m(u) for u in unused])}: no "
                 "edge leaves it, so its gradient is 0.")
    return step("Backward pass", "The gradient", text, lines, [ids[p] for p in params])


def _descent_step(d, s, pt, params, ids) -> dict:
    f = d.program.output
    result, new = pt.result, pt.result["step"]
    rows = [(sympy.Symbol(p), pt.values.params[p], result["grad"][p], new["params"][p])
            for p in params]
    text = (f"One step of gradient descent, every variable moved against its gradient with "
            f"learning rate {s.meq(sympy.Symbol('eta'), new['lr'])}; the new values are "
            "written left of the boxes.  " + after_step(s, f, result["loss"], new["loss"]))
    return step("Gradient descent", "One step of gradient descent", text, [],
                [ids[p] for p in params], table=descent_table(s, rows, f))
