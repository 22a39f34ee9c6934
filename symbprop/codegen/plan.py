"""What both network lowerings read from a ``Derivation``: layers, stable loss, comments.

``network_plan(d)`` pairs each layer's forward equations (z^l, a^l, from ``d.program``) with its
adjoints (δ^l, ∂C/∂W^l, ∂C/∂b^l, from ``d.adjoints``), in layer order; lowerings never
differentiate, they print what the derivation says.

``stable_loss(expr, plan)`` is the one numeric rewrite of the loss *value*: with a sigmoid output,
``log(a)`` -> ``-softplus(-z)`` and ``log(1 - a)`` -> ``-softplus(z)``; with a softmax output,
``log(a_j)`` -> ``z_j - lse`` (``lse`` = log Σ exp z, computed max-shifted), and a term
``y_j log(a_j)`` -> ``ylogsoftmax(y_j, z_j, lse)``, finite where z_j − lse overflows (z = ±1e308)
and 0 for y_j = 0 rather than 0·(−inf) = NaN; then the rewrites of
``symbprop.symbolic.stabilize`` (a custom loss written with log(sigmoid(a)), log(1 + exp(a)), ...).
The gradients need no rewrite: the derivation already fuses softmax + cross-entropy and sigmoid +
BCE to δ = a − y.

The comment helpers write the equations in the notation of the documents (``z¹ = W¹ x + b¹``);
a custom formula appears as SymPy prints its parsed expression (``formula_text``), never as typed.
"""

from __future__ import annotations

from dataclasses import dataclass

import sympy
from sympy import Indexed, log

import symbprop.functions.registry as registry
from symbprop.codegen.printer import ylogsoftmax
from symbprop.functions.activations import Activation
from symbprop.functions.losses import variables as loss_variables
from symbprop.functions.sympy_classes import softplus
from symbprop.spec.variables import ACT, BIAS, INPUT, PRE, WEIGHT, Var, marked
from symbprop.symbolic.ir import Eqn, EqnRole
from symbprop.symbolic.stabilize import stable_form
from symbprop.symbolic.sweep import Adjoint

SUPERSCRIPT = str.maketrans("0123456789", "⁰¹²³⁴⁵⁶⁷⁸⁹")


@dataclass(frozen=True)
class LayerPlan:
    """Layer ``number`` (1-based): its forward equations and the adjoints differentiating them."""

    number: int
    n_in: int
    n_out: int
    activation: Activation
    bias: str  # "per_neuron", "shared" or "none"
    z: Eqn
    a: Eqn
    delta: Adjoint  # δ^l = ∂C/∂z^l (symbol delta<l>)
    grad_w: Adjoint  # ∂C/∂W^l in terms of δ^l
    grad_b: Adjoint | None  # ∂C/∂b^l, None without a bias
    is_output: bool = False


@dataclass(frozen=True)
class NetworkPlan:
    layers: tuple[LayerPlan, ...]
    loss: Eqn  # C = scale · Σ_j ℓ(a^L_j, y_j)
    loss_name: str
    reduction: str
    sizes: tuple[int, ...]

    @property
    def output(self) -> LayerPlan:
        return self.layers[-1]


def network_plan(d) -> NetworkPlan:
    """The layers of ``d.model`` with their equations and adjoints, in order."""
    net, prog = d.model, d.program
    by_role = {(e.role, e.layer): e for e in prog.eqns}
    layers = []
    for number, layer in enumerate(net.layers, 1):
        z_eqn, a_eqn = by_role[(EqnRole.PRE, number)], by_role[(EqnRole.ACT, number)]
        bias = d.variable(BIAS, number) if layer.bias != "none" else None
        layers.append(LayerPlan(
            number, net.sizes[number - 1], net.sizes[number], layer.activation, layer.bias,
            z_eqn, a_eqn, d.adjoints[z_eqn.base], d.adjoints[d.variable(WEIGHT, number)],
            d.adjoints[bias] if bias is not None else None, number == len(net.layers),
        ))
    return NetworkPlan(tuple(layers), prog.eqns[-1], net.loss.name, net.reduction, net.sizes)




# -------------------------------------------------------------------- numerics


