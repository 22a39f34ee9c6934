"""What a document says must be true of its own numbers and unambiguous in its notation: gradient
descent that overflows or leaves the domain, local against whole derivatives in a graph, each
layer's own activation derivative, batch gradients, the mean of ``mse``, sentences that follow
their tables, kinks of relu, and the order of the factors of BP2 and BP4.
"""

from __future__ import annotations

import re

import pytest

import symbprop as sp
from symbprop import render
from symbprop.render.descent_doc import resolving_digits
from symbprop.render.pdf import overfull_boxes
from tests.documents import example_document
from tests.test_documents import OVERFULL_LIMIT_PT, _pdflatex, latex, needs_latex

E1 = {"name": "e1", "expression": "exp(x*y) * (x*y + sin(x))", "params": ["x", "y"]}
G1 = {"name": "g1", "graph": {"q": "x * y", "r": "q + x", "f": "q * r"}, "output": "f",
      "params": ["x", "y"]}
G1_AT = {"x": 3, "y": -2, "lr": 0.01}
ACT3 = {"name": "act3", "inputs": 2, "loss": "mse", "layers": [
    {"units": 2, "activation": "tanh"}, {"units": 2, "activation": "relu"},
    {"units": 1, "activation": "softplus"}]}
ACT3_AT = {"X": [[0.5, -1.0], [1.5, 0.2]], "Y": [[0.3], [1.2]], "lr": 0.3, "params": {
    "W1": [[0.2, -0.4], [0.7, 0.1]], "b1": [0.1, -0.2], "W2": [[0.5, -0.3], [-0.6, 0.8]],
    "b2": [0.05, 0.0], "W3": [[1.1, -0.7]], "b3": [0.2]}}
RELU = {"name": "r0", "inputs": 1, "loss": "half_sse", "layers": [
    {"units": 1, "activation": "relu"}, {"units": 1, "activation": "identity"}]}
RELU_AT = {"x": 1.0, "y": 2.0, "lr": 0.1,  # z¹₀ = 0.5·1 − 0.5 = 0: on the kink
           "params": {"W1": [[0.5]], "b1": [-0.5], "W2": [[1.0]], "b2": [0.0]}}
KINKED = {"name": "k", "expression": "abs(x)*y + relu(x)", "params": ["x", "y"]}
MSE2 = {"name": "mse2", "inputs": 1, "loss": "mse",
        "layers": [{"units": 2, "activation": "identity"}]}


def txt(spec, values=None) -> str:
    return render.to_text(sp.derive(sp.load(spec)), values)


def example(name: str, fmt: str = "txt") -> str:
    return example_document(name, True, fmt)


def flat(document: str) -> str:
    """The document with its line breaks undone, for sentences that wrap."""
    return re.sub(r"\s+", " ", document)


# ---------------------------------------------------------------- 1. descent never aborts


def test_a_larger_rate_that_overflows_is_reported_as_diverging():
    doc = txt(E1, {"x": 0.5, "y": 1.5, "lr": 0.1})  # the tenfold rate reaches -inf
    assert re.search(r"^ +1 {2}diverges: the step from k = 2 overflows the floating-point "
                     r"range at θ⁽³⁾$", doc, re.M)


def test_a_step_out_of_the_domain_is_reported_not_raised():
    doc = flat(txt({"expression": "log(x)", "params": ["x"]}, {"x": 0.5, "lr": 1.0}))
    assert "After the step f has no finite real value: the step leaves the domain" in doc
    assert ("With α = 1 gradient descent diverges: the step from k = 1 leaves the domain of f "
            "(at θ⁽²⁾).") in doc


# ---------------------------------------------------------------- 2. local and whole derivatives


def test_a_local_derivative_is_not_written_like_the_whole_one():
    doc = txt(G1, G1_AT)
    local = doc[doc.index("3. Local derivatives"):doc.index("4. The rules")]
    assert "∂(q·r)/∂q = r\n" in local and "∂(q + x)/∂x = 1\n" in local
    assert "∂f/∂q = r" not in doc and "∂f/∂r = q\n" in local  # r reaches f by one edge only
    assert "∂f/∂q always means the whole derivative of f" in flat(local)
    assert "∂f/∂q = ∂f/∂r · ∂r/∂q + ∂(q·r)/∂q\n" in doc
    assert "+ [∂(q·r)/∂q] · [∂q/∂x]\n" in doc  # the path q -> f of section 5
    assert "+ [∂f/∂q] ·" not in doc
    tex = render.to_latex(sp.derive(sp.load(G1)), G1_AT)
    assert r"\boxed{\frac{\partial \left(q r\right)}{\partial q}}" in tex


