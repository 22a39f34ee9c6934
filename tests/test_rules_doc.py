"""The rules section (issue 17 item 4): the chain rule's two cases with this model's instance,
⊙ and the vectorised activation, what δ means, the Jacobian, and closed forms checked against
sympy.diff of the composed expression (an independent oracle)."""

import pytest
import sympy

import symbprop as sp
from symbprop.render.rules_doc import closed_form

FORMATS = ("tex", "md", "txt")


def _doc(example, fmt):
    d = sp.derive(sp.load(f"examples:{example}"))
    return {"tex": d.to_latex, "md": d.to_markdown, "txt": d.to_text}[fmt]()


@pytest.mark.parametrize("fmt", FORMATS)
def test_network_rules_statements(fmt):
    doc = _doc("two_two_one", fmt)
    for phrase in ("case 1: one path", "Case 2: several paths", "Hadamard product",
                   "vectorised activation", "What the error means", "Jacobian",
                   "never builds a Jacobian"):
        assert phrase in doc, phrase
    assert doc.index("The rules") < doc.index("The backward pass")
    if fmt == "txt":
        assert "(1, 2) ⊙ (3, 4) = (3, 8)" in doc
        assert "ΔC ≈ δˡⱼ Δzˡⱼ" in doc
        assert "∂C/∂w¹₀₁ = ∂C/∂a²₀ · ∂a²₀/∂z²₀ · ∂z²₀/∂a¹₀ · ∂a¹₀/∂z¹₀ · ∂z¹₀/∂w¹₀₁" in doc
        assert "= δ¹₀ · w¹₀₀ + δ¹₁ · w¹₁₀" in doc
        # the Jacobian of the weights of layer 1: n1 × (n1·n0) = 2 × 4, 8 numbers
        assert "1    2 × 4        8        4" in doc


def test_case_two_for_a_hidden_activation():
    doc = _doc("nielsen_232", "txt")
    section = doc[doc.index("The rules"):doc.index("The backward pass")]
    assert "a¹₀, feeds 3 quantities" in section or "a¹₀, feeds 2 quantities" in section


def test_chain_has_no_case_two():
    doc = _doc("chain", "txt")
    assert "case 2 does not" in doc


@pytest.mark.parametrize("fmt", FORMATS)
def test_closed_form_printed(fmt):
    doc = _doc("exp_inverse", fmt)
    assert "closed form" in doc
    if fmt == "txt":
        assert "∂f/∂x = -(exp(1/x))/x²" in doc or "∂f/∂x = -exp(1/x)/x²" in doc


@pytest.mark.parametrize("example", ["exp_inverse", "quadratic", "staged", "one_node"])
def test_closed_forms_match_sympy_diff(example):
    d = sp.derive(sp.load(f"examples:{example}"))
    f = d.composed_loss()
    for name in d.params:
        x = d.element(name)
        assert sympy.simplify(closed_form(d, name)[0] * d.seed - sympy.diff(f, x)) == 0, name


def test_exp_inverse_closed_form_is_the_textbook_one():
    d = sp.derive(sp.load("examples:exp_inverse"))
    x = sympy.Symbol("x")
    assert sympy.simplify(closed_form(d, "x")[0] - sympy.diff(sympy.exp(1 / x), x)) == 0
    assert not any("d" in str(s) for s in closed_form(d, "x")[0].free_symbols)


def test_a_long_closed_form_is_not_handed_to_simplify():
    """Ten nested tanh: simplify would run for minutes; the document takes seconds and says
    that only the short formulas are simplified.  Oracle: mpmath's numerical derivative of the
    nested function at 40 digits (sympy.diff of it took 12-50 s)."""
    import time

    import mpmath

    x = sympy.Symbol("x")
    graph = {f"q{i}": f"tanh(q{i - 1})" if i > 1 else "tanh(x)" for i in range(1, 11)}
    d = sp.derive(sp.load({"graph": graph, "output": "q10"}))
    start = time.process_time()
    formula, simplified = closed_form(d, "x")
    assert time.process_time() - start < 10 and not simplified
    def nested(v):
        for _ in range(10):
            v = mpmath.tanh(v)
        return v

    with mpmath.workdps(40):
        expected = mpmath.diff(nested, mpmath.mpf(3) / 10)
    assert float(formula.subs(x, sympy.Rational(3, 10)).evalf(30)) == pytest.approx(
        float(expected), rel=1e-12)
