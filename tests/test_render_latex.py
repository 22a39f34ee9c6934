"""Golden strings for the document printers, one behaviour per line (SymPy's test_latex style)."""

from __future__ import annotations

import sympy
from sympy import HadamardProduct, Heaviside, Idx, IndexedBase, KroneckerDelta, Sum, Transpose

import symbprop as sp
from symbprop.functions.sympy_classes import relu, sigmoid
from symbprop.render.latex import SymbpropLatexPrinter, latex
from symbprop.render.notation import (
    Boxed,
    Chain,
    Elementwise,
    Gradient,
    Mean,
    More,
    Partial,
    Slope,
    Terms,
    matrix,
    vector,
)
from symbprop.render.text import text

j, k, m = Idx("j", 3), Idx("k", 2), Idx("m", 3)
W1, b1, z1, a1, a0 = (IndexedBase(n) for n in ("W1", "b1", "z1", "a1", "a0"))
x, y, delta2, W2 = IndexedBase("x"), IndexedBase("y"), IndexedBase("delta2"), IndexedBase("W2")
C = sympy.Symbol("C")


def test_weight_element_is_lowercase_w_with_layer_up_and_indices_down():
    assert latex(W1[j, k]) == r"w^{1}_{jk}"


def test_weight_element_with_numbers():
    assert latex(W1[0, 1]) == r"w^{1}_{01}"


def test_multi_digit_indices_are_separated_by_commas():
    assert latex(W1[10, 3]) == r"w^{1}_{10,3}"


def test_weight_matrix_is_capital_W():
    assert latex(W1) == r"W^{1}"


def test_weighted_input_activation_bias():
    assert latex(z1[j]) == r"z^{1}_{j}"
    assert latex(a1[j]) == r"a^{1}_{j}"
    assert latex(b1[j]) == r"b^{1}_{j}"


def test_error_is_delta():
    assert latex(delta2[k]) == r"\delta^{2}_{k}"


def test_input_and_target_have_no_layer():
    assert latex(x[k]) == r"x_{k}"
    assert latex(y[j]) == r"y_{j}"


def test_a0_is_the_input_x():
    assert latex(a0[k]) == r"x_{k}"


def test_shared_bias_symbol_in_a_network():
    assert latex(sympy.Symbol("b2")) == r"b^{2}"


def test_graph_symbols_print_as_sympy_prints_them():
    assert latex(sympy.Symbol("b2"), network=False) == r"b_{2}"


def test_graph_adjoint_symbol_is_a_partial_fraction():
    assert latex(sympy.Symbol("df_dq"), network=False) == r"\frac{\partial f}{\partial q}"


def test_graph_adjoint_symbol_with_known_output_and_underscores():
    printed = latex(sympy.Symbol("dout_dmy_var"), network=False, graph_output="out")
    assert printed == r"\frac{\partial out}{\partial my_{var}}"


def test_sum_over_an_idx_shows_only_the_index():
    assert latex(Sum(W1[j, k] * x[k], (k, 0, 1))) == r"\sum_{k} w^{1}_{jk} x_{k}"


def test_sum_of_a_sum_gets_parentheses():
    assert latex(Sum(y[m] + a1[m], (m, 0, 2))) == r"\sum_{m} \left(a^{1}_{m} + y_{m}\right)"


def test_sigmoid_is_sigma():
    assert latex(sigmoid(z1[j])) == r"\sigma\left(z^{1}_{j}\right)"


def test_relu_is_an_operator_name():
    assert latex(relu(z1[j])) == r"\operatorname{relu}\left(z^{1}_{j}\right)"


def test_relu_derivative_is_an_indicator():
    assert latex(Heaviside(z1[j], 0)) == r"\mathbf{1}\left[z^{1}_{j} > 0\right]"


def test_kronecker_delta_is_an_indicator_not_delta():
    assert latex(KroneckerDelta(j, m)) == r"\mathbf{1}\left[j = m\right]"


def test_square_of_an_element_has_no_double_superscript():
    assert latex(a1[j] ** 2) == r"\left(a^{1}_{j}\right)^{2}"


def test_floats_have_six_significant_digits():
    assert latex(sympy.Float(0.0052888577276032364)) == "0.00528886"


def test_small_floats_use_powers_of_ten():
    assert latex(sympy.Float(1.5e-7)) == r"1.5 \times 10^{-7}"


def test_digits_setting():
    assert latex(sympy.Float(1 / 3), digits=3) == "0.333"


def test_unknown_setting_raises():
    try:
        SymbpropLatexPrinter({"digitz": 3})
    except TypeError:
        return
    raise AssertionError("a misspelt setting must raise")


def test_partial_fraction():
    assert latex(Partial(C, W1[0, 1])) == r"\frac{\partial C}{\partial w^{1}_{01}}"


def test_boxed_factor():
    assert latex(Boxed(x[1])) == r"\boxed{x_{1}}"


def test_chain_keeps_its_order_and_uses_cdot():
    assert latex(Chain(y[0], x[1], W1[0, 0])) == r"y_{0} \cdot x_{1} \cdot w^{1}_{00}"


