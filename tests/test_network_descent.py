"""Gradient descent for a network (issue 17, item 1): the update rule without values; with values
the run, the learning-rate lesson and its diagnosis, in every format.

The oracle is independent of symbprop's derivation: a NumPy forward pass written here from the
spec (sigmoid/identity layers, half_sse/sse, mean over the samples) and central differences of
it for the gradient.  Every row of the document's steps table is checked against a descent run
with those gradients, and every iterate of the runs against the NumPy cost.
"""

from __future__ import annotations

import dataclasses
import re

import numpy as np
import pytest
import yaml

import symbprop as sp
import symbprop.render.descent_runs as dr
from symbprop import examples, render
from symbprop.spec.values import load_values
from tests.documents import example_document

NETS = ["two_two_one", "nielsen_232", "chain", "one_path"]
ACTIVATIONS = {"sigmoid": lambda z: 1 / (1 + np.exp(-z)), "identity": lambda z: z}
H = 1e-6


def spec(name: str) -> dict:
    return yaml.safe_load(examples.example_path(name).read_text(encoding="utf-8"))


class NumpyNet:
    """C(θ) of a bundled net from its spec, θ in ``d.params`` order ("W1[0,1]", "b1[0]")."""

    def __init__(self, name: str) -> None:
        self.spec = spec(name)
        model = sp.load(f"examples:{name}")
        self.names = list(sp.derive(model).params)
        vals = load_values(model, f"examples:{name}")
        self.X, self.Y = np.array(vals.X, dtype=float), np.array(vals.Y, dtype=float)
        self.lr = vals.lr
        self.start = np.array([self._get(vals.params, n) for n in self.names])
        sizes = [self.spec["inputs"]] + [layer["units"] for layer in self.spec["layers"]]
        self.shapes = {}
        for layer, (n_in, n_out) in enumerate(zip(sizes, sizes[1:], strict=False), start=1):
            self.shapes[f"W{layer}"] = (n_out, n_in)
            self.shapes[f"b{layer}"] = (n_out,)

    @staticmethod
    def _get(params, name):
        head, _, rest = name.partition("[")
        value = params[head]
        for i in (int(p) for p in rest.rstrip("]").split(",") if p):
            value = value[i]
        return float(value)

    def cost(self, theta: np.ndarray) -> float:
        arrays = {n: np.zeros(s) for n, s in self.shapes.items()}
        for name, value in zip(self.names, theta, strict=True):
            head, _, rest = name.partition("[")
            arrays[head][tuple(int(p) for p in rest.rstrip("]").split(","))] = value
        total = 0.0
        for x, y in zip(self.X, self.Y, strict=True):
            a = x
            for layer, spec_layer in enumerate(self.spec["layers"], start=1):
                a = ACTIVATIONS[spec_layer["activation"]](arrays[f"W{layer}"] @ a
                                                          + arrays[f"b{layer}"])
            loss = self.spec["loss"]
            total += 0.5 * np.sum((y - a) ** 2) if loss == "half_sse" else np.sum((a - y) ** 2)
        return total / len(self.X)

    def gradient(self, theta: np.ndarray) -> np.ndarray:
        grad = np.empty_like(theta)
        for i in range(len(theta)):
            e = np.zeros_like(theta)
            e[i] = H
            grad[i] = (self.cost(theta + e) - self.cost(theta - e)) / (2 * H)
        return grad

    def descend(self, lr: float, steps: int) -> list[float]:
        theta, costs = self.start.copy(), []
        for _ in range(steps):
            costs.append(self.cost(theta))
            theta = theta - lr * self.gradient(theta)
        return costs


@pytest.fixture(scope="module", params=NETS)
def net(request):
    name = request.param
    d = sp.derive(sp.load(f"examples:{name}"))
    vals = load_values(d.model, f"examples:{name}")
    return name, NumpyNet(name), dr.lesson(d, vals)


def test_every_iterate_of_every_run_has_the_numpy_cost_and_gradient(net):
    _, oracle, lesson = net
    for run in lesson.all:
        assert np.allclose(run.iterates[0], oracle.start)
        for k, theta in enumerate(run.iterates):
            assert run.values[k] == pytest.approx(oracle.cost(theta), rel=1e-12, abs=1e-15)
            moderate = np.max(np.abs(theta)) < 1e3 and abs(run.values[k]) < 1e6
            if moderate and (k % 10 == 0 or k == len(run.iterates) - 1):
                assert np.allclose(run.gradients[k], oracle.gradient(theta), rtol=1e-5,
                                   atol=1e-8)
        steps = run.iterates[:-1] - run.rates[:, None] * run.gradients[:-1]
        assert np.array_equal(steps, run.iterates[1:])


