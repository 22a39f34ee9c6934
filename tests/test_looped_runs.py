"""Runs of equal hidden layers in the looped lowering (one loop over the run, codegen/runs.py).

The kernels are checked against oracles that do not use the code under test: the loss against a
NumPy forward pass written here from the spec's equations (z = W a + b, a = act(z), the loss's
formula), the gradient against central differences of that loss in float64, and, for one net,
against ``sympy.diff`` of the composed loss (tests/oracle.py)."""

from __future__ import annotations

import re

import numpy as np
import pytest

import symbprop as sp
import symbprop.codegen.generator as codegen
from tests.oracle import oracle_gradients, random_point

pytestmark = pytest.mark.usefixtures("kernel_cache_dir")

ACT = {"tanh": np.tanh, "sigmoid": lambda z: 1 / (1 + np.exp(-z)),
       "relu": lambda z: np.maximum(z, 0.0), "identity": lambda z: z,
       "swish": lambda z: z / (1 + np.exp(-z))}
SWISH = {"name": "swish", "formula": "z/(1+exp(-z))"}


def _mixed_bias() -> sp.Network:
    """A run with a shared bias (layers 2–3) next to one with per-neuron biases (4–5); no bias
    on the output layer."""
    layer = lambda bias: {"units": 4, "activation": "tanh", "bias": bias}  # noqa: E731
    return sp.as_model({"name": "mixed_bias", "inputs": 3, "loss": "half_sse", "layers": [
        layer("per_neuron"), layer("shared"), layer("shared"), layer("per_neuron"),
        layer("per_neuron"), {"units": 2, "activation": "identity", "bias": "none"}]})


NETS = {
    "tanh_3_4x5_2": lambda: sp.mlp([3] + [4] * 5 + [2], activation="tanh", loss="half_sse"),
    "sigmoid_two_runs": lambda: sp.mlp([3, 4, 4, 4, 5, 5, 5, 2], activation="sigmoid"),
    "brief_3_4_4_5_5_5_2": lambda: sp.mlp([3, 4, 4, 5, 5, 5, 2], activation="tanh"),
    "relu_softmax_ce": lambda: sp.mlp([3] + [5] * 4 + [3], activation="relu",
                                      loss="softmax_cross_entropy"),
    "shared_bias": lambda: sp.mlp([3] + [4] * 4 + [2], activation="tanh", bias="shared"),
    "no_bias": lambda: sp.mlp([3] + [4] * 4 + [2], activation="sigmoid", bias="none"),
    "adjacent_runs": lambda: sp.mlp(
        [3, 4, 4, 4, 4, 4, 4, 2],
        activation=["tanh", "tanh", "tanh", "sigmoid", "sigmoid", "identity", "identity"]),
    "mixed_bias": _mixed_bias,
    "identity_run": lambda: sp.mlp([3, 4, 4, 4, 4, 2], activation=[
        "identity", "identity", "identity", "identity", "sigmoid"], loss="half_sse"),
    "custom_run": lambda: sp.mlp([2, 3, 3, 3, 1], activation=[SWISH, SWISH, SWISH, "identity"],
                                 loss="half_sse"),
}


def reference_loss(model, params: dict, X: np.ndarray, Y: np.ndarray) -> float:
    """The mean over the batch of C, from the spec's equations (float64)."""
    a = X.T.astype(np.float64)
    for number, layer in enumerate(model.layers, 1):
        z = params[f"W{number}"].astype(np.float64) @ a
        if layer.bias == "per_neuron":
            z = z + params[f"b{number}"].astype(np.float64)[:, None]
        elif layer.bias == "shared":
            z = z + float(params[f"b{number}"])
        if layer.activation.is_softmax:
            e = np.exp(z - z.max(axis=0))
            a = e / e.sum(axis=0)
        else:
            a = ACT[layer.activation.name](z)
    y = Y.T
    per_sample = {
        "half_sse": lambda: 0.5 * ((a - y) ** 2).sum(axis=0),
        "softmax_cross_entropy": lambda: -(y * np.log(a)).sum(axis=0),
    }[model.loss.name]()
    return float(per_sample.mean())


