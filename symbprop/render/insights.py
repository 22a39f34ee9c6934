"""Insights computed for this model (seed 001's questions, seed 002's remarks, seed 003's
Jacobians): the dimension of the gradient, how many local derivatives backprop evaluates, the
chain length per layer, saturated neurons at the point, backprop versus finite differences, and
how the error's size changes layer by layer (``gradient_flow``); the Jacobians are taught in
``rules_doc``.  Counts come from the layer sizes,
never from enumerating weights, so they cost nothing for a 784-128-10 net.
"""

from __future__ import annotations

import math

import sympy

import symbprop.render.numbers as numbers
from symbprop.render.blocks import items, para, section, table
from symbprop.render.gradient_flow import flow_blocks
from symbprop.render.notation import Gradient, Partial, Slope, slope, vector
from symbprop.spec.variables import ACT
from symbprop.symbolic.paths import longest_path

SATURATED = 0.01


def local_partial_count(net) -> int:
    """Local derivatives on all chain-rule paths: one per edge of the scalar graph."""
    sizes = net.sizes
    total = sizes[-1]  # ∂C/∂a^L_j
    for layer, spec in enumerate(net.layers, 1):
        n, m = sizes[layer], sizes[layer - 1]
        total += n * m + (n if spec.bias != "none" else 0)  # ∂z/∂w, ∂z/∂b
        total += n * m if layer > 1 else 0  # ∂z^l/∂a^{l-1}
        total += n * n if spec.activation.is_softmax else n  # ∂a/∂z
    return total


def chain_shape(net, layer: int) -> tuple[int, int]:
    """(factors on one path, number of paths) from the loss to a weight of ``layer``."""
    L = len(net.layers)
    paths = math.prod(net.sizes[layer + 1:])
    if net.layers[-1].activation.is_softmax:
        paths *= net.sizes[-1]
    return 2 * (L - layer) + 3, paths


def network_insights(v, s, pt) -> dict:
    net = v.net
    P = net.param_count
    count = local_partial_count(net)
    blocks = [items([
        f"The gradient has {_plural(P, 'component')}, one per weight and bias: that is the "
        "dimension of "
        f"{s.m(Gradient(sympy.Symbol('L'), vector('theta', P)))}.",
        f"Backpropagation evaluates {count} local partial derivatives (one per edge of the "
        "network, including the loss and the activations) and reuses each of them for every "
        "gradient whose path crosses it.",
        f"Cost: backpropagation needs 1 forward and 1 backward pass for all {P} gradients; "
        f"finite differences need {P + 1} forward passes (one per parameter, plus one), or "
        f"{2 * P} for central differences.  One forward pass here is "
        f"{sum(a * b for a, b in zip(net.sizes, net.sizes[1:], strict=False))} multiply-adds.",
    ])]
    header = ["layer", "factors per path", "paths per weight"]
    shapes = [chain_shape(net, layer) for layer in range(1, v.L + 1)]
    rows = [[s.layer(layer), *map(str, shape)] for layer, shape in enumerate(shapes, 1)]
    blocks += [para(_chain_sentence([paths for _, paths in shapes])),
               table(header, rows, "rrr")]
    if pt is not None:
        blocks.append(_saturation(v, s, pt))
        blocks += flow_blocks(v, s, pt)
    return section("Insights", blocks)


def _chain_sentence(paths: list[int]) -> str:
    """Chain length per layer in words that fit the table: more paths closer to the input only
    where the path counts (layer 1 first) say so."""
    start = "Chain length: a weight closer to the input has a longer chain of local derivatives"
    if len(paths) == 1:
        return "Chain length: the chain of local derivatives from the loss to a weight:"
    if all(a > b for a, b in zip(paths, paths[1:], strict=False)):
        return f"{start}, and more paths to the loss:"
    if len(set(paths)) == 1:
        one = "a single path" if paths[0] == 1 else f"the same {paths[0]} paths"
        return f"{start}; here every weight has {one} to the loss:"
    return f"{start}, and at least as many paths to the loss:"


def _saturation(v, s, pt) -> dict:
    """Neurons whose slope is below ``SATURATED``, named with each layer's own derivative."""
    slopes = numbers.activation_slopes(v.d, pt)
    flat = [(layer, j, slope_) for layer, j, slope_ in slopes if abs(slope_) < SATURATED]
    if not flat:
        condition = small_slope(v, s, range(1, v.L + 1))
        aside = (f"  (A saturated neuron, {condition}, multiplies its error by that small slope "
                 "(BP1, BP2), so the weights into it learn slowly.)" if condition else "")
        return para(f"No neuron is saturated at this point: every slope "
                    f"{s.m(Partial(sympy.Symbol('a'), sympy.Symbol('z')))} is at least "
                    f"{SATURATED}.{aside}")
    listed = ", ".join(s.m(v.variable(ACT, layer)[j]) for layer, j, _ in flat[:12])
    more = f" and {len(flat) - 12} more" if len(flat) > 12 else ""
    dead = "; a slope of 0 passes no gradient at all" if any(x == 0 for *_, x in flat) else ""
    condition = small_slope(v, s, sorted({layer for layer, _, _ in flat}))
    return para(f"Saturated neurons at this point ({condition}): {listed}{more}.  Their errors "
                "are multiplied by that small slope (BP1, BP2), so the weights into them learn "
                f"slowly{dead}.")


def small_slope(v, s, layers) -> str:
    """"σ′(z) < 0.01" for the activations of ``layers``, each by its own derivative's name,
    joined by "or"; "" if none can saturate (identity layers only)."""
    z, shown = sympy.Symbol("z"), []
    for layer in layers:
        activation = v.activation(layer)
        if activation.name == "identity" and not activation.is_custom:
            continue
        slope_ = Partial(sympy.Symbol("a"), z) if activation.is_softmax else Slope(
            slope(activation), z)
        condition = s.m(sympy.StrictLessThan(slope_, sympy.Float(SATURATED)))
        if condition not in shown:
            shown.append(condition)
    return " or ".join(shown)



def graph_insights(d, s, edges: int) -> dict:
    P = len(d.params)
    longest = max((longest_path(d, d.element(name)) for name in d.params), default=0)
    return section("Insights", [items([
        f"The gradient has {_plural(P, 'component')}, one per variable.",
        f"Backpropagation evaluates {edges} local partial derivatives, one per edge of the "
        "graph, each once.",
        f"The longest chain has {_plural(longest, 'factor')}.",
        f"Cost: 1 forward and 1 backward pass for the whole gradient, against {P + 1} "
        f"evaluations of the function for finite differences ({2 * P} for central ones).",
    ])])


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}" + ("" if count == 1 else "s")
