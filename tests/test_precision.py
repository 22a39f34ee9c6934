"""The exact side keeps enough digits: ``symbprop.symbolic.precision.settled`` and its use by
``Derivation.evaluate`` and the mpmath ``Reference``.  The oracle is mpmath at 200 digits on the
composed formula, not the node-by-node evaluation under test."""

from __future__ import annotations

import math

import mpmath
import numpy as np
import pytest

import symbprop as sp
from symbprop.symbolic.precision import MAX_DIGITS, START_DIGITS, agree, settled
from symbprop.symbolic.reference import Reference


def _close(value: float, exact, rel: float = 1e-14) -> bool:
    return abs(value - float(exact)) <= rel * abs(float(exact))


def test_a_node_that_cancels_every_digit_of_30_gets_more_digits():
    # t = tanh(50) rounds to 1 at 30 digits, so f = 1 - t came out 0, and ∂f/∂x = -(1 - t²) too.
    d = sp.derive(sp.graph({"t": "tanh(x)", "f": "1 - t"}, output="f"))
    result = d.evaluate({"x": 50.0})
    with mpmath.workdps(200):
        x = mpmath.mpf(50)
        loss, grad = 1 - mpmath.tanh(x), -(1 - mpmath.tanh(x) ** 2)
    assert _close(result["loss"], loss) and _close(result["grad"]["x"], grad)


def test_a_gradient_that_cancels_two_large_terms_is_exact():
    # d/dx (1 - cos x)/x² = sin x/x² - 2(1 - cos x)/x³: two terms near 1e8 whose difference is
    # -x/12 ≈ -8.3e-10, 18 digits below them.
    d = sp.derive(sp.expression("(1 - cos(x))/x**2"))
    result = d.evaluate({"x": 1e-8})
    with mpmath.workdps(200):
        x = mpmath.mpf(1e-8)
        grad = mpmath.diff(lambda t: (1 - mpmath.cos(t)) / t**2, x)
    assert _close(result["loss"], 0.5) and _close(result["grad"]["x"], grad, 1e-12)


def test_settled_stops_when_two_runs_agree():
    calls = []

    def compute(digits):
        calls.append(digits)
        return {"loss": 1.0 / 3.0, "grad": [2.0, None]}

    assert settled(compute) == {"loss": 1.0 / 3.0, "grad": [2.0, None]}
    assert calls == [START_DIGITS, 2 * START_DIGITS]


def test_settled_gives_up_at_the_cap_on_rounding_noise():
    calls = []

    def compute(digits):
        calls.append(digits)
        return 10.0 ** -digits  # a zero that comes out as noise at every precision

    assert settled(compute) == 10.0 ** -calls[-1]
    assert calls[-1] == MAX_DIGITS and calls == sorted(set(calls))


@pytest.mark.parametrize("a, b, expected", [
    (1.0, 1.0 + 2 * math.ulp(1.0), True),
    (1.0, 1.0 + 16 * math.ulp(1.0), False),
    (0.0, 1e-300, False),
    (float("nan"), float("nan"), True),
    (float("inf"), float("inf"), True),
    ({"a": [1.0]}, {"a": [1.0], "b": 2.0}, False),
    ([1.0, 2.0], [1.0], False),
    (np.array([1.0, 2.0]), np.array([1.0, 2.0]), True),
    (None, 0.0, False),
])
def test_agree(a, b, expected):
    assert agree(a, b) is expected


def test_reference_keeps_mpmath_global_precision():
    # The reference used to set mpmath.mp.dps = 30 for the whole process.
    model = sp.mlp([2, 3, 1], activation="tanh", loss="half_sse")
    k = sp.compile(model)
    params = k.init_params(seed=1)
    X, Y = np.array([[0.3, -0.7]]), np.array([[0.2]])
    before = mpmath.mp.dps
    loss, grads = Reference(sp.derive(model)).loss_and_grad(params, (X, Y), {"W1": [0, 5]})
    assert mpmath.mp.dps == before
    value, expected = k.loss_and_grad(params, X, Y)
    assert _close(loss, value, 1e-12)
    assert np.allclose(grads["W1"], expected["W1"].ravel()[[0, 5]], rtol=1e-12, atol=0)