def test_generic_names_are_not_the_graphs_own():
    doc = example("one_node")  # seeded with seed 003's upstream ∂L/∂c = 2: every gradient ∂L/∂·
    assert "Compute ∂L/∂s for every variable s from the end backwards" in doc
    assert "= (8, 16, 28)" in flat(doc.split("Together, the gradient:")[1])
    assert "∂c/∂w" not in doc and "∂c/∂θ" not in doc
    assert "Compute ∂f/∂v for every variable v" in flat(example("staged"))


# ---------------------------------------------------------------- 3. each layer's derivative


def test_bp1_and_bp2_use_each_layers_own_derivative():
    doc = txt(ACT3)
    assert "δ³ = ∂C/∂a³ ⊙ softplus′(z³)\n" in doc
    assert "δ² = ((W³)ᵀ·δ³) ⊙ relu′(z²)\n" in doc and "δ¹ = ((W²)ᵀ·δ²) ⊙ tanh′(z¹)\n" in doc
    assert "σ′" not in doc
    assert "δ² = ∂C/∂a²\n" in document_of("two_two_one")  # identity: a′ = 1


def test_saturation_names_the_layers_derivative():
    assert "Saturated neurons at this point (relu′(z) < 0.01): a¹₀." in flat(txt(RELU, RELU_AT))


def document_of(name: str) -> str:
    return example_document(name, False, "txt")


# ---------------------------------------------------------------- 4. batch gradients


def test_a_batch_gradient_is_the_mean_of_the_samples_ones():
    doc = txt(ACT3, ACT3_AT)
    assert re.search(r"= x₀·δ¹₀\n    ∂L/∂w¹₀₀ = \(1/2\) Σₓ ∂Cₓ/∂w¹₀₀\n +=  ?-0\.0625869\n", doc)
    assert not re.search(r"= x₀·δ¹₀\n +=  ?-0\.06", doc)


# ---------------------------------------------------------------- 6. the mean of mse


def test_mse_reads_as_a_mean_over_the_outputs():
    doc = flat(txt(MSE2))
    assert "C = (1/n_L) Σⱼ (a¹ⱼ - yⱼ)², the mean over the n_L = 2 outputs;" in doc
    assert "the mean over the n_L = 1 output;" in flat(txt(ACT3))


# ---------------------------------------------------------------- 7. sentences and their tables


def test_insight_sentences_follow_their_tables():
    one = flat(txt(RELU, RELU_AT))
    assert "almost all of them zeros" not in one
    assert "none of them zeros with one neuron per layer" in one
    assert "here every weight has a single path to the loss" in one
    assert "and more paths to the loss" in flat(document_of("nielsen_232"))
    assert "almost all of them zeros" in flat(document_of("mnist_784_128_10"))
    assert "a fraction 1/n of them non-zero" in flat(document_of("two_two_one"))


# ---------------------------------------------------------------- 8. descent wording


def test_descent_counts_steps_as_the_table_does_and_names_what_diverged():
    doc = flat(example("staged"))
    assert ("With α = 0.1 gradient descent is still decreasing with no minimum in sight: at "
            "k = 96, after 95 steps, f = -1.08864e12 < -1e12; the function fell at 95 of 95 "
            "steps and is still falling past the bound.") in doc
    assert re.search(r"\| +96 +620393 ", example("staged").replace("\n", "|"))


def test_a_function_without_minimum_is_not_promised_one():
    for name in ("staged", "one_node"):
        closing = flat(example(name)).split("with the same stopping rule).")[1]
        closing = closing.split("7. Insights")[0]
        assert "minimum ahead" in closing and "overshoot the minimum" not in closing
    assert "overshoot the minimum" in flat(example("quadratic"))


