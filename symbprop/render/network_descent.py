"""Gradient descent for a network (seeds 000 and 003): what the gradients are for.

Without values: the update θ ← θ − η∇C with ∇C written as a column in the network's own
parameters (seed 000's θ⁰ → θ¹ → θ², a few rows of each array then ⋮ for a big net), and the
same update per layer from BP3/BP4, W^l ← W^l − η δ^l (a^{l−1})ᵀ, b^l ← b^l − η δ^l.

With values (``--at``): also the run from the values' point with their η, step by step (k,
C(θ^(k)), ‖∇C‖, η‖∇C‖) until η‖∇C‖ ≤ ε or the step limit, what its trajectory shows, and the
learning-rate lesson of ``descent_doc.rate_blocks`` (a ten times smaller and larger η, a decaying
η^(k), their outcomes measured, a plot).  The runs are the one loop's (``descent_runs``), with C
and ∇C exact (in float64 for a wide net, and the text says so).  C is the cost the document
minimises: a sample's loss, or the batch's reduced loss.
"""

from __future__ import annotations

from math import prod

import sympy

import symbprop.render.descent_runs as dr
from symbprop.render.blocks import math, para, section, table
from symbprop.render.descent_doc import (
    K,
    iterate,
    outcome,
    path_figure,
    rate_blocks,
)
from symbprop.render.descent_runs import EPSILON, shown_steps
from symbprop.render.notation import Partial, matrix, vector
from symbprop.spec.variables import BIAS, DELTA, WEIGHT, Var

#: A gradient column lists every parameter up to this many; a longer gradient is printed as a
#: transposed row of the first entry of each array, each followed by an ellipsis.
COLUMN_ROWS = 12
SHOWN_ARRAYS = 4


def network_descent(v, s, pt) -> dict:
    """The section "Gradient descent" of a network document (``pt``: the point, or None);
    ``s.loss`` is the function minimised (C for one sample, ``render.context``)."""
    blocks = update_rule(v, s) + per_layer(v, s)
    if pt is not None:
        blocks += descent_run(v.d, s, pt)
    return section("Gradient descent", blocks)


def update_rule(v, s) -> list:
    d = v.d
    C, eta, theta = s.loss, sympy.Symbol("eta"), sympy.Symbol("theta")
    n = len(d.params)
    text = (f"Training moves every parameter against its gradient.  Collect the {n} parameters "
            f"in one vector {s.m(theta)}; from a start {s.m(iterate(1))}, gradient descent "
            f"computes the gradient by backpropagation and steps, {s.mnote('gd_eta')}, to "
            f"{s.m(iterate(2))}, {s.m(iterate(3))}, and so on (seed 000), with a learning rate "
            f"{s.m(eta)}.  The gradient is the column of every partial derivative found above"
            + (":" if n <= COLUMN_ROWS else
               f"; with {n} of them, here as a transposed row, the first of each array "
               + ("shown:" if len(d.param_arrays) <= SHOWN_ARRAYS
                  else "of the first and the last layer shown:")))
    return [para(text), math([(s.note("grad_at"), "=",
                               _column(s, [None if p is None else Partial(C, d.element(p))
                                           for p in _rows(d)]))])]


def _rows(d) -> list:
    """The parameters in the gradient: all, up to ``COLUMN_ROWS``; else the first of each
    array followed by None (an ellipsis), and of more than ``SHOWN_ARRAYS`` arrays only the
    first two and the last two, one ellipsis between.  Built from the arrays' shapes, never
    from the list of every name (a net may have 10^8 parameters)."""
    if len(d.params) <= COLUMN_ROWS:
        return list(d.params)
    shown = [[f"{name}[{','.join('0' * len(shape))}]" if shape else name]
             + [None] * (prod(shape) > 1) for name, shape in d.param_arrays]
    if len(shown) > SHOWN_ARRAYS:
        shown = [*shown[:2], [None], *shown[-2:]]
    rows = [entry for array in shown for entry in array]
    return [e for i, e in enumerate(rows) if e is not None or i == 0 or rows[i - 1] is not None]


