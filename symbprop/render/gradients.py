"""Each parameter's gradient as a chain-rule product with boxed local factors (seed 001), summed
over the paths from the loss back to the parameter (seeds 002 and 004), then in terms of the
named intermediates (δ, a, ∂f/∂q) — from ``Derivation.chain`` and ``Derivation.gradient``.

Large nets show every parameter of the first and the last layer up to ``max_params`` and say how
many more follow; a parameter with many paths shows ``max_paths`` of them.
"""

from __future__ import annotations

import sympy

from .blocks import math, para, section
from .names import layer_name
from .notation import Boxed, Chain, More, Partial

#: Width of one display line of a chain-rule product, in characters of its text form.
LINE_WIDTH = 72


def selected(d, max_params: int) -> list[str]:
    """The parameters worked out one by one: all of them, or the first and last layer's."""
    names = list(d.params)
    if len(names) <= max_params or d.model.kind == "graph":
        return names[:max_params]
    layers = {name: layer_name(name.split("[")[0])[1] for name in names}
    last = max(layers.values())
    half = max(max_params // 2, 1) if last > 1 else max_params
    chosen = _layer_pick(names, layers, 1, half)
    if last > 1:
        chosen += _layer_pick(names, layers, last, max_params - half)
    return chosen


def _layer_pick(names: list[str], layers: dict, layer: int, count: int) -> list[str]:
    """Up to ``count`` parameters of ``layer``: its first weights, then its first bias."""
    weights = [n for n in names if layers[n] == layer and n.startswith("W")]
    biases = [n for n in names if layers[n] == layer and not n.startswith("W")]
    if not biases or count < 2:
        return weights[:count]
    return weights[: count - 1] + biases[:1]


def chunks(s, factors: list) -> list[list]:
    """Factors of one chain-rule product, grouped into display lines of about ``LINE_WIDTH``
    characters (measured on the one-line text form, for every format alike)."""
    lines, current, width = [], [], 0
    for factor in factors:
        size = s.width(factor) + 3
        if current and width + size > LINE_WIDTH:
            lines.append(current)
            current, width = [], 0
        current.append(factor)
        width += size
    return [*lines, current]


def output_symbol(d) -> sympy.Symbol:
    return d.program.output


def gradient_lines(d, s, name: str, max_paths: int, pt=None) -> list[tuple[str, str, str]]:
    """∂C/∂θ = Σ_paths Π boxed ∂'s = Σ Π boxed local values [= numbers] = named [= value]."""
    element = d.element(name)
    paths = d.chain(name)
    shown, hidden = paths[:max_paths], len(paths) - min(len(paths), max_paths)
    lhs = s.expr(Partial(output_symbol(d), element))
    forms = [lambda f: Boxed(Partial(f.of, f.wrt)), lambda f: Boxed(f.value)]
    if pt is not None and not pt.batch:
        forms.append(lambda f: Boxed(sympy.Float(pt.number(f.value))))
    lines = []
    for form in forms:
        for position, path in enumerate(shown):
            for row, chunk in enumerate(chunks(s, [form(f) for f in path])):
                rel = ("=" if position == 0 else "+") if row == 0 else "cdot"
                lines.append((lhs if not lines else "", rel, s.expr(Chain(*chunk))))
        if hidden:
            lines.append(("", "+", s.expr(More(hidden, "paths"))))
    if not paths:  # the parameter does not reach the loss
        lines.append((lhs, "=", s.expr(sympy.S.Zero)))
    lines.append(("", "=", s.expr(d.gradient(name))))
    if pt is not None:
        lines.append(("", "=", s.expr(sympy.Float(pt.result["grad"][name]))))
    return lines


def gradients(d, s, max_params: int, max_paths: int, pt=None) -> dict:
    """The section: one display per selected parameter, then how many more there are."""
    loss = s.m(output_symbol(d))
    where = "neurons of later layers" if d.model.kind == "network" else "nodes"
    blocks = [para(
        f"Each gradient is a product of the local derivatives along a path from {loss} back to "
        "the parameter, every local factor boxed.  Where a parameter reaches the loss along "
        f"several paths (through several {where}), the products of the paths are "
        "added.  The second line puts in the local derivatives, the last ones give the same "
        "gradient in the named quantities" + (" and its value at the point." if pt else "."))]
    if pt is not None and pt.batch:
        blocks.append(para("The values are those of the whole batch (the reduced gradient); the "
                           "products of single paths are shown only for a single sample."))
    names = selected(d, max_params)
    for name in names:
        blocks.append(math(gradient_lines(d, s, name, max_paths, pt)))
    rest = len(d.params) - len(names)
    if rest:
        blocks.append(para(f"... and {rest} more parameters of the same form: every weight "
                           "gradient is the error of the neuron it leads to times the input it "
                           "connects (BP4), every bias gradient is the error of its neuron "
                           "(BP3)." if d.model.kind == "network" else
                           f"... and {rest} more parameters of the same form."))
    return section("Gradients, parameter by parameter", blocks)