def central_differences(model, params: dict, X, Y, h: float = 1e-6) -> dict:
    grads = {}
    for name, value in params.items():
        value = np.asarray(value, dtype=np.float64)
        grad = np.zeros_like(value)
        for idx in np.ndindex(*value.shape):
            shifted = {}
            for sign in (1, -1):
                moved = value.copy()
                moved[idx] += sign * h
                shifted[sign] = reference_loss(model, {**params, name: moved}, X, Y)
            grad[idx] = (shifted[1] - shifted[-1]) / (2 * h)
        grads[name] = grad
    return grads


def _point(model, k, batch: int, seed: int):
    rng = np.random.default_rng(seed)
    params = k.init_params(seed)
    for name in params:
        params[name] = np.asarray(params[name] + rng.uniform(-0.3, 0.3, np.shape(params[name])),
                                  dtype=k.dtype)
    X = rng.normal(size=(batch, model.inputs)).astype(k.dtype)
    if model.loss.name == "softmax_cross_entropy":
        Y = np.eye(model.sizes[-1], dtype=k.dtype)[rng.integers(0, model.sizes[-1], batch)]
    else:
        Y = rng.normal(size=(batch, model.sizes[-1])).astype(k.dtype)
    return params, X, Y


def _runs(model) -> int:
    """The number of runs in the looped module of ``model`` (one backward loop each)."""
    text = codegen.source(model, "looped")
    return len(re.findall(r"^    for l in range\(\d+, \d+, -1\):$", text, re.M))


@pytest.mark.parametrize("name", sorted(NETS))
def test_runs_give_the_loss_and_gradient_of_the_spec(name):
    model = NETS[name]()
    assert _runs(model) >= 1
    k = sp.compile(model, strategy="looped")
    for batch, seed in ((1, 0), (7, 1)):
        params, X, Y = _point(model, k, batch, seed)
        loss, grads = k.loss_and_grad(params, X, Y)
        assert loss == pytest.approx(reference_loss(model, params, X, Y), rel=1e-12, abs=1e-14)
        expected = central_differences(model, params, X, Y)
        for key, value in expected.items():
            np.testing.assert_allclose(grads[key], value, rtol=1e-6, atol=1e-8, err_msg=key)


@pytest.mark.parametrize(("dtype", "batches", "rtol"), [("float64", (1, 3, 24), 1e-6),
                                                        ("float32", (1, 24), 2e-3)])
def test_every_path_of_the_input_product_gives_the_spec_gradient(dtype, batches, rtol):
    """``_times_input`` takes three paths: one sample (a one-column gemm on Xᵀ), a small batch
    (X copied transposed first) and an X of more than 16 384 numbers (Xᵀ as a transposed
    operand: 24 samples of 700)."""
    model = sp.mlp([700, 3, 2], activation="tanh", loss="softmax_cross_entropy",
                   name="wide_input")
    k = sp.compile(model, strategy="looped", dtype=dtype)
    for batch in batches:
        params, X, Y = _point(model, k, batch, batch)
        loss, grads = k.loss_and_grad(params, X, Y)
        assert loss == pytest.approx(reference_loss(model, params, X, Y), rel=rtol)
        for key, value in central_differences(model, params, X, Y).items():
            np.testing.assert_allclose(grads[key], value, rtol=rtol, atol=rtol * 1e-2,
                                       err_msg=f"{key}, batch {batch}")


def test_runs_are_the_longest_sequences_of_equal_hidden_layers():
    assert _runs(NETS["sigmoid_two_runs"]()) == 2
    assert _runs(NETS["adjacent_runs"]()) == 2  # tanh 2–3 and sigmoid 4–5; identity 6 alone
    assert _runs(NETS["mixed_bias"]()) == 2  # shared 2–3, per-neuron 4–5
    assert _runs(sp.mlp([3, 4, 4, 4, 2], activation="tanh")) == 1
    assert _runs(sp.mlp([3, 4, 4, 2], activation="tanh")) == 0  # layer 1 reads X: no run of 2
    assert _runs(sp.mlp([3, 4, 5, 6, 2], activation="tanh")) == 0  # no equal layers


