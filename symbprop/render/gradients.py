"""Each parameter's gradient as a chain-rule product with boxed local factors (seed 001), summed
over the paths from the loss back to the parameter (seeds 002 and 004), then in terms of the
named intermediates (δ, a, ∂f/∂q) — from ``Derivation.chain`` and ``Derivation.gradient``.

Large nets show up to ``max_params`` parameters, a fair share of every layer (``selected``), and
say how many more follow; a parameter with many paths shows ``max_paths`` of them and counts
the others (``Derivation.path_count``), never listing more than it shows.  A long
product is broken into display lines by its estimated printed width (``chunks``).
"""

from __future__ import annotations

import sympy

import symbprop.render.condensed as condensed
from symbprop.render.blocks import math, para, section
from symbprop.render.graph_notation import indirect_edges, local_symbol
from symbprop.render.notation import Boxed, Chain, Mean, More, Partial
from symbprop.spec.variables import WEIGHT, Var, element_name, element_role


def selected(d, max_params: int) -> list[str]:
    """The parameters worked out one by one, at most ``max_params``, in ``d.params`` order.

    A graph shows its first ``max_params`` variables.  A network shows all its parameters if
    they fit; otherwise every layer gets a fair share of ``max_params`` (``shares``), and
    within a layer whole rows come first: the weights into neuron 0 and its bias, then neuron
    1's, and so on.  A share smaller than a row shows the row's first weights and its bias.
    With fewer than one per layer, the last layer comes first, then the first, then the rest.
    """
    names = d.params
    if len(names) <= max_params or d.model.kind == "graph":
        return list(names[:max_params])
    by_layer: dict[int, list] = {}  # layer -> its parameter bases (W, then b)
    for base in d.program.params:
        by_layer.setdefault(d.role_of(base).layer, []).append(base)
    sizes = {layer: sum(_count(d, b) for b in bases) for layer, bases in by_layer.items()}
    chosen = []
    for layer, count in shares(sizes, max_params).items():
        chosen += _take(_rows(d, by_layer[layer]), count)
    return sorted(chosen, key=names.index)


def _label(base) -> str:
    return base.label.name if isinstance(base, sympy.IndexedBase) else base.name


def _count(d, base) -> int:
    shape = d.program.shapes.get(base, ())
    return shape[0] * shape[1] if len(shape) == 2 else shape[0] if shape else 1


