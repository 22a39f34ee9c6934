"""The NumPy target (symbprop.codegen.numpy): the same derivation printed as plain NumPy.

Oracles: ``sp.check`` compares the NumPy kernels with the exact derivation and with central
finite differences at random points (independently of the Numba kernels); the Numba kernels
are a second, independent implementation for the forward pass, the gradient and training.
"""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
from typer.testing import CliRunner

import symbprop as sp
from symbprop import examples
from symbprop.cli.app import app
from symbprop.functions import registry

#: The largest bundled net is checked at one random point (its exact reference takes longest).
SAMPLES = {"mnist_784_128_10": 1}


@pytest.mark.parametrize("name", examples.names())
def test_every_bundled_example_passes_the_check(name):
    report = sp.check(f"examples:{name}", target="numpy", samples=SAMPLES.get(name, 2),
                      dtypes=("float64", "float32"))
    assert report.ok, str(report)


@pytest.mark.parametrize("name", ["iris_4_16_3", "chain", "nielsen_232"])
def test_numpy_and_numba_kernels_agree(name):
    model = sp.load(f"examples:{name}")
    ours, theirs = sp.compile(model, target="numpy"), sp.compile(model)
    assert ours.target == "numpy" and theirs.target == "numba"
    params = theirs.init_params(seed=3)
    rng = np.random.default_rng(0)
    X = rng.standard_normal((5, model.inputs))
    Y = (np.eye(model.sizes[-1])[rng.integers(0, model.sizes[-1], 5)]
         if model.loss.targets_sum_to_one else rng.uniform(0.1, 0.9, (5, model.sizes[-1])))
    np.testing.assert_allclose(ours.forward(params, X), theirs.forward(params, X), rtol=1e-12)
    loss, grads = ours.loss_and_grad(params, X, Y)
    loss2, grads2 = theirs.loss_and_grad(params, X, Y)
    assert loss == pytest.approx(loss2, rel=1e-12)
    for key in grads:
        np.testing.assert_allclose(grads[key], grads2[key], rtol=1e-10, atol=1e-14)
    # training visits the samples in the same order: the same run
    start = {key: value.copy() for key, value in params.items()}  # fit trains in place
    h1 = ours.fit(start, X, Y, lr=0.1, epochs=3, batch_size=2, seed=7, progress=False)
    h2 = theirs.fit(params, X, Y, lr=0.1, epochs=3, batch_size=2, seed=7, progress=False)
    np.testing.assert_allclose(h1, h2, rtol=1e-10)


def test_a_numpy_module_runs_without_numba(tmp_path):
    path = sp.generate("examples:two_two_one", tmp_path, target="numpy")
    text = path.read_text(encoding="utf-8")
    assert "import numba" not in text and "from numba" not in text and "@njit" not in text
    program = f"""
import importlib.util, sys
sys.modules["numba"] = None  # importing Numba now fails
spec = importlib.util.spec_from_file_location("k", {str(path)!r})
k = importlib.util.module_from_spec(spec)
spec.loader.exec_module(k)
import numpy as np
theta = np.linspace(-1, 1, k.N_PARAMS)
value, grad = k.loss_and_grad(theta, np.array([[0.5, -0.6]]), np.array([[-0.6]]))
print(repr(value), repr(float(grad[0])))
"""
    done = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    k = sp.compile("examples:two_two_one")
    theta = np.linspace(-1, 1, k.size)
    value, grads = k.loss_and_grad(k.unflatten(theta), np.array([[0.5, -0.6]]),
                                   np.array([[-0.6]]))
    printed_value, printed_grad = (float(v) for v in done.stdout.split())
    assert printed_value == pytest.approx(value, rel=1e-14)
    assert printed_grad == pytest.approx(float(grads["W1"][0, 0]), rel=1e-12)


def test_every_activation_with_a_function_class_has_a_numpy_form():
    model = sp.mlp([2, *[2] * len(registry.ACTIVATIONS), 1],
                   activation=[*registry.ACTIVATIONS, "identity"], name="all_acts_numpy")
    assert sp.check(model, target="numpy", samples=2).ok
    for record in registry.ACTIVATIONS.values():
        if record.function is not None:
            assert record.numpy is not None, record.name


def test_the_command_line_generates_and_checks_the_numpy_target(tmp_path):
    runner = CliRunner()
    done = runner.invoke(app, ["generate", "examples:xor", "--target", "numpy", "-o",
                               str(tmp_path)])
    assert done.exit_code == 0, done.output
    assert "(numpy, float64, 9 parameters)" in done.output
    done = runner.invoke(app, ["generate", "examples:xor", "--target", "numpy", "-o",
                               str(tmp_path), "--check"])
    assert done.exit_code == 0 and "up to date" in done.output
    done = runner.invoke(app, ["generate", "examples:xor", "-o", str(tmp_path), "--check"])
    assert done.exit_code == 1  # the Numba module differs from the NumPy one on disk
    done = runner.invoke(app, ["check", "examples:quadratic", "--target", "numpy"])
    assert done.exit_code == 0, done.output
    done = runner.invoke(app, ["generate", "examples:xor", "--target", "cuda", "-o",
                               str(tmp_path)])
    assert done.exit_code == 2
    assert "target: unknown 'cuda'; allowed: numba, numpy" in done.output
