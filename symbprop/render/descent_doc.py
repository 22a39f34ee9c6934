"""Gradient descent on a graph's function (seed 003): the run from the values' point with their
learning rate, step by step, then the same start with a ten times smaller and larger rate, and
what the three runs say about the learning rate.

Every sentence follows the numbers of the runs (``numbers.descent``): step counts match the
table's k (θ^(1) is the start, so row k comes after k − 1 steps), a run that diverges says which
quantity passed the bound or that a step left the domain of the function, and the closing advice
promises a minimum only where a run found one.
"""

from __future__ import annotations

import sympy

from ..gd import DEFAULT_STEPS as STEP_LIMIT
from ..gd import DEFAULT_TOL as EPSILON
from . import numbers
from .blocks import para, section, table

SHOWN_STEPS = 6
K = sympy.Symbol("k")
#: At most this many significant digits for an iterate in the steps table (``resolving_digits``).
MAX_DIGITS = 12


def graph_descent(d, s, pt) -> dict:
    """The section: the run at the values' rate, its outcome, three rates, the advice."""
    vals = pt.values
    alpha, eps = sympy.Symbol("alpha"), sympy.Symbol("epsilon")
    runs = {factor: numbers.descent(d, vals, vals.lr * factor, EPSILON, STEP_LIMIT)
            for factor in (0.1, 1.0, 10.0)}
    run = runs[1.0]
    blocks = [para(
        f"Gradient descent on the function itself: {s.mnote('gd_alpha')}, repeated while "
        f"{s.mnote('stop_rule')}, with {s.meq(alpha, vals.lr)} from the values and "
        f"{s.meq(eps, EPSILON)}; {s.m(iterate(1))} is the start, so row {s.m(K)} comes after "
        f"{s.m(K - 1)} steps:"), steps_table(d, s, run),
        para(f"With {s.meq(alpha, vals.lr)} gradient descent {outcome(s, run)}.")]
    rows = [[s.num(r.lr), outcome(s, r)] for r in runs.values()]
    blocks += [para("How to set the learning rate: the same start with a ten times smaller and "
                    "a ten times larger one."), table([s.m(alpha), "outcome"], rows, "rl"),
               para(advice(s, list(runs.values())))]
    return section("Gradient descent on the function", blocks)


def steps_table(d, s, run) -> dict:
    """k, the variables, f and α‖∇f‖ for the first rows and the last one; an iterate gets the
    digits that tell it from the one before (``resolving_digits``)."""
    names = list(d.model.params)
    header = ["k", *(s.m(sympy.Symbol(p)) for p in names), s.m(s.loss), s.mnote("step_size")]
    rows = run.rows
    shown = list(range(len(rows))) if len(rows) <= SHOWN_STEPS + 1 else [
        *range(SHOWN_STEPS), None, len(rows) - 1]
    cells = []
    for i in shown:
        if i is None:
            cells.append(["..."] + [""] * (len(header) - 1))
            continue
        k, params, loss, norm = rows[i]
        before = rows[i - 1][1] if i else {}
        cells.append([str(k), *(s.num(params[p], resolving_digits(
            params[p], before.get(p), s.digits)) for p in names), s.num(loss),
            s.num(run.lr * norm)])
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


def outcome(s, run) -> str:
    """What the run did, in the table's k: stopped, not stopped, or diverged and why."""
    k, _, loss, _ = run.rows[-1]
    f, at = s.meq(s.loss, loss), s.meq(K, k)
    steps = _steps(run.steps)
    if run.outcome == "stopped":
        if k == 1:
            return f"stops at the start ({at}), at {f}: the gradient is already that small there"
        return f"stops at {at}, after {steps}, at {f}"
    if run.outcome == "limit":
        return f"has not stopped after {steps} ({f} at {at})"
    bound = s.num(numbers.BOUND)
    if run.cause == "loss":
        return f"diverges: at {at}, after {steps}, {s.m(sympy.Abs(s.loss))} exceeds {bound} ({f})"
    if run.cause == "gradient":
        return f"diverges: at {at}, after {steps}, {s.mnote('grad_norm')} exceeds {bound}"
    if run.cause == "infinite":
        return (f"diverges: at {at}, after {steps}, {s.m(s.loss)} or its gradient is beyond the "
                "floating-point range")
    where = s.m(iterate(k + 1))
    if run.cause == "domain":
        return f"diverges: the step from {at} leaves the domain of {s.m(s.loss)} (at {where})"
    return f"diverges: the step from {at} overflows the floating-point range at {where}"


def iterate(k: int) -> sympy.Symbol:
    """θ^(k), the k-th iterate (seed 003 writes x^(k); θ is the vector of the variables)."""
    return sympy.Symbol(f"theta^({k})")


def _steps(count: int) -> str:
    return f"{count} step" + ("" if count == 1 else "s")


def advice(s, runs) -> str:
    """The closing remark on the learning rate, true of these runs: no minimum where the
    function ran below −BOUND, the seed's advice where a run stopped, a neutral one else."""
    f = s.m(s.loss)
    if any(r.cause in ("loss", "infinite") and r.rows[-1][2] < -numbers.BOUND for r in runs):
        return (f"Here {f} falls below {s.num(-numbers.BOUND)} along the way: there is no minimum "
                "ahead for gradient descent to approach, and the learning rate only decides how "
                "fast the iterates run away.")
    if any(r.outcome == "stopped" for r in runs):
        return ("If the learning rate is too small, it takes too many iterations to converge; if "
                "it is too large, a step may overshoot the minimum, oscillate, or never converge. "
                " Watching how fast the function decreases tells which case applies.")
    return ("None of the three runs met the stopping rule.  If the learning rate is "
            "too small, progress is slow; if it is too large, a step may overshoot, oscillate, "
            "or diverge.  Watching how fast the function decreases tells which case applies.")
