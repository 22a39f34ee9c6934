"""The backward pass of a network: δ for the output layer (case 1) and for hidden layers (case 2,
a sum over the next layer), then the four equations BP1-BP4 as derived for this network, and the
algorithm in five steps (Nielsen's order).  δ's come from ``d.adjoints``, never typed in.
"""

from __future__ import annotations

import sympy
from sympy import HadamardProduct, Idx, IndexedBase, Sum, Transpose

from symbprop.render.blocks import items, math, para, section
from symbprop.render.network_doc import NetView, eq
from symbprop.render.notation import (
    Chain,
    Elementwise,
    Gradient,
    Partial,
    SoftmaxJacobian,
    matrix,
    slope,
    vector,
)
from symbprop.spec.variables import ACT, DELTA, PRE, WEIGHT, Var
from symbprop.symbolic.indexing import index_values, sum_over
from symbprop.symbolic.rules import local_partial


def backward(v: NetView, s) -> dict:
    L = v.L
    j = v.z[L].indices[0]
    delta = v.variable(DELTA, L)
    error = s.meq(IndexedBase("delta^l")[j], Partial(sympy.Symbol("C"), IndexedBase("z^l")[j]))
    blocks = [para(f"The error of neuron {s.m(j)} in layer {s.m(sympy.Symbol('l'))} is {error}.  "
                   "Backpropagation "
                   "computes it for every neuron, from the output layer backwards."),
              para(f"{s.strong('Case 1, the output layer')} (layer {s.layer(L)}):"),
              math(_output_error(v, s))]
    if v.activation(L).is_softmax:
        blocks.append(para(f"The last step assumes that the targets sum to one, "
                           f"{s.mnote('targets_sum')} (one-hot or probability targets), which "
                           f"gives the short form "
                           f"{s.meq(delta[j], v.d.adjoints[v.variable(PRE, L)].expr)}."))
    for layer in range(L - 1, 0, -1):
        blocks += [para(f"{s.strong('Case 2, a hidden layer')} (layer {s.layer(layer)}): neuron "
                        f"{s.m(j)} feeds every neuron {s.m(sympy.Symbol('k'))} of layer "
                        f"{s.layer(layer + 1)}, so its error is a sum over the next layer:"),
                   math(_hidden_error(v, s, layer))]
    return section("The backward pass", blocks + _four_equations(v, s))


def _output_error(v: NetView, s) -> list:
    L = v.L
    eqn = v.a[L]
    (j,) = eqn.indices
    out, z, delta = eqn.out, v.variable(PRE, L), v.variable(DELTA, L)
    dC = v.d.adjoints[v.variable(ACT, L)]
    derived = v.d.adjoints[z].expr
    if v.activation(L).is_softmax:
        i = Idx("i", v.sizes[L])
        ai = out.base[i]
        general = Sum(Chain(Partial(sympy.Symbol("C"), ai), Partial(ai, z[j])), (i, 0, i.upper))
        local = local_partial(ai, eqn.expr.xreplace({j: i}), z[j])
        values = Sum(Chain(dC.expr.xreplace({j: i}), local), (i, 0, i.upper))
        collapsed = sum_over(sympy.expand(dC.expr.xreplace({j: i}) * local), [i])
        return [eq(s, delta[j], general), ("", "=", s.expr(values)),
                ("", "=", s.expr(collapsed)), ("", "=", s.expr(derived))]
    chain = Chain(Partial(sympy.Symbol("C"), out), Partial(out, z[j]))
    values = Chain(dC.expr, local_partial(out, eqn.expr, z[j]))
    return [eq(s, delta[j], chain), ("", "=", s.expr(values)), ("", "=", s.expr(derived))]


def _hidden_error(v: NetView, s, layer: int) -> list:
    eqn = v.a[layer]
    (j,) = eqn.indices
    k = Idx("k", v.sizes[layer + 1])
    z_next = v.variable(PRE, layer + 1)
    delta, delta_next = v.variable(DELTA, layer), v.variable(DELTA, layer + 1)
    general = Chain(Partial(eqn.out, v.variable(PRE, layer)[j]),
                    Sum(Chain(Partial(z_next[k], eqn.out), delta_next[k]), (k, 0, k.upper)))
    lines = [eq(s, delta[j], general), ("", "=", s.expr(v.d.adjoints[v.variable(PRE, layer)].expr))]
    if v.small:
        for (value,) in index_values((j,)):
            element = delta[value]
            lines.append(eq(s, element, v.d.definition(element)))
    return lines


