"""Seed 002 (Nielsen's backpropagation, Yale CPSC 663) taught by the bundled
``examples:saturated`` (a chain of sigmoid neurons whose first neuron is saturated, z¹ = 6):
each of the seed's points is found in the document, its numbers parsed back and compared with
central differences of a NumPy forward pass written here from the spec (three sigmoid layers,
C = Σⱼ (a³ⱼ - yⱼ)²).

The seed's points, in its order, and where each is checked:

1. wˡⱼₖ from neuron k of layer l - 1 to neuron j of layer l; aˡ = σ(wˡ aˡ⁻¹ + bˡ) = σ(zˡ): here.
2. Vectorising a function, σ(v)ⱼ = σ(vⱼ), and ⊙: the instance here; the example (1, 2) ⊙ (3, 4)
   in ``test_rules_doc.test_network_rules_statements``.
3. The cost as an average of the samples' costs, backpropagation on one sample: the statement
   here; the numbers in
   ``test_document_wording.test_a_batch_gradient_is_the_mean_of_the_samples_ones``.
4. Tracking a change along every path, ΔC ≈ ∂C/∂w Δw: here, the path product of the first weight.
5. δ as the error, ΔC ≈ δ Δz (large |δ|: the cost can be lowered a lot): here, to first order.
6. BP1-BP4 and the algorithm in five steps: here, with BP3 and BP4's numbers.
7. Saturation: σ'(z) ≈ 0 makes the weights into the neuron learn slowly: here, with the slope
   and the gradients; the sentence naming a¹₀ in
   ``test_gradient_flow.test_saturated_example_shows_a_saturated_neuron``, the shrinking ‖δˡ‖
   in ``test_gradient_flow.test_layer_norms_match_central_differences``.
8. Is backpropagation fast: one forward and one backward pass against P + 1 forward passes of
   finite differences: here.
"""

from __future__ import annotations

import math

import pytest

import symbprop as sp
from tests.oracle import central_difference

NAME = "saturated"
H = 1e-6
X, Y = 1.0, 0.0
POINT = {"W1": 6.0, "b1": 0.0, "W2": 1.5, "b2": 0.0, "W3": 1.5, "b3": 0.0}
SHOWN = {"W1": "w¹₀₀", "b1": "b¹₀", "W2": "w²₀₀", "b2": "b²₀", "W3": "w³₀₀", "b3": "b³₀"}


def sigma(z):
    return 1 / (1 + math.exp(-z))


def forward(p):
    """[(z¹, a¹), (z², a²), (z³, a³)] of the chain at ``p``."""
    a, out = X, []
    for layer in (1, 2, 3):
        z = p[f"W{layer}"] * a + p[f"b{layer}"]
        a = sigma(z)
        out.append((z, a))
    return out


def cost(p):
    return (forward(p)[-1][1] - Y) ** 2


def central(p, name, h=H):
    return central_difference(cost, p, name, h=h)


@pytest.fixture(scope="module")
def doc():
    return sp.derive(sp.load(f"examples:{NAME}")).to_text(f"examples:{NAME}")


def _flat(doc):
    return " ".join(doc.split())


def _neurons(doc):
    """{layer: (z, a, ∂a/∂z, δ)} of the worked example's table (one neuron per layer)."""
    block = doc[doc.index("layer  neuron "):].split("\n\n")[0].splitlines()[2:]
    return {int(r.split()[0]): tuple(float(v) for v in r.split()[2:]) for r in block}


def _gradients(doc):
    rows = doc[doc.index("parameter    θ"):].split("\n\n")[0].splitlines()[2:]
    return {r.split()[0]: float(r.split()[2]) for r in rows}


# ---------------------------------------------------------------- 1-3. notation, vectors, cost


def test_notation_and_the_matrix_form(doc):
    flat = _flat(doc)
    assert ("wˡⱼₖ is the weight from neuron k of layer l - 1 to neuron j of layer l, bˡⱼ the bias, "
            "zˡⱼ the weighted input and aˡⱼ the activation of neuron j of layer l") in flat
    for line in ("z¹ = W¹·x + b¹", "a¹ = σ(z¹)", "z³ = W³·a² + b³", "a³ = σ(z³)",
                 "z²ⱼ = b²ⱼ + Σₖ w²ⱼₖ·a¹ₖ", "a²ⱼ = σ(z²ⱼ)"):
        assert line in doc, line
    table = _neurons(doc)
    for layer, (z, a) in enumerate(forward(POINT), 1):
        assert table[layer][:2] == pytest.approx((z, a), rel=1e-5)


def test_vectorised_activation_and_the_cost_of_one_sample(doc):
    flat = _flat(doc)
    assert "σ(z¹) is the vector of the a¹ⱼ = σ(z¹ⱼ), one per neuron j of layer 1" in flat
    assert "C = Σⱼ (a³ⱼ - yⱼ)²" in doc
    assert ("L = (1/n) Σₓ Cₓ, so ∂L/∂w = (1/n) Σₓ ∂Cₓ/∂w: backpropagation works on the loss C of "
            "one sample") in flat
    loss = float(flat.split("The loss is C = ")[1].split()[0].rstrip("."))
    assert loss == pytest.approx(cost(POINT), rel=1e-5)