def lse_symbol(layer: int) -> sympy.Symbol:
    """log Σ_m exp(z^L_m) of a softmax output layer (a named per-sample quantity)."""
    return sympy.Symbol(f"lse{layer}")


def stable_loss(expr: sympy.Expr, plan: NetworkPlan) -> sympy.Expr:
    """``expr`` with log(a^L) written through z^L so that it is finite for |z| up to 1e3."""
    out = plan.output
    a_base, z_base = out.a.out.base, out.z.out.base
    name = out.activation.name

    def is_log_of(e, sign):
        if not isinstance(e, log):
            return None
        inner = e.args[0] if sign > 0 else 1 - e.args[0]
        return inner if isinstance(inner, Indexed) and inner.base == a_base else None

    def rewrite(e):
        element = is_log_of(e, +1)
        if element is not None:
            z = z_base[element.indices]
            return z - lse_symbol(out.number) if name == "softmax" else -softplus(-z)
        z = z_base[is_log_of(e, -1).indices]
        return -softplus(z)

    if name == "sigmoid":
        expr = expr.replace(lambda e: bool(is_log_of(e, 1) or is_log_of(e, -1)), rewrite)
    elif name == "softmax":
        expr = _softmax_terms(expr, is_log_of, z_base, lse_symbol(out.number))
    return stable_form(expr)  # a custom loss typed as log(sigmoid(a)), log(1 + exp(a)), ...


def _softmax_terms(expr, is_log_of, z_base, lse: sympy.Symbol) -> sympy.Expr:
    """``c·log(a_j)`` -> ``ylogsoftmax(c, z_j, lse)`` (finite where z_j − lse overflows), any
    other ``log(a_j)`` -> ``z_j − lse``."""
    def product(e):
        if not isinstance(e, sympy.Mul):
            return False
        logs = [f for f in e.args if is_log_of(f, 1)]
        return len(logs) == 1 and not (e / logs[0]).has(*logs)

    def fused(e):
        log_a = next(f for f in e.args if is_log_of(f, 1))
        z = z_base[is_log_of(log_a, 1).indices]
        coefficient = e / log_a
        if coefficient.could_extract_minus_sign():
            return -ylogsoftmax(-coefficient, z, lse)
        return ylogsoftmax(coefficient, z, lse)

    expr = expr.replace(product, fused)
    return expr.replace(lambda e: bool(is_log_of(e, 1)),
                        lambda e: z_base[is_log_of(e, 1).indices] - lse)


# -------------------------------------------------------------------- comments


def formula_text(expr: sympy.Expr) -> str:
    """A parsed formula as one line of text for a comment or docstring: printed by SymPy from
    the expression, never the spec's text (which may hold ``#``, quotes, backslashes or line
    breaks that the parser skipped); ``emit.checked`` is the second wall."""
    return sympy.sstr(expr)


def sup(number: int) -> str:
    return str(number).translate(SUPERSCRIPT)


def activation_text(activation: Activation) -> str:
    """σ, tanh, relu, ..., or the custom formula's name ``f``."""
    if activation.is_custom:
        return "f"
    return registry.symbol(activation.name)


#: Superscripts of layer l, l − 1 and l + 1 in the comments of a loop over layers.
GENERIC = ("ˡ", "ˡ⁻¹", "ˡ⁺¹")


def marks(number: int, generic: bool = False) -> tuple[str, str, str]:
    """The superscripts of layers ``number``, ``number`` − 1 and ``number`` + 1 (``²``, ``¹``,
    ``³``), or l, l − 1 and l + 1 for a loop over layers (``generic``)."""
    return GENERIC if generic else (sup(number), sup(number - 1), sup(number + 1))


def previous(number: int, generic: bool = False) -> str:
    if number == 1 and not generic:
        return Var(INPUT).name
    return marked(ACT, marks(number, generic)[1])


def z_text(layer: LayerPlan, generic: bool = False, shift: int = 0) -> str:
    """``z² = W² a¹ + b²``; ``generic``: ``zˡ = Wˡ aˡ⁻¹ + bˡ``, or with ``shift`` 1 (the layer
    above a loop's layer l) ``zˡ⁺¹ = Wˡ⁺¹ aˡ + bˡ⁺¹``."""
    l_, prev, above = marks(layer.number, generic)
    if generic and shift:
        l_, prev = above, GENERIC[0]
    bias = "" if layer.bias == "none" else f" + {marked(BIAS, l_)}"
    source = Var(INPUT).name if layer.number == 1 and not generic else marked(ACT, prev)
    return f"{marked(PRE, l_)} = {marked(WEIGHT, l_)} {source}{bias}"


