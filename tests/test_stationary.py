"""Seed 003's opening of gradient descent: solve ∇f = 0 by hand where the gradient is linear,
then −∇f as the direction of steepest descent.  Oracles: minima known by construction."""

from __future__ import annotations

import symbprop as sp
from symbprop import render
from tests.documents import example_document


def _section(doc: str) -> str:
    return " ".join(doc[doc.index("Gradient descent on the function"):].split())


def test_the_quadratic_is_solved_by_hand_as_seed_003_does():
    doc = _section(example_document("quadratic", True, "txt"))
    assert "∂f/∂x = 2·(x - 5) = 0" in doc
    assert "one solution, x = 5: the minimum of f" in doc
    assert "-∇f is the direction of steepest descent" in doc


def test_a_saddle_is_not_called_a_minimum():
    d = sp.derive(sp.expression("x**2 - y**2 + 2*x"))
    doc = _section(render.to_text(d, {"x": 1.0, "y": 0.5, "lr": 0.1}))
    assert "one solution, x = -1, y = 0: the only point where it is flat" in doc
    assert "minimum of" not in doc.split("Gradient descent needs")[0]


def test_a_nonlinear_gradient_is_not_solved():
    for name in ("exp_inverse", "seed001_partials", "staged"):
        doc = _section(example_document(name, True, "txt"))
        assert "by hand" not in doc and "direction of steepest descent" in doc, name
