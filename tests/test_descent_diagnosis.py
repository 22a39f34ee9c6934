"""What a gradient-descent trajectory shows (issue 17, seed 003: watch the objective): converged,
slow, oscillating, diverging, or still decreasing with no minimum in sight.

Constructed trajectories are computed here in closed form or by a loop written here (not by
symbprop's descent); the bundled examples go through the documents and the CLI.
"""

from __future__ import annotations

import math
import re

import numpy as np
import pytest
from typer.testing import CliRunner

from symbprop.cli.app import app
from symbprop.render.diagnosis import OUTCOMES, diagnose
from tests.documents import example_document


def descend(f, df, x0, lr, steps=100):
    """(values, gradient norms, iterates) of plain gradient descent, written out here."""
    xs = [np.atleast_1d(np.asarray(x0, dtype=float))]
    for _ in range(steps):
        xs.append(xs[-1] - lr * df(xs[-1]))
    xs = np.array(xs)
    return [f(x) for x in xs], [float(np.linalg.norm(df(x))) for x in xs], xs


def outcome(f, df, x0, lr, steps=100, **kw):
    values, norms, xs = descend(f, df, x0, lr, steps)
    return diagnose(values, norms, iterates=xs, **kw)


def exp_inverse(x):
    return math.exp(1 / x[0])


def d_exp_inverse(x):
    return np.array([-math.exp(1 / x[0]) / x[0] ** 2])


def quadratic(x):
    return (x[0] - 5) ** 2


def d_quadratic(x):
    return 2 * (x - 5)


# ---------------------------------------------------------------- constructed trajectories


@pytest.mark.parametrize("lr", [0.01, 0.1, 1.0])
def test_exp_of_one_over_x_has_no_minimum_in_sight(lr):
    """exp(1/x) decreases towards 1 as x → ∞: the gradient shrinks like k^(−2/3), so the steps
    add up without bound.  Not a learning-rate problem."""
    d = outcome(exp_inverse, d_exp_inverse, [2.0], lr)
    assert d.outcome == "no minimum"
    assert d.power == pytest.approx(2 / 3, abs=0.1)
    assert "learning rate" not in d.text


def test_exp_of_minus_x_borderline_power_one_has_no_minimum():
    d = outcome(lambda x: math.exp(-x[0]), lambda x: np.array([-math.exp(-x[0])]), [0.0], 0.1)
    assert d.outcome == "no minimum"


def test_a_linear_function_falls_without_slowing():
    d = outcome(lambda x: -x[0], lambda x: np.array([-1.0]), [0.0], 0.1)
    assert d.outcome == "no minimum" and "did not shrink" in d.reason


def test_a_saddle_runs_away_with_growing_gradients():
    # f = x·y from (1, 2): the descent runs down the saddle, ‖∇f‖ grows
    d = outcome(lambda p: p[0] * p[1], lambda p: np.array([p[1], p[0]]), [1.0, -2.0], 0.1, 50)
    assert d.outcome == "no minimum" and "grew" in d.reason


@pytest.mark.parametrize("lr", [0.001, 0.01])
def test_a_small_rate_on_a_quadratic_is_slow(lr):
    d = outcome(quadratic, d_quadratic, [0.0], lr)
    assert d.outcome == "slow"
    assert d.factor == pytest.approx(1 - 2 * lr, rel=1e-6)  # (x − 5) shrinks by 1 − 2α


def test_a_flat_minimum_is_slow_not_missing():
    # x⁴: ‖∇f‖ ~ k^(−3/2), the steps add up to a finite distance: a minimum at 0
    d = outcome(lambda x: x[0] ** 4, lambda x: 4 * x ** 3, [1.0], 0.01)
    assert d.outcome == "slow" and d.power == pytest.approx(1.5, abs=0.2)


def test_overshooting_across_the_valley_is_oscillating():
    d = outcome(quadratic, d_quadratic, [0.0], 0.95, steps=30)
    assert d.outcome == "oscillating" and "30 of 30" not in d.reason
    assert re.search(r"(\d+) of \1 reversed", d.reason)


def test_an_objective_that_goes_up_and_down_is_oscillating():
    values = [10, 8, 9, 7, 8, 6, 7, 5, 6, 4.5]
    norms = [1.0] * len(values)
    assert diagnose(values, norms).outcome == "oscillating"


def test_a_growing_objective_is_diverging():
    values, norms, xs = descend(quadratic, d_quadratic, [0.0], 1.1, 20)
    d = diagnose(values, norms, iterates=xs)
    assert d.outcome == "diverging" and "grew from 25" in d.reason
    assert diagnose([1.0, 3.0, 1e13], [1, 2, 3], ended="loss").outcome == "diverging"
    assert diagnose([1.0], [1.0], ended="domain").outcome == "diverging"


def test_falling_past_the_bound_is_no_minimum():
    d = diagnose([1.0, -10.0, -1e5, -1e13], [1.0, 5.0, 50.0, 500.0], ended="loss")
    assert d.outcome == "no minimum" and "3 of 3" in d.reason


def test_the_stopping_rule_is_converged():
    values, norms, xs = descend(quadratic, d_quadratic, [0.0], 0.1, 200)
    assert diagnose(values, norms, met=True, iterates=xs).outcome == "converged"


def test_every_outcome_has_a_headline():
    assert {diagnose([3, 2, 1, 0.5, 0.4, 0.3], [1, 0.9, 0.8, 0.7, 0.6, 0.5]).outcome,
            "converged"} <= set(OUTCOMES)
    d = diagnose([2.0, 1.0], [1.0, 1.0])
    assert d.outcome == "slow" and "too few" in d.reason


# ---------------------------------------------------------------- the bundled examples


def text_of(name: str) -> str:
    return " ".join(example_document(name, True, "txt").split())


def test_exp_inverse_document_does_not_blame_the_learning_rate():
    doc = text_of("exp_inverse")
    descent = doc.split("Gradient descent on the function itself")[1].split("7. Insights")[0]
    assert ("With α = 0.1 gradient descent has not stopped after 100 steps (f = 1.31083 at "
            "k = 101); it is still decreasing with no minimum in sight") in descent
    assert "no learning rate makes it stop" in descent
    assert "too small" not in descent and "progress is slow" not in descent
    assert descent.count("no minimum in sight") >= 4  # the sentence and the three rates


def test_quadratic_document_names_what_each_rate_shows():
    doc = text_of("quadratic")
    assert "0.01 not stopped after 100 steps (f = 0.439699 at k = 101): slow" in doc
    assert "1 not stopped after 100 steps (f = 25 at k = 101): oscillating" in doc
    assert "0.1 stops at k = 63" in doc


def test_staged_and_one_node_documents_say_no_minimum():
    for name, f in (("staged", "f"), ("one_node", "L")):
        doc = text_of(name)
        assert f"The trajectories show {f} still decreasing with no minimum in sight" in doc


def test_cli_prints_the_diagnosis():
    result = CliRunner().invoke(app, ["train", "examples:exp_inverse"])
    assert result.exit_code == 0, result.output
    assert "no minimum in sight" in result.output
    assert "α = 0.1: still decreasing with no minimum in sight: " in " ".join(
        result.output.split())
    assert "too slow" not in result.output
