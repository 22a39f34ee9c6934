"""Verification: the symbolic gradient against central finite differences of the composed loss at
the point, and, through the ``kernel_gradients`` hook, against the compiled kernels.

``kernel_gradients`` is an option of every renderer: a callable ``(derivation, values) ->
{parameter name: float}`` (e.g. one that runs ``symbprop.compile(model).loss_and_grad``).  When
it is given, the table gets a "kernels" column; the document never imports the kernels itself.
"""

from __future__ import annotations

import sympy

from . import numbers
from .blocks import para, section, table
from .gradients import selected
from .notation import Partial


def verification(d, s, pt, max_params: int, kernel_gradients=None) -> dict:
    """The comparison table (the first/last-layer selection for large nets)."""
    if not numbers.fd_available(d):
        return section("Verification", [para(
            f"The network has {d.model.param_count} parameters, too many to compose the loss "
            f"into one expression for finite differences here; run "
            f"{s.code('symbprop check')} for the three-way comparison.")])
    names = selected(d, max_params) if len(d.params) > max_params else list(d.params)
    fd = numbers.finite_differences(d, pt, names)
    kernels = kernel_gradients(d, pt.values) if kernel_gradients is not None else None
    loss = sympy.Symbol("L")
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
             "the loss composed into one expression of the parameters (every activation written "
             "with elementary functions, evaluated by SymPy with 30 digits):"),
        table(header, rows, "lrrr" + ("r" if kernels is not None else "")),
        para(f"Largest difference: {s.num(worst)}."),
    ])
