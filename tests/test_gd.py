"""Gradient descent on an expression itself (seed 003): rates too small, right, too large."""

from __future__ import annotations

import math

import numpy as np
import pytest
from typer.testing import CliRunner

import symbprop as sp
from symbprop.cli.app import app
from symbprop.training import descent as gd


@pytest.fixture(scope="module")
def quadratic():
    return gd.Objective(sp.load("examples:quadratic"))


def test_converges_to_five_with_lr_point_one(quadratic):
    run = gd.descend(quadratic, {"x": 0.0}, lr=0.1, steps=200, tol=1e-8)
    assert run.converged and run.stopped_because == "tol"
    assert run.final["x"] == pytest.approx(5.0, abs=1e-7)
    # the iterates follow x_{k+1} - 5 = (1 - 2 lr)(x_k - 5) exactly
    k = np.arange(len(run.iterates))
    assert np.allclose(run.iterates[:, 0], 5 - 5 * 0.8**k)
    assert np.allclose(run.gradients[:, 0], 2 * (run.iterates[:, 0] - 5))
    assert run.verdict == "converged"


def test_diverges_with_lr_one_point_one(quadratic):
    run = gd.descend(quadratic, {"x": 0.0}, lr=1.1, steps=50)
    assert run.diverged and run.verdict == "diverging" and run.overshooting
    assert abs(run.final["x"] - 5) == pytest.approx(5 * 1.2**50)
    assert np.all(np.diff(run.values) > 0)


def test_creeps_with_lr_point_zero_zero_one(quadratic):
    run = gd.descend(quadratic, {"x": 0.0}, lr=0.001, steps=50)
    assert run.stopped_because == "steps" and run.steps == 50
    assert 0 < run.final["x"] < 1 and run.verdict == "slow"
    assert np.all(np.diff(run.values) < 0)


def test_overflow_stops_cleanly(quadratic):
    run = gd.descend(quadratic, {"x": 0.0}, lr=1e3, steps=1000)
    assert run.stopped_because == "overflow" and run.verdict == "diverging"
    assert np.all(np.isfinite(run.iterates))


def test_stopping_rule_is_alpha_times_gradient_norm(quadratic):
    tol = 1e-3
    run = gd.descend(quadratic, {"x": 0.0}, lr=0.1, steps=1000, tol=tol)
    steps = 0.1 * run.grad_norms
    assert steps[-1] <= tol and np.all(steps[:-1] > tol)
    # the smallest k with 0.1 * 2 * 5 * 0.8^k <= tol
    assert run.steps == math.ceil(math.log(tol / 1.0) / math.log(0.8))
    assert gd.descend(quadratic, {"x": 5.0}, lr=0.1).steps == 0  # already at the minimum


def test_variable_learning_rate(quadratic):
    run = gd.descend(quadratic, {"x": 0.0}, steps=100, schedule=lambda k: 0.4 / (1 + k))
    assert run.rates[:3].tolist() == pytest.approx([0.4, 0.2, 0.4 / 3])
    assert abs(run.final["x"] - 5) < 0.1


def test_two_variables_and_a_graph():
    model = sp.expression("(x - 1)**2 + 10*(y + 2)**2", params=["x", "y"])
    run = gd.descend(model, {"x": -3.0, "y": 1.0}, lr=0.04, steps=500, tol=1e-10)
    assert run.converged and run.final == pytest.approx({"x": 1.0, "y": -2.0})
    staged = gd.descend(sp.load("examples:staged"), {"x": -2, "y": 5, "z": -4}, lr=0.1, steps=1)
    assert staged.gradients[0].tolist() == [-4.0, -4.0, 3.0]  # ∂f/∂x = z, ∂f/∂z = x + y
    assert staged.iterates[1].tolist() == pytest.approx([-1.6, 5.4, -4.3])


def test_kernels_and_sympy_backends_agree(quadratic):
    assert quadratic.backend == "kernels"
    symbolic = gd.Objective(sp.load("examples:quadratic"), backend="sympy")
    a = gd.descend(quadratic, {"x": 0.0}, lr=0.3, steps=20)
    b = gd.descend(symbolic, {"x": 0.0}, lr=0.3, steps=20)
    assert np.allclose(a.iterates, b.iterates) and np.allclose(a.gradients, b.gradients)
    model = sp.expression("exp(1/x) + x*y**2", params=["x", "y"])
    start = {"x": 2.0, "y": -1.0}
    fast = gd.descend(gd.Objective(model, backend="kernels"), start, lr=0.1, steps=10)
    slow = gd.descend(gd.Objective(model, backend="sympy"), start, lr=0.1, steps=10)
    assert np.allclose(fast.iterates, slow.iterates, rtol=1e-12)


def test_bad_settings_and_start_points(quadratic):
    with pytest.raises(sp.SymbpropError, match="positive"):
        gd.descend(quadratic, lr=0.0)
    with pytest.raises(sp.SymbpropError, match="missing x"):
        gd.descend(quadratic, {"y": 1.0})
    with pytest.raises(sp.SymbpropError, match="needs an expression or graph"):
        gd.Objective(sp.load("examples:xor"))
    with pytest.raises(sp.SymbpropError, match="allowed: auto, kernels, sympy"):
        gd.Objective(sp.load("examples:quadratic"), backend="jax")


