"""The network half of the document: the net, the forward pass, local derivatives (the backward
pass is in ``backward_doc``).  Every formula comes from the derivation (``d.program``,
``d.adjoints``, ``symbprop.symbolic.rules.local_partial``) and is printed by the document's
``Style``.

Per-neuron equations are shown only for small nets (``small``); everything else is in index
form, whose size does not depend on the width of a layer.
"""

from __future__ import annotations

import sympy
from sympy import Idx, IndexedBase

import symbprop.render.tikz as tikz
from symbprop.render.blocks import figure, math, para, section, table
from symbprop.render.notation import Elementwise, Mean, Partial, matrix, vector
from symbprop.spec.variables import ACT, BIAS, PRE, WEIGHT, Var, layer_input
from symbprop.symbolic.indexing import index_values, instantiate
from symbprop.symbolic.ir import EqnRole
from symbprop.symbolic.rules import local_partial

#: Per-neuron equations while every layer has at most this many neurons and inputs.
SMALL = 4
#: The number of outputs, in the mean of ``mse``.
N_L = sympy.Symbol("n_L")


class NetView:
    """Named access to a network derivation: bases by name, equations by layer."""

    def __init__(self, d) -> None:
        self.d = d
        self.net = d.model
        self.L = len(self.net.layers)
        self.sizes = self.net.sizes
        self.z = {e.layer: e for e in d.program.eqns if e.role is EqnRole.PRE}
        self.a = {e.layer: e for e in d.program.eqns if e.role is EqnRole.ACT}
        self.loss = d.program.eqns[-1]

    def base(self, name: str):
        return self.d.base(name)

    def variable(self, role, layer: int | None = None):
        """The IR variable (or δ) of ``role`` in ``layer``: ``Derivation.variable``."""
        return self.d.variable(role, layer)

    def bias(self, layer: int):
        """The bias variable of ``layer`` (IndexedBase, or Symbol if shared), None without one."""
        return None if self.net.layers[layer - 1].bias == "none" else self.variable(BIAS, layer)

    def previous(self, layer: int) -> Var:
        """The input of ``layer``: ``x`` for layer 1, else ``a<layer-1>``."""
        return layer_input(layer)

    def index(self, name: str, layer: int) -> Idx:
        return Idx(name, self.sizes[layer])

    @property
    def small(self) -> bool:
        return max(self.sizes) <= SMALL

    def activation(self, layer: int):
        return self.net.layers[layer - 1].activation


# ---------------------------------------------------------------- 1. the network


def overview(v: NetView, s, draw: bool) -> dict:
    net = v.net
    rows = [["0 (input)", str(v.sizes[0]), "", "", "", "0"]]
    shapes = net.param_shapes
    for layer, spec in enumerate(net.layers, 1):
        count = v.sizes[layer] * v.sizes[layer - 1] + (
            v.sizes[layer] if spec.bias == "per_neuron" else int(spec.bias == "shared"))
        rows.append([s.layer(layer), str(spec.units), _activation_name(s, spec.activation),
                     _shape(s, shapes[Var(WEIGHT, layer).name]), s.code(spec.bias), str(count)])
    header = ["layer", "neurons", "activation", "weights", "bias", "parameters"]
    j, k = v.index("j", 1), v.index("k", 0)
    generic = {n: IndexedBase(n) for n in ("w^l", "b^l", "z^l", "a^l", "a^l-1", "delta^l")}
    blocks = [
        para(f"Network {s.code(net.name)}: {_count(v.L, 'dense layer')} on "
             f"{_count(v.sizes[0], 'input')}, "
             f"{_count(net.param_count, 'parameter')} in all.  Notation (Nielsen): "
             f"{s.m(generic['w^l'][j, k])} is the weight from neuron {s.m(k)} of layer "
             f"{s.m(sympy.Symbol('l') - 1)} to neuron {s.m(j)} of layer {s.m(sympy.Symbol('l'))}, "
             f"{s.m(generic['b^l'][j])} the bias, {s.m(generic['z^l'][j])} the weighted input and "
             f"{s.m(generic['a^l'][j])} the activation of neuron {s.m(j)} of layer "
             f"{s.m(sympy.Symbol('l'))}; layer 0 is the input, {s.m(v.base('x'))}.  Indices "
             f"start at 0.{_numbered_from_output(v, s)}"),
        table(header, rows, "rrlrlr"),
        para(f"Loss per sample: {s.code(net.loss.name if not net.loss.is_custom else 'custom')}, "
             f"{s.meq(sympy.Symbol('C'), loss_form(v))}{_mean_over(v, s)}; over a batch the "
             f"losses are reduced by {s.code(net.reduction)}."),
    ]
    if draw:
        blocks.append(figure(tikz.network_picture(v.d, s), _caption(v, s)))
    return section("The network", blocks)