def test_float32_runs_compute_in_float32():
    model = NETS["tanh_3_4x5_2"]()
    k = sp.compile(model, strategy="looped", dtype="float32")
    params, X, Y = _point(model, k, 6, 2)
    loss, grads = k.loss_and_grad(params, X, Y)
    wide = {n: np.asarray(v, np.float64) for n, v in params.items()}
    assert loss == pytest.approx(reference_loss(model, wide, X, Y), rel=1e-5)
    expected = central_differences(model, wide, X.astype(np.float64), Y.astype(np.float64))
    for key, value in expected.items():
        assert grads[key].dtype == np.float32
        np.testing.assert_allclose(grads[key], value, rtol=1e-3, atol=1e-5, err_msg=key)


def test_a_run_agrees_with_sympy_diff_of_the_composed_loss():
    model = sp.mlp([2, 3, 3, 3, 2], activation="tanh", loss="half_sse")  # run: layers 2–3
    d = sp.derive(model)
    point = random_point(d, 3)
    names = ["W2[1,0]", "W2[2,2]", "b2[1]", "W3[0,1]", "b3[2]", "W1[0,1]", "W4[1,2]"]
    expected = oracle_gradients(d, point, names)
    k = sp.compile(model, strategy="looped")
    numbers = {str(leaf).replace(" ", ""): float(value) for leaf, value in point.items()}
    params = {name: np.array([numbers[f"{name}[{','.join(map(str, i))}]"]
                              for i in np.ndindex(*shape)]).reshape(shape)
              for name, shape in k.shapes.items()}
    X = np.array([[numbers[f"x[{i}]"] for i in range(2)]])
    Y = np.array([[numbers[f"y[{j}]"] for j in range(2)]])
    _, grads = k.loss_and_grad(params, X, Y)
    for name in names:
        array, index = name.split("[")
        idx = tuple(int(i) for i in index.rstrip("]").split(","))
        assert grads[array][idx] == pytest.approx(float(expected[name]), rel=1e-12, abs=1e-15)


def _kernels(text: str) -> str:
    """The lowering's functions: forward, loss, loss_and_grad_into (of the template's functions
    after them, _loss_and_grad_checked takes one argument per parameter)."""
    return text[text.index("def forward("):text.index("def loss_and_grad(")]


def test_code_size_does_not_grow_with_the_run():
    eight, sixty_four = (codegen.source(sp.mlp([8] + [6] * depth + [3], activation="tanh"),
                                        "looped") for depth in (8, 64))
    assert _kernels(eight).count("\n") == _kernels(sixty_four).count("\n")
    assert "# layers 2–8 (l = 2, …, 8): zˡ = Wˡ aˡ⁻¹ + bˡ,  aˡ = tanh(zˡ)" in eight
    assert "# layers 64–2 (l = 64, …, 2), from the top:" in sixty_four
    assert "W65 = _matrix(theta, W65_AT, 3, 6)" in sixty_four
    assert "W64 = " not in sixty_four


def test_train_on_a_deep_net_lowers_the_loss():
    model = sp.mlp([2] + [6] * 6 + [1], activation="tanh", loss="half_sse")
    k = sp.compile(model, strategy="looped")
    rng = np.random.default_rng(0)
    X = rng.uniform(-1, 1, (64, 2))
    Y = (X[:, :1] * X[:, 1:]) * 2
    params = k.init_params(0)
    before = k.loss(params, X, Y)
    history = k.fit(params, X, Y, lr=0.1, epochs=60, batch_size=8, seed=0, progress=False)
    assert len(history) == 60 and history[-1] < 0.5 * history[0]
    assert k.loss(params, X, Y) < 0.5 * before


def test_the_symbol_layers_of_a_run_are_the_derivations():
    """The loop prints the derivation's element equations of the run's first layer."""
    text = codegen.source(sp.mlp([3] + [4] * 4 + [2], activation="sigmoid"), "looped")
    assert "A[j, i] = _sigmoid(Z[j, i])" in text
    assert "D[j, i] = (1 - A[j, i])*A[j, i]*D[j, i]" in text
