"""Gradients layer by layer (issue 17 item 5): ‖δ^l‖ per layer checked against central
differences of an independent NumPy forward pass (δ^l_j = ∂C/∂b^l_j), the vanishing verdict,
and the bundled saturated example naming its saturated neuron."""

import numpy as np
import pytest
import yaml

import symbprop as sp
import symbprop.render.numbers as numbers
from symbprop.examples import example_path
from symbprop.render.gradient_flow import _verdict, layer_norms


def _loss(params, x, y):
    a = np.atleast_1d(x)
    for layer in (1, 2, 3):
        a = 1 / (1 + np.exp(-(np.asarray(params[f"W{layer}"]) @ a + params[f"b{layer}"])))
    return float(np.sum((a - y) ** 2))


def _bias_norms(name):
    values = yaml.safe_load(example_path(name).with_name(f"{name}.values.yaml").read_text())
    params = {k: np.asarray(v, dtype=float) for k, v in values["params"].items()}
    norms, h = {}, 1e-6
    for layer in (1, 2, 3):
        grad = []
        for j in range(params[f"b{layer}"].size):
            up = {k: v.copy() for k, v in params.items()}
            down = {k: v.copy() for k, v in params.items()}
            up[f"b{layer}"][j] += h
            down[f"b{layer}"][j] -= h
            grad.append((_loss(up, values["x"], values["y"]) -
                         _loss(down, values["x"], values["y"])) / (2 * h))
        norms[layer] = float(np.linalg.norm(grad))
    return norms


@pytest.mark.parametrize("name", ["chain", "saturated"])
def test_layer_norms_match_central_differences(name):
    d = sp.derive(sp.load(f"examples:{name}"))
    pt = numbers.point(d, f"examples:{name}")
    measured = layer_norms(pt)
    for layer, expected in _bias_norms(name).items():
        assert measured[layer] == pytest.approx(expected, rel=1e-5, abs=1e-10)


@pytest.mark.parametrize("name", ["chain", "saturated"])
def test_document_names_vanishing_gradient(name):
    doc = sp.derive(sp.load(f"examples:{name}")).to_text(f"examples:{name}")
    assert "vanishing gradient" in " ".join(doc.split())
    norms = _bias_norms(name)
    for layer in (1, 2, 3):  # the table's numbers, parsed back
        row = next(line for line in doc.splitlines()
                   if line.split()[:1] == [str(layer)] and len(line.split()) in (2, 3)
                   and "." in line)
        assert float(row.split()[1]) == pytest.approx(norms[layer], rel=1e-2)


def test_saturated_example_shows_a_saturated_neuron():
    for fmt, render in (("txt", "to_text"), ("md", "to_markdown"), ("tex", "to_latex")):
        doc = getattr(sp.derive(sp.load("examples:saturated")), render)("examples:saturated")
        assert "Saturated neurons at this point" in doc, fmt
    doc = sp.derive(sp.load("examples:saturated")).to_text("examples:saturated")
    assert "Saturated neurons at this point (σ′(z) < 0.01): a¹₀." in " ".join(doc.split())


def test_verdicts():
    assert "exploding" in _verdict([3.0, 4.0], True)
    assert "vanishing" in _verdict([0.1, 0.2], True)
    assert "neither" in _verdict([0.1, 3.0], True)
