"""Verification: the symbolic gradient against central finite differences of the composed loss at
the point, and, through the ``kernel_gradients`` hook, against the compiled kernels.

``kernel_gradients`` is an option of every renderer: a callable ``(derivation, values) ->
{parameter name: float}`` (e.g. one that runs ``symbprop.compile(model).loss_and_grad``).  When
it is given, the table gets a "kernels" column; the document never imports the kernels itself.
"""

from __future__ import annotations

import sympy

import symbprop.render.numbers as numbers
from symbprop.render.blocks import para, section, table
from symbprop.render.gradients import selected
from symbprop.render.graph_notation import local_symbol
from symbprop.render.kinks import kinks
from symbprop.render.notation import Partial, Slope, slope
from symbprop.symbolic.paths import passes_through


def verification(d, s, pt, max_params: int, kernel_gradients=None) -> dict:
    """The comparison table (the first/last-layer selection for large nets)."""
    available = numbers.fd_available(d)
    if not available and d.model.kind == "graph":
        return section("Verification", [para(
            f"The function {s.m(d.program.output)} is too long to compose into one expression "
            f"for finite differences here; run {s.code('symbprop check')} for the three-way "
            "comparison.")])
    if not available:
        return section("Verification", [para(
            f"The network has {d.model.param_count} parameters, too many to compose the loss "
            f"into one expression for finite differences here; run "
            f"{s.code('symbprop check')} for the three-way comparison.")])
    names = selected(d, max_params) if len(d.params) > max_params else list(d.params)
    fd = numbers.finite_differences(d, pt, names)
    kernels = kernel_gradients(d, pt.values) if kernel_gradients is not None else None
    loss = s.loss
    header = ["parameter", "backpropagation", "central difference", "difference"]
    if kernels is not None:
        header.append("kernels")
    rows, worst = [], 0.0
    for name in names:
        exact = pt.result["grad"][name]
        worst = max(worst, abs(exact - fd[name]))
        row = [s.m(Partial(loss, d.element(name))), s.num(exact), s.num(fd[name]),
               s.num(abs(exact - fd[name]))]
        if kernels is not None:
            row.append(s.num(kernels[name]))
        rows.append(row)
    return section("Verification", [
        para(f"The gradients above come from the chain rule.  As an independent check, central "
             f"differences {s.mnote('fd')} with {s.meq(sympy.Symbol('h'), numbers.FD_STEP)}, on "
             f"{'the loss' if d.model.kind == 'network' else s.m(loss)} composed into one "
             "expression of the parameters (every activation written with elementary functions, "
             "evaluated by SymPy with 30 digits):"),
        table(header, rows, "lrrr" + ("r" if kernels is not None else "")),
        para(f"Largest difference: {s.num(worst)}."),
        _kink_note(d, s, pt, names),
    ])


def _kink_note(d, s, pt, names: list[str]) -> dict | None:
    """Where an input sits on a kink (relu at z = 0, |x| at x = 0): why backpropagation and the
    central difference may differ there, and for which of the listed parameters."""
    found = kinks(d, pt)
    if not found:
        return None
    through = [s.m(d.element(n)) for n in names
               if any(passes_through(d, d.element(n), k.node, k.wrt) for k in found)]
    affected = f" ({', '.join(through)} here)" if through else ""
    where = "that neuron" if d.model.kind == "network" else "those nodes"
    return para(
        f"At this point {'; '.join(_kink_clause(d, s, k) for k in found)}.  Backpropagation "
        "uses the derivative's value at the kink, while a central difference straddles it and "
        "averages the slopes of the two sides, so the two columns may differ for the parameters "
        f"whose paths pass through {where}{affected}: the difference is expected there, "
        "not an error of the gradient.")


def _kink_clause(d, s, kink) -> str:
    """"z¹₀ = 0 sits on a kink of relu, slope 0 just below and 1 just above (relu′(0) = 0 by
    convention)"; for a graph node "x = 0 sits on a kink of t₁ = |x|, ... (∂t₁/∂x = 0 ...)"."""
    if d.model.kind == "network":
        activation = d.model.layers[kink.layer - 1].activation
        name = s.code(slope(activation))
        value = s.meq(Slope(slope(activation), sympy.Float(kink.value)), kink.slope)
    else:
        name = s.meq(kink.node, kink.operation)
        value = s.meq(local_symbol(d, kink.node, kink.wrt), kink.slope)
    return (f"{s.meq(kink.wrt, kink.value)} sits on a kink of {name}, slope "
            f"{s.num(kink.left)} just below and {s.num(kink.right)} just above ({value} by "
            "convention)")