def test_chain_parenthesizes_negative_numbers_and_sums():
    assert latex(Chain(sympy.Float(-0.3), a1[0] - y[0])) == \
        r"\left(-0.3\right) \cdot \left(a^{1}_{0} - y_{0}\right)"


def test_terms_keep_their_order():
    assert latex(Terms(x[1], W1[0, 0])) == r"x_{1} + w^{1}_{00}"


def test_more_paths():
    assert latex(More(97, "paths")) == r"\cdots \text{ (97 more paths)}"


def test_transpose_of_a_layer_matrix_is_parenthesized():
    assert latex(Transpose(matrix("W2", 2, 3))) == r"\left(W^{2}\right)^{\mathsf{T}}"


def test_transpose_of_the_input():
    assert latex(Transpose(vector("x", 2))) == r"x^{\mathsf{T}}"


def test_hadamard_product_is_odot():
    expr = HadamardProduct(Transpose(matrix("W2", 2, 3)) * vector("delta2", 2),
                           Elementwise("sigmoid_prime", vector("z1", 3)))
    assert latex(expr) == \
        r"\left(\left(W^{2}\right)^{\mathsf{T}} \delta^{2}\right) \odot \sigma'\left(z^{1}\right)"


def test_outer_product_of_bp4():
    assert latex(vector("delta1", 2) * Transpose(vector("x", 3))) == r"\delta^{1} x^{\mathsf{T}}"


def test_gradient_vector():
    assert latex(Gradient(C, vector("a2", 2))) == r"\nabla_{a^{2}} C"


def test_matrix_form_of_a_layer():
    assert latex(matrix("W1", 2, 3) * vector("x", 3) + vector("b1", 2)) == r"W^{1} x + b^{1}"


def test_generic_layer_names_print_as_superscripts():
    assert latex(IndexedBase("w^l")[j, k]) == r"w^{l}_{jk}"


# ---------------------------------------------------------------- the text printer


def test_text_weight_uses_unicode_scripts():
    assert text(W1[0, 1]) == "w¹₀₁"


def test_text_index_without_subscript_falls_back_to_brackets():
    assert text(W1[10, 3]) == "w¹[10,3]"


def test_text_sum_and_product():
    assert text(Sum(W1[j, k] * x[k], (k, 0, 1))) == "Σₖ w¹ⱼₖ·xₖ"


def test_text_sigmoid_and_step():
    assert text(sigmoid(z1[j])) == "σ(z¹ⱼ)"
    assert text(Heaviside(z1[j], 0)) == "step(z¹ⱼ)"


def test_text_negative_fraction():
    assert text(-y[j] / a1[j]) == "-yⱼ/a¹ⱼ"


def test_text_square_of_an_element():
    assert text(1 - a1[j] ** 2) == "1 - (a¹ⱼ)²"


def test_text_graph_adjoint_in_a_fraction_is_parenthesized():
    assert text(-sympy.Symbol("df_db") / sympy.Symbol("x") ** 2, network=False) == "-(∂f/∂b)/x²"


def test_text_boxed_chain():
    assert text(Chain(Boxed(Partial(C, a1[0])), Boxed(x[1]))) == "[∂C/∂a¹₀] · [x₁]"


def test_text_transpose_and_hadamard():
    expr = HadamardProduct(Transpose(matrix("W2", 2, 3)) * vector("delta2", 2),
                           Elementwise("sigmoid_prime", vector("z1", 3)))
    assert text(expr) == "((W²)ᵀ·δ²) ⊙ σ′(z¹)"


def test_text_greek_and_generic_names():
    assert text(sympy.Symbol("eta")) == "η"
    assert text(IndexedBase("delta^l+1")[j]) == "δˡ⁺¹ⱼ"


# ---------------------------------------------------------------- the notes' sums and products

NEGATIVE_SUM = Sum(-sympy.log(a1[j]) * y[j], (j, 0, 2))


def test_cross_entropy_is_minus_a_sum_with_the_target_first():
    assert latex(NEGATIVE_SUM) == r"- \sum_{j} y_{j} \log{\left(a^{1}_{j} \right)}"
    assert text(NEGATIVE_SUM) == "-Σⱼ yⱼ·log(a¹ⱼ)"


def test_minus_a_sum_keeps_its_sign_inside_products_powers_and_sums():
    s = sympy.Symbol("s")
    assert latex(s * NEGATIVE_SUM) == \
        r"s \left(- \sum_{j} y_{j} \log{\left(a^{1}_{j} \right)}\right)"
    assert text(s * NEGATIVE_SUM) == "s·(-Σⱼ yⱼ·log(a¹ⱼ))"
    assert text(NEGATIVE_SUM ** 2) == "(-Σⱼ yⱼ·log(a¹ⱼ))²"
    assert latex(s + NEGATIVE_SUM) == r"s - \sum_{j} y_{j} \log{\left(a^{1}_{j} \right)}"
    assert text(s + NEGATIVE_SUM) == "s - Σⱼ yⱼ·log(a¹ⱼ)"


