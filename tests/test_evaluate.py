"""Worked-example numbers (Derivation.evaluate) against independent oracles, and bad values."""

from __future__ import annotations

import math
import time

import mpmath
import numpy as np
import pytest
import sympy

import symbprop as sp
from symbprop.errors import DomainError, SymbpropError, ValuesError
from symbprop.functions.sympy_classes import as_elementary
from symbprop.spec.values import load_values


def _point(d, values):
    """The leaf values of a network values dict, as SymPy numbers (oracle input)."""
    vals = load_values(d.model, values)
    point = {}
    for base in d.program.params:
        name = base.label.name if isinstance(base, sympy.IndexedBase) else base.name
        _fill(point, base, vals.params[name])
    data = {b.label.name: b for b in d.program.shapes if isinstance(b, sympy.IndexedBase)}
    return point, vals, data


def _fill(point, base, array, prefix=()):
    if not isinstance(array, list):
        point[base[prefix] if prefix else base] = sympy.Rational(repr(array))
        return
    for i, item in enumerate(array):
        _fill(point, base, item, (*prefix, i))


@pytest.mark.parametrize("name", ["one_path", "two_two_one", "nielsen_232", "chain"])
def test_network_example_matches_sympy_diff(name):
    d = sp.derive(sp.load(f"examples:{name}"))
    result = d.evaluate(f"examples:{name}")
    point, vals, data = _point(d, f"examples:{name}")
    _fill(point, data["x"], vals.X[0])
    _fill(point, data["y"], vals.Y[0])
    loss = as_elementary(d.composed_loss())
    assert math.isclose(result["loss"], float(loss.xreplace(point).evalf(30)), rel_tol=1e-13)
    for param in d.params:
        oracle = float(sympy.diff(loss, d.element(param)).xreplace(point).evalf(30))
        assert math.isclose(result["grad"][param], oracle, rel_tol=1e-12, abs_tol=1e-15), param
    # one step of gradient descent lowers the loss on these examples
    assert result["step"]["loss"] < result["loss"]


def test_a_second_point_reuses_the_symbolic_work_and_is_right(monkeypatch):
    """The scalar equations are instantiated at a derivation's first evaluation only: a
    second point substitutes numbers, and its gradient is still sympy.diff's."""
    d = sp.derive(sp.load("examples:nielsen_232"))
    d.evaluate("examples:nielsen_232")
    calls = []
    definition = type(d).definition
    monkeypatch.setattr(type(d), "definition",
                        lambda self, e: calls.append(e) or definition(self, e))
    monkeypatch.setattr(type(d), "gradient", lambda self, name: calls.append(name))
    values = load_values(d.model, "examples:nielsen_232")
    params = {n: (np.asarray(v) / 3 + 0.25).tolist() for n, v in values.params.items()}
    other = {"x": values.X[0], "y": values.Y[0], "params": params}
    result = d.evaluate(other)
    assert calls == []
    point, vals, data = _point(d, other)
    _fill(point, data["x"], vals.X[0])
    _fill(point, data["y"], vals.Y[0])
    loss = as_elementary(d.composed_loss())
    for param in d.params:
        oracle = float(sympy.diff(loss, d.element(param)).xreplace(point).evalf(30))
        assert math.isclose(result["grad"][param], oracle, rel_tol=1e-12, abs_tol=1e-15), param


@pytest.mark.parametrize("name", ["quadratic", "two_two_one"])
def test_without_the_step_the_same_numbers_and_no_second_point(name, monkeypatch):
    """``step=False`` gives every other number unchanged and evaluates no second point; the
    descent lesson of a graph asks for nothing else at each of its iterates."""
    from symbprop.render import descent_runs
    from symbprop.symbolic import evaluate as module

    d = sp.derive(sp.load(f"examples:{name}"))
    full = module.evaluate(d, f"examples:{name}")
    calls = []
    for helper in ("_graph_point", "_sample"):
        original = getattr(module, helper)
        monkeypatch.setattr(module, helper, lambda *a, _f=original, **k: calls.append(k)
                            or _f(*a, **k))
    bare = module.evaluate(d, f"examples:{name}", step=False)
    assert "step" not in bare and bare == {k: v for k, v in full.items() if k != "step"}
    assert calls and all(call.get("gradients", True) for call in calls)
    if d.model.kind == "graph":
        calls.clear()
        monkeypatch.setattr(descent_runs, "_lessons", type(descent_runs._lessons)())  # unkept
        descent_runs.lesson(d, load_values(d.model, f"examples:{name}"))
        assert calls and all(call.get("gradients", True) for call in calls)