def test_the_documents_steps_table_is_an_independent_descent(net):
    name, oracle, lesson = net
    text = example_document(name, True, "txt")
    section = text.split("Gradient descent\n")[1].split("Insights")[0]
    rows = re.findall(r"^ +(\d+) +(\S+) +(\S+) +(\S+)$", section, re.M)
    assert rows and rows[0][0] == "1"
    last = int(rows[-1][0])
    costs = oracle.descend(oracle.lr, last)
    for k, cost, norm, step in rows:
        assert float(cost) == pytest.approx(costs[int(k) - 1], rel=2e-5, abs=1e-12)
        assert float(step) == pytest.approx(oracle.lr * float(norm), rel=2e-5)
    assert last == len(lesson.given.values)


def test_the_given_rates_diagnosis_is_what_the_trajectory_shows(net):
    _, oracle, lesson = net
    run = lesson.given
    outcome = run.diagnosis.outcome
    costs = np.array([oracle.cost(t) for t in run.iterates])
    final_step = oracle.lr * np.linalg.norm(oracle.gradient(run.iterates[-1]))
    if outcome == "converged":
        assert final_step <= dr.EPSILON * 1.001
    else:
        assert final_step > dr.EPSILON * 0.999
    if outcome in ("converged", "slow", "no minimum"):
        assert costs[-1] < costs[0]
    if outcome in ("slow", "no minimum"):
        assert np.all(np.diff(costs[-10:]) < 0)  # still falling
        assert len(run.values) == dr.STEP_LIMIT + 1


@pytest.mark.parametrize("name", ["two_two_one", "one_path"])
def test_a_too_large_rate_diverges_or_oscillates(name):
    """(A sigmoid chain saturates instead: its cost falls towards 0, no minimum in sight.)"""
    d = sp.derive(sp.load(f"examples:{name}"))
    vals = load_values(d.model, f"examples:{name}")
    oracle = NumpyNet(name)
    run = dr.run(d, vals, 20 * vals.lr)
    assert run.diagnosis.outcome in ("diverging", "oscillating")
    costs = [oracle.cost(t) for t in run.iterates]
    assert max(costs[1:]) > costs[0] or np.sum(np.diff(costs) > 0) >= len(costs) // 4


@pytest.mark.parametrize("fmt", ["tex", "md", "txt"])
@pytest.mark.parametrize("at", [False, True])
def test_the_section_is_in_every_format_with_and_without_values(fmt, at):
    doc = example_document("nielsen_232", at, fmt)
    assert "Gradient descent" in doc and "(seed 000)" in doc
    # 17 parameters: a transposed row of the first of each array, the rest elided
    elided = "\\ldots" if fmt != "txt" else "…)ᵀ"
    assert elided in doc.split("column of every partial derivative")[1]
    assert ("How to set the learning rate" in doc) == at
    if at and fmt == "tex":
        assert r"\begin{tikzpicture}" in doc.split("How to set the learning rate")[1]


def test_without_values_every_layer_has_its_update():
    text = example_document("chain", False, "txt")
    section = text.split("Gradient descent\n")[1].split("Insights")[0]
    for layer in "¹²³":
        assert f"W{layer} ← W{layer} - η·δ{layer}" in section
        assert f"b{layer} ← b{layer} - η·δ{layer}" in section


# ---------------------------------------------------------------- plots