def _column(s, entries: list) -> str:
    """The gradient as a column of printed entries (LaTeX: in display style, so that a column
    of fractions stays legible), or, in text or with an elided entry (None), a transposed row
    with an ellipsis for each None."""
    if s.latex and None not in entries:
        rows = [rf"\displaystyle {s.expr(e)}" for e in entries]
        return r"\begin{bmatrix}" + r" \\[14pt] ".join(rows) + r"\end{bmatrix}"
    dots = sympy.Symbol(r"\ldots" if s.latex else "…")
    row = s.expr(sympy.Tuple(*(dots if e is None else e for e in entries)))
    return row + (r"^{\mathsf{T}}" if s.latex else "ᵀ")


def per_layer(v, s) -> list:
    """W^l ← W^l − η δ^l (a^{l−1})ᵀ and b^l ← b^l − η δ^l for every layer (BP3, BP4)."""
    eta, arrow = sympy.Symbol("eta"), s.note("arrow")
    lines = []
    for layer in range(1, v.L + 1):
        n, m = v.sizes[layer], v.sizes[layer - 1]
        weights = matrix(Var(WEIGHT, layer), n, m)
        step = eta * vector(Var(DELTA, layer), n) * sympy.Transpose(vector(v.previous(layer), m))
        lines.append((s.expr(weights), arrow, f"{s.expr(weights)} - {s.expr(step)}"))
        if v.bias(layer) is not None:
            bias = v.bias(layer)
            shared = isinstance(bias, sympy.Symbol)
            target = bias if shared else vector(Var(BIAS, layer), n)
            delta = (sympy.Sum(sympy.IndexedBase(Var(DELTA, layer).name)[sympy.Symbol("j")],
                               sympy.Symbol("j")) if shared else vector(Var(DELTA, layer), n))
            lines.append((s.expr(target), arrow, f"{s.expr(target)} - {s.expr(eta * delta)}"))
    return [para("Layer by layer, with the errors of the backward pass (BP3, BP4), one step is:"),
            math(lines)]


def descent_run(d, s, pt) -> list:
    """The run from the values' point, its outcome and the learning-rate lesson."""
    vals = pt.values
    eta, eps = sympy.Symbol("eta"), sympy.Symbol("epsilon")
    lesson = dr.lesson(d, vals, rate="η")
    run = lesson.given
    blocks = [para(
        f"Start at the worked example's point, {s.m(iterate(1))}, with {s.meq(eta, vals.lr)}: "
        f"its step above is the step from {s.meq(K, 1)} to {s.meq(K, 2)}.  Gradient descent "
        f"repeats it while {s.mnote('stop_eta')}, with {s.meq(eps, EPSILON)}, for at most "
        f"{dr.STEP_LIMIT} steps; {s.m(s.loss)} and its gradient are computed "
        + ("exactly at every iterate:" if dr.exact(d) else
           f"in float64 at every iterate (exact gradients of {len(d.params)} parameters, as "
           "in the worked example, would take twenty times as long here), and exactly again "
           "at the iterates shown:")), _steps_table(s, run),
        para(f"With {s.meq(eta, vals.lr)} gradient descent {outcome(s, run, reason=True)}."),
        path_figure(d, s, vals, run, eta)]
    return blocks + rate_blocks(d, s, lesson, eta)


def _steps_table(s, run) -> dict:
    """k, C(θ^(k)), ‖∇C(θ^(k))‖ and η‖∇C‖ for the first rows and the last."""
    header = [s.m(K), s.m(sympy.Function(s.loss.name)(sympy.Symbol("theta^(k)"))),
              s.mnote("grad_norm"), s.mnote("step_eta")]
    rows = []
    for i in shown_steps(len(run.values)):
        if i is None:
            rows.append([s.mnote("vdots"), "", "", ""])
            continue
        norm = float(run.grad_norms[i])
        rows.append([str(i + 1), s.num(run.values[i]), s.num(norm), s.num(run.lr * norm)])
    return table(header, rows, "rrrr")
