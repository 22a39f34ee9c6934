"""The Jupyter view of a derivation (``Derivation._repr_latex_``): one display of the derived
equations in index form — forward pass, errors δ (or ∂f/∂q), gradients — without the prose."""

from __future__ import annotations

from symbprop.render.style import Style


def fragment(d) -> str:
    """``$$\\begin{aligned} ... \\end{aligned}$$`` with every equation of the derivation."""
    s = Style.of(d, "md")
    lines = [rf"{s.expr(e.out)} &= {s.expr(e.expr)}" for e in d.program.eqns]
    for adjoint in d.adjoints.values():
        if adjoint.symbol is not None:
            named = adjoint.symbol[adjoint.indices] if adjoint.indices else adjoint.symbol
            lines.append(rf"{s.expr(named)} &= {s.expr(adjoint.expr)}")
    for base in d.program.params:
        adjoint = d.adjoints[base]
        element = base[adjoint.indices] if adjoint.indices else base
        lines.append(rf"\frac{{\partial {s.expr(d.program.output)}}}{{\partial "
                     rf"{s.expr(element)}}} &= {s.expr(adjoint.expr)}")
    body = " \\\\\n".join(lines)
    return f"$$\\begin{{aligned}}\n{body}\n\\end{{aligned}}$$"