def test_a_common_factor_of_a_sum_is_taken_out():
    assert latex(2 * a1[j] - 2 * y[j]) == r"2 \left(a^{1}_{j} - y_{j}\right)"
    assert text(2 * a1[j] - 2 * y[j]) == "2·(a¹ⱼ - yⱼ)"
    assert text(a1[j] / 2 - y[j] / 2) == "(a¹ⱼ - yⱼ)/2"
    assert text(1 - 2 * a1[j]) == "1 - 2·a¹ⱼ"  # nothing common: unchanged


def test_a_common_factor_goes_in_front_of_a_product():
    delta = (1 - a1[j]) * (2 * a1[j] - 2 * y[j]) * a1[j]
    assert latex(delta) == \
        r"2 \left(1 - a^{1}_{j}\right) \left(a^{1}_{j} - y_{j}\right) a^{1}_{j}"
    assert text(Chain(2 * a1[j] - 2 * y[j], a1[j])) == "2·(a¹ⱼ - yⱼ) · a¹ⱼ"


def test_symbols_before_function_values():
    assert latex(sympy.log(a1[j]) * y[j]) == r"y_{j} \log{\left(a^{1}_{j} \right)}"
    assert text(-sympy.log(a1[j]) * y[j]) == "-yⱼ·log(a¹ⱼ)"
    assert latex(Heaviside(z1[j], 0) * Sum(W1[k, j] * x[k], (k, 0, 1))) == \
        r"\mathbf{1}\left[z^{1}_{j} > 0\right] \sum_{k} w^{1}_{kj} x_{k}"  # Σ stays last


def test_errors_go_last_and_weights_just_before_them():
    delta1, W2 = IndexedBase("delta1"), IndexedBase("W2")
    assert latex(delta1[j] * x[k]) == r"x_{k} \delta^{1}_{j}"  # BP4: a^{l-1}_k δ^l_j
    assert text(delta1[j] * x[k]) == "xₖ·δ¹ⱼ"
    assert text((1 - a1[0]) * W2[0, 0] * a1[0] * delta2[0]) == "(1 - a¹₀)·a¹₀·w²₀₀·δ²₀"
    assert text(Heaviside(z1[0], 0) * W2[0, 0] * delta2[0]) == "step(z¹₀)·w²₀₀·δ²₀"


def test_each_activation_has_its_own_derivative_name():
    z = vector("z1", 3)
    assert latex(Elementwise("tanh_prime", z)) == r"\tanh'\left(z^{1}\right)"
    assert text(Elementwise("relu_prime", z)) == "relu′(z¹)"
    assert text(Elementwise("custom_prime", z)) == "f′(z¹)"
    assert text(Slope("softplus", sympy.Symbol("z"))) == "softplus′(z)"
    assert latex(Slope("relu", sympy.Float(0))) == r"\operatorname{relu}'\left(0\right)"


def test_local_derivative_of_an_operation_is_parenthesized():
    q, r = sympy.symbols("q r")
    assert latex(Partial(q * r, q), network=False) == \
        r"\frac{\partial \left(q r\right)}{\partial q}"
    assert text(Partial(q + r, q), network=False) == "∂(q + r)/∂q"
    assert text(Partial(q, r), network=False) == "∂q/∂r"


def test_absolute_value_has_no_pipe_for_markdown_tables():
    assert latex(sympy.Abs(sympy.Symbol("f")), network=False) == r"\left\lvert f \right\rvert"
    assert text(sympy.Abs(sympy.Symbol("f")), network=False) == "|f|"


def test_a_mean_keeps_its_factor_in_front():
    n_L = sympy.Symbol("n_L")
    body = Sum((a1[m] - y[m]) ** 2, (m, 0, 2))
    assert latex(Mean(n_L, body)) == \
        r"\frac{1}{n_{L}} \sum_{m} \left(a^{1}_{m} - y_{m}\right)^{2}"
    assert text(Mean(n_L, body)) == "(1/n_L) Σₘ (a¹ₘ - yₘ)²"
    assert text(Mean(2, sympy.Symbol("s") + 1)) == "(1/2) (s + 1)"


# ---------------------------------------------------------------- on a derivation


def test_derived_hidden_error_prints_in_textbook_form():
    d = sp.derive(sp.load("examples:two_two_one"))
    delta1 = d.adjoints[d.program.eqns[0].base]
    assert latex(delta1.expr) == \
        r"\left(1 - a^{1}_{j}\right) a^{1}_{j} \sum_{k} w^{2}_{kj} \delta^{2}_{k}"


def test_derived_relu_error_uses_the_indicator():
    d = sp.derive(sp.load("examples:digits_64_32_10"))
    delta1 = d.adjoints[d.program.eqns[0].base]
    assert latex(delta1.expr) == \
        r"\mathbf{1}\left[z^{1}_{j} > 0\right] \sum_{k} w^{2}_{kj} \delta^{2}_{k}"


def test_jupyter_fragment_is_display_math():
    d = sp.derive(sp.load("examples:staged"))
    fragment = d._repr_latex_()
    assert fragment.startswith("$$\\begin{aligned}") and fragment.endswith("\\end{aligned}$$")
    assert r"\frac{\partial f}{\partial x} &= \frac{\partial f}{\partial q}" in fragment
