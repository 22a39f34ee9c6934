"""Seed 000 (gradient descent and backpropagation, after Hung-yi Lee) taught by the bundled
``examples:two_two_one`` (Mazur's 2-2-1 net): each of the seed's points is found in the document,
its numbers parsed back and compared with central differences of a NumPy forward pass written
here from the spec (sigmoid hidden layer, identity output, C = 1/2 (y - a)^2).

The seed's points, in its order, and where each is checked:

1. θ = {w₁, w₂, …, b₁, b₂, …}, ∇L(θ) as a column, θ¹ = θ⁰ - η∇L(θ⁰), θ⁰ → θ¹ → θ² → …:
   the column and the update here; the worked step's numbers against central differences in
   ``test_documents.test_printed_gradients_are_evaluate_and_finite_differences``, the steps
   table against an independent NumPy descent in
   ``test_network_descent.test_the_documents_steps_table_is_an_independent_descent``.
2. The chain rule, case 1 and case 2: ``test_rules_doc.test_network_rules_statements`` (this
   example, every format).
3. L(θ) = Σₙ Cⁿ(θ) → ∂L/∂w = Σₙ ∂Cⁿ/∂w: here, with ``reduction: sum`` and two samples.
4. ∂C/∂w = ∂z/∂w · ∂C/∂z; the forward pass gives ∂z/∂w, "the value of the input connected by
   the weight": here, every weight's a·δ against central differences.
5. The backward pass: ∂C/∂z = σ'(z) ∂C/∂a, ∂C/∂a = Σ ∂z'/∂a ∂C/∂z' = σ'(z)[w₃ ∂C/∂z' + …],
   σ'(z) a constant because z is known from the forward pass; case 1 the output layer, case 2
   not: here, with the slopes and errors of the neuron table against the NumPy pass.
6. The reverse network, σ'(z) as an amplifier, ∂C/∂z from the output layer back:
   ``test_wide_documents.test_the_reverse_network_carries_the_errors_of_an_independent_oracle``
   and ``test_markdown_and_text_list_the_amplifiers`` (this example); BP1-BP4 as the summary
   here.
"""

from __future__ import annotations

import numpy as np
import pytest

import symbprop as sp
from tests.oracle import central_difference

NAME = "two_two_one"
H = 1e-6
X, Y, LR = np.array([0.05, 0.10]), np.array([0.01]), 0.5
POINT = {"W1": np.array([[0.15, 0.20], [0.25, 0.30]]), "b1": np.array([0.35, 0.35]),
         "W2": np.array([[0.40, 0.45]]), "b2": np.array([0.60])}


def forward(p, x=X):
    z1 = p["W1"] @ x + p["b1"]
    a1 = 1 / (1 + np.exp(-z1))
    z2 = p["W2"] @ a1 + p["b2"]
    return z1, a1, z2, z2  # identity output


def cost(p, x=X, y=Y):
    a2 = forward(p, x)[3]
    return 0.5 * float(np.sum((y - a2) ** 2))


def central(fun, p, name, index):
    return central_difference(fun, p, name, index, H)


@pytest.fixture(scope="module")
def d():
    return sp.derive(sp.load(f"examples:{NAME}"))


@pytest.fixture(scope="module")
def doc(d):
    return d.to_text(f"examples:{NAME}")


def _flat(doc):
    return " ".join(doc.split())


def _neuron_table(doc):
    """{(layer, neuron): (z, a, ∂a/∂z, δ)} read back from the worked example's table."""
    block = doc[doc.index("layer  neuron "):].split("\n\n")[0].splitlines()[2:]
    return {(int(r.split()[0]), int(r.split()[1])): tuple(float(v) for v in r.split()[2:])
            for r in block}


def _answer(doc, lhs):
    block = doc[doc.index(f"    {lhs} = ["):].split("\n\n")[0]
    return block.splitlines()


# ---------------------------------------------------------------- 1. gradient descent


@pytest.mark.parametrize("fmt", ["txt", "md", "tex"])
def test_the_update_with_the_gradient_as_a_column(d, fmt):
    doc = {"txt": d.to_text, "md": d.to_markdown, "tex": d.to_latex}[fmt](f"examples:{NAME}")
    if fmt == "txt":
        flat = _flat(doc)
        assert ("∇C(θ) = (∂C/∂w¹₀₀, ∂C/∂w¹₀₁, ∂C/∂w¹₁₀, ∂C/∂w¹₁₁, ∂C/∂b¹₀, ∂C/∂b¹₁, ∂C/∂w²₀₀, "
                "∂C/∂w²₀₁, ∂C/∂b²₀)ᵀ") in flat
        assert "θ⁽ᵏ⁺¹⁾ = θ⁽ᵏ⁾ - η∇C(θ⁽ᵏ⁾), to θ⁽²⁾, θ⁽³⁾, and so on" in flat
        assert "Collect the 9 parameters in one vector θ" in flat
    else:
        assert r"\nabla C(\theta) &= \begin{bmatrix}" in doc
        assert r"\theta^{(k+1)} = \theta^{(k)} - \eta \nabla C(\theta^{(k)})" in doc
        assert doc.count(r"\frac{\partial C}{\partial w^{1}_{00}}") >= 1


# ---------------------------------------------------------------- 3. L = Σₙ Cⁿ


