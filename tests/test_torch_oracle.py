"""Compiled gradients against PyTorch autograd (float64), an oracle independent of SymPy."""

from __future__ import annotations

import numpy as np
import pytest

import symbprop as sp


@pytest.fixture(scope="module")
def torch():
    """PyTorch, imported by the first test that needs it rather than at collection, where each
    pytest-xdist worker spent about a second importing it."""
    return pytest.importorskip(
        "torch", reason='PyTorch oracle: needs torch, pip install -e ".[bench]"')


def activations(torch) -> dict:
    F = torch.nn.functional
    return {
        "sigmoid": torch.sigmoid, "tanh": torch.tanh, "relu": torch.relu, "identity": lambda z: z,
        "leaky_relu": lambda z: F.leaky_relu(z, 0.01), "softplus": F.softplus,
        "elu": lambda z: F.elu(z, 1.0), "swish": F.silu, "gelu": F.gelu,
    }


@pytest.fixture(autouse=True, scope="module")
def _cache_dir(tmp_path_factory):
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SYMBPROP_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "symbprop-cache"))
        yield


def torch_loss(torch, model, params: dict, X, Y):
    """The model's batch loss written with PyTorch."""
    a = torch.tensor(X)
    for number, layer in enumerate(model.layers, 1):
        z = a @ params[f"W{number}"].T
        if f"b{number}" in params:
            z = z + params[f"b{number}"]
        if layer.activation.name == "softmax":
            a = z  # fused into the loss below
        else:
            a = activations(torch)[layer.activation.name](z)
    y = torch.tensor(Y)
    name = model.loss.name
    if name == "softmax_cross_entropy":
        per_sample = -(y * torch.log_softmax(a, dim=1)).sum(dim=1)
    elif name == "bce":
        per_sample = -(y * torch.log(a) + (1 - y) * torch.log(1 - a)).sum(dim=1)
    else:
        squares = ((a - y) ** 2).sum(dim=1)
        per_sample = {"half_sse": squares / 2, "sse": squares, "mse": squares / y.shape[1]}[name]
    return per_sample.mean() if model.reduction == "mean" else per_sample.sum()


CASES = [
    ([2, 3, 1], "sigmoid", "half_sse", "per_neuron", "mean"),
    ([3, 4, 3], "tanh", "softmax_cross_entropy", "per_neuron", "sum"),
    ([2, 5, 4, 2], "relu", "mse", "shared", "mean"),
    ([4, 3, 2], "leaky_relu", "sse", "none", "mean"),
    ([2, 3, 2], "softplus", "bce", "per_neuron", "mean"),
    ([3, 3, 3], "elu", "half_sse", "per_neuron", "sum"),
    ([2, 4, 2], "swish", "softmax_cross_entropy", "per_neuron", "mean"),
    ([2, 4, 2], "gelu", "half_sse", "per_neuron", "mean"),
    # 149 parameters: above LOCAL_GRADIENTS_MAX (100), where the unrolled gradient accumulates
    # in grad itself (421 parameters took 89 s to compile on a loaded machine; 149 do it too)
    ([12, 8, 5], "relu", "softmax_cross_entropy", "per_neuron", "mean"),
]


@pytest.mark.parametrize("sizes, activation, loss, bias, reduction", CASES)
def test_gradients_match_pytorch_autograd(torch, sizes, activation, loss, bias, reduction):
    model = sp.mlp(sizes, activation=activation, loss=loss, bias=bias, reduction=reduction,
                   name=f"torch_{activation}_{loss}")
    rng = np.random.default_rng(len(sizes) + sizes[1])
    X = rng.standard_normal((5, sizes[0]))
    if loss == "softmax_cross_entropy":
        Y = np.eye(sizes[-1])[rng.integers(0, sizes[-1], 5)]
    elif loss == "bce":
        Y = rng.uniform(0, 1, (5, sizes[-1]))
    else:
        Y = rng.standard_normal((5, sizes[-1]))
    for strategy in ("unrolled", "looped"):
        k = sp.compile(model, strategy=strategy)
        params = k.init_params(seed=2)
        if bias != "none":
            for name in params:
                if name.startswith("b"):
                    params[name][...] = rng.normal(0, 0.3, params[name].shape)
        loss_value, grads = k.loss_and_grad(params, X, Y)
        tensors = {n: torch.tensor(np.array(v), requires_grad=True) for n, v in params.items()}
        expected = torch_loss(torch, model, tensors, X, Y)
        expected.backward()
        assert loss_value == pytest.approx(expected.item(), rel=1e-12, abs=1e-14)
        for name, tensor in tensors.items():
            np.testing.assert_allclose(grads[name], tensor.grad.numpy(), rtol=1e-9, atol=1e-13,
                                       err_msg=f"{strategy} {name}")