def a_text(layer: LayerPlan, generic: bool = False) -> str:
    l_ = marks(layer.number, generic)[0]
    if layer.activation.name == "identity":
        return f"{marked(ACT, l_)} = {marked(PRE, l_)}"
    text = f"{marked(ACT, l_)} = {activation_text(layer.activation)}({marked(PRE, l_)})"
    if layer.activation.is_custom:
        text += f", f(z) = {formula_text(layer.activation.expr)}"
    return text


def forward_comment(layer: LayerPlan) -> str:
    return f"# layer {layer.number}: {z_text(layer)},  {a_text(layer)}"


def loss_text(plan: NetworkPlan, formula: sympy.Expr | None = None) -> str:
    """The loss as an equation; ``formula`` is a custom loss's parsed expression."""
    L = sup(plan.output.number)
    record = registry.loss(plan.loss_name) if formula is None else None
    if record is not None and record.equation:
        return record.equation.format(L=L)
    if record is not None:  # a registered loss without an equation: its element term
        formula = record.element(*loss_variables())
    return f"C = Σ_j ℓ({marked(ACT, L)}_j, y_j),  ℓ(a, y) = {formula_text(formula)}"


def delta_comment(plan: NetworkPlan, layer: LayerPlan, formula: sympy.Expr | None = None,
                  generic: bool = False) -> str:
    """The equation δ^l comes from (BP1 for the output layer, BP2 otherwise); ``generic``: for
    layer l of a loop over hidden layers like ``layer``."""
    l_ = marks(layer.number, generic)[0]
    if layer.is_output:
        record = registry.loss(plan.loss_name) if formula is None else None
        if record is not None and record.fused:
            what = f"δ{l_} = {marked(ACT, l_)} − y ({record.fused})"
        elif layer.activation.name == "identity":
            what = f"δ{l_} = ∂C/∂{marked(ACT, l_)}"
        else:
            what = (f"δ{l_} = ∂C/∂{marked(ACT, l_)} ⊙ {activation_text(layer.activation)}'"
                    f"({marked(PRE, l_)})")
        return f"# {what}   from  {loss_text(plan, formula)},  {a_text(layer)}"
    nxt = plan.layers[layer.number]
    n_ = marks(layer.number, generic)[2]
    above = z_text(layer, True, 1) if generic else z_text(nxt)
    return (f"# δ{l_} = {activation_text(layer.activation)}'({marked(PRE, l_)}) ⊙ "
            f"({marked(WEIGHT, n_)}ᵀ δ{n_})   "
            f"from  {a_text(layer, generic)},  {above}")


def grad_comment(layer: LayerPlan, generic: bool = False) -> str:
    """The equation ∂C/∂W^l and ∂C/∂b^l come from (BP3, BP4); ``generic``: for layer l."""
    l_ = marks(layer.number, generic)[0]
    prev = previous(layer.number, generic)
    prev = prev if prev == "x" else f"({prev})"
    parts = [f"∂C/∂{marked(WEIGHT, l_)} = δ{l_} {prev}ᵀ"]
    if layer.bias == "per_neuron":
        parts.append(f"∂C/∂{marked(BIAS, l_)} = δ{l_}")
    elif layer.bias == "shared":
        parts.append(f"∂C/∂{marked(BIAS, l_)} = Σ_j δ{l_}_j")
    return f"# {',  '.join(parts)}   from  {z_text(layer, generic)}"


def describe(net) -> str:
    """One line: ``2-2-1 network (sigmoid, identity; half_sse, mean)``."""
    sizes = "-".join(str(n) for n in net.sizes)
    acts = ", ".join(layer.activation.name for layer in net.layers)
    loss = net.loss.name if not net.loss.is_custom else f"custom loss {formula_text(net.loss.expr)}"
    return f"{sizes} network ({acts}; {loss}, {net.reduction} over the batch)"
