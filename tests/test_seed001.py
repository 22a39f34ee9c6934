"""Seed 001 in its own notation (issue 17 item 3): the bundled examples answer the seed's
questions (∂L/∂w₄, ∂L/∂w₀, the one-path net's ∂L/∂w₁) in its names, the numbers parsed back
from the document and compared with central differences of an independent NumPy forward pass;
the partial-derivative exercise; and the ``notation`` field's errors."""

import math
import re

import numpy as np
import pytest

import symbprop as sp
from symbprop.errors import SpecError

H = 1e-6


def _text(name):
    return sp.derive(sp.load(f"examples:{name}")).to_text(f"examples:{name}")


def _answer(doc, lhs):
    """The last line of the display that starts with ``lhs =``: the gradient's value."""
    block = doc[doc.index(f"    {lhs} = ["):].split("\n\n")[0]
    return float(block.splitlines()[-1].split("=")[-1])


def _two_two_one_loss(p):
    x, y = np.array([0.05, 0.10]), 0.01
    sig = lambda z: 1 / (1 + math.exp(-z))  # noqa: E731
    a0 = sig(x[0] * p["w0"] + x[1] * p["w2"] + p["b0"])  # seed 001's forward pass, as written
    a1 = sig(x[0] * p["w1"] + x[1] * p["w3"] + p["b1"])
    a2 = a0 * p["w4"] + a1 * p["w5"] + p["b2"]
    return 0.5 * (y - a2) ** 2


def _central(loss, p, name):
    up, down = dict(p), dict(p)
    up[name] += H
    down[name] -= H
    return (loss(up) - loss(down)) / (2 * H)


TWO_TWO_ONE = {"w0": 0.15, "w2": 0.20, "w1": 0.25, "w3": 0.30, "b0": 0.35, "b1": 0.35,
               "w4": 0.40, "w5": 0.45, "b2": 0.60}


@pytest.mark.parametrize("weight", ["w4", "w0", "w1", "w5"])
def test_two_two_one_answers_in_seed_names(weight):
    doc = _text("seed001_two_two_one")
    lhs = f"∂C/∂w{'₀₁₂₃₄₅'[int(weight[1])]}"
    expected = _central(_two_two_one_loss, TWO_TWO_ONE, weight)
    assert _answer(doc, lhs) == pytest.approx(expected, rel=1e-5)


def test_two_two_one_chain_of_w4_and_w0():
    doc = _text("seed001_two_two_one")
    assert "∂C/∂w₄ = [∂C/∂a₂] · [∂a₂/∂z²₀] · [∂z²₀/∂w₄]" in doc
    assert "∂C/∂w₀ = [∂C/∂a₂] · [∂a₂/∂z²₀] · [∂z²₀/∂a₀] · [∂a₀/∂z₀] · [∂z₀/∂w₀]" in doc
    assert "z₀ = w₀·x₀ + w₂·x₁ + b₀" in doc or "z₀ = b₀ + w₀·x₀ + w₂·x₁" in doc


def test_one_path_in_seed_names():
    doc = _text("seed001_one_path")
    assert "h = b₁ + w₁·x₀" in doc and "g = b₂ + w₂·a¹₀" in doc

    def loss(p):
        h = 2.0 * p["w1"] + p["b1"]
        g = h * p["w2"] + p["b2"]
        return 0.5 * (1.0 - g) ** 2

    p = {"w1": 0.5, "b1": 0.1, "w2": -0.3, "b2": 0.2}
    for name, lhs in (("w1", "∂C/∂w₁"), ("b1", "∂C/∂b₁"), ("w2", "∂C/∂w₂"), ("b2", "∂C/∂b₂")):
        assert _answer(doc, lhs) == pytest.approx(_central(loss, p, name), rel=1e-6)
    # the seed's closed answer: dL/dw1 = -(y - g) w2 x
    g = (2.0 * 0.5 + 0.1) * -0.3 + 0.2
    assert _answer(doc, "∂C/∂w₁") == pytest.approx(-(1.0 - g) * -0.3 * 2.0)


def test_partials_exercise():
    doc = _text("seed001_partials")
    flat = " ".join(doc.split())
    assert "∂f/∂y = x + 2·y" in flat
    assert re.search(r"∂f/∂x = y - 2·x·\(sin\(x²\) - 1\)", flat)

    def f(x, y):
        return math.cos(x * x) + x * x + x * y + y * y

    table = doc[doc.index("parameter  θ"):]
    row_x = next(line for line in table.splitlines() if line.startswith("    x "))
    expected = (f(1 + H, 2) - f(1 - H, 2)) / (2 * H)
    assert float(row_x.split()[2]) == pytest.approx(expected, rel=1e-5)


@pytest.mark.parametrize("fmt", ["to_latex", "to_markdown"])
def test_names_in_every_format(fmt):
    doc = getattr(sp.derive(sp.load("examples:seed001_two_two_one")), fmt)()
    assert "w_{4}" in doc and "w_{0}" in doc


BASE = {"name": "n", "inputs": 2, "layers": [{"units": 2, "activation": "sigmoid"},
                                               {"units": 1, "activation": "identity"}],
        "loss": "half_sse"}


@pytest.mark.parametrize("notation, message", [
    ({"W3[0,0]": "w"}, "layers are 1 to 2"),
    ({"W1[2,0]": "w"}, "W1 is 2 × 2"),
    ({"q1[0]": "w"}, "unknown name"),
    ({"W1[0,0]": "__import__('os')"}, "is not a name"),
    ({"W1[0,0]": "w", "W1[0,1]": "w"}, "already names"),
    ({"x[5]": "u"}, "the inputs are x[0] to x[1]"),
    ("w1", "must be a mapping"),
])
def test_notation_errors(notation, message):
    with pytest.raises(SpecError) as err:
        sp.load({**BASE, "notation": notation})
    assert message in str(err.value) and "notation" in str(err.value)


def test_notation_error_names_the_file_and_exits_2(tmp_path):
    import subprocess
    import sys

    spec = tmp_path / "bad.yaml"
    spec.write_text("name: bad\ninputs: 1\nlayers: [{units: 1, activation: identity}]\n"
                    "loss: half_sse\nnotation: {'W1[0,3]': w}\n")
    run = subprocess.run([sys.executable, "-m", "symbprop", "derive", str(spec)],
                         capture_output=True, text=True)
    assert run.returncode == 2
    assert "bad.yaml" in run.stderr and "notation" in run.stderr
