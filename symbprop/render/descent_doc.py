"""Gradient descent on a graph's function (seed 003): the run from the values' point with their
learning rate, step by step, then the same start with a ten times smaller and larger rate and a
decaying one, plotted, and what the runs say about the learning rate (``rate_blocks`` and
``outcome`` serve the network's section, ``network_descent``, too).

Every sentence follows the numbers of the runs (``descent_runs``, the one loop): step counts
match the table's k (θ^(1) is the start, so row k comes after k − 1 steps), a run that diverges
says which quantity passed the bound or that a step left the domain of the function, and the
closing advice promises a minimum only where a run found one.
"""

from __future__ import annotations

import sympy

import symbprop.render.descent_plot as plots
import symbprop.render.descent_runs as dr
import symbprop.render.stationary as stationary
from symbprop.render.blocks import para, section, table
from symbprop.render.descent_runs import EPSILON, shown_steps
from symbprop.render.notation import Gradient, Partial

#: A diagnosis in a table cell (``symbprop.render.diagnosis``).
SHORT = {"slow": "slow", "oscillating": "oscillating", "diverging": "diverging",
         "no minimum": "no minimum in sight", "converged": "converged"}
K = sympy.Symbol("k")
#: At most this many significant digits for an iterate in the steps table (``resolving_digits``).
MAX_DIGITS = 12


def graph_descent(d, s, pt) -> dict:
    """The section: the run at the values' rate, its outcome, the lesson's rates, the advice."""
    vals = pt.values
    alpha, eps = sympy.Symbol("alpha"), sympy.Symbol("epsilon")
    lesson = dr.lesson(d, vals)
    run = lesson.given
    blocks = [*stationary.opening(d, s), _seeded_objective(d, s, vals), para(
        f"Gradient descent on the function itself: {s.mnote('gd_alpha')}, repeated while "
        f"{s.mnote('stop_rule')}, with {s.meq(alpha, vals.lr)} from the values and "
        f"{s.meq(eps, EPSILON)}; {s.m(iterate(1))} is the start, so row {s.m(K)} comes after "
        f"{s.m(K - 1)} steps:"), steps_table(d, s, run),
        para(f"With {s.meq(alpha, vals.lr)} gradient descent {outcome(s, run, reason=True)}."),
        path_figure(d, s, vals, run, alpha)]
    blocks += rate_blocks(d, s, lesson, alpha)
    return section("Gradient descent on the function", blocks)


def rate_blocks(d, s, lesson, rate) -> list:
    """The learning-rate lesson: the same start with a ten times smaller and larger ``rate``
    and the decaying schedule, a table of outcomes, the plot (TikZ in LaTeX, a PNG file
    referenced from Markdown: ``descent_plot``) and the advice."""
    rows = [[s.num(r.lr), outcome(s, r)] for r in lesson.fixed.values()]
    k_rate = sympy.Symbol(f"{rate.name}^(k)")
    schedule = 10 * rate / K
    rows.append([s.meq(k_rate, schedule), outcome(s, lesson.decaying)])
    blocks = [para("How to set the learning rate: the same start with a ten times smaller and "
                   "a ten times larger one, and a variable rate that starts at the larger one "
                   f"and decays, {s.meq(k_rate, schedule)} (seed 003: choose {s.m(k_rate)} at "
                   "each iteration, with the same stopping rule)."),
              table([s.m(rate), "outcome"], rows, "rl")]
    blocks.append(plots.loss_figure(s, lesson, rate, d.model.name))
    blocks.append(para(advice(s, lesson.all)))
    return blocks


def path_figure(d, s, vals, run, rate) -> dict | None:
    """The run drawn over the function, for one or two parameters (LaTeX)."""
    if s.fmt != "tex" or len(d.params) > dr.GRID_PARAMS:
        return None
    return plots.path_figure(s, run, dr.grid_function(d, vals),
                             [d.element(n) for n in d.params], rate)


def _seeded_objective(d, s, vals) -> dict | None:
    """With an upstream gradient g = ∂L/∂f: the function descended is L = g·f."""
    if d.seed == 1:
        return None
    f, L = d.program.output, d.top
    return para(f"The values give the loss {s.m(L)} beyond {s.m(f)} only through its slope "
                f"{s.meq(Partial(L, f), vals.upstream)}, so the function descended is "
                f"{s.meq(L, sympy.Float(vals.upstream) * f)}, the loss to first order: its "
                f"gradient is the {s.m(Gradient(L, sympy.Symbol('theta')))} above"
                + (", and the constants stay as given." if d.model.constants else "."))


def steps_table(d, s, run) -> dict:
    """k, the variables, f and α‖∇f‖ for the first rows and the last one; an iterate gets the
    digits that tell it from the one before (``resolving_digits``)."""
    names = list(d.model.params)
    header = [s.m(K), *(s.m(sympy.Symbol(p)) for p in names), s.m(s.loss), s.mnote("step_size")]
    cells = []
    for i in shown_steps(len(run.values)):
        if i is None:
            cells.append([s.mnote("vdots")] + [""] * (len(header) - 1))
            continue
        before = run.iterates[i - 1] if i else [None] * len(names)
        cells.append([str(i + 1), *(s.num(x, resolving_digits(x, b, s.digits)) for x, b in
                                    zip(run.iterates[i], before, strict=True)),
                      s.num(run.values[i]), s.num(run.lr * run.grad_norms[i])])
    return table(header, cells, "r" * len(header))


