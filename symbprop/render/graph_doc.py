"""The graph half of the document (seed 003): the computational graph with one operation per
node, the forward pass, local derivatives per edge, the backward pass as "upstream × local" on
every edge, and, at a point, gradient descent on the function with the learning-rate discussion.
"""

from __future__ import annotations

import sympy

import symbprop.render.graph_tikz as tikz
import symbprop.render.numbers as numbers
from symbprop.render.blocks import math, para, section, table
from symbprop.render.graph_notation import free_letter, indirect_edges, local_symbol
from symbprop.render.notation import Chain, Gradient, Partial, Terms, vector


def graph_overview(d, s, pt, draw: bool) -> dict:
    f = d.program.output
    shown = (s.meq(f, d.compose(d.definition(f))) if numbers.fd_available(d) else
             f"{s.m(f)} (too long to write out as one formula)")
    constants = d.model.constants
    given = (f", with the constant{'s' * (len(constants) > 1)} "
             f"{', '.join(s.m(sympy.Symbol(c)) for c in constants)} (data: given with the values, "
             "never differentiated nor trained)" if constants else "")
    blocks = [para(
        f"The function {shown} of "
        f"{', '.join(s.m(sympy.Symbol(p)) for p in d.model.params)}{given}, staged so that each "
        "node of the graph does one operation:")]
    header = ["node", "operation", "inputs"] + (["value"] if pt is not None else [])
    rows = []
    for eqn in d.program.eqns:
        inputs = sorted(eqn.expr.free_symbols, key=sympy.default_sort_key)
        row = [s.m(eqn.out), s.m(eqn.expr), ", ".join(s.m(i) for i in inputs)]
        if pt is not None:
            row.append(s.num(pt.number(eqn.out)))
        rows.append(row)
    blocks.append(table(header, rows, "llll"[: len(header)]))
    if draw:
        blocks.append(tikz.graph_figure(d, s, pt))
    return section("The computational graph", blocks)


def graph_forward(d, s, pt) -> dict:
    lines = []
    for eqn in d.program.eqns:
        lines.append((s.expr(eqn.out), "=", s.expr(eqn.expr)))
        if pt is not None:
            lines.append(("", "=", s.expr(sympy.Float(pt.number(eqn.out)))))
    return section("The forward pass", [para(
        "The forward pass evaluates the nodes in order, each from values already known:"),
        math(lines)])


def graph_local(d, s) -> dict:
    """∂t/∂v = local for every edge v -> t, and where a local derivative could be read as the
    whole one (``graph_notation``), one sentence on how it is written."""
    indirect = indirect_edges(d)
    lines = [(s.expr(local_symbol(d, target, source, indirect)), "=", s.expr(local))
             for source, target, local in tikz.graph_edges(d)]
    blocks = [para("Each node only needs the derivative of its own operation with respect to "
                   "each of its inputs, one per edge of the graph:"), math(lines)]
    if indirect:
        blocks.append(para(_indirect_note(d, s, indirect)))
    return section("Local derivatives", blocks)


def _indirect_note(d, s, indirect) -> str:
    """The sentence that tells the local derivative from the whole one, on the first edge
    whose input also reaches its node through other nodes (one into the output if any)."""
    f, top = d.program.output, d.top
    v, t, via = next((e for e in indirect if e[1] == f), indirect[0])
    through = " and ".join(s.m(c) for c in via)
    return (f"Where a variable also reaches a node through other nodes ({s.m(v)} reaches "
            f"{s.m(t)} directly and through {through}), its local derivative is written with "
            f"the operation of the node, {s.m(local_symbol(d, t, v, indirect))}: in this "
            f"document {s.m(Partial(top, v))} always means the whole derivative of {s.m(top)}, "
            "summed over every path (the upstream gradient of the backward pass).")