# ---------------------------------------------------------------- 4. tracking a change


def test_the_first_weights_change_travels_every_layer(doc):
    block = doc[doc.index("    ∂C/∂w¹₀₀ = ["):].split("\n\n")[0]
    flat = _flat(block)
    assert flat.startswith("∂C/∂w¹₀₀ = [∂C/∂a³₀] · [∂a³₀/∂z³₀] · [∂z³₀/∂a²₀] · [∂a²₀/∂z²₀] · "
                           "[∂z²₀/∂a¹₀] · [∂a¹₀/∂z¹₀] · [∂z¹₀/∂w¹₀₀]")
    numbers = flat.split(" = ")[3]
    factors = [float(v.strip(" []()")) for v in numbers.split(" · ")]
    (z1, a1), (z2, a2), (z3, a3) = forward(POINT)
    expected = [2 * (a3 - Y), a3 * (1 - a3), POINT["W3"], a2 * (1 - a2), POINT["W2"],
                a1 * (1 - a1), X]
    assert factors == pytest.approx(expected, rel=1e-5)
    assert math.prod(factors) == pytest.approx(central(POINT, "W1"), rel=1e-4)


# ---------------------------------------------------------------- 5. δ, the error


def test_delta_is_the_error_to_first_order(doc):
    flat = _flat(doc)
    assert ("The error of neuron j in layer l is δˡⱼ = ∂C/∂zˡⱼ: if the weighted input of the "
            "neuron changes by a little, Δzˡⱼ, the loss changes by about ΔC ≈ δˡⱼ Δzˡⱼ") in flat
    assert "a change of its input against the sign of δˡⱼ lowers the loss a lot" in flat
    assert "a δˡⱼ near zero means the neuron can hardly lower the loss" in flat
    table = _neurons(doc)
    dz = 1e-4  # a small change of zˡ: a change of the bias bˡ changes zˡ by as much
    for layer in (1, 2, 3):
        moved = dict(POINT)
        moved[f"b{layer}"] += dz
        delta_c = cost(moved) - cost(POINT)
        assert delta_c == pytest.approx(table[layer][3] * dz, rel=1e-3, abs=1e-12)


# ---------------------------------------------------------------- 6. BP1-BP4, the algorithm


def test_the_four_equations_and_their_numbers(doc):
    for line in ("δ³ = ∂C/∂a³ ⊙ σ′(z³)", "δ² = ((W³)ᵀ·δ³) ⊙ σ′(z²)", "δ¹ = ((W²)ᵀ·δ²) ⊙ σ′(z¹)",
                 "∂C/∂b¹ⱼ = δ¹ⱼ", "∂C/∂w¹ⱼₖ = xₖ·δ¹ⱼ", "∂C/∂w³ⱼₖ = a²ₖ·δ³ⱼ"):
        assert line in doc, line
    table, shown = _neurons(doc), _gradients(doc)
    for layer in (1, 2, 3):
        a_in = X if layer == 1 else table[layer - 1][1]
        delta = table[layer][3]
        assert shown[SHOWN[f"b{layer}"]] == pytest.approx(central(POINT, f"b{layer}"), rel=1e-5)
        assert delta == pytest.approx(central(POINT, f"b{layer}"), rel=1e-5)  # BP3
        assert shown[SHOWN[f"W{layer}"]] == pytest.approx(central(POINT, f"W{layer}"), rel=1e-5)
        assert a_in * delta == pytest.approx(central(POINT, f"W{layer}"), rel=2e-5)  # BP4
    flat = _flat(doc)
    for step in ("1. Input: set a⁰ = x.",
                 "2. Feedforward: for layers 1 to 3, compute the weighted inputs and activations.",
                 "3. Output error: compute δ³ (BP1).",
                 "4. Backpropagate the error: for layers 2 down to 1, compute δˡ from the next "
                 "layer's error (BP2).",
                 "5. Output: every gradient from the errors and the activations (BP3, BP4)."):
        assert step in flat, step


# ---------------------------------------------------------------- 7. saturation


def test_a_saturated_neuron_learns_slowly(doc):
    (z1, a1), _, _ = forward(POINT)
    slope = _neurons(doc)[1][2]
    assert slope == pytest.approx(a1 * (1 - a1), rel=1e-5) and slope < 0.01
    flat = _flat(doc)
    assert "Saturated neurons at this point (σ′(z) < 0.01): a¹₀." in flat
    assert "so the weights into them learn slowly" in flat
    shown = _gradients(doc)
    # the weight into the saturated neuron moves a hundred times less than the next layer's
    assert abs(shown["w¹₀₀"]) < abs(shown["w²₀₀"]) / 100
    assert shown["w¹₀₀"] == pytest.approx(central(POINT, "W1"), rel=1e-5)


# ---------------------------------------------------------------- 8. is backpropagation fast


def test_backpropagation_against_finite_differences_cost(doc):
    parameters = len(POINT)
    flat = _flat(doc)
    assert (f"backpropagation needs 1 forward and 1 backward pass for all {parameters} gradients; "
            f"finite differences need {parameters + 1} forward passes (one per parameter, plus "
            f"one), or {2 * parameters} for central differences") in flat
