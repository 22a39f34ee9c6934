"""Why gradient descent (seed 003), the opening of a graph's descent section: where the
derivatives can be set to zero and solved by hand (a gradient linear in the parameters, as for
(x − 5)², whose derivative 2(x − 5) = 0 gives x = 5), that solution; then what the gradient
says at a point: −∇f is the direction of steepest descent and ‖∇f‖ the slope in it.

    opening(d, s) -> [blocks]

Solving is attempted only for a gradient that is linear in the parameters and mentions nothing
else (no constants, no upstream factor), so it is exact and instant; a point is called the
minimum only where the Hessian, constant then, is positive definite.
"""

from __future__ import annotations

import sympy

from symbprop.render.blocks import math, para
from symbprop.render.notation import Partial
from symbprop.render.rules_doc import closed_form


def opening(d, s) -> list[dict]:
    """The closed-form solution where there is one (``_solved``), then the steepest descent."""
    f = s.loss
    solved = _solved(d, s)
    return solved + [para(
        ("Gradient descent needs no such solution.  " if solved else "")
        + f"At any point the gradient {s.mnote('grad_at')} points in the "
        f"direction of steepest ascent, so {s.mnote('neg_grad')} is the direction of steepest "
        f"descent towards lower values of {s.m(f)}, and its size {s.mnote('grad_norm')} is "
        "the slope in that direction (seed 003): a small step against the gradient goes "
        "downhill.")]


def _solved(d, s) -> list[dict]:
    params = [sympy.Symbol(p) for p in d.params]
    forms = [closed_form(d, p) for p in d.params] if d.seed == 1 else [None]
    if None in forms:
        return []
    derivatives = [formula for formula, _ in forms]
    if not all(_linear(g, params) for g in derivatives):
        return []
    solutions = sympy.solve(derivatives, params, dict=True)
    if len(solutions) != 1 or len(solutions[0]) != len(params):
        return []
    point = solutions[0]
    hessian = sympy.Matrix([[sympy.diff(g, q) for q in params] for g in derivatives])
    what = "the minimum" if hessian.is_positive_definite else "the only point where it is flat"
    f = s.loss
    lines = [(s.expr(Partial(f, q)), "=", f"{s.expr(sympy.factor(g))} = 0")
             for q, g in zip(params, derivatives, strict=True)]
    found = ", ".join(s.meq(q, point[q]) for q in params)
    return [para(f"To minimise {s.m(f)} by hand, set its derivative to zero (seed 003):"),
            math(lines),
            para(f"This has one solution, {found}: {what} of {s.m(f)}, in closed form.")]


def _linear(expr, params) -> bool:
    """Whether ``expr`` is a polynomial of degree at most 1 in ``params`` and nothing else."""
    if not expr.free_symbols <= set(params):
        return False
    try:
        return sympy.Poly(expr, *params).total_degree() <= 1
    except sympy.PolynomialError:
        return False
