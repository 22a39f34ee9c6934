"""The worked example: the numbers of ``Derivation.evaluate`` at the values (``--at``), laid out
as tables: z, a, ∂a/∂z and δ of every neuron, the loss, every gradient, one gradient-descent
step θ ← θ − η∇L with the new parameters and the loss after it (seeds 000, 001, 003, 004).
"""

from __future__ import annotations

import sympy
from sympy import IndexedBase

import symbprop.render.numbers as numbers
from symbprop.render.blocks import para, section, table
from symbprop.render.gradients import selected
from symbprop.render.notation import Chain, Partial
from symbprop.render.numbers import param_value
from symbprop.spec.variables import ACT, DELTA, PRE, Var

#: Neurons listed per layer in the worked tables: all up to ``MAX_ROWS``; a wider layer lists
#: its first ``WIDE_ROWS`` and ends with a "... (K more)" row.
MAX_ROWS = 8
WIDE_ROWS = 5


def point_text(s, pt) -> str:
    """How the point reads in prose: the sample (or the batch size) and the learning rate."""
    vals = pt.values
    lr = f"learning rate {s.meq(sympy.Symbol('eta'), vals.lr)}"
    if vals.batch:
        return f"a batch of {len(vals.X)} samples, {lr}"
    return f"{_vector(s, 'x', vals.X[0])}, {_vector(s, 'y', vals.Y[0])}, {lr}"


def _vector(s, name: str, row: list) -> str:
    if len(row) > 8:
        return f"{s.m(sympy.Symbol(name))} ({len(row)} numbers)"
    shown = sympy.Float(row[0]) if len(row) == 1 else sympy.Tuple(*map(sympy.Float, row))
    return s.inline(f"{s.expr(sympy.Symbol(name))} = {s.expr(shown)}")


def network_worked(v, s, pt, max_params: int) -> dict:
    result = pt.result
    blocks = [para(f"The worked example at {point_text(s, pt)}."
                   + (" The neuron table is for the first sample." if pt.batch else "")),
              _neuron_table(v, s, pt)]
    losses = result["per_sample"]
    if pt.batch:
        each = ", ".join(s.num(c) for c in losses[:MAX_ROWS])
        total = s.meq(sympy.Symbol("L"), result["loss"])
        blocks.append(para(f"The losses of the samples are {each}; reduced by "
                           f"{s.code(v.net.reduction)}, {total}."))
    else:
        blocks.append(para(f"The loss is {s.meq(sympy.Symbol('C'), result['loss'])}."))
    blocks += step_blocks(v.d, s, pt, max_params)
    return section("Worked example", blocks)


def _neuron_table(v, s, pt) -> dict:
    first = (lambda rows: rows[0]) if pt.batch else (lambda rows: rows)
    forward, deltas = pt.result["forward"], pt.result["delta"]
    slopes = {(layer, j): slope for layer, j, slope in numbers.activation_slopes(v.d, pt)}
    j = sympy.Symbol("j")
    header = ["layer", "neuron", s.m(IndexedBase("z^l")[j]), s.m(IndexedBase("a^l")[j]),
              s.m(Partial(IndexedBase("a^l")[j], IndexedBase("z^l")[j])),
              s.m(IndexedBase("delta^l")[j])]
    rows = []
    for layer in range(1, v.L + 1):
        z, a = first(forward[Var(PRE, layer).name]), first(forward[Var(ACT, layer).name])
        delta = first(deltas[Var(DELTA, layer).name])
        shown = len(z) if len(z) <= MAX_ROWS else WIDE_ROWS
        for n in range(shown):
            rows.append([s.layer(layer), str(n), s.num(z[n]), s.num(a[n]),
                         s.num(slopes[(layer, n)]), s.num(delta[n])])
        if len(z) > shown:
            rows.append([s.layer(layer), f"... ({len(z) - shown} more)", "", "", "", ""])
    return table(header, rows, "rrrrrr")


def step_blocks(d, s, pt, max_params: int) -> list:
    """The gradient table with one gradient-descent step, and the loss after the step."""
    result, step = pt.result, pt.result["step"]
    names = selected(d, max_params) if len(d.params) > max_params else list(d.params)
    theta, eta = sympy.Symbol("theta"), sympy.Symbol("eta")
    loss = s.loss
    header = ["parameter", s.m(theta), s.m(Partial(loss, theta)), s.mnote("theta_new")]
    rows = []
    for name in names:
        rows.append([s.m(d.element(name)), s.num(param_value(pt.values.params, name)),
                     s.num(result["grad"][name]), s.num(param_value(step["params"], name))])
    blocks = [para(f"Every gradient at this point, and one step of gradient descent "
                   f"{s.mnote('gd_step')} with {s.meq(eta, step['lr'])}:"),
              table(header, rows, "lrrr")]
    if len(names) < len(d.params):
        rest = len(d.params) - len(names)
        blocks.append(para(f"({rest} more parameter{'s are' if rest > 1 else ' is'} not "
                           "listed.)"))
    if getattr(d, "seed", 1) != 1:
        blocks.append(para(_after_seeded_step(d, s, pt)))
    else:
        blocks.append(para(_after_step(s, step["loss"], result["loss"])))
    return blocks


def _after_seeded_step(d, s, pt) -> str:
    """After a step along ∂L/∂θ (a graph seeded with the values' upstream ∂L/∂f): the output f
    before and after, and the change of L to first order, ∂L/∂f · Δf (all the values say of L)."""
    f, g = d.program.output, pt.values.upstream
    before, after = pt.result["loss"], pt.result["step"]["loss"]
    if after is None:
        return (f"After the step {s.m(f)} has no finite real value: the step leaves the domain "
                f"of the function ({s.meq(f, before)} before).")
    change = g * (after - before)
    which = "a decrease" if change < 0 else "no decrease"
    return (f"After the step {s.meq(f, after)} ({s.num(before)} before).  The values give only "
            f"the slope {s.meq(Partial(d.top, f), g)} of the loss, so to first order {s.m(d.top)} "
            f"changes by {s.m(Partial(d.top, f))} times the change of {s.m(f)}, "
            f"{s.meq(Chain(sympy.Float(g), sympy.Float(after - before)), change)}: {which}.")

def _after_step(s, after: float | None, before: float) -> str:
    """The loss after the step against the loss before; ``after`` is None where the step leaves
    the domain of the function (``evaluate``)."""
    if after is None:
        return (f"After the step {s.m(s.loss)} has no finite real value: the step leaves the "
                f"domain of the function ({s.meq(s.loss, before)} before).")
    change = "lower" if after < before else "not lower"
    what = "the loss is " if s.network else ""
    return f"After the step {what}{s.meq(s.loss, after)}, {change} than {s.num(before)} before."