def shares(sizes: dict[int, int], budget: int) -> dict[int, int]:
    """``budget`` split over layers of ``sizes`` (layer -> parameters) as evenly as their sizes
    allow: smaller layers first get an equal share (or all of theirs), the rest is shared out
    again.  Every layer gets at least one while ``budget`` allows; below that the last layer,
    then the first, then the others in order get one each."""
    layers = sorted(sizes)
    if budget < len(layers):
        priority = [layers[-1], layers[0], *layers[1:-1]]
        return {layer: int(layer in priority[:budget]) for layer in layers}
    result, left = {}, budget
    for position, layer in enumerate(sorted(layers, key=lambda n: (sizes[n], n))):
        result[layer] = min(sizes[layer], left // (len(layers) - position))
        left -= result[layer]
    return result


def _rows(d, bases: list):
    """A layer's parameters by neuron, made one row at a time: row j holds W[j, :] then b[j]
    (a shared bias joins row 0)."""
    weights = next(b for b in bases if d.role_of(b).role is WEIGHT)
    biases = [b for b in bases if b is not weights]
    units, inputs = d.program.shapes[weights]
    for j in range(units):
        row = [element_name(_label(weights), (j, k)) for k in range(inputs)]
        for bias in biases:
            if d.program.shapes.get(bias, ()):
                row.append(element_name(_label(bias), (j,)))
            elif j == 0:
                row.append(_label(bias))
        yield row


def _take(rows: list[list[str]], count: int) -> list[str]:
    """``count`` parameters from ``rows``: whole rows while they fit, then the start of the next
    row; a layer that cannot show even its first whole row shows its first weights and bias."""
    taken: list[str] = []
    for row in rows:
        room = count - len(taken)
        if room <= 0:
            break
        if len(row) <= room:
            taken += row
        elif taken or room < 2 or element_role(row[-1]) is WEIGHT:
            taken += row[:room]
        else:
            taken += row[: room - 1] + row[-1:]
    return taken


def chunks(s, factors: list, lhs) -> list[list]:
    """Factors of one chain-rule product, grouped into display lines: as many factors per line
    as fit the room that ``s.line_room(lhs)`` leaves (estimated widths, ``Style.width``)."""
    room, gap = s.line_room(lhs), s.separator_width()
    lines, current, width = [], [], 0.0
    for factor in factors:
        size = s.width(factor) + gap
        if current and width + size > room:
            lines.append(current)
            current, width = [], 0.0
        current.append(factor)
        width += size
    return [*lines, current]


def _seed_first(d, s) -> str:
    """', after the seed ∂L/∂f that starts every path' for a seeded graph, else ''."""
    if getattr(d, "seed", 1) == 1:
        return ""
    return f", after the seed {s.m(d.seed)} that starts every path"


def output_symbol(d) -> sympy.Symbol:
    """What the gradients are of: the output f, or the loss L beyond it when seeded."""
    return d.top


def representatives(d, max_params: int) -> list[str]:
    """The weights a wide network works out (``condensed.wide``): the first weight of every
    layer, w^l_00, at most ``max_params`` of them (as ``shares`` gives one per layer)."""
    layers = len(d.model.layers)
    wanted = shares(dict.fromkeys(range(1, layers + 1), 1), max_params)
    return [Var(WEIGHT, layer).element(0, 0) for layer in range(1, layers + 1) if wanted[layer]]


def gradient_lines(d, s, name: str, max_paths: int, pt=None,
                   paths=None) -> list[tuple[str, str, str]]:
    """∂C/∂θ = Σ_paths Π boxed ∂'s = Σ Π boxed local values [= numbers] = named [= value].
    ``paths``: ``condensed.through_delta(d, name, max_paths)`` (the paths shown and their
    number), if the caller has it already; only the shown paths are listed, the others
    counted."""
    element = d.element(name)
    paths, count = condensed.through_delta(d, name, max_paths) if paths is None else paths
    if not paths:  # the parameter does not reach the loss
        return [(s.expr(Partial(output_symbol(d), element)), "=", s.expr(sympy.S.Zero))]
    shown = paths[:max_paths]
    hidden = count - len(shown)
    partial = Partial(output_symbol(d), element)
    lhs = s.expr(partial)
    indirect = indirect_edges(d)
    forms = [lambda f: Boxed(local_symbol(d, f.of, f.wrt, indirect)), lambda f: Boxed(f.value)]
    if pt is not None and not pt.batch:
        forms.append(lambda f: Boxed(sympy.Float(pt.number(f.value))))
    lines = []
    for form in forms:
        for position, path in enumerate(shown):
            for row, chunk in enumerate(chunks(s, [form(f) for f in path], partial)):
                rel = ("=" if position == 0 else "+") if row == 0 else "cdot"
                lines.append((lhs if not lines else "", rel, s.expr(Chain(*chunk))))
        if hidden:
            lines.append(("", "+", s.expr(More(hidden, "paths"))))
    lines.append(("", "=", s.expr(d.gradient(name))))
    if pt is not None and pt.batch:
        lines += batch_lines(d, s, name, pt)
    elif pt is not None:
        lines.append(("", "=", s.expr(sympy.Float(pt.result["grad"][name]))))
    return lines


def batch_lines(d, s, name: str, pt) -> list[tuple[str, str, str]]:
    """The gradient of the reduced loss from the samples' ones, with its value:
    ∂L/∂θ = (1/n) Σ_x ∂C_x/∂θ (mean) or Σ_n ∂C^n/∂θ (sum) = value."""
    element, n = d.element(name), len(pt.values.X)
    if d.model.reduction == "mean":
        sample = sympy.Symbol("x")
        reduced = Mean(n, sympy.Sum(Partial(sympy.Symbol("C_x"), element), (sample, 1, n)))
    else:
        sample = sympy.Symbol("n")
        reduced = sympy.Sum(Partial(sympy.Symbol("C^n"), element), (sample, 1, n))
    return [(s.expr(Partial(s.loss, element)), "=", s.expr(reduced)),
            ("", "=", s.expr(sympy.Float(pt.result["grad"][name])))]


def gradients(d, s, max_params: int, max_paths: int, pt=None) -> dict:
    """The section: one display per selected parameter, then how many more there are."""
    loss = s.m(output_symbol(d))
    where = "neurons of later layers" if d.model.kind == "network" else "nodes"
    blocks = [para(
        f"Each gradient is a product of the local derivatives along a path from {loss} back to "
        f"the parameter, every local factor boxed{_seed_first(d, s)}.  Where a parameter "
        f"reaches {loss} along "
        f"several paths (through several {where}), the products of the paths are "
        "added.  The second line puts in the local derivatives, the last ones give the same "
        "gradient in the named quantities" + (" and its value at the point." if pt else "."))]
    if pt is not None and pt.batch:
        blocks.append(para(
            f"With a batch of {len(pt.values.X)} samples, each product is the gradient of the "
            f"loss {s.m(output_symbol(d))} of one sample; the last lines give the gradient of "
            f"the reduced loss {s.m(s.loss)}, {s.mnote(d.model.reduction + '_grad')}, and its "
            "value at the point."))
    wide = condensed.wide(d)
    names = representatives(d, max_params) if wide else selected(d, max_params)
    if wide:
        blocks.append(para(_wide_intro(d, s, names)))
    blocks.append(condensed.delta_note(d, s))
    for name in names:
        paths = condensed.through_delta(d, name, max_paths)
        if not paths[0]:
            param = s.m(d.element(name))
            blocks.append(para(f"{loss} does not depend on {param}: no path leads from {param} "
                               f"to {loss}, so the gradient is 0:"))
        blocks.append(math(gradient_lines(d, s, name, max_paths, pt, paths)))
    rest = len(d.params) - len(names)
    if wide:
        blocks += condensed.every_parameter(d, s)
    elif rest:
        more = f"{rest} more parameter" + ("s" if rest > 1 else "")
        blocks.append(para(f"... and {more} of the same form: every weight "
                           "gradient is the error of the neuron it leads to times the input it "
                           "connects (BP4), every bias gradient is the error of its neuron "
                           "(BP3)." if d.model.kind == "network" else
                           f"... and {more} of the same form."))
    return section("Gradients, parameter by parameter", blocks)


def _wide_intro(d, s, names: list[str]) -> str:
    """Why a wide network works out only a few weights, and which."""
    shown = ", ".join(s.m(d.element(n)) for n in names)
    count = f"{len(d.params):,}".replace(",", " ")
    return (f"This network has {count} parameters, and the products of one layer differ only "
            f"in their indices, so one weight per layer is worked out, the first: {shown}.  "
            "Every parameter is then covered in the form that the errors give it, layer by "
            "layer, at the end of this section.")
