"""Textbook derivatives (fdiff) and the output-form rule table, each against sympy.diff of an
elementary definition; the four fundamental equations come out of the sweep in textbook form."""

from __future__ import annotations

import math

import pytest
import sympy
from sympy import Idx, IndexedBase, KroneckerDelta, Sum

import symbprop as sp
from symbprop.functions.sympy_classes import DEFINITIONS, elu, leaky_relu, relu, sigmoid, step
from symbprop.symbolic.rules import OUTPUT_FORM, DerivationError, local_partial

x = sympy.Symbol("x")
POINTS = [sympy.Rational(n, 7) for n in (-13, -5, -1, 2, 9, 20)]


def _args(cls):
    return (x, sympy.Rational(1, 10)) if cls in (leaky_relu, elu) else (x,)


@pytest.mark.parametrize("cls", list(DEFINITIONS), ids=lambda c: c.__name__)
def test_fdiff_is_the_derivative_of_the_definition(cls):
    args = _args(cls)
    textbook = cls(*args).diff(x)
    real = sympy.Symbol("x", real=True)  # Abs differentiates into re/im parts otherwise
    oracle = sympy.diff(DEFINITIONS[cls](real, *args[1:]), real)
    for point in POINTS:  # away from the kink at 0
        assert abs(textbook.subs(x, point).evalf(30) - oracle.subs(real, point).evalf(30)) < 1e-25


@pytest.mark.parametrize("cls", list(DEFINITIONS), ids=lambda c: c.__name__)
def test_numeric_values_match_the_definition(cls):
    args = _args(cls)
    for point in POINTS:
        ours = cls(*args).subs(x, point).evalf(30)
        assert abs(ours - DEFINITIONS[cls](*args).subs(x, point).evalf(30)) < 1e-25


def test_textbook_forms():
    assert sigmoid(x).diff(x) == sigmoid(x) * (1 - sigmoid(x))
    assert relu(x).diff(x) == step(x)
    assert step(0) == 0  # relu'(0) = 0, as every document states
    assert sympy.tanh(x).diff(x) == 1 - sympy.tanh(x) ** 2


def test_latex_names():
    assert sympy.latex(sigmoid(x)) == r"\sigma\left(x\right)"
    assert sympy.latex(relu(x)) == r"\operatorname{relu}\left(x\right)"


@pytest.mark.parametrize("func", list(OUTPUT_FORM), ids=lambda f: f.__name__)
def test_output_form_rules_equal_sympy_diff(func):
    out = sympy.Symbol("out")
    rule = OUTPUT_FORM[func](out, x).subs(out, func(x))
    oracle = sympy.diff(func(x), x)
    for point in POINTS:
        assert abs((rule - oracle).subs(x, point).evalf(30)) < 1e-25


def test_softmax_rule_equals_sympy_diff():
    z, a = IndexedBase("z"), IndexedBase("a")
    j, m, p = Idx("j", 3), Idx("m", 3), Idx("p", 3)
    softmax = sympy.exp(z[j]) / Sum(sympy.exp(z[m]), (m, 0, 2))
    rule = local_partial(a[j], softmax, z[p])
    assert rule == a[j] * (KroneckerDelta(j, p) - a[p])
    values = {z[0]: sympy.Rational(1, 3), z[1]: -1, z[2]: 2}
    explicit = [sympy.exp(z[i]) / sum(sympy.exp(z[n]) for n in range(3)) for i in range(3)]
    for i in range(3):
        for q in range(3):
            oracle = sympy.diff(explicit[i], z[q]).subs(values)
            ours = rule.subs({j: i, p: q}).subs({a[n]: explicit[n] for n in range(3)}).subs(values)
            assert abs((ours - oracle).evalf(30)) < 1e-25


def test_a_function_without_a_rule_fails_loudly():
    mystery = sympy.Function("mystery")
    with pytest.raises(DerivationError, match="mystery"):
        local_partial(sympy.Symbol("out"), mystery(x) + x**2, x)


def test_four_fundamental_equations_are_derived():
    d = sp.derive(sp.mlp([2, 3, 2], activation="sigmoid", loss="half_sse"))
    by_name = {str(v): a for v, a in d.adjoints.items()}
    assert str(by_name["z2"].expr) == "(1 - a2[j])*(a2[j] - y[j])*a2[j]"  # BP1
    assert str(by_name["z1"].expr) == "(1 - a1[j])*a1[j]*Sum(W2[k, j]*delta2[k], (k, 0, 1))"  # BP2
    assert str(by_name["b1"].expr) == "delta1[j]"  # BP3
    assert str(by_name["W1"].expr) == "delta1[j]*x[k]"  # BP4
    assert str(by_name["W2"].expr) == "a1[k]*delta2[j]"  # BP4 with a^{l-1}


def test_fused_output_deltas():
    ce = sp.derive(sp.mlp([2, 3], activation="softmax", loss="softmax_cross_entropy"))
    bce = sp.derive(sp.mlp([2, 1], activation="sigmoid", loss="bce"))
    assert str(ce.adjoints[ce.program.eqns[0].base].expr) == "a1[j] - y[j]"
    assert str(bce.adjoints[bce.program.eqns[0].base].expr) == "a1[j] - y[j]"