def _four_equations(v: NetView, s) -> list:
    L, n = v.L, v.sizes
    C = sympy.Symbol("C")
    z_out = vector(Var(PRE, L), n[L])
    gradient = Gradient(C, vector(Var(ACT, L), n[L]))
    first = Transpose(SoftmaxJacobian(z_out)) * gradient if v.activation(L).is_softmax \
        else times_slope(v, L, gradient)
    (j,) = v.z[L].indices
    lines = [(s.expr(vector(Var(DELTA, L), n[L])), "=", s.expr(first)),
             eq(s, v.variable(DELTA, L)[j], v.d.adjoints[v.variable(PRE, L)].expr)]
    blocks = [para(f"{s.strong('The four equations')} of backpropagation, as they come out for "
                   "this network.  BP1, the error at the output layer:"), math(lines)]
    if L > 1:
        lines = []
        for layer in range(L - 1, 0, -1):
            back = Transpose(matrix(Var(WEIGHT, layer + 1), n[layer + 1], n[layer])) * vector(
                Var(DELTA, layer + 1).name, n[layer + 1])
            lines.append((s.expr(vector(Var(DELTA, layer), n[layer])), "=",
                          s.expr(times_slope(v, layer, back))))
            z = v.variable(PRE, layer)
            lines.append(eq(s, v.variable(DELTA, layer)[j], v.d.adjoints[z].expr))
        blocks += [para("BP2, the error of a hidden layer from the error of the next one:"),
                   math(lines)]
    blocks += [para("BP3 and BP4, the gradients of the biases and the weights:"),
               math(_bp34(v, s)),
               para("The backpropagation algorithm, the four equations in the order a program "
                    "runs them:"), items(_algorithm(v, s), numbered=True)]
    return blocks


def times_slope(v: NetView, layer: int, vector_) -> sympy.MatrixExpr:
    """``vector_`` ⊙ f'(z^l) with the layer's own activation derivative (σ', tanh', relu', f'
    for a formula); ``vector_`` itself for identity, whose derivative is 1."""
    activation = v.activation(layer)
    if activation.name == "identity" and not activation.is_custom:
        return vector_
    z = vector(Var(PRE, layer), v.sizes[layer])
    return HadamardProduct(vector_, Elementwise(f"{slope(activation)}_prime", z))


def _bp34(v: NetView, s) -> list:
    C = sympy.Symbol("C")
    lines = []
    for layer in range(1, v.L + 1):
        n, m = v.sizes[layer], v.sizes[layer - 1]
        bias = v.bias(layer)
        if bias is not None:
            adjoint = v.d.adjoints[bias]
            target = bias[adjoint.indices] if adjoint.indices else bias
            lines.append(eq(s, Partial(C, target), adjoint.expr))
        weights = v.variable(WEIGHT, layer)
        adjoint = v.d.adjoints[weights]
        lines.append(eq(s, Partial(C, weights[adjoint.indices]), adjoint.expr))
        outer = vector(Var(DELTA, layer), n) * Transpose(vector(v.previous(layer), m))
        lines.append(eq(s, Partial(C, matrix(Var(WEIGHT, layer), n, m)), outer))
    return lines


def _algorithm(v: NetView, s) -> list[str]:
    L = v.L
    return [
        f"Input: set {s.meq(vector('a^0', 1), v.base('x'))}.",
        f"Feedforward: for layers {s.layer(1)} to {s.layer(L)}, compute the weighted inputs "
        "and activations.",
        f"Output error: compute {s.m(vector(Var(DELTA, L), 1))} (BP1).",
        f"Backpropagate the error: for {_layers_down(s, L - 1)}, compute "
        f"{s.m(IndexedBase('delta^l'))} from the next layer's error (BP2)." if L > 1 else
        "Backpropagate the error: nothing to do, there is no hidden layer.",
        "Output: every gradient from the errors and the activations (BP3, BP4).",
    ]


def _layers_down(s, top: int) -> str:
    return f"layer {s.layer(1)}" if top == 1 else f"layers {s.layer(top)} down to {s.layer(1)}"