def _numbered_from_output(v: NetView, s) -> str:
    """The sentence on seed 004's layer numbers, where the spec asks for them."""
    if s.top_layer is None:
        return ""
    L = sympy.Symbol("L")
    before = ", ".join(s.layer(layer) for layer in range(v.L - 1, 0, -1))
    before = f", the layers before it {before}" if before else ""
    example = (f"so {s.m(v.variable(WEIGHT, v.L - 1)[0, 0])} is the weight into the layer before "
               f"the output" if v.L > 1 else f"so {s.m(v.variable(WEIGHT, v.L)[0, 0])} is a weight "
               "of the output layer")
    return (f"  Layers are numbered from the output, as seed 004 does: the output layer is "
            f"{s.m(L)} ({s.meq(L, v.L)} here){before}; their "
            f"superscripts are written in parentheses, {example}.")


def _count(count: int, noun: str) -> str:
    """``1 input``, ``2 inputs``."""
    return f"{count} {noun}" + ("" if count == 1 else "s")


def _caption(v: NetView, s) -> str:
    if max(v.sizes) > tikz.MAX_NEURONS:
        return "The network, one block per layer (layers are too wide to draw every neuron)."
    return (f"The network: every neuron, weights labelled (biases not drawn), and the loss "
            f"{s.m(sympy.Symbol('C'))}.")


def _activation_name(s, activation) -> str:
    if activation.is_custom:
        return s.m(activation.expr)
    return s.code(activation.name)


def _shape(s, shape: tuple) -> str:
    return s.inline(f"{shape[0]} {s.note('times')} {shape[1]}")


# ---------------------------------------------------------------- 2. forward pass


def forward(v: NetView, s) -> dict:
    lines = []
    for layer in range(1, v.L + 1):
        lines += [eq(s, v.z[layer].out, v.z[layer].expr), eq(s, v.a[layer].out, v.a[layer].expr)]
    blocks = [para("The forward pass computes, layer by layer, the weighted input of every "
                   "neuron and its activation:"), math(lines)]
    if v.small:
        blocks += [para("Neuron by neuron:"), math(_per_neuron(v, s))]
    blocks += [para("In matrix form (one line per layer):"), math(_matrix_forms(v, s)),
               para(f"The loss compares the output with the target {s.m(v.base('y'))}"
                    f"{_mean_over(v, s)}:"),
               math([eq(s, v.loss.out, loss_form(v))])]
    reduction = v.net.reduction
    blocks.append(para(
        f"For a batch of samples the loss is reduced by {s.code(reduction)}, "
        f"{s.mnote(reduction)}, so {s.mnote(reduction + '_grad')}: backpropagation works on "
        f"the loss {s.m(sympy.Symbol('C'))} of one sample, and the gradients of the samples are "
        f"then {'averaged' if reduction == 'mean' else 'added'}."))
    return section("The forward pass", blocks)


def loss_form(v: NetView) -> sympy.Expr:
    """The loss per sample as printed: the derived expression, except ``mse``, written as the
    mean (1/n_L) Σ_j (a_j − y_j)² that it is (SymPy folds 1/n_L into the sum, or drops it)."""
    if v.net.loss.name != "mse" or v.net.loss.is_custom:
        return v.loss.expr
    (total,) = v.loss.expr.atoms(sympy.Sum)
    return Mean(N_L, total)


def _mean_over(v: NetView, s) -> str:
    """", the mean over the n_L = 2 outputs" for ``mse``, else ""."""
    if v.net.loss.name != "mse" or v.net.loss.is_custom:
        return ""
    n = v.sizes[-1]
    return f", the mean over the {s.meq(N_L, n)} output{'s' if n > 1 else ''}"


def eq(s, lhs, rhs, rel: str = "=") -> tuple[str, str, str]:
    """One line of display math: printed lhs, relation, printed rhs."""
    return s.expr(lhs), rel, s.expr(rhs)


def _per_neuron(v: NetView, s) -> list:
    lines = []
    for layer in range(1, v.L + 1):
        for eqn in (v.z[layer], v.a[layer]):
            (j,) = eqn.indices
            for (value,) in index_values(eqn.indices):
                subs = {j: value}
                lines.append(eq(s, instantiate(eqn.out, subs), instantiate(eqn.expr, subs)))
    return lines


