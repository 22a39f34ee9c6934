"""The steps of the HTML page for a network (seeds 000-002): the point, the forward pass neuron
by neuron (a layer at a time for wide layers), the loss, the backward pass as δ per neuron from
the output layer back, then each gradient as its chain of boxed local factors with their values
(``gradients.gradient_lines``, as in the documents), and one gradient-descent step.

A batch shows its first sample in the forward pass and δ, and the reduced gradients (as the
documents do).  Wide nets (``svg_network.wide``) show the first ``BLOCK_VALUES`` neurons of each
layer and ``max_params`` representative gradients (``gradients.selected``).
"""

from __future__ import annotations

import sympy

import symbprop.render.svg_network as svg_network
from symbprop.render.gradients import gradient_lines, selected
from symbprop.render.notation import Chain, Partial
from symbprop.render.numbers import param_value
from symbprop.render.page_common import after_step, chain_lines, descent_table, eq, join_names, step
from symbprop.spec.variables import (
    ACT,
    DELTA,
    PRE,
    WEIGHT,
    Var,
    element_var,
    layer_input,
    split_element,
)

MAX_PATHS = 2


def network_page(d, s, pt, max_params: int) -> dict:
    """``{"steps", "svg", "svg_text"}`` of network derivation ``d`` at point ``pt``."""
    sizes = d.model.sizes
    wide = svg_network.wide(d)
    marks: dict = {"forward": {}, "delta": {}, "grad": {}}
    steps = [_point_step(d, s, pt)]
    if wide:
        marks["forward"][(0, None)] = 0
    else:
        marks["forward"] |= {(0, j): 0 for j in range(sizes[0])}
    for layer in range(1, len(sizes)):
        for j in [None] if wide else range(sizes[layer]):
            marks["forward"][(layer, j)] = len(steps)
            steps.append(_forward_step(d, s, pt, layer, j))
    marks["loss"] = len(steps)
    steps.append(_loss_step(d, s, pt))
    for layer in range(len(sizes) - 1, 0, -1):
        for j in [None] if wide else range(sizes[layer]):
            marks["delta"][(layer, j)] = len(steps)
            steps.append(_delta_step(d, s, pt, layer, j))
    names = selected(d, max_params)
    for name in names:
        marks["grad"][name] = len(steps)
        steps.append(_gradient_step(d, s, pt, name, wide))
    marks["new"] = len(steps)
    steps.append(_descent_step(d, s, pt, names))
    svg, text = svg_network.picture(d, s, pt, marks)
    return {"steps": steps, "svg": svg, "svg_text": text}


def _first(pt, rows):
    return rows[0] if pt.batch else rows


def _value(pt, element) -> sympy.Float:
    return sympy.Float(pt.number(element))


def _vector(d, s, name: str, count: int, pt) -> list[dict]:
    base = d.base(name)
    shown = min(count, svg_network.BLOCK_VALUES if svg_network.wide(d) else count)
    return [eq(s.expr(base[j]), s.expr(_value(pt, base[j]))) for j in range(shown)]


def _point_step(d, s, pt) -> dict:
    sizes = d.model.sizes
    lines = _vector(d, s, "x", sizes[0], pt) + _vector(d, s, "y", sizes[-1], pt)
    batch = (f"  The values hold a batch of {len(pt.values.X)} samples: the forward pass and "
             "the errors are shown for the first, the gradients are those of the reduced loss."
             if pt.batch else "")
    text = (f"The input {s.m(d.base('x'))} and the target {s.m(d.base('y'))} of the worked "
            "example; the weights are written on the arrows.  Step forward (→) to compute the "
            "network neuron by neuron." + batch)
    focus = [f"n0_{j}" for j in range(sizes[0])] if not svg_network.wide(d) else ["l0"]
    return step("The point", "The input", text, lines, focus)


def _forward_step(d, s, pt, layer: int, j: int | None) -> dict:
    size = d.model.sizes[layer]
    if j is None:
        z, a = (d.program.defining(d.variable(role, layer)) for role in (PRE, ACT))
        lines = [eq(s.expr(z.out), s.expr(z.expr)), eq(s.expr(a.out), s.expr(a.expr))]
        lines += _vector(d, s, Var(ACT, layer).name, size, pt)
        text = (f"Layer {layer}, all {size} neurons at once (the first "
                f"{svg_network.BLOCK_VALUES} values are shown): each weighted input is the "
                "weighted sum of the previous layer's activations plus the bias, and the "
                "activation function is applied to it.")
        return step("Forward pass", f"Layer {layer}", text, lines,
                    [f"l{layer}", Var(WEIGHT, layer).name])
    z, a = d.variable(PRE, layer)[j], d.variable(ACT, layer)[j]
    lines = chain_lines(s, z, d.definition(z), _value(pt, z))
    lines += chain_lines(s, a, d.definition(a), _value(pt, a))
    previous = layer_input(layer).name
    inputs = [d.base(previous)[k] for k in range(d.model.sizes[layer - 1])]
    given = join_names([s.meq(i, _value(pt, i)) for i in inputs[:4]])
    text = (f"Neuron {j} of layer {s.layer(layer)}: its weighted input from {given}, the "
            "weights on the arrows and its bias, then its activation (written above the neuron).")
    focus = [f"n{layer}_{j}"] + [f"w{layer}_{j}_{k}" for k in range(len(inputs))]
    return step("Forward pass", f"Neuron {s.text(a)}", text, lines, focus)


