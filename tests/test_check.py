"""The three-way cross-check: symbolic vs compiled vs finite differences, and ``symbprop check``."""

from __future__ import annotations

import numpy as np
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

import symbprop as sp
from symbprop import examples
from symbprop.cli.app import app
from symbprop.crosscheck.compare import CheckReport, check
from symbprop.symbolic.reference import Reference


def _kernel_input(name: str) -> tuple:
    """What an example's kernels and its check depend on: a network's sizes, activations, biases
    and loss, and its values file, without its name and its notation (which only the documents
    print); a graph is its own."""
    model = sp.load(f"examples:{name}")
    if model.kind != "network":
        return (name,)
    values = (yaml.safe_load(examples.example_values_path(name).read_text(encoding="utf-8"))
              if examples.has_values(name) else None)
    return model.inputs, model.layers, model.loss, model.reduction, repr(values)


def _distinct(names: list[str]) -> list[str]:
    """``names`` without an example whose kernels are an earlier one's under another name (the
    seed examples that restate a lecture's network in its own notation): checking them again
    compiled four more kernels each and compared the same numbers."""
    seen, kept = set(), []
    for name in sorted(names, key=lambda n: (n.startswith("seed"), n)):
        if (key := _kernel_input(name)) not in seen:
            seen.add(key)
            kept.append(name)
    return sorted(kept)


SMALL = _distinct([n for n in examples.names() if not n.startswith(("digits", "mnist"))])


def test_only_the_seed_restatements_are_left_to_their_twins():
    twins = {n for n in examples.names() if not n.startswith(("digits", "mnist"))} - set(SMALL)
    assert twins == {"seed001_one_path", "seed001_two_two_one", "seed004_chain"}


pytestmark = pytest.mark.usefixtures("kernel_cache_dir")


@pytest.mark.parametrize("name", SMALL)
def test_bundled_examples_agree_in_both_lowerings_and_dtypes(name):
    model = sp.load(f"examples:{name}")
    values = f"examples:{name}" if examples.has_values(name) else None
    report = check(model, values=values, samples=2, dtypes=("float64", "float32"))
    assert report.ok, str(report)
    methods = {row.method for row in report.rows}
    expected = {"unrolled float64", "unrolled float32", "finite differences"}
    if model.kind == "network":
        expected |= {"looped float64", "looped float32"}
    assert methods == expected
    assert report.max_rel_err < 1e-2


@pytest.mark.parametrize("name", ["digits_64_32_10", "mnist_784_128_10"])
def test_wide_examples_agree_through_the_index_form_reference(name):
    report = check(sp.load(f"examples:{name}"), samples=1, dtypes=("float64", "float32"))
    assert report.ok, str(report)
    assert {row.method for row in report.rows} == {"looped float64", "looped float32",
                                                    "finite differences"}


ACTIVATIONS = ["sigmoid", "tanh", "relu", "leaky_relu", "softplus", "elu", "swish", "gelu",
               "identity", {"name": "custom", "formula": "z/(1+exp(-z))"}]
LOSSES = ["half_sse", "sse", "mse", "bce", "softmax_cross_entropy", {"formula": "(a - y)**4"}]


@settings(max_examples=6, deadline=None)
@given(
    sizes=st.lists(st.integers(1, 3), min_size=2, max_size=4),
    activation=st.sampled_from(ACTIVATIONS),
    loss=st.sampled_from(LOSSES),
    bias=st.sampled_from(["per_neuron", "shared", "none"]),
    reduction=st.sampled_from(["mean", "sum"]),
)
def test_random_small_networks_agree(sizes, activation, loss, bias, reduction):
    model = sp.mlp(sizes, activation=activation, loss=loss, bias=bias, reduction=reduction,
                   name="hypothesis_net")
    report = check(model, samples=2, dtypes=("float64", "float32"))
    assert report.ok, str(report)


def test_reference_evaluator_matches_derivation_evaluate():
    model = sp.mlp([2, 3, 2], activation="tanh", loss="softmax_cross_entropy", bias="shared")
    d = sp.derive(model)
    rng = np.random.default_rng(1)
    params = {n: rng.standard_normal(s) for n, s in model.param_shapes.items()}
    X, Y = rng.standard_normal((2, 2)), np.array([[0.3, 0.7], [1.0, 0.0]])
    exact = d.evaluate({"X": X.tolist(), "Y": Y.tolist(),
                        "params": {n: v.tolist() for n, v in params.items()}})
    entries = {n: np.arange(int(np.prod(s, dtype=int))) for n, s in model.param_shapes.items()}
    loss, grads = Reference(d).loss_and_grad(params, (X, Y), entries)
    assert loss == pytest.approx(exact["loss"], rel=1e-14)
    assert grads["W1"][4] == pytest.approx(exact["grad"]["W1[2,0]"], rel=1e-13)
    assert grads["b2"][0] == pytest.approx(exact["grad"]["b2"], rel=1e-13)