def test_batch_mean_and_sum():
    spec = {"inputs": 1, "layers": [{"units": 1, "activation": "identity"}], "loss": "half_sse"}
    values = {"X": [1.0, 2.0], "Y": [0.0, 1.0], "params": {"W1": [[2.0]], "b1": [0.5]}}
    mean = sp.derive(sp.load(spec)).evaluate(values)
    total = sp.derive(sp.load({**spec, "reduction": "sum"})).evaluate(values)
    # C1 = ½(2.5)², C2 = ½(3.5)²; ∂C/∂W = (a − y)x: 2.5·1 + 3.5·2
    assert mean["loss"] == pytest.approx((3.125 + 6.125) / 2)
    assert total["loss"] == pytest.approx(3.125 + 6.125)
    assert mean["grad"]["W1[0,0]"] == pytest.approx((2.5 + 7.0) / 2)
    assert total["grad"]["W1[0,0]"] == pytest.approx(9.5)
    assert mean["forward"]["a1"] == [[2.5], [4.5]]


def test_gradient_descent_step_on_quadratic():
    result = sp.derive(sp.load("examples:quadratic")).evaluate({"x": 0.0, "lr": 0.1})
    assert result["loss"] == 25 and result["grad"] == {"x": -10}
    assert result["step"]["params"] == {"x": pytest.approx(1.0)}
    assert result["step"]["loss"] == pytest.approx(16.0)


BAD_VALUES = [
    ({"x": [1, 2, 3], "y": 0.0}, "x: must be a list of 2 (shape (2,)), got 3 entries"),
    ({"x": [1, "a"], "y": 0.0}, "x[1]: must be a number, got 'a'"),
    ({"x": [1, 2], "y": 0.0, "params": {"W1": [[1, 2]]}}, "params: missing b1, W2, b2"),
    ({"x": [1, 2], "y": 0.0, "params": {"W9": 1}}, "params.W9: unknown parameter"),
    ({"x": [1, float("nan")], "y": 0.0}, "x[1]: must be finite"),
    ({"y": 0.0}, "missing 'x'"),
    ({"x": [1, 2], "X": [[1, 2]], "y": 0}, "give either x (one sample) or X"),
    ({"x": [1, 2], "y": 0, "lr": "fast"}, "lr: must be a number"),
]


@pytest.mark.parametrize(("values", "message"), BAD_VALUES, ids=[m for _, m in BAD_VALUES])
def test_bad_values(values, message):
    model = sp.load("examples:two_two_one")
    params = {"W1": [[0.1, 0.2], [0.3, 0.4]], "b1": [0, 0], "W2": [[1, 1]], "b2": [0]}
    values = {"params": params, **values}
    with pytest.raises(ValuesError) as caught:
        load_values(model, values)
    assert message in str(caught.value)


def test_bad_values_file_names_the_file(tmp_path):
    path = tmp_path / "at.yaml"
    path.write_text("x: -2\ny: 5\n")
    with pytest.raises(ValuesError, match=r"at\.yaml: missing values for z"):
        load_values(sp.load("examples:staged"), path)


@pytest.mark.parametrize("values", [None, 5, ["x", 1.0]])
def test_values_of_another_type_are_refused_by_name(values):
    derivation = sp.derive(sp.load("examples:two_two_one"))
    with pytest.raises(ValuesError, match=r"values: expected a mapping or the path of a values"):
        derivation.evaluate(values)


