"""A network for the NumPy target: the whole batch at once, sample-major (``Z1[i, j]`` = z¹_j of
sample i, as X holds its samples in rows).

Each layer is one matrix product (``Z1 = X @ W1.T + b1``) and the derivation's element equation
printed over whole arrays (``A1 = _sigmoid(Z1)``); the backward pass follows the four equations:
δ^L from the derivation's element form (BP1, with the batch mean 1/n folded in), ``B1 = D2 @ W2``
for Σ_k W²_kj δ²_k, δ¹ from its element form over B1 (BP2), ``gW1[...] = D1.T @ X`` (BP4) and
column sums for the biases (BP3).  The loss's sums over output neurons are sums along the rows.
"""

from __future__ import annotations

import sympy
from sympy import Indexed, Sum

from symbprop.codegen.loops import LoweringError, back_layer, replace_back_product, views
from symbprop.codegen.numpy.printer import NumpyPrinter
from symbprop.codegen.plan import (
    LayerPlan,
    NetworkPlan,
    delta_comment,
    forward_comment,
    grad_comment,
    loss_text,
    lse_symbol,
    stable_loss,
)
from symbprop.spec.variables import (
    ACT,
    BIAS,
    DELTA,
    INPUT,
    PRE,
    TARGET,
    WEIGHT,
    Var,
)

NAMING = (
    "Names (the batch at once, sample-major like X): W1, b1 views into theta; gW1, gb1 views",
    "into grad; Z1, A1 (n, n1) pre-activations and activations, row i for sample i;",
    "D1 (n, n1) = δ¹ = ∂C/∂z¹ per sample, divided by n for a mean; B1 = D2 @ W2 (the sum",
    "Σ_k W²_kj δ²_k of BP2); LSE2 (n,) = log Σ_j exp z²_j for a softmax output.",
)
#: The arrays of a layer's variables (and of back<l> = W^{l+1}ᵀ δ^{l+1}, B<l>).
ARRAYS = {DELTA: "D", PRE: "Z", ACT: "A"}


def array_name(element: Indexed) -> str:
    """An element of the derivation as the whole array it belongs to: ``z1[j]`` -> ``Z1``,
    ``y[j]`` -> ``Y``, ``b1[j]`` -> ``b1`` (a row, broadcast over the samples)."""
    label = element.base.label.name
    var = Var.find(label)
    if var is not None and var.role in (INPUT, TARGET):
        return label.upper()
    if var is not None and var.role in ARRAYS:
        return f"{ARRAYS[var.role]}{var.layer}"
    if (layer := back_layer(label)) is not None:
        return f"B{layer}"
    if len(element.indices) != 1:
        raise LoweringError(f"numpy target: {element} is not an element of a vector")
    return label


def _printer(plan: NetworkPlan, per_element: bool) -> NumpyPrinter:
    lse = lse_symbol(plan.output.number)
    shown = f"LSE{plan.output.number}" + ("[:, None]" if per_element else "")
    return NumpyPrinter({"indexed": array_name, "symbols": {str(lse): shown}})


def _forward_layer(pr: NumpyPrinter, layer: LayerPlan) -> list[str]:
    n_ = layer.number
    source = "X" if n_ == 1 else f"A{n_ - 1}"
    # a row, or a number when shared
    bias = "" if layer.bias == "none" else f" + {Var(BIAS, n_).name}"
    lines = [forward_comment(layer), f"Z{n_} = {source} @ {Var(WEIGHT, n_).name}.T{bias}"]
    if layer.activation.is_softmax:
        return lines + [
            f"top = Z{n_}.max(axis=1, keepdims=True)",
            f"E{n_} = np.exp(Z{n_} - top)",
            f"S{n_} = E{n_}.sum(axis=1, keepdims=True)",
            f"A{n_} = E{n_} / S{n_}",
            f"LSE{n_} = (top + np.log(S{n_}))[:, 0]",
        ]
    if layer.activation.name == "identity":
        return lines + [f"A{n_} = Z{n_}"]
    a = layer.a
    return lines + [f"A{n_} = {pr.doprint(a.expr.xreplace({a.indices[0]: sympy.Idx('j')}))}"]


def _loss(per_element: NumpyPrinter, per_sample: NumpyPrinter, plan: NetworkPlan,
          formula) -> list[str]:
    """``total`` = Σ_i C(sample i): each Σ_j of the loss is a sum along the rows."""
    expr = stable_loss(plan.loss.expr, plan)
    sums = sorted(expr.atoms(Sum), key=sympy.default_sort_key)
    lines = [f"# cost: {loss_text(plan, formula)}"]
    names = {}
    for number, term in enumerate(sums):
        (_, lower, upper), = term.limits
        if lower != 0 or upper != plan.output.n_out - 1:
            raise LoweringError(f"numpy target: a loss sum over part of the outputs: {term}")
        names[term] = sympy.Symbol(f"s{number}")
        lines.append(f"s{number} = np.sum({per_element.doprint(term.function)}, axis=1)")
    lines.append(f"total = np.sum({per_sample.doprint(expr.xreplace(names))})")
    return lines


def _backward_layer(pr: NumpyPrinter, plan: NetworkPlan, layer: LayerPlan, formula) -> list:
    n_ = layer.number
    delta = layer.delta
    expr = delta.expr.xreplace({delta.indices[0]: sympy.Idx("j")})
    lines = [delta_comment(plan, layer, formula)]
    if layer.is_output:
        form = "({}) * scale"
    else:
        nxt = plan.layers[n_]
        expr = replace_back_product(expr, nxt)
        lines.append(f"B{n_} = D{n_ + 1} @ {Var(WEIGHT, n_ + 1).name}")
        form = "{}"
    if expr.has(Sum):
        raise LoweringError(f"numpy target: δ{n_} has a sum it cannot vectorise: {expr}")
    code = pr.doprint(expr)
    if not any(name in code for name in ("Z", "A", "B", "D", "Y")):
        code = f"np.full_like(Z{n_}, {code})"  # a constant δ still has the batch's shape
    lines.append(f"D{n_} = {form.format(code)}")
    return lines + _grads(layer)


def _grads(layer: LayerPlan) -> list[str]:
    n_ = layer.number
    source = "X" if n_ == 1 else f"A{n_ - 1}"
    lines = [grad_comment(layer), f"gW{n_}[...] = D{n_}.T @ {source}"]
    if layer.bias == "per_neuron":
        lines.append(f"gb{n_}[...] = D{n_}.sum(axis=0)")
    elif layer.bias == "shared":
        lines.append(f"gb{n_}[0] = D{n_}.sum()")
    return lines


def context(d, plan: NetworkPlan) -> dict:
    """Template context of ``numpy_network.py.j2`` (each value: lines of printed code)."""
    printer, per_sample = _printer(plan, True), _printer(plan, False)
    net = d.model
    formula = net.loss.expr if net.loss.is_custom else None
    forward = [line for layer in plan.layers for line in _forward_layer(printer, layer)]
    backward = []
    for layer in reversed(plan.layers):
        backward += _backward_layer(printer, plan, layer, formula)
    loss = _loss(printer, per_sample, plan, formula)
    return {
        "views": views(d, "theta", "", reshape=True),
        "grad_views": views(d, "grad", "g", reshape=True),
        "forward": forward,
        "output": f"A{plan.output.number}",
        "loss": loss,
        "backward": backward,
        "helpers": sorted(printer.helpers | per_sample.helpers),
    }