def test_plots_written(tmp_path, quadratic):
    runs = [gd.descend(quadratic, {"x": 0.0}, lr, 50) for lr in (0.001, 0.1, 0.9)]
    png = gd.plot(runs, tmp_path / "gd.png", quadratic)
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert runs[0].objective is quadratic  # so the model may be left out
    assert gd.plot(runs, tmp_path / "same.png").stat().st_size > 10_000
    model = sp.expression("(x - 1)**2 + 10*(y + 2)**2", params=["x", "y"])
    pdf = gd.plot(gd.compare(model, {"x": -3, "y": 1}, [0.01, 0.05]), tmp_path / "c.pdf", model)
    assert pdf.read_bytes()[:5] == b"%PDF-"
    staged = sp.load("examples:staged")
    svg = gd.plot(gd.compare(staged, {"x": -2, "y": 5, "z": -4}, [0.1], 5), tmp_path / "s.svg")
    assert b"<svg" in svg.read_bytes()[:500]
    with pytest.raises(sp.SymbpropError, match=".png, .pdf or .svg"):
        gd.plot(runs, tmp_path / "gd.jpg", quadratic)


def test_cli_compares_learning_rates(tmp_path):
    out = tmp_path / "gd.png"
    result = CliRunner().invoke(app, ["train", "examples:quadratic", "--lr", "0.001", "--lr",
                                      "0.1", "--lr", "0.9", "--steps", "50", "--plot", str(out)])
    assert result.exit_code == 0, result.output
    assert "slow" in result.output and "oscillating" in result.output
    assert "α = 0.9: oscillating: the steps jump back and forth across the valley" in result.output
    assert "(x - 5)**2" in result.output and out.exists()


def test_cli_uses_bundled_start_point_and_at_file(tmp_path):
    result = CliRunner().invoke(app, ["train", "examples:staged", "--steps", "1"])
    assert result.exit_code == 0, result.output
    assert "x = -2, y = 5, z = -4" in result.output
    values = tmp_path / "start.yaml"
    values.write_text("x: 4.0\nlr: 0.25\n")
    result = CliRunner().invoke(app, ["train", "examples:quadratic", "--at", str(values)])
    assert result.exit_code == 0 and "from x = 4" in result.output and "0.25" in result.output


def test_cli_numbers_iterates_from_one_as_the_seed_and_the_documents_do():
    result = CliRunner().invoke(app, ["train", "examples:quadratic", "--steps", "3"])
    assert result.exit_code == 0, result.output
    rows = [line.split("│")[1:-1] for line in result.output.splitlines()
            if line.startswith("│") and "x =" not in line]
    # x⁽¹⁾ = 0 is the start; the last column is α‖∇L‖, the quantity compared with ε
    assert [[cell.strip() for cell in row] for row in rows[:4]] == [
        ["1", "0", "25", "1"], ["2", "1", "16", "0.8"], ["3", "1.8", "10.24", "0.64"],
        ["4", "2.44", "6.5536", "0.512"]]
    assert "α‖∇f‖" in result.output.split("learning rates")[0]


def test_a_start_at_a_stationary_point_is_not_called_a_minimum():
    saddle = sp.expression("x**2 - y**2", params=["x", "y"])
    run = gd.descend(saddle, {"x": 0.0, "y": 0.0}, lr=0.1)
    assert run.converged and run.steps == 0
    assert "stopped at the start" in run.describe() and "saddle" in run.describe()


def test_a_run_describes_the_function_by_its_output_name():
    run = gd.descend(sp.expression("(x - 5)**2"), {"x": 0.0}, lr=0.1, steps=3)
    assert run.function == "f"
    assert run.describe() == ("α = 0.1: slow after 3 steps (α‖∇f‖ = 0.51 > ε = 1e-06): the "
                              "function still decreases (to 6.554) after 3 steps, too few to "
                              "read a trend; x = 2.44, f = 6.5536")
    assert "L" not in run.describe()


def test_cli_refuses_data_for_an_expression():
    result = CliRunner().invoke(app, ["train", "examples:quadratic", "--data", "xor"])
    assert result.exit_code == 2 and "--data is for networks" in result.output


def test_cli_descent_output_is_not_wrapped_when_not_a_terminal(tmp_path):
    result = CliRunner().invoke(app, ["train", "examples:staged", "--lr", "0.001", "--lr", "0.01",
                                      "--steps", "3"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert ("gradient descent on f = z*(x + y) from x = -2, y = 5, z = -4; at most 3 steps; "
            "stop when α‖∇f‖ ≤ ε = 1e-06") in lines
    assert all(line == line.rstrip() for line in lines)


def test_cli_checks_the_plot_path_before_descending(tmp_path):
    result = CliRunner().invoke(app, ["train", "examples:quadratic", "--plot",
                                      str(tmp_path / "gd.jpg")])
    assert result.exit_code == 2 and ".png, .pdf, .svg" in result.output
    assert "learning rates" not in result.output
