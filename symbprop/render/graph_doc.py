"""The graph half of the document (seed 003): the computational graph with one operation per
node, the forward pass, local derivatives per edge, the backward pass as "upstream × local" on
every edge, and, at a point, gradient descent on the function with the learning-rate discussion.
"""

from __future__ import annotations

import sympy

from ..gd import DEFAULT_STEPS as STEP_LIMIT
from ..gd import DEFAULT_TOL as EPSILON
from . import graph_tikz as tikz
from . import numbers
from .blocks import math, para, section, table
from .notation import Chain, Gradient, Partial, Terms, vector

SHOWN_STEPS = 6


def graph_overview(d, s, pt, draw: bool) -> dict:
    f = d.program.output
    blocks = [para(
        f"The function {s.meq(f, d.composed_loss())} of "
        f"{', '.join(s.m(sympy.Symbol(p)) for p in d.model.params)}, staged so that each node "
        "of the graph does one operation:")]
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
    lines = [(s.expr(Partial(target, source)), "=", s.expr(local))
             for source, target, local in tikz.graph_edges(d)]
    return section("Local derivatives", [para(
        "Each node only needs the derivative of its own operation with respect to each of its "
        "inputs, one per edge of the graph:"), math(lines)])


def graph_backward(d, s, pt) -> dict:
    """The reverse sweep written out: the seed ∂f/∂f = 1 once, then for every variable from the
    end backwards the sum over its outgoing edges of upstream times local (an edge into the
    output contributes its local derivative alone: its upstream is the seed), the edge table
    and the gradient.  A variable the output does not depend on gets ∂f/∂v = 0 and says so."""
    f = d.program.output
    edges = tikz.graph_edges(d)
    blocks = [para(
        f"Compute {s.m(Partial(f, sympy.Symbol('v')))} for every variable from the end "
        "backwards, starting from the seed:"), math([(s.expr(Partial(f, f)), "=", "1")]),
        para("Along each edge the derivative arriving from upstream is multiplied by the local "
             "derivative of the edge; where a variable feeds several nodes, the products of its "
             f"edges are added.  A variable that feeds {s.m(f)} directly gets the local "
             f"derivative of the operation of {s.m(f)} (times the seed 1):")]
    variables = [e.out for e in reversed(d.program.eqns) if e.out != f]
    variables += [sympy.Symbol(p) for p in d.model.params]
    for variable in variables:
        lines = _adjoint_lines(d, s, variable, edges, pt)
        if lines is None:
            blocks += [para(f"{s.m(f)} does not depend on {s.m(variable)} (no edge leaves "
                            f"{s.m(variable)}), so:"),
                       math([(s.expr(Partial(f, variable)), "=", s.expr(sympy.S.Zero))])]
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


def _gradient_lines(d, s, pt) -> list:
    f, names = d.program.output, d.model.params
    lhs = s.expr(Gradient(f, vector("theta", len(names))))
    lines = [(lhs, "=", s.expr(sympy.Tuple(*(Partial(f, sympy.Symbol(n)) for n in names)))),
             ("", "=", s.expr(sympy.Tuple(*(d.gradient(n) for n in names))))]
    if pt is not None:
        numbers_ = sympy.Tuple(*(sympy.Float(pt.result["grad"][n]) for n in names))
        lines.append(("", "=", s.expr(numbers_)))
    return lines


def _adjoint_lines(d, s, variable, edges, pt) -> list | None:
    """∂f/∂v = Σ ∂f/∂t · ∂t/∂v over the edges v -> t, then with the local derivatives, in named
    quantities and in numbers; repeated right-hand sides are dropped.  An edge into the output f
    contributes its local derivative alone.  None if no edge leaves ``variable``."""
    f = d.program.output
    uses = [(target, local) for source, target, local in edges if source == variable]
    if not uses:
        return None

    def terms(up, of_local):
        parts = [of_local(t, local) if t == f else Chain(up(t), of_local(t, local))
                 for t, local in uses]
        return Terms(*parts) if len(parts) > 1 else parts[0]

    named = d.adjoints[variable].expr
    forms = [terms(lambda t: Partial(f, t), lambda t, local: local if t == f
                   else Partial(t, variable)),
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
            lines.append(("" if lines else s.expr(Partial(f, variable)), "=", printed))
    return lines


def graph_descent(d, s, pt) -> dict:
    """Gradient descent on the function from the point (seed 003), and three learning rates."""
    vals = pt.values
    alpha, eps = sympy.Symbol("alpha"), sympy.Symbol("epsilon")
    run = numbers.descent(d, vals, vals.lr, EPSILON, STEP_LIMIT)
    blocks = [para(
        f"Gradient descent on the function itself: {s.mnote('gd_alpha')}, repeated while "
        f"{s.mnote('stop_rule')}, with {s.meq(alpha, vals.lr)} from the "
        f"values and {s.meq(eps, EPSILON)}:"), _steps_table(d, s, run)]
    blocks.append(para(f"With {s.meq(alpha, vals.lr)} gradient descent "
                       f"{_outcome(s, run)}."))
    header = [s.m(alpha), "outcome"]
    rows = []
    for factor in (0.1, 1.0, 10.0):
        other = run if factor == 1.0 else numbers.descent(d, vals, vals.lr * factor, EPSILON,
                                                          STEP_LIMIT)
        rows.append([s.num(other.lr), _outcome(s, other)])
    blocks += [para("How to set the learning rate: the same start with a ten times smaller and "
                    "a ten times larger one."), table(header, rows, "rl"), para(
        "If the learning rate is too small, it takes too many iterations to converge; if it is "
        "too large, a step may overshoot the minimum, oscillate, or never converge.  Watching "
        "how fast the function decreases tells which case applies.")]
    return section("Gradient descent on the function", blocks)


def _steps_table(d, s, run) -> dict:
    header = ["k", *(s.m(sympy.Symbol(p)) for p in d.model.params), s.m(sympy.Symbol("L")),
              s.mnote("step_size")]
    rows = []
    shown = run.rows if len(run.rows) <= SHOWN_STEPS + 1 else run.rows[:SHOWN_STEPS] + [None,
                                                                                       run.rows[-1]]
    for row in shown:
        if row is None:
            rows.append(["..."] + [""] * (len(header) - 1))
            continue
        k, params, loss, norm = row
        rows.append([str(k), *(s.num(params[p]) for p in d.model.params), s.num(loss),
                     s.num(run.lr * norm)])
    return table(header, rows, "r" * len(header))


def _outcome(s, run) -> str:
    k, _, loss, _ = run.rows[-1]
    if run.outcome == "stopped":
        return f"stops after {k} evaluations of the gradient, at {s.meq(sympy.Symbol('L'), loss)}"
    if run.outcome == "diverged":
        return f"diverges: after {k} steps the values exceed {s.num(1e12)}"
    return f"has not stopped after {STEP_LIMIT} steps ({s.meq(sympy.Symbol('L'), loss)} at " \
           "the last one)"
