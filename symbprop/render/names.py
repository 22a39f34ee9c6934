"""The naming convention of the IR, read back for printing (one place for the printers).

``W<l>, b<l>, z<l>, a<l>, delta<l>`` are layer quantities (``a0`` is the input ``x``); ``x, y``
are the data; ``C`` is the loss; a graph's adjoint of node ``q`` is the Symbol ``d<out>_d<q>``.
The names are spelled and parsed in ``symbprop.spec.variables``; this module reads them for the
printers.
A layer's superscript is its number, or with the printers' setting ``top_layer`` = L (a spec's
``notation: {layers: from_output}``) seed 004's ``(L)``, ``(L-1)``, … (``layer_mark``).
"""

from __future__ import annotations

import sympy

from symbprop.spec.variables import layer_var, parse_adjoint, split_element


def layer_name(name: str) -> tuple[str, int] | None:
    """``"W12"`` -> ``("W", 12)``; ``None`` for names outside the layer convention."""
    var = layer_var(name)
    return None if var is None else (var.role.value, var.layer)


def layer_mark(layer: int, top: int | None = None) -> str:
    """The superscript of layer ``layer``, unformatted: ``"2"``; with ``top`` = L (layers
    numbered from the output, seed 004) ``"(L)"`` for layer L and ``"(L-k)"`` for layer L - k.
    The one place the printers (LaTeX, text, MathML) read a layer's superscript from."""
    if top is None:
        return str(layer)
    return "(L)" if layer == top else f"(L-{top - layer})"


def layer_number(layer: int, top: int | None = None):
    """Layer ``layer`` as prose and tables name it: the int, or with ``top`` = L the expression
    L − k (seed 004); printed by the caller's printer."""
    return layer if top is None else sympy.Symbol("L") - (top - layer)


def top_layer(d) -> int | None:
    """The printers' ``top_layer`` setting for derivation ``d``: its number of layers L if its
    spec numbers layers from the output (``notation: {layers: from_output}``), else None."""
    if getattr(d.model, "layer_numbering", "from_input") != "from_output":
        return None
    return len(d.model.layers)


def adjoint_name(name: str, output: str | None = None) -> tuple[str, str] | None:
    """``"df_dq"`` -> ``("f", "q")`` (∂f/∂q), or ``None``.  With ``output`` known, the split is
    exact even when names contain underscores (``dmy_out_dq`` with output ``my_out``)."""
    return parse_adjoint(name, output)


def display_names(d) -> dict:
    """The spec's ``notation`` as a replacement for printing: scalar element -> Symbol of its
    lecture name (``W1[0,0]`` -> ``w1``); {} without one."""
    found = {}
    for key, name in getattr(d.model, "notation", ()):
        base, indices = split_element(key)
        found[d.base(base)[indices]] = sympy.Symbol(name)
    return found