def _matrix_forms(v: NetView, s) -> list:
    lines = []
    for layer in range(1, v.L + 1):
        n, m = v.sizes[layer], v.sizes[layer - 1]
        weighted = matrix(Var(WEIGHT, layer), n, m) * vector(v.previous(layer), m)
        if v.net.layers[layer - 1].bias != "none":
            weighted = weighted + vector(Var(BIAS, layer), n)
        z, a = vector(Var(PRE, layer), n), vector(Var(ACT, layer), n)
        activation = v.activation(layer)
        applied = z if activation.name == "identity" else Elementwise(
            "custom" if activation.is_custom else activation.name, z)
        lines += [(s.expr(z), "=", s.expr(weighted)), (s.expr(a), "=", s.expr(applied))]
    return lines


# ---------------------------------------------------------------- 3. local derivatives


def local(v: NetView, s) -> dict:
    blocks = [para("Backpropagation needs only local derivatives: how each quantity changes with "
                   "the quantities it is computed from directly.  First the forward-pass "
                   "partials: the derivative of a weighted input with respect to a weight is "
                   f"{s.emph('the value of the input connected by the weight')}, and with "
                   "respect to a bias it is 1.")]
    lines = []
    for layer in range(1, v.L + 1):
        lines += _z_partials(v, s, layer)
    blocks += [math(lines), para("Then the activations (the slope of each activation function "
                                 "at its weighted input), in the textbook form and written with "
                                 "the activation itself:")]
    lines = []
    for layer in range(1, v.L + 1):
        lines += _a_partials(v, s, layer)
    blocks.append(math(lines))
    blocks += _activation_notes(v, s)
    out = v.variable(ACT, v.L)
    j = v.z[v.L].indices[0]
    blocks += [para(f"Finally the loss, for output neuron {s.m(j)}:"),
               math([eq(s, Partial(sympy.Symbol("C"), out[j]), v.d.adjoints[out].expr)])]
    return section("Local derivatives", blocks)


def _z_partials(v: NetView, s, layer: int) -> list:
    eqn = v.z[layer]
    (j,) = eqn.indices
    k = Idx("k", v.sizes[layer - 1])
    weights, out = v.variable(WEIGHT, layer), eqn.out
    targets = [(weights[j, k], weights)]
    bias = v.bias(layer)
    if bias is not None:
        targets.append((bias[j] if isinstance(bias, IndexedBase) else bias, bias))
    if layer > 1:
        targets.append((v.variable(ACT, layer - 1)[k], None))
    return [eq(s, Partial(out, target), _textbook_partial(eqn, target)) for target, _ in targets]


def _textbook_partial(eqn, target) -> sympy.Expr:
    """∂out/∂target in the equation's own free indices (j, k), Kronecker deltas collapsed."""
    if not isinstance(target, sympy.Indexed):
        return local_partial(eqn.out, eqn.expr, target)
    fresh = tuple(Idx(f"q{n}", (0, idx.upper)) for n, idx in enumerate(target.indices))
    result = local_partial(eqn.out, eqn.expr, target.base[fresh])
    return result.xreplace(dict(zip(fresh, target.indices, strict=True)))


def _a_partials(v: NetView, s, layer: int) -> list:
    eqn = v.a[layer]
    (j,) = eqn.indices
    z = v.variable(PRE, layer)
    if v.activation(layer).is_softmax:
        p = Idx("p", v.sizes[layer])
        return [eq(s, Partial(eqn.out, z[p]), local_partial(eqn.out, eqn.expr, z[p]))]
    textbook = local_partial(eqn.out, eqn.expr, z[j], output_form=False)
    output = local_partial(eqn.out, eqn.expr, z[j])
    lines = [eq(s, Partial(eqn.out, z[j]), textbook)]
    if output != textbook:
        lines.append(("", "=", s.expr(output)))
    return lines


def _activation_notes(v: NetView, s) -> list:
    names = {v.activation(layer).name for layer in range(1, v.L + 1)}
    notes = [para(f"These slopes are numbers during the backward pass: {s.m(sympy.Symbol('z'))} "
                  "is already known from the forward pass.")]
    if names & {"relu"}:
        notes.append(para(f"The derivative of relu is the step at 0; at the kink it is taken "
                          f"as 0, {s.mnote('relu_zero')}."))
    if "softmax" in names:
        notes.append(para("Softmax couples the neurons of its layer: every output depends on "
                          "every weighted input, so its Jacobian is dense (diagonal minus "
                          "an outer product), not elementwise."))
    return notes