def test_bp_equations_accessor():
    d = sp.derive(sp.mlp([2, 3, 2], activation="tanh", loss="half_sse", bias="shared"))
    output, hidden = d.bp_equations()
    assert output["layer"] == 2 and str(output["BP1"]) == "(1 - a2[j]**2)*(a2[j] - y[j])"
    assert str(hidden["BP2"]) == "(1 - a1[j]**2)*Sum(W2[k, j]*delta2[k], (k, 0, 1))"
    assert str(hidden["BP3"]) == "Sum(delta1[k], (k, 0, 2))"  # a shared bias sums δ
    assert str(hidden["BP4"]) == "delta1[j]*x[k]"


XR, YR = sympy.symbols("x y", real=True)
ABS_FORMULAS = {  # text -> the same function of real symbols, the oracle
    "abs(x) + 1": sympy.Abs(XR) + 1,
    "x*abs(x)": XR * sympy.Abs(XR),
    "sin(abs(x*y))": sympy.sin(sympy.Abs(XR * YR)),
    "abs(exp(y))*x": sympy.Abs(sympy.exp(YR)) * XR,
    "min(abs(x), y, cos(x))": sympy.Min(sympy.Abs(XR), YR, sympy.cos(XR)),
}


@pytest.mark.parametrize("text", list(ABS_FORMULAS))
def test_abs_differentiates_inside_larger_formulas(text):
    """|u|' = sign(u) u' for real u; SymPy's Abs assumes complex symbols and gives re/im parts
    (and rewrites |exp(y)| to exp(re(y))), which no rule or kernel can use."""
    d = sp.derive(sp.graph({"f": text}, output="f"))
    point = {XR: sympy.Rational(-7, 5), YR: sympy.Rational(2, 3)}
    values = d.evaluate({str(k): float(v) for k, v in point.items() if str(k) in d.params})
    for name in d.params:
        exact = sympy.diff(ABS_FORMULAS[text], sympy.Symbol(name, real=True)).subs(point)
        assert abs(values["grad"][name] - float(exact)) < 1e-12, name


def test_abs_in_network_formulas_matches_finite_differences():
    mae = sp.mlp([2, 1], activation="identity", loss={"formula": "abs(a - y)**3"})
    odd = sp.mlp([2, 2, 1], activation=[{"name": "odd", "formula": "z*abs(z)"}, "identity"])
    for model in (mae, odd):
        assert sp.check(model, samples=3).ok


def test_softplus_evaluates_at_an_exact_zero():
    """A relu layer that outputs exact zeros and no bias makes the next z an exact 0 (SymPy's
    Integer 0, not a Float), which softplus(0) left unevaluated: evaluate called the BCE cost
    "not real" there.  Oracle: log 2 from the math module."""
    from symbprop.functions.sympy_classes import softplus

    assert abs(float(softplus(sympy.S.Zero).evalf(30)) - math.log(2)) < 1e-16
    net = sp.mlp([1, 1, 1], activation=["relu", "sigmoid"], loss="bce", bias="none")
    values = {"x": [1.0], "y": [0.25], "params": {"W1": [[-1.0]], "W2": [[2.0]]}}
    result = sp.derive(net).evaluate(values)
    assert abs(result["loss"] - math.log(2)) < 1e-15  # σ(0) = ½ whatever y is
    assert result["grad"]["W2[0,0]"] == 0.0  # a¹ = 0


def test_equations_that_differ_only_in_names_are_differentiated_once():
    """64 tanh layers of one width have four equation forms: ``sympy.diff`` runs for those, not
    for each of the 256 equations (90 % of ``derive`` at 256 layers), and each layer's
    derivative carries its own names."""
    from symbprop.symbolic import rules

    rules._memoized.cache_clear()
    d = sp.derive(sp.mlp([2] + [2] * 64 + [1], activation="tanh", loss="half_sse"))
    assert rules._memoized.cache_info().misses < 20
    bases = {str(base): base for base in d.program.shapes}
    k = Idx("k", 2)
    eqn = next(e for e in d.program.eqns if str(e.base) == "z5")
    expected = rules._partial(eqn.out, eqn.expr, bases["a4"][k], True)  # not memoized
    assert local_partial(eqn.out, eqn.expr, bases["a4"][k]) == expected
    assert expected.has(bases["W5"]) and not expected.has(bases["W4"])


def test_the_renaming_keeps_assumptions_shapes_and_index_ranges():
    real = sympy.Symbol("u", real=True)
    assert local_partial(sympy.Symbol("f"), abs(real) * 3, real) == 3 * sympy.sign(real)
    plain = sympy.Symbol("u")  # complex: SymPy's Abs needs re and im, which have no rule
    with pytest.raises(DerivationError, match=r"im, re in 3\*Abs\(u\)"):
        local_partial(sympy.Symbol("f"), abs(plain) * 3, plain)
    z, i, p = IndexedBase("z", shape=(3,)), Idx("i", 3), Idx("p", 3)
    total = Sum(sympy.exp(z[i]), (i, 0, 2))
    assert local_partial(z[p], total, z[p]) == sympy.exp(z[p])
    short = Idx("p", 2)  # another range: a different form, not the memo of the first
    assert local_partial(z[short], Sum(sympy.exp(z[i]), (i, 0, 2)), z[short]) == sympy.exp(
        z[short])


def test_an_error_names_the_equation_not_the_placeholders():
    class opaque(sympy.Function):
        pass

    u = sympy.Symbol("velocity")
    with pytest.raises(DerivationError, match="velocity") as caught:
        local_partial(sympy.Symbol("f"), opaque(u) + opaque(2 * u), u)
    assert "_s" not in str(caught.value) and "_b" not in str(caught.value)