def test_the_float64_reference_agrees_with_the_exact_one():
    """``Reference(d, exact=False)`` (the descent runs of wide nets) computes the same
    equations in float64: the exact reference's numbers to float64's rounding."""
    model = sp.mlp([3, 4, 2], activation="tanh", loss="softmax_cross_entropy")
    d = sp.derive(model)
    rng = np.random.default_rng(5)
    params = {n: rng.standard_normal(s) for n, s in model.param_shapes.items()}
    X, Y = rng.standard_normal((3, 3)), np.eye(2)[[0, 1, 1]]
    entries = {n: np.arange(int(np.prod(s, dtype=int))) for n, s in model.param_shapes.items()}
    loss, grads = Reference(d).loss_and_grad(params, (X, Y), entries)
    loss64, grads64 = Reference(d, exact=False).loss_and_grad(params, (X, Y), entries)
    assert loss64 == pytest.approx(loss, rel=1e-13)
    for name, grad in grads.items():
        np.testing.assert_allclose(grads64[name], grad, rtol=1e-11, atol=1e-15)
    assert all(isinstance(g, np.ndarray) for g in grads64.values())


def test_the_reference_rounds_a_weighted_sum_once():
    """A layer's Σ_k W_jk x_k is mpmath's ``fdot``: exact before one rounding, so terms that
    cancel beyond the working precision (1e40 + 1 − 1e40 at 30 digits) leave the 1."""
    model = sp.mlp([3, 1], activation="identity", loss="half_sse", bias="none")
    d = sp.derive(model)
    ref = Reference(d)
    env = ref.run({"W1": np.ones((1, 3))}, np.array([1e40, 1.0, -1e40]), np.array([0.0]),
                  ref.forward)
    (z,) = [env[b] for b in ref.bases if str(b) == "z1"]
    assert float(z[0]) == 1.0
    loss, grads = ref.loss_and_grad({"W1": np.ones((1, 3))}, (np.array([[1e40, 1.0, -1e40]]),
                                                             np.array([[0.0]])),
                                    {"W1": np.arange(3)})
    assert loss == 0.5 and grads["W1"][1] == 1.0


@pytest.mark.parametrize("activation, asked", [("sigmoid", False), ("relu", True)])
def test_only_a_kinked_net_has_its_points_moved_off_the_kinks(monkeypatch, activation, asked):
    """z is worked out only where a kink could sit near a point (relu), never for a smooth
    net; then in float64 by the index-form equations, as the exact z to float64's rounding."""
    import symbprop.crosscheck.compare as compare

    calls = []
    real = compare._Symbolic.forward_z
    monkeypatch.setattr(compare._Symbolic, "forward_z",
                        lambda self, *args: calls.append(1) or real(self, *args))
    model = sp.mlp([2, 3, 1], activation=activation, loss="half_sse", name=f"kinks_{activation}")
    assert check(model, samples=2).ok
    assert bool(calls) == asked
    d = sp.derive(model)
    rng = np.random.default_rng(2)
    params = {n: rng.standard_normal(s) for n, s in model.param_shapes.items()}
    data = (rng.standard_normal((3, 2)), rng.standard_normal((3, 1)))
    for fast, exact in zip(compare._Symbolic(d).forward_z(params, data),
                           Reference(d).forward_z(params, data), strict=True):
        np.testing.assert_allclose(fast, exact, rtol=1e-13, atol=1e-15)


def test_z_past_the_float_range_is_worked_out_exactly():
    """exp(exp(7)) overflows float64: the exact reference gives z (and inf where it is past
    the range) instead of an OverflowError."""
    import symbprop.crosscheck.compare as compare

    model = sp.mlp([1, 1, 1], activation={"name": "custom", "formula": "abs(z) + exp(exp(z))"},
                   output_activation="identity", loss="half_sse", name="overflowing")
    params = {"W1": np.array([[1.0]]), "b1": np.array([6.0]), "W2": np.array([[1.0]]),
              "b2": np.array([0.0])}
    zs = compare._Symbolic(sp.derive(model)).forward_z(params, (np.ones((1, 1)), np.ones((1, 1))))
    assert zs[0][0, 0] == 7.0 and zs[1][0, 0] == np.inf  # z² = exp(exp(7)) ≈ 10^476