def test_markdown_refers_to_the_plot_the_command_writes_next_to_it(tmp_path):
    pytest.importorskip("matplotlib")
    from typer.testing import CliRunner

    from symbprop.cli.app import app

    out = tmp_path / "notes.md"
    result = CliRunner().invoke(app, ["derive", "examples:two_two_one", "--at",
                                      "examples:two_two_one", "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert "](two_two_one-descent.png)" in out.read_text(encoding="utf-8")
    assert (tmp_path / "two_two_one-descent.png").read_bytes().startswith(b"\x89PNG")


@pytest.mark.parametrize(("name", "symbol", "rate"), [("nielsen_232", "C", "η"),
                                                      ("quadratic", "f", "α")])
def test_the_plot_names_the_documents_function_and_counts_from_one(monkeypatch, tmp_path, name,
                                                                   symbol, rate):
    pytest.importorskip("matplotlib")
    import symbprop.render.descent_figure as descent_figure
    import symbprop.render.plots as plots

    drawn = {}

    def keep(figure, path):
        drawn["figure"] = figure
        return path

    monkeypatch.setattr(plots, "save_figure", keep)
    monkeypatch.setattr(descent_figure, "plot_descent",
                        lambda *a: plots.plot_descent(*a))
    d = sp.derive(sp.load(f"examples:{name}"))
    descent_figure.write(d, f"examples:{name}", tmp_path)
    values_axes = drawn["figure"].axes[-1]
    assert values_axes.get_ylabel().startswith(f"{symbol}(θ⁽ᵏ⁾)")
    lines = values_axes.get_lines()
    assert len(lines) == 4 and all(line.get_xdata()[0] == 1 for line in lines)
    labels = [line.get_label() for line in lines]
    assert labels[-1].startswith(f"{rate}⁽ᵏ⁾ = 10{rate}/k")
    if name == "quadratic":  # one parameter: the path on the curve f(x)
        assert drawn["figure"].axes[0].get_xlabel() == "x"


def test_the_descent_figure_names_parameters_as_the_document_does():
    """The PNG's legends use the document's names: w¹₀₀ (Nielsen), or a spec's notation."""
    from symbprop.render.descent_figure import _Drawn
    from symbprop.spec.values import load_values

    for name, expected in (("two_two_one", "w¹₀₀"), ("seed001_two_two_one", "w₀")):
        d = sp.derive(sp.load(f"examples:{name}"))
        drawn = _Drawn(d, load_values(d.model, f"examples:{name}"))
        assert drawn.labels["W1[0,0]"] == expected


@pytest.mark.parametrize("name", NETS)
def test_a_wide_nets_runs_in_float64_have_the_numpy_cost_and_say_so(monkeypatch, name):
    """Above ``EXACT_PARAMS`` the runs are computed in float64 (``Reference(exact=False)``):
    forced here on the bundled nets, every iterate has the oracle's cost, the run follows the
    exact run to within float64's rounding, the iterates printed have their exact f and ∇f,
    and the document says how it was computed."""
    d = sp.derive(sp.load(f"examples:{name}"))
    vals = load_values(d.model, f"examples:{name}")
    exact = dr.lesson(d, vals)
    assert dr.exact(d) and "computed exactly at every iterate" in " ".join(
        render.to_text(d, f"examples:{name}").split())
    monkeypatch.setattr(dr, "EXACT_PARAMS", 0)
    assert not dr.exact(d)
    oracle, lesson = NumpyNet(name), dr.lesson(d, vals)
    for run, exact_run in zip(lesson.all, exact.all, strict=True):
        for k, theta in enumerate(run.iterates):
            assert run.values[k] == pytest.approx(oracle.cost(theta), rel=1e-12, abs=1e-15)
        shared = min(len(run.values), len(exact_run.values), 20)
        np.testing.assert_allclose(run.values[:shared], exact_run.values[:shared],
                                   rtol=1e-9, atol=1e-14)
    exact_f = dr._network(d, vals, exact_values=True)  # the printed iterates: exact again
    for run in lesson.all:
        for i in dr.shown_steps(len(run.values)):
            if i is not None:
                value, gradient = exact_f(run.iterates[i])
                assert run.values[i] == value and np.array_equal(run.gradients[i], gradient)
    text = " ".join(render.to_text(d, f"examples:{name}").split())  # lines are wrapped
    assert "computed in float64 at every iterate" in text
    assert "and exactly again at the iterates shown" in text
    assert f"(exact gradients of {len(d.params)} parameters, as in the worked example" in text


@pytest.mark.parametrize("name", ["two_two_one", "staged"])
def test_a_lesson_runs_once_per_model_and_point(monkeypatch, name):
    """The same example and point, derived again and rendered in another format, reuse the
    lesson (its objective is built once); another point, or a changed setting of the runs, is a
    new lesson; the kept runs are read-only, so no reader can change them for the next; a model
    over ``KEPT_PARAMS`` is never kept."""
    built = []
    objective = dr.objective
    monkeypatch.setattr(dr, "objective", lambda d, vals: built.append(1) or objective(d, vals))
    monkeypatch.setattr(dr, "_lessons", type(dr._lessons)())
    render.to_text(sp.derive(f"examples:{name}"), f"examples:{name}")
    render.to_latex(sp.derive(f"examples:{name}"), f"examples:{name}")
    assert len(built) == 1
    d = sp.derive(f"examples:{name}")
    vals = load_values(d.model, f"examples:{name}")
    rate = "η" if d.model.kind == "network" else "α"
    first = dr.lesson(d, vals, rate)
    assert dr.lesson(d, vals, rate) is first and len(built) == 1
    halved = dr.lesson(d, dataclasses.replace(vals, lr=vals.lr / 2), rate)
    assert len(built) == 2 and halved.lr == vals.lr / 2
    monkeypatch.setattr(dr, "STEP_LIMIT", 2)
    short = dr.lesson(d, vals, rate)
    assert len(built) == 3 and max(run.steps for run in short.all) <= 2 < first.given.steps
    with pytest.raises(ValueError, match="read-only"):
        first.given.iterates[0, 0] = 1.0
    monkeypatch.setattr(dr, "KEPT_PARAMS", len(d.params) - 1)  # too wide to keep
    dr.lesson(d, vals, rate)
    dr.lesson(d, vals, rate)
    assert len(built) == 5