def test_a_document_takes_no_values_or_valid_ones():
    derivation = sp.derive(sp.load("examples:two_two_one"))
    assert "Backpropagation" in derivation.to_text(None)
    with pytest.raises(ValuesError, match="expected a mapping or the path"):
        derivation.to_text(5)


def test_a_parameter_name_must_be_a_string():
    derivation = sp.derive(sp.load("examples:two_two_one"))
    with pytest.raises(SymbpropError, match=r"parameter names are strings such as 'W1\[0,0\]'"):
        derivation.gradient(None)


def test_softmax_targets_must_sum_to_one():
    model = sp.mlp([1, 2], activation="softmax", loss="softmax_cross_entropy")
    values = {"x": 1.0, "y": [1.0, 1.0], "params": {"W1": [[1], [2]], "b1": [0, 0]}}
    with pytest.raises(ValuesError, match="must sum to 1"):
        load_values(model, values)


def test_values_file_reads_scientific_notation(tmp_path):
    # YAML 1.1 (PyYAML's default) reads 1e-3 as a string; users mean a number
    path = tmp_path / "at.yaml"
    path.write_text(
        "x: [1e-1, 2E-1]\ny: 5e-1\nlr: 1e-3\n"
        "params: {W1: [[1e0, 0], [0, 1]], b1: [0, 0], W2: [[1, 1]], b2: [-2.5e-1]}\n"
    )
    values = load_values(sp.load("examples:two_two_one"), path)
    assert values.lr == 1e-3
    assert values.params["b2"] == [-0.25] and values.params["W1"][0][0] == 1.0
    assert values.X == [[0.1, 0.2]] and values.Y == [[0.5]]


@pytest.mark.parametrize(
    ("expression", "x", "message"),
    [("log(x)", -1, "log(x) is not real at x = -1"), ("log(x)", 0, "log(x) is infinite at x = 0"),
     ("1/x", 0, "1/x is infinite at x = 0"), ("sqrt(x)", -4, "sqrt(x) is not real at x = -4")],
)
def test_point_outside_the_domain_names_the_file(tmp_path, expression, x, message):
    path = tmp_path / "at.yaml"
    path.write_text(f"x: {x}\n")
    derivation = sp.derive(sp.expression(expression, params=["x"]))
    with pytest.raises(DomainError) as caught:
        derivation.evaluate(path)
    assert str(caught.value).startswith(f"{path}: {message}")
    assert isinstance(caught.value, SymbpropError)  # the CLI: one line, exit 2


def test_a_step_out_of_the_domain_has_no_loss_instead_of_raising():
    d = sp.derive(sp.expression("log(x)", params=["x"]))
    step = d.evaluate({"x": 0.5, "lr": 1.0})["step"]  # x − 1·2 = −1.5
    assert step["params"] == {"x": -1.5} and step["loss"] is None
    assert d.evaluate({"x": 0.5, "lr": 0.1})["step"]["loss"] == pytest.approx(math.log(0.3))


def test_graph_values_may_give_an_upstream_gradient():
    model = sp.load("examples:one_node")
    assert load_values(model, "examples:one_node").upstream == 2
    assert load_values(sp.load("examples:staged"), "examples:staged").upstream is None
    with pytest.raises(ValuesError, match="upstream: must be a number"):
        load_values(model, {"w": 1, "x": 2, "v": 3, "y": 4, "u": 2, "upstream": "two"})


# ---------------------------------------------------------------- saturation, overflow, messages


@pytest.mark.parametrize("z", [60.0, 100.0, 700.0, -60.0, -700.0])
def test_bce_of_a_saturated_output_is_exact(z):
    """C = softplus(z) for y = 0: the oracle is mpmath's log1p at 50 digits; 1 − σ(z) rounded
    at 30 digits was off in the 8th digit at z = 60 and infinite beyond z ≈ 70."""
    d = sp.derive(sp.mlp([1, 1], loss="bce"))
    result = d.evaluate({"x": [1.0], "y": [0.0], "params": {"W1": [[z]], "b1": [0.0]}})
    with mpmath.workdps(50):
        exact = max(z, 0) + mpmath.log1p(mpmath.exp(-abs(mpmath.mpf(z))))
    assert result["loss"] == pytest.approx(float(exact), rel=1e-14)