def test_a_wrong_kernel_is_caught(monkeypatch):
    import symbprop.crosscheck.compare as check_module

    real = check_module.compile_model

    def broken(model, strategy, dtype="float64", target="numba"):
        kernels = real(model, strategy, dtype, target)
        original = kernels.loss_and_grad

        def loss_and_grad(params, X, Y):
            loss, grads = original(params, X, Y)
            grads["b1"] = grads["b1"] * 1.001
            return loss, grads

        kernels.loss_and_grad = loss_and_grad
        return kernels

    monkeypatch.setattr(check_module, "compile_model", broken)
    report = check(sp.load("examples:nielsen_232"), samples=1)
    assert not report.ok
    failing = {(row.group, row.method) for row in report.rows if not row.ok}
    assert failing == {("b1", "unrolled float64"), ("b1", "looped float64")}
    assert "FAIL" in str(report)
    result = CliRunner().invoke(app, ["check", "examples:nielsen_232", "--samples", "1"])
    assert result.exit_code == 1, result.output
    assert "disagree" in result.output


def test_report_plain_text_and_properties():
    report = check(sp.load("examples:staged"), values="examples:staged", samples=1)
    assert isinstance(report, CheckReport) and report.ok and report.points == 2
    text = str(report)
    assert text.splitlines()[0] == "check staged: 2 points, all agree"
    assert "x      unrolled float64" in text and "finite differences" in text
    assert report.max_abs_err < 1e-6 and report.max_rel_err < 1e-5


def test_check_command_prints_the_table_and_exits_zero():
    result = CliRunner().invoke(app, ["check", "examples:nielsen_232",
                                      "--at", "examples:nielsen_232", "--samples", "2"])
    assert result.exit_code == 0, result.output
    assert "check nielsen_232: 3 points, all agree" in result.output
    assert "max abs err" in result.output


