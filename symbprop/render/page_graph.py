"""The steps of the HTML page for a graph model (seed 003): the point, the forward pass node by
node, the backward pass edge by edge (upstream × local = the gradient that arrives, and the sum
∂f/∂v once every edge out of v is done), the gradient, and one gradient-descent step.

Every number is the point's (``numbers.point``: ``Derivation.evaluate`` and the named values),
the same as in the PDF's worked example; the symbols are those of ``graph_doc``.
"""

from __future__ import annotations

import sympy

import symbprop.render.svg_graph as svg_graph
from symbprop.render.graph_notation import indirect_edges, local_symbol
from symbprop.render.graph_tikz import graph_edges, upstream
from symbprop.render.notation import Chain, Gradient, Partial, Terms, vector
from symbprop.render.page_common import after_step, chain_lines, descent_table, eq, join_names, step


def graph_page(d, s, pt) -> dict:
    """``{"steps", "svg", "svg_text"}`` of graph derivation ``d`` at point ``pt``."""
    f = d.program.output
    params = list(d.model.params)
    given = [*params, *d.model.constants]
    order = svg_graph.node_order(d)
    ids = {name: f"n{i}" for i, name in enumerate(order)}
    edges = graph_edges(d)
    marks: dict = {"forward": {}, "gradient": {}, "edge": {}}
    steps = [_point_step(s, pt, given, ids, d.model.constants)]
    marks["forward"] |= {p: 0 for p in given}
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


def _point_step(s, pt, params, ids, constants=()) -> dict:
    names = [sympy.Symbol(p) for p in params]
    values = [sympy.Float((pt.values.params | pt.values.constants)[p]) for p in params]
    lines = [eq(s.expr(n), s.expr(v)) for n, v in zip(names, values, strict=True)]
    held = (f"  {join_names([s.m(sympy.Symbol(c)) for c in constants])} "
            f"{'are constants' if len(constants) > 1 else 'is a constant'}: data, never "
            "differentiated nor moved by gradient descent." if constants else "")
    text = ("The variables at the point of the worked example; their values are written above "
            f"the boxes.{held}  Step forward (→) to evaluate the graph node by node.")
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
    f, top = d.program.output, d.top
    seed = _value(pt, d.seed) if d.seed != 1 else sympy.S.One
    if d.seed == 1:
        text = (f"The backward pass starts at the output with the seed {s.meq(Partial(f, f), 1)}: "
                "from here every gradient flows back along the edges.  The loss the forward "
                f"pass reached is {s.meq(f, _value(pt, f))}.")
    else:
        text = (f"The backward pass starts at the output with the seed "
                f"{s.meq(Partial(top, f), seed)}, the upstream gradient that the values give: "
                f"the derivative arriving at {s.m(f)} from a loss {s.m(top)} beyond the graph.  "
                f"From here every gradient flows back along the edges, and each is one of "
                f"{s.m(top)}.  The forward pass reached {s.meq(f, _value(pt, f))}.")
    return step("Backward pass", f"Seed at {s.text(f)}", text,
                [eq(s.expr(Partial(top, f)), s.expr(seed))], [ids[f.name]])


def _edge_step(d, s, pt, n, edges, indirect, done: bool, ids) -> dict:
    f = d.top
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
    f = d.top
    outs = [(t, local) for a, t, local in edges if a == source]
    total = (pt.result["grad"][source.name] if source.name in d.model.params
             else pt.number(upstream(d, source)))
    if len(outs) == 1:
        return [eq(s.expr(Partial(f, source)), s.expr(sympy.Float(total)))]
    terms = Terms(*(sympy.Float(pt.number(upstream(d, t)) * pt.number(local)) for t, local in outs))
    return chain_lines(s, Partial(f, source), terms, sympy.Float(total))


def _gradient_step(d, s, pt, params, ids) -> dict:
    f = d.top
    theta = vector("theta", len(params))
    names = [sympy.Symbol(p) for p in params]
    lines = chain_lines(s, Gradient(f, theta), sympy.Tuple(*(Partial(f, n) for n in names)),
                        sympy.Tuple(*(sympy.Float(pt.result["grad"][p]) for p in params)))
    unused = [n for n in names if not any(a == n for a, _, _ in graph_edges(d))]
    of = "the output" if d.seed == 1 else s.m(f)
    text = (f"The gradient: the derivative of {of} with respect to every variable, "
            "collected; the backward pass is complete.")
    if unused:
        text += (f"  {s.m(d.program.output)} does not depend on "
                 f"{join_names([s.m(u) for u in unused])}: no edge leaves it, so its gradient "
                 "is 0.")
    return step("Backward pass", "The gradient", text, lines, [ids[p] for p in params])


def _descent_step(d, s, pt, params, ids) -> dict:
    f = d.program.output
    result, new = pt.result, pt.result["step"]
    rows = [(sympy.Symbol(p), pt.values.params[p], result["grad"][p], new["params"][p])
            for p in params]
    after = after_step(s, f, result["loss"], new["loss"])
    if d.seed != 1 and new["loss"] is not None:  # L is known only through its slope ∂L/∂f
        g = pt.values.upstream
        delta = new["loss"] - result["loss"]
        change = g * delta
        after = (f"After the step {s.meq(f, new['loss'])} ({s.num(result['loss'])} before): to "
                 f"first order {s.m(d.top)} changes by {s.m(Partial(d.top, f))} times that, "
                 f"{s.meq(Chain(sympy.Float(g), sympy.Float(delta)), change)}"
                 f", {'a decrease' if change < 0 else 'no decrease'}.")
    held = (f"  The constants {join_names([s.m(sympy.Symbol(c)) for c in d.model.constants])} "
            "stay as they are." if d.model.constants else "")
    text = (f"One step of gradient descent, every variable moved against its gradient with "
            f"learning rate {s.meq(sympy.Symbol('eta'), new['lr'])}; the new values are "
            f"written left of the boxes.{held}  " + after)
    return step("Gradient descent", "One step of gradient descent", text, [],
                [ids[p] for p in params], table=descent_table(s, rows, d.top))