def resolving_digits(value: float, previous: float | None, digits: int) -> int:
    """The fewest significant digits, from ``digits`` up to ``MAX_DIGITS``, whose rounding error
    is at most half the last step |``value`` − ``previous``|, so that the printed iterate shows
    the step that led to it: x⁽⁶³⁾ = 4.9999951 after a step of 1.2e-6 prints as 4.999995, not as
    the 5 it is not.  ``digits`` when there is no previous iterate or no step."""
    if previous is None or value == previous:
        return digits
    for n in range(digits, MAX_DIGITS + 1):
        if abs(float(f"{value:.{n}g}") - value) <= abs(value - previous) / 2:
            return n
    return MAX_DIGITS


def outcome(s, run, reason: bool = False) -> str:
    """What the run did, in the table's k: stopped, not stopped, or ended early, with what its
    trajectory shows (``symbprop.render.diagnosis``: slow, oscillating, diverging, or still
    decreasing with no minimum in sight), never a guess about the learning rate; with
    ``reason``, the numbers that show it."""
    k, loss = len(run.values), float(run.values[-1])
    f, at = s.meq(s.loss, loss), s.meq(K, k)
    steps = _steps(run.steps)
    stop = run.stopped_because
    if stop == "tol":
        if k == 1:
            return f"stops at the start ({at}), at {f}: the gradient is already that small there"
        return f"stops at {at}, after {steps}, at {f}"
    diagnosis = run.diagnosis
    why = f": {diagnosis.reason}" if reason else ""
    if stop == "steps":
        if reason:
            return (f"has not stopped after {steps} ({f} at {at}); it is {diagnosis.headline}: "
                    f"{diagnosis.reason}")
        return f"not stopped after {steps} ({f} at {at}): {SHORT[diagnosis.outcome]}"
    bound = s.num(dr.BOUND)
    if diagnosis.outcome == "no minimum":
        if stop == "loss":
            passed = s.inline(f"{s.expr(s.loss)} = {s.expr(sympy.Float(loss))} < "
                              f"{s.expr(sympy.Float(-dr.BOUND))}")
        else:
            passed = _passed(s, stop, bound)
        if reason:
            return (f"is still decreasing with no minimum in sight: at {at}, after {steps}, "
                    f"{passed}; {diagnosis.reason}")
        return f"no minimum in sight: at {at}, after {steps}, {passed}"
    if stop == "loss":
        return (f"diverges: at {at}, after {steps}, {s.m(sympy.Abs(s.loss))} exceeds {bound} "
                f"({f}){why}")
    if stop in ("gradient", "infinite"):
        return f"diverges: at {at}, after {steps}, {_passed(s, stop, bound)}{why}"
    where = s.m(iterate(k + 1))
    if stop == "domain":
        return f"diverges: the step from {at} leaves the domain of {s.m(s.loss)} (at {where})"
    return f"diverges: the step from {at} overflows the floating-point range at {where}"


def _passed(s, stop: str, bound: str) -> str:
    """What passed the bound or the float range at the last row."""
    if stop == "gradient":
        return f"{s.mnote('grad_norm')} exceeds {bound}"
    if stop == "infinite":
        return f"{s.m(s.loss)} or its gradient is beyond the floating-point range"
    return f"{s.m(s.loss)} passes {bound}"


def iterate(k: int) -> sympy.Symbol:
    """θ^(k), the k-th iterate (seed 003 writes x^(k); θ is the vector of the variables)."""
    return sympy.Symbol(f"theta^({k})")


def _steps(count: int) -> str:
    return f"{count} step" + ("" if count == 1 else "s")


def advice(s, runs) -> str:
    """The closing remark on the learning rate, true of these runs (their diagnoses): no
    minimum where a trajectory shows the function still decreasing with none in sight, the
    seed's advice where a run stopped, else what each run shows and which way to move α."""
    f = s.m(s.loss)
    shown = [(r, r.diagnosis.outcome) for r in runs]
    if any(outcome == "no minimum" for _, outcome in shown):
        return (f"The trajectories show {f} still decreasing with no minimum in sight: there is "
                "no minimum ahead for gradient descent to approach, so no learning rate makes "
                "it stop, and the learning rate only decides how fast the iterates travel.")
    if any(r.converged for r in runs):
        return ("If the learning rate is too small, it takes too many iterations to converge; if "
                "it is too large, a step may overshoot the minimum, oscillate, or never converge. "
                " Watching how fast the function decreases tells which case applies.")
    each = "; ".join(f"{s.meq(sympy.Symbol('alpha'), r.lr)} is {outcome}" for r, outcome in shown)
    moves = []
    if any(outcome == "slow" for _, outcome in shown):
        moves.append("a slow run needs a larger rate or more steps")
    if any(outcome in ("oscillating", "diverging") for _, outcome in shown):
        moves.append("an oscillating or diverging one a smaller rate")
    return (f"None of the {len(runs)} runs met the stopping rule: {each}.  "
            + ("; ".join(moves).capitalize() + "." if moves else ""))