def _loss_step(d, s, pt) -> dict:
    C = d.program.output
    lines = chain_lines(s, C, d.definition(C), sympy.Float(pt.result["per_sample"][0]))
    text = "The loss compares the output with the target (written at the loss box)."
    if pt.batch:
        text += (f"  Over the batch the losses are reduced by {d.model.reduction}: "
                 f"{s.meq(s.loss, pt.result['loss'])}.")
    return step("Forward pass", "The loss", text, lines, ["loss"])


def _delta_step(d, s, pt, layer: int, j: int | None) -> dict:
    last = layer == len(d.model.sizes) - 1
    C = d.program.output
    if j is None:
        adjoint = d.adjoints[d.variable(PRE, layer)]
        lines = [eq(s.expr(adjoint.symbol[adjoint.indices]), s.expr(adjoint.expr))]
        lines += _vector(d, s, Var(DELTA, layer).name, d.model.sizes[layer], pt)
        text = (f"The errors of layer {s.layer(layer)}, "
                f"{s.m(d.variable(DELTA, layer)[sympy.Symbol('j')])} = "
                f"{s.m(Partial(C, d.variable(PRE, layer)[sympy.Symbol('j')]))}, "
                + ("from the loss (BP1)." if last else "from the errors of the next layer (BP2)."))
        return step("Backward pass", f"Errors of layer {s.layer(layer)}", text, lines,
                    [f"l{layer}"])
    delta, z, a = (d.variable(role, layer)[j] for role in (DELTA, PRE, ACT))
    first = Chain(Partial(C, a), Partial(a, z)) if last else Partial(C, z)
    lines = chain_lines(s, delta, first, d.definition(delta), _value(pt, delta))
    if last:
        text = (f"The error of output neuron {j}, {s.meq(delta, Partial(C, z))}: how the loss "
                "changes with its weighted input (BP1), written below the neuron.")
        focus = [f"n{layer}_{j}", "loss"]
    else:
        text = (f"The error of hidden neuron {j} of layer {s.layer(layer)}: the errors of the "
                "next layer sent back along its outgoing weights, times the slope of its "
                "activation (BP2).")
        focus = [f"n{layer}_{j}"] + [f"w{layer + 1}_{k}_{j}"
                                     for k in range(d.model.sizes[layer + 1])]
    return step("Backward pass", f"Error {s.text(delta)}", text, lines, focus)


def _gradient_step(d, s, pt, name: str, wide: bool) -> dict:
    element = d.element(name)
    lines = [eq(lhs, rhs, rel) for lhs, rel, rhs in gradient_lines(d, s, name, MAX_PATHS, pt)]
    var, j_k = element_var(name), split_element(name)[1]
    weight = var.role is WEIGHT
    text = (f"The gradient of {s.m(element)}: the chain of local derivatives from the loss back "
            "to the parameter, every factor boxed, then with their values at the point, and in "
            "the named quantities: " + ("the error of the neuron the weight leads to times the "
                                        "input it connects (BP4)." if weight else
                                        "the error of the bias's neuron (BP3)."))
    layer = var.layer
    if wide:
        focus = [Var(WEIGHT, layer).name, f"l{layer}"]
    elif weight:
        j, k = j_k
        focus = [f"w{layer}_{j}_{k}", f"n{layer}_{j}"]
    else:
        j = j_k[0] if j_k else 0
        focus = [f"n{layer}_{j}"]
    return step("Backward pass", f"Gradient {s.text(Partial(sympy.Symbol('C'), element))}",
                text, lines, focus)


def _descent_step(d, s, pt, names: list[str]) -> dict:
    result, new = pt.result, pt.result["step"]
    rows = [(d.element(n), param_value(pt.values.params, n), result["grad"][n],
             param_value(new["params"], n)) for n in names]
    rest = len(d.params) - len(names)
    more = (f"  ({rest} more parameter{'s are' if rest > 1 else ' is'} updated the same way.)"
            if rest else "")
    text = (f"One step of gradient descent, every parameter moved against its gradient with "
            f"learning rate {s.meq(sympy.Symbol('eta'), new['lr'])}." + more + "  "
            + after_step(s, s.loss if pt.batch else sympy.Symbol("C"), result["loss"],
                         new["loss"]))
    return step("Gradient descent", "One step of gradient descent", text, [], ["loss"],
                table=descent_table(s, rows, s.loss))
