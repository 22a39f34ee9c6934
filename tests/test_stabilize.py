"""The kernels' stable rewrites (symbprop.symbolic.stabilize): each is an identity, the compiled
value and gradient are accurate where the typed formula overflows or cancels in floating point, and
the documents keep the formula as typed.  Oracle: sympy.diff of the formula as typed, evaluated by
mpmath at 1200 digits (never the rewritten form)."""

from __future__ import annotations

import math

import mpmath
import pytest
import sympy

import symbprop as sp
import symbprop.codegen.generator as codegen
from symbprop.functions.sympy_classes import as_elementary, sigmoid, softplus
from symbprop.symbolic.stabilize import rewrites, stable_form

x, y = sympy.symbols("x y")

# (formula as a user types it, the stable form expected)
REWRITES = [
    ("log(sigmoid(x))", -softplus(-x)),
    ("log(1 - sigmoid(x))", -softplus(x)),
    ("log(1 + exp(x))", softplus(x)),
    ("exp(x)/(1 + exp(x))", sigmoid(x)),
    ("1/(1 + exp(-x))", sigmoid(x)),
    ("x/(1 + exp(-x))", x * sigmoid(x)),
    ("log(1/(1 + exp(-x)))", -softplus(-x)),
    ("log(exp(x) + exp(2*x))", x + softplus(x)),
    ("log(1 + exp(x) + exp(-x))", softplus(x) + softplus(-x - softplus(x))),
]


def _typed(formula: str) -> sympy.Expr:
    """The formula as typed, parsed by symbprop (whitelist) and composed from its nodes."""
    return _composed(sp.expression(formula))


def _composed(model) -> sympy.Expr:
    values: dict = {}
    for name, expr in model.nodes:
        values[sympy.Symbol(name)] = expr.xreplace(values)
    return values[sympy.Symbol(model.output)]


@pytest.mark.parametrize(("formula", "expected"), REWRITES, ids=[f for f, _ in REWRITES])
def test_each_rewrite_gives_the_stable_form_of_the_same_function(formula, expected):
    typed = _typed(formula)
    stable = stable_form(typed)
    assert stable == expected
    for point in (-3.5, -0.25, 0.5, 2.0):
        a = as_elementary(typed).evalf(50, subs={x: point})
        b = as_elementary(stable).evalf(50, subs={x: point})
        assert abs(a - b) < 1e-45 * max(1, abs(a))


def test_log1p_and_expm1():
    assert str(stable_form(_typed("log(1 + x)"))) == "log1p(x)"
    assert str(stable_form(_typed("(exp(x) - 1)/x"))) == "expm1(x)/x"
    assert stable_form(_typed("x*y + sin(x)")) == _typed("x*y + sin(x)")


# formula, point: where the typed formula overflows or cancels in float64
HARD = [
    ("log(1 + exp(x))", {"x": 800.0}),
    ("log(1 + exp(x))", {"x": -50.0}),
    ("log(sigmoid(x))", {"x": -800.0}),
    ("log(sigmoid(x))", {"x": 50.0}),
    ("log(1 - sigmoid(x))", {"x": 100.0}),
    ("-(y*log(sigmoid(x)) + (1 - y)*log(1 - sigmoid(x)))", {"x": 800.0, "y": 0.25}),
    ("-(y*log(sigmoid(x)) + (1 - y)*log(1 - sigmoid(x)))", {"x": -800.0, "y": 0.75}),
    ("exp(x)/(1 + exp(x))", {"x": 700.0}),
    ("x/(1 + exp(-x))", {"x": -800.0}),
    ("log(1 + x)", {"x": 1e-12}),
    ("log(exp(x) + exp(y))", {"x": 1000.0, "y": 999.0}),
    ("log(exp(x) + exp(y))", {"x": -1000.0, "y": -999.5}),
    ("log(exp(x) + exp(y))", {"x": -3.0, "y": 800.0}),
    ("log(1 + exp(x) + exp(y))", {"x": 800.0, "y": -3.0}),
    ("(exp(x) - 1)*y", {"x": 1e-12, "y": 3.0}),
]


def _oracle(formula: str, point: dict) -> tuple[mpmath.mpf, dict]:
    typed = as_elementary(_typed(formula))
    names = sorted(point)
    symbols = [sympy.Symbol(n) for n in names]
    with mpmath.workdps(1200):  # 1 − σ(800) ≈ e^−800 must survive the subtraction
        args = [mpmath.mpf(point[n]) for n in names]
        value = sympy.lambdify(symbols, typed, "mpmath")(*args)
        grads = {n: sympy.lambdify(symbols, sympy.diff(typed, s), "mpmath")(*args)
                 for n, s in zip(names, symbols, strict=True)}
    return value, grads


def _close(got: float, want, rel: float = 1e-12) -> bool:
    return math.isfinite(got) and abs(got - want) <= rel * abs(want) + 1e-300


@pytest.mark.parametrize(("formula", "point"), HARD, ids=[f"{f} at {p}" for f, p in HARD])
def test_compiled_kernels_are_accurate_where_the_typed_formula_is_not(formula, point, tmp_path,
                                                                      monkeypatch):
    monkeypatch.setenv("SYMBPROP_CACHE_DIR", str(tmp_path))
    want_value, want_grads = _oracle(formula, point)
    value, grads = sp.compile(sp.expression(formula)).loss_and_grad(point)
    assert _close(value, want_value), (value, want_value)
    for name, want in want_grads.items():
        assert _close(grads[name], want), (name, grads[name], want)


def test_the_module_says_what_was_rewritten_and_the_document_keeps_the_typed_formula():
    model = sp.expression("log(1 + exp(x))")
    assert rewrites(model) == [("log(exp(x) + 1)", "softplus(x)")]
    source = codegen.source(model)
    assert "    log(exp(x) + 1)  ->  softplus(x)" in source and "f = _softplus(x)" in source
    document = sp.derive(model).to_text({"x": 1.0})
    assert "t₁ = exp(x)" in document and "softplus" not in document


def test_a_graph_is_rewritten_node_by_node():
    graph = sp.graph({"q": "exp(x)", "f": "log(1 + q) + log(1 + exp(y))"}, output="f")
    assert rewrites(graph) == [("f = log(q + 1) + log(exp(y) + 1)",
                                "f = log1p(q) + softplus(y)")]
    assert rewrites(sp.expression("x*y")) == []


def test_a_custom_network_loss_typed_with_log_sigmoid_is_finite_when_saturated(tmp_path,
                                                                               monkeypatch):
    monkeypatch.setenv("SYMBPROP_CACHE_DIR", str(tmp_path))
    net = sp.mlp([1, 1], activation="identity",
                 loss={"formula": "-(y*log(sigmoid(a)) + (1 - y)*log(1 - sigmoid(a)))"})
    k = sp.compile(net)
    params = {"W1": [[1.0]], "b1": [0.0]}
    for z, target, loss in ((800.0, 0.0, 800.0), (-800.0, 1.0, 800.0), (30.0, 1.0, 9.3576e-14)):
        value, grads = k.loss_and_grad(params, [[z]], [[target]])
        assert value == pytest.approx(loss, rel=1e-4)  # softplus(±z): the typed form gives inf
        with mpmath.workdps(50):  # ∂C/∂w = x (σ(z) − y), with x = z (w = 1, b = 0)
            want = float(z * (1 / (1 + mpmath.exp(-z)) - target))
        assert grads["W1"][0, 0] == pytest.approx(want, rel=1e-9)