def test_graph_documents_use_the_output_name():
    doc = example("staged")  # no upstream gradient: the gradients are the output's
    assert "∂L/∂" not in doc
    assert "θ⁽ᵏ⁺¹⁾ = θ⁽ᵏ⁾ - α∇f(θ⁽ᵏ⁾)" in doc
    seeded = example("one_node")  # seeded with ∂L/∂c = 2: the loss L beyond c
    assert "θ⁽ᵏ⁺¹⁾ = θ⁽ᵏ⁾ - α∇L(θ⁽ᵏ⁾)" in seeded and "After the step c = -4.8 (28 before)" in seeded
    assert "∂L/∂w                    8" in seeded  # the verification table


def test_an_iterate_shows_the_digits_of_its_last_step():
    doc = example("quadratic")
    assert re.search(r"^ +63 +4\.999995 +2\.40491e-11 ", doc, re.M)  # not "5"
    assert resolving_digits(4.9999951, 4.99999387, 6) == 7
    assert resolving_digits(2.44, 1.8, 6) == 6 and resolving_digits(5.0, None, 6) == 6


# ---------------------------------------------------------------- 9. kinks


def test_a_point_on_a_relu_kink_says_why_the_difference_is_expected():
    doc = flat(txt(RELU, RELU_AT))
    assert "At this point z¹₀ = 0 sits on a kink of relu, slope 0 just below and 1 just above " \
           "(relu′(0) = 0 by convention)." in doc
    assert "through that neuron (w¹₀₀, b¹₀ here)" in doc
    assert "kink" not in example("two_two_one")


def test_a_graph_node_on_a_kink_is_named_with_its_local_derivative():
    doc = flat(txt(KINKED, {"x": 0.0, "y": 2.0}))
    assert "∂f/∂x 0 0.5 0.5" in doc  # the difference the note explains
    assert ("At this point x = 0 sits on a kink of t₁ = |x|, slope -1 just below and 1 just "
            "above (∂t₁/∂x = 0 by convention); x = 0 sits on a kink of t₃ = relu(x), slope 0 "
            "just below and 1 just above (∂t₃/∂x = 0 by convention).") in doc
    assert "pass through those nodes (x here)" in doc
    assert "kink" not in txt(KINKED, {"x": 0.5, "y": 2.0})


def test_a_steep_smooth_derivative_is_not_a_kink():
    assert "kink" not in txt({"name": "s", "expression": "1/x + max(x, 2)", "params": ["x"]},
                             {"x": 1e-4})  # −1/x² moves by 0.4% across ±h


# ---------------------------------------------------------------- 10. factor order


def test_bp4_and_bp2_factors_in_the_notes_order():
    doc = document_of("two_two_one")
    assert "∂C/∂w¹ⱼₖ = xₖ·δ¹ⱼ\n" in doc and "∂C/∂w²ⱼₖ = a¹ₖ·δ²ⱼ\n" in doc
    assert "δ¹₀ = (1 - a¹₀)·a¹₀·w²₀₀·δ²₀\n" in doc


@pytest.mark.parametrize("spec, values", [(E1, {"x": 0.5, "y": 1.5, "lr": 0.1}), (G1, G1_AT),
                                          (ACT3, ACT3_AT), (RELU, RELU_AT),
                                          (KINKED, {"x": 0.0, "y": 2.0})],
                         ids=["e1", "g1", "act3", "relu", "kinked"])
def test_these_documents_fit_100_columns(spec, values):
    assert max(len(line) for line in txt(spec, values).splitlines()) <= 100


@latex
@needs_latex
@pytest.mark.parametrize("spec, values", [(E1, {"x": 0.5, "y": 1.5, "lr": 0.1}), (G1, G1_AT),
                                          (ACT3, ACT3_AT), (RELU, RELU_AT),
                                          (KINKED, {"x": 0.0, "y": 2.0})],
                         ids=["e1", "g1", "act3", "relu", "kinked"])
def test_these_documents_compile_within_the_page(tmp_path, spec, values):
    code, log, _ = _pdflatex(render.to_latex(sp.derive(sp.load(spec)), values), tmp_path)
    assert code == 0, [line for line in log.splitlines() if line.startswith("!")]
    assert max(overfull_boxes(log), default=0.0) <= OVERFULL_LIMIT_PT
