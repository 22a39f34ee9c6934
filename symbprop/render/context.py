"""The document as plain data: ``build(d, values, fmt, **options)`` -> ``{"title", "intro",
"sections", ...}`` with every formula and number already printed for ``fmt`` (see
``symbprop.render.blocks`` for the block kinds).  The templates ``templates/derivation.*.j2``
only lay this out.

Sections, for a network: the network, the forward pass, local derivatives, the backward pass
(cases 1 and 2, BP1-BP4), gradients parameter by parameter, and with values the worked example;
gradient descent (the update rule; with values, the runs); then insights and, with values, the
verification.  For a graph: the computational graph, the forward pass, local derivatives, the
backward pass (upstream × local), the gradient, and with values gradient descent on the
function; then insights and verification.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import symbprop.render.numbers as numbers
from symbprop.render.backward_doc import backward
from symbprop.render.blocks import para
from symbprop.render.descent_doc import graph_descent
from symbprop.render.gradients import gradients
from symbprop.render.graph_doc import graph_backward, graph_forward, graph_local, graph_overview
from symbprop.render.graph_tikz import graph_edges
from symbprop.render.insights import graph_insights, network_insights
from symbprop.render.network_descent import network_descent
from symbprop.render.network_doc import NetView, forward, local, overview
from symbprop.render.reverse_network import reverse_section
from symbprop.render.rules_doc import closed_forms, rules
from symbprop.render.style import Style
from symbprop.render.verification import verification
from symbprop.render.worked import network_worked, step_blocks
from symbprop.spec.values import load_values


@dataclass(frozen=True)
class Options:
    """Rendering options (unknown names raise ``TypeError``).

    ``max_params``: parameters worked out one by one (then "... and N more"); ``max_paths``:
    chain-rule paths shown per parameter; ``digits``: significant digits of numbers;
    ``kernel_gradients``: the verification hook, ``(d, values) -> {name: float}``."""

    max_params: int = 20
    max_paths: int = 4
    digits: int = 6
    kernel_gradients: Callable | None = None

    def __post_init__(self) -> None:
        for name in ("max_params", "max_paths", "digits"):
            if not isinstance(getattr(self, name), int) or getattr(self, name) < 1:
                raise ValueError(f"{name} must be a positive integer")


def build(d, values=None, fmt: str = "tex", **options) -> dict:
    """The document data of derivation ``d`` (with a worked example if ``values`` is given)."""
    opts = Options(**options)
    network = d.model.kind == "network"
    d = seeded_for(d, values)
    style = Style.of(d, fmt, opts.digits)
    pt = numbers.point(d, values) if values is not None else None
    sections = (_network(d, style, pt, opts) if network else _graph(d, style, pt, opts))
    kind = "network" if network else "computational graph"
    return {
        "title": f"Backpropagation for the {kind} {style.code(d.model.name)}",
        "intro": _intro(style, network, pt),
        "sections": sections,
        "fmt": fmt,
    }


def seeded_for(d, values):
    """``d``, or ``d.seeded`` where ``values`` give a graph's upstream gradient ∂L/∂f: then the
    whole document (gradients, figure, edge labels, tables, descent) is about ∂L/∂·."""
    if values is None or d.model.kind != "graph":
        return d
    return d.seeded if load_values(d.model, values).upstream is not None else d


def _intro(s, network: bool, pt) -> list[dict]:
    what = ("the forward pass, the local derivatives, the backward pass with the four "
            "equations of backpropagation, and every gradient as a chain-rule product"
            if network else "the graph, the forward pass, the local derivative of every edge, "
            "the backward pass as upstream times local, and the gradient")
    where = " and a worked example with numbers, checked against finite differences" if pt \
        else ""
    return [para(f"Derived symbolically by symbprop: {what}{where}.  Every formula below was "
                 "produced by the derivation, not typed in.")]


def _network(d, s, pt, opts: Options) -> list[dict]:
    v = NetView(d)
    sections = [overview(v, s, draw=s.fmt == "tex"), forward(v, s), local(v, s),
                rules(d, s), backward(v, s), gradients(d, s, opts.max_params, opts.max_paths, pt)]
    # One sample's loss is the C of the sections before; a batch's is their mean, L.
    minimised = s if pt is not None and pt.batch else s.minimising("C")
    if pt is not None:
        sections.append(network_worked(v, minimised, pt, opts.max_params))
        sections.append(reverse_section(v, s, pt))
    sections.append(network_descent(v, minimised, pt))
    sections.append(network_insights(v, s, pt))
    if pt is not None:
        sections.append(verification(d, minimised, pt, opts.max_params, opts.kernel_gradients))
    return [section for section in sections if section is not None]


def _graph(d, s, pt, opts: Options) -> list[dict]:
    sections = [graph_overview(d, s, pt, draw=s.fmt == "tex"), graph_forward(d, s, pt),
                graph_local(d, s), rules(d, s), graph_backward(d, s, pt),
                gradients(d, s, opts.max_params, opts.max_paths, pt)]
    closed = closed_forms(d, s)
    if closed is not None:
        sections.append(closed)
    if pt is not None:
        sections[-1]["blocks"] += step_blocks(d, s, pt, opts.max_params)
        sections.append(graph_descent(d, s, pt))
    sections.append(graph_insights(d, s, len(graph_edges(d))))
    if pt is not None:
        sections.append(verification(d, s, pt, opts.max_params, opts.kernel_gradients))
    return sections