def test_a_sum_of_the_samples_losses_has_the_sum_of_their_gradients():
    spec = sp.load(f"examples:{NAME}").spec | {"reduction": "sum"}
    xs, ys = [[0.05, 0.10], [0.9, -0.3]], [[0.01], [0.7]]
    values = {"X": xs, "Y": ys, "lr": LR,
              "params": {k: v.tolist() for k, v in POINT.items()}}
    doc = sp.derive(sp.load(spec)).to_text(values)
    flat = _flat(doc)
    assert "L = Σₙ Cⁿ" in flat and "∂L/∂w = Σₙ ∂Cⁿ/∂w" in flat

    def total(p):
        return sum(cost(p, np.array(x), np.array(y)) for x, y in zip(xs, ys, strict=True))

    rows = doc[doc.index("parameter     θ"):].split("\n\n")[0].splitlines()[2:]
    shown = {r.split()[0]: float(r.split()[2]) for r in rows}
    assert shown["w¹₀₁"] == pytest.approx(central(total, POINT, "W1", (0, 1)), rel=1e-5)
    assert shown["b²₀"] == pytest.approx(central(total, POINT, "b2", (0,)), rel=1e-5)
    assert shown["w²₀₀"] == pytest.approx(central(total, POINT, "W2", (0, 0)), rel=1e-5)


# ---------------------------------------------------------------- 4. ∂C/∂w = ∂z/∂w · ∂C/∂z


def test_dz_dw_is_the_input_connected_by_the_weight(doc):
    assert ("the derivative of a weighted input with respect to a weight is the value of the input "
            "connected by the weight") in _flat(doc)
    assert "∂z¹ⱼ/∂w¹ⱼₖ = xₖ" in doc and "∂z²ⱼ/∂w²ⱼₖ = a¹ₖ" in doc


@pytest.mark.parametrize("name, index, label, named", [
    ("W1", (0, 0), "w¹₀₀", "x₀·δ¹₀"), ("W1", (0, 1), "w¹₀₁", "x₁·δ¹₀"),
    ("W1", (1, 0), "w¹₁₀", "x₀·δ¹₁"), ("W1", (1, 1), "w¹₁₁", "x₁·δ¹₁"),
    ("W2", (0, 0), "w²₀₀", "a¹₀·δ²₀"), ("W2", (0, 1), "w²₀₁", "a¹₁·δ²₀"),
])
def test_every_weights_gradient_is_input_times_dc_dz(doc, name, index, label, named):
    lines = _answer(doc, f"∂C/∂{label}")
    assert lines[-2].split("=")[1].strip() == named
    table = _neuron_table(doc)
    layer, j, k = int(name[1]), index[0], index[1]
    a_in = X[k] if layer == 1 else table[(1, k)][1]
    delta = table[(layer, j)][3]
    bias = "b1" if layer == 1 else "b2"
    # ∂C/∂z = ∂C/∂b (∂z/∂b = 1), by central differences
    assert delta == pytest.approx(central(cost, POINT, bias, (j,)), rel=1e-5)
    expected = central(cost, POINT, name, index)
    assert a_in * delta == pytest.approx(expected, rel=2e-5)
    assert float(lines[-1].split("=")[1]) == pytest.approx(expected, rel=1e-5)


# ---------------------------------------------------------------- 5. the backward pass


def test_backward_pass_cases_and_the_constant_slope(doc):
    flat = _flat(doc)
    assert "Case 1, the output layer (layer 2): δ²ⱼ = ∂C/∂a²ⱼ · ∂a²ⱼ/∂z²ⱼ" in flat
    assert ("Case 2, a hidden layer (layer 1): neuron j feeds every neuron k of layer 2, so its "
            "error is a sum over the next layer: δ¹ⱼ = ∂a¹ⱼ/∂z¹ⱼ · (Σₖ ∂z²ₖ/∂a¹ⱼ · δ²ₖ) "
            "= (1 - a¹ⱼ)·a¹ⱼ·Σₖ w²ₖⱼ·δ²ₖ") in flat
    assert "These slopes are numbers during the backward pass: z is already known" in flat
    assert "∂z²ⱼ/∂a¹ₖ = w²ⱼₖ" in doc  # ∂z'/∂a = w₃ in the seed's picture
    z1, a1, z2, a2 = forward(POINT)
    table = _neuron_table(doc)
    for j in (0, 1):
        z, a, slope, delta = table[(1, j)]
        assert (z, a) == pytest.approx((z1[j], a1[j]), rel=1e-5)
        assert slope == pytest.approx(a1[j] * (1 - a1[j]), rel=1e-5)  # σ'(z), a number
        # ∂C/∂z = σ'(z) · w ∂C/∂z' (one neuron downstream here)
        assert delta == pytest.approx(slope * POINT["W2"][0, j] * table[(2, 0)][3], rel=2e-5)
    assert table[(2, 0)][3] == pytest.approx(float(a2[0] - Y[0]), rel=1e-5)  # case 1


# ---------------------------------------------------------------- BP1-BP4, the summary


def test_the_four_equations(doc):
    for line in ("δ² = ∂C/∂a²", "δ¹ = ((W²)ᵀ·δ²) ⊙ σ′(z¹)", "∂C/∂b¹ⱼ = δ¹ⱼ", "∂C/∂w¹ⱼₖ = xₖ·δ¹ⱼ",
                 "∂C/∂w²ⱼₖ = a¹ₖ·δ²ⱼ", "∂C/∂W² = δ²·(a¹)ᵀ"):
        assert line in doc, line
    flat = _flat(doc)
    assert "3. Output error: compute δ² (BP1)." in flat
    assert "4. Backpropagate the error: for layer 1, compute δˡ from the next layer's error" in flat