def test_check_passes_at_a_saturated_bce_output():
    model = sp.mlp([1, 1], loss="bce")
    values = {"x": [1.0], "y": [0.0], "params": {"W1": [[60.0]], "b1": [0.0]}}
    assert sp.check(model, values=values, samples=0).ok


def test_a_value_beyond_the_float_range_is_a_domain_error_not_a_hang():
    started = time.thread_time()
    d = sp.derive(sp.expression("exp(exp(exp(exp(exp(x)))))"))
    with pytest.raises(DomainError, match="overflows the float range"):
        d.evaluate({"x": 1.0})
    assert time.thread_time() - started < 10


def test_a_gradient_without_a_real_value_is_named_as_a_gradient():
    d = sp.derive(sp.expression("log(x) + sqrt(y)"))
    with pytest.raises(DomainError) as err:
        d.evaluate({"x": 1.0, "y": 0.0})
    assert "∂f/∂y is infinite at y = 0" in str(err.value) and "df_d" not in str(err.value)


def test_a_step_too_far_for_exact_arithmetic_has_no_loss():
    d = sp.derive(sp.expression("-((1 + (1.25 - x)**2)**((1 + y**2)**w) + x)"))
    result = d.evaluate({"w": 1.365, "x": -2.5, "y": 2.0, "lr": 0.01})
    assert math.isfinite(result["loss"]) and result["step"]["loss"] is None


@pytest.mark.parametrize("lr", [0, -1])
def test_a_learning_rate_in_a_values_file_must_be_positive(lr):
    with pytest.raises(ValuesError, match="lr: must be a positive number"):
        sp.derive(sp.expression("x**2")).evaluate({"x": 1.0, "lr": lr})


X, Y = sympy.symbols("x y", real=True)
COMPILED = [
    ("log(x) * exp(y) + x / y", sympy.log(X) * sympy.exp(Y) + X / Y),
    ("relu(x - y) + abs(y) * sigmoid(x)", sympy.Max(0, X - Y) + abs(Y) / (1 + sympy.exp(-X))),
    ("max(x, y) * tanh(x * y) + erf(y)", sympy.Max(X, Y) * sympy.tanh(X * Y) + sympy.erf(Y)),
]


@pytest.mark.parametrize(("formula", "f"), COMPILED, ids=[c[0] for c in COMPILED])
def test_a_graph_inside_its_domains_is_evaluated_by_its_compiled_equations(formula, f,
                                                                           monkeypatch):
    """Inside the domains every node, adjoint and gradient comes from the equations compiled
    once with mpmath, without SymPy's ``evalf`` (kept for the points it must explain, outside a
    domain); f and each gradient are ``sympy.diff``'s of f written here, to float64 precision."""
    from symbprop.symbolic import exact

    calls = []
    original = exact.number
    monkeypatch.setattr(exact, "number", lambda *a, **k: calls.append(a[0]) or original(*a, **k))
    d = sp.derive(sp.expression(formula))
    point = {"x": 1.25, "y": 0.5}
    result = d.evaluate(point)
    assert not calls
    at = {X: sympy.Float(1.25, 40), Y: sympy.Float(0.5, 40)}
    assert result["loss"] == pytest.approx(float(f.xreplace(at).evalf(40)), rel=1e-15)
    for name, symbol in (("x", X), ("y", Y)):
        oracle = float(sympy.diff(f, symbol).xreplace(at).evalf(40))
        assert result["grad"][name] == pytest.approx(oracle, rel=1e-14), name
    if "log" in formula:
        with pytest.raises(DomainError, match=r"is not real at x = -1"):
            d.evaluate({"x": -1.0, "y": 0.5})
        assert calls  # SymPy named what has no value