def graph_backward(d, s, pt) -> dict:
    """The reverse sweep written out: the seed ∂f/∂f = 1 (or the values' upstream ∂L/∂f) once,
    then for every variable from the end backwards the sum over its outgoing edges of upstream
    times local (an edge into the output contributes its local derivative alone when the seed
    is 1), the edge table and the gradient.  A variable the output does not depend on gets
    ∂f/∂v = 0 and says so."""
    f, top = d.program.output, d.top
    edges = tikz.graph_edges(d)
    v = free_letter(d)
    blocks = [para(
        f"Compute {s.m(Partial(top, v))} for every variable {s.m(v)} from the end "
        "backwards, starting from the seed:"), _seed_lines(d, s, pt), _seed_note(d, s),
        para("Along each edge the derivative arriving from upstream is multiplied by the local "
             "derivative of the edge; where a variable feeds several nodes, the products of its "
             f"edges are added.  A variable that feeds {s.m(f)} directly gets the local "
             f"derivative of the operation of {s.m(f)} "
             + (f"times the seed {s.m(d.seed)}:" if d.seed != 1 else "(times the seed 1):"))]
    variables = [e.out for e in reversed(d.program.eqns) if e.out != f]
    variables += [sympy.Symbol(p) for p in d.model.params]
    for variable in variables:
        lines = _adjoint_lines(d, s, variable, edges, pt)
        if lines is None:
            blocks += [para(f"{s.m(f)} does not depend on {s.m(variable)} (no edge leaves "
                            f"{s.m(variable)}), so:"),
                       math([(s.expr(Partial(top, variable)), "=", s.expr(sympy.S.Zero))])]
        else:
            blocks.append(math(lines))
    header = ["edge", "upstream", "local", "upstream times local"]
    rows = []
    for source, target, local in edges:
        up = tikz.upstream(d, target)
        cells = [up, local, Chain(up, local)] if pt is None else [
            sympy.Float(pt.number(e)) for e in (up, local, up * local)]
        rows.append([s.inline(f"{s.expr(source)} \\to {s.expr(target)}" if s.latex
                              else f"{s.expr(source)} → {s.expr(target)}"),
                     *(s.m(c) for c in cells)])
    if rows:
        blocks += [para("Edge by edge:"), table(header, rows, "lrrr")]
    blocks += [para("Together, the gradient:"), math(_gradient_lines(d, s, pt))]
    return section("The backward pass", blocks)


def _seed_lines(d, s, pt) -> dict:
    """∂f/∂f = 1, or the upstream ∂L/∂f (= its value at a point)."""
    f = d.program.output
    if d.seed == 1:
        return math([(s.expr(Partial(f, f)), "=", "1")])
    lines = [(s.expr(Partial(d.top, f)), "=", s.expr(d.seed))]
    if pt is not None:
        lines = [(s.expr(Partial(d.top, f)), "=", s.expr(sympy.Float(pt.number(d.seed))))]
    return math(lines)


def _seed_note(d, s) -> dict | None:
    """Where the values give an upstream gradient ∂L/∂f (a loss L beyond the graph, seed 003's
    ∂L/∂c = 2): it seeds the sweep, so every gradient here is one of L."""
    if d.seed == 1:
        return None
    f, top, var = d.program.output, d.top, sympy.Symbol("s")
    return para(
        f"The seed is the upstream gradient {s.m(Partial(top, f))} that the values give: the "
        f"derivative arriving at {s.m(f)} from a loss {s.m(top)} beyond the graph.  So every "
        f"derivative of the backward pass, every edge and every gradient below is one of "
        f"{s.m(top)}: {s.m(Partial(top, var))}, not {s.m(Partial(f, var))}.")


def _gradient_lines(d, s, pt) -> list:
    f, names = d.top, d.model.params
    lhs = s.expr(Gradient(f, vector("theta", len(names))))
    lines = [(lhs, "=", s.expr(_entries(Partial(f, sympy.Symbol(n)) for n in names))),
             ("", "=", s.expr(_entries(d.gradient(n) for n in names)))]
    if pt is not None:
        numbers_ = _entries(sympy.Float(pt.result["grad"][n]) for n in names)
        lines.append(("", "=", s.expr(numbers_)))
    return lines


def _entries(items):
    """The gradient's entries as a tuple, or the one entry itself (not a 1-tuple "(x,)")."""
    items = list(items)
    return items[0] if len(items) == 1 else sympy.Tuple(*items)


def _adjoint_lines(d, s, variable, edges, pt) -> list | None:
    """∂f/∂v = Σ ∂f/∂t · ∂t/∂v over the edges v -> t, then with the local derivatives, in named
    quantities and in numbers; repeated right-hand sides are dropped.  An edge into the output f
    contributes its local derivative alone when the seed is 1.  None if no edge leaves
    ``variable``."""
    f, top = (d.program.output if d.seed == 1 else None), d.top
    uses = [(target, local) for source, target, local in edges if source == variable]
    if not uses:
        return None
    indirect = indirect_edges(d)

    def terms(up, of_local):
        parts = [of_local(t, local) if t == f else Chain(up(t), of_local(t, local))
                 for t, local in uses]
        return Terms(*parts) if len(parts) > 1 else parts[0]

    def symbol(t, local):  # the local value where ∂f/∂v would repeat the left-hand side
        named_local = local_symbol(d, t, variable, indirect)
        return local if named_local == Partial(top, variable) else named_local

    named = d.adjoints[variable].expr
    forms = [terms(lambda t: Partial(top, t), symbol),
             terms(lambda t: tikz.upstream(d, t), lambda t, local: local), named]
    if pt is not None:
        def value(expr):
            return sympy.Float(pt.number(expr))
        forms += [terms(lambda t: value(tikz.upstream(d, t)), lambda t, local: value(local)),
                  value(named)]
    lines: list = []
    for form in forms:
        printed = s.expr(form)
        if not lines or printed != lines[-1][2]:
            lines.append(("" if lines else s.expr(Partial(top, variable)), "=", printed))
    return lines
