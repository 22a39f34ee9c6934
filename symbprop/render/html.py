"""The step-through page: ``to_html(d, values)`` -> one self-contained HTML file (str).

The page shows the picture (inline SVG: the computational graph, or the network's neurons and
weights, blocks for wide layers) beside the current step: the forward pass node by node (or
neuron by neuron), the backward pass edge by edge (upstream × local; for a network δ per neuron,
then each gradient as its chain of boxed factors), then one gradient-descent step.  Buttons and
the keys → ← Home End step; the step is kept in the URL fragment (``#step=12``).

Math is MathML (``SymbpropMathMLPrinter``), every number comes from ``numbers.point`` (the
exact evaluation of the PDF's worked example), and the template ``templates/page.html.j2``
(with ``page.css.j2`` and ``page.js.j2``) holds the layout and the plain JavaScript: no network
access, no external file.  Output is deterministic.

``notebook_frame(d)`` is the page for Jupyter (``_repr_html_``); ``symbprop.goldens`` writes the
committed pages.
"""

from __future__ import annotations

import html

import symbprop.examples as examples
import symbprop.render.numbers as numbers
from symbprop.errors import SymbpropError
from symbprop.render.context import seeded_for
from symbprop.render.names import top_layer
from symbprop.render.page_common import PHASES, PageStyle
from symbprop.render.page_graph import graph_page
from symbprop.render.page_network import network_page
from symbprop.spec.loader import load
from symbprop.templating import render as render_template

#: The bundled examples whose page is committed under ``generated/``.
PAGE_EXAMPLES = ("staged",)
PAGE_NAME = "derivation.html"


def to_html(d, values=None, max_params: int = 12, digits: int = 6, **_ignored) -> str:
    """The interactive page of derivation ``d`` at ``values`` (a path, dict or ``Values``);
    ``SymbpropError`` without values (the page steps through numbers)."""
    if values is None:
        raise SymbpropError("--format html needs --at VALUES: the page steps through the "
                            "numbers of the forward and backward pass at a point")
    network = d.model.kind == "network"
    d = seeded_for(d, values)
    s = PageStyle(network, None if network else d.top.name, digits, top_layer(d))
    pt = numbers.point(d, values)
    if network:
        page = network_page(d, s, pt, max_params)
    else:
        page = graph_page(d, s, pt)
    kind = "network" if network else "computational graph"
    first = {}
    for n, item in enumerate(page["steps"]):
        first.setdefault(item["phase"], n)
    return render_template(
        "page.html.j2", title=f"Backpropagation, step by step: the {kind} {d.model.name}",
        model=d.model.name, kind=kind, steps=page["steps"], svg=page["svg"],
        svg_text=page["svg_text"], phases=[(p, first[p]) for p in PHASES if p in first])


def notebook_frame(d, height_px: int = 760) -> str | None:
    """The page of ``d`` at its bundled values inside an ``<iframe srcdoc>`` (its style and
    script stay inside), for Jupyter; None unless ``d``'s model is a bundled example with
    values (a page needs a point: ``to_html(d, values)``)."""
    name = d.model.name
    if name not in examples.names() or not examples.has_values(name):
        return None
    if load(f"examples:{name}") != d.model:
        return None
    page = to_html(d, f"examples:{name}")
    return (f'<iframe title="{html.escape(name)}: backpropagation step by step" '
            f'style="width: 100%; height: {height_px}px; border: 1px solid #ddd" '
            f'srcdoc="{html.escape(page, quote=True)}"></iframe>')