def test_check_command_bad_values_exit_2(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("x: [1, 2]\n")
    result = CliRunner().invoke(app, ["check", "examples:two_two_one", "--at", str(bad)])
    assert result.exit_code == 2
    assert "bad.yaml" in result.output


def test_graph_random_points_stay_where_the_graph_is_defined(tmp_path):
    model = sp.expression("log(x)*sqrt(y) + x*y", params=["x", "y"], name="logsqrt")
    assert check(model, samples=4).ok
    spec, values = tmp_path / "logsqrt.yaml", tmp_path / "negative.yaml"
    spec.write_text('name: logsqrt\nexpression: "log(x)*sqrt(y) + x*y"\nparams: [x, y]\n')
    values.write_text("x: -1.0\ny: 2.0\n")
    result = CliRunner().invoke(app, ["check", str(spec), "--at", str(values)])
    assert result.exit_code == 2 and "no real value at this point" in result.output
    assert result.output.startswith(f"symbprop: error: {values}: ")  # names the values file


@pytest.mark.parametrize("samples, values, match", [
    (-1, None, "samples: must be an integer ≥ 0, got -1"),
    (-1, "examples:staged", "samples: must be an integer ≥ 0"),
    (0, None, "nothing to check"),
    (1.5, None, "samples: must be an integer"),
])
def test_check_refuses_to_check_nothing(samples, values, match):
    with pytest.raises(sp.SymbpropError, match=match):
        check(sp.load("examples:staged"), values=values, samples=samples)


def test_check_with_values_only_is_one_point():
    report = check(sp.load("examples:staged"), values="examples:staged", samples=0)
    assert report.ok and report.points == 1


def test_check_command_without_points_exits_2():
    result = CliRunner().invoke(app, ["check", "examples:xor", "--samples", "0"])
    assert result.exit_code == 2, result.output
    assert "--samples 0 without --at: nothing to check" in result.output
    assert "all agree" not in result.output


def test_check_command_says_1_point():
    result = CliRunner().invoke(app, ["check", "examples:staged", "--samples", "1"])
    assert result.exit_code == 0, result.output
    assert "check staged: 1 point, all agree" in result.output


@pytest.mark.parametrize("formula", ["log(x)", "sqrt(x)", "1/x"])
def test_finite_differences_stay_inside_the_domain_near_zero(tmp_path, formula):
    model = sp.expression(formula, params=["x"], name="edge")
    for x in (1e-7, -1e-7, 2e-6, 3e-5):  # the step 1e-6 crosses 0, or comes close
        if x > 0 or formula == "1/x":
            report = check(model, values={"x": x}, samples=0)
            assert report.ok, str(report)
            fd = next(row for row in report.rows if row.method == "finite differences")
            assert fd.max_rel_err < 1e-6 and not fd.note
    spec, values = tmp_path / "edge.yaml", tmp_path / "edge.values.yaml"
    spec.write_text(f'name: edge\nexpression: "{formula}"\n')
    values.write_text("x: 1e-7\n")
    result = CliRunner().invoke(app, ["check", str(spec), "--at", str(values), "--samples", "0"])
    assert result.exit_code == 0, result.output


def test_a_smooth_function_near_zero_keeps_the_larger_step():
    model = sp.expression("cos(x) + 1000", params=["x"], name="smooth")
    assert check(model, values={"x": 2e-6}, samples=0).ok  # 1e-6·|x|: rounding would win


def test_a_failing_row_names_its_entry_furthest_beyond_tolerance():
    from symbprop.crosscheck.report import Tally

    tally = Tally()
    names = ["W1[0,0] at random point 1", "W1[0,1] at random point 1", "W1[1,0] at random point 1"]
    # errors 0.01, 0 and 0.05 against bounds atol·s + rtol·|exact| = 0.001, 0.011 and 0.021
    # (s = 10): the first, with the smaller error, is the furthest beyond its bound
    tally.add("W1", "looped float32", np.array([0.0, 5.0, 10.0]), np.array([0.01, 5.0, 10.05]),
              "float32", names)
    tally.add("W1", "looped float32", np.array([1.0]), np.array([1.0]), "float32",
              ["W1[0,0] at random point 2"])
    tally.add("b1", "looped float32", np.array([1.0]), np.array([1.5]), "float32")  # unnamed
    tally.add("b2", "looped float32", np.array([1.0]), np.array([1.0]), "float32", ["b2"])
    rows = {row.group: row for row in tally.rows()}
    assert rows["W1"].worst == "W1[0,0] at random point 1" and not rows["W1"].ok
    assert rows["b1"].worst == "" and rows["b2"].worst == ""  # not named; passing
    report = CheckReport("net", 2, tuple(rows.values()))
    assert report.notes() == ["W1, looped float32: worst: W1[0,0] at random point 1"]


def test_the_report_points_at_the_entry_that_disagrees():
    # (1 − cos x)/x² at x = 1e-3 cancels in float64 too: its gradient is off by 2e-4 relative.
    model = sp.expression("(1 - cos(x))/x**2 + y", params=["x", "y"], name="cosq")
    report = check(model, values={"x": 1e-3, "y": 1.0}, samples=1)
    assert not report.ok
    assert "x, unrolled float64: worst: x at the given point" in report.notes()
    assert not any(note.startswith("y,") for note in report.notes())
    assert "note: x, unrolled float64: worst: x at the given point" in str(report)


def test_entry_names_follow_the_parameter_shape():
    from symbprop.crosscheck.compare import _entry

    assert _entry("W1", 5, (2, 3)) == "W1[1,2]" and _entry("b1", 1, (3,)) == "b1[1]"
    assert _entry("x", 0, ()) == "x"


def test_a_value_that_is_not_finite_never_passes():
    from symbprop.crosscheck.report import Tally

    tally = Tally()
    tally.add("loss", "unrolled float64", np.array([np.inf]), np.array([np.inf]), "float64")
    tally.add("x", "unrolled float64", np.array([2.0, np.nan]), np.array([2.0, np.nan]),
              "float64")
    tally.add("x", "finite differences", np.array([2.0]), np.array([np.inf]), "fd")
    tally.add("y", "unrolled float64", np.array([2.0]), np.array([np.inf]), "float64")
    rows = {(row.group, row.method): row for row in tally.rows()}
    assert not any(row.ok for row in rows.values())
    assert "symbolic value is not finite" in rows["loss", "unrolled float64"].note
    assert "symbolic value is not finite" in rows["x", "unrolled float64"].note
    assert "not finite at θ ± h" in rows["x", "finite differences"].note
    assert rows["y", "unrolled float64"].note == ""  # a real disagreement: inf vs 2
    report = CheckReport("edge", 1, tuple(rows[k] for k in list(rows)[:1]))
    text = str(report)
    assert text.splitlines()[0] == "check edge: 1 point, NOT CHECKABLE"
    assert "FAIL" in text and "note: loss, unrolled float64: the symbolic value" in text
    assert report.table().caption.startswith("loss, unrolled float64: the symbolic value")


def test_dtypes_may_be_one_name_and_the_seed_states_its_range():
    model = sp.load("examples:staged")
    report = check(model, samples=1, dtypes="float32")
    assert {row.method for row in report.rows} == {"unrolled float32", "finite differences"}
    with pytest.raises(sp.SymbpropError, match="dtype: unknown 'float16'; allowed"):
        check(model, samples=1, dtypes="float16")
    with pytest.raises(sp.SymbpropError, match="dtypes: expected a dtype name or a sequence"):
        check(model, samples=1, dtypes=None)
    with pytest.raises(sp.SymbpropError, match=r"seed: expected an integer with 0 ≤ seed < 2"):
        check(model, samples=1, seed=-1)
