"""symbprop.runtime.training_loop: one training loop for every net, calling each net's body
through its address.  Oracle: the generated module's own ``train`` (the template's loop, which
calls the body directly), bit for bit; the module's gradients themselves are checked against
SymPy, finite differences and PyTorch elsewhere."""

from __future__ import annotations

import weakref

import numpy as np
import pytest

import symbprop as sp
from symbprop.runtime import training_loop

pytestmark = pytest.mark.usefixtures("kernel_cache_dir")

NETS = {
    "xor": lambda: sp.load("examples:xor"),
    "iris_4_16_3": lambda: sp.load("examples:iris_4_16_3"),
    "summed": lambda: sp.mlp([3, 4, 2], activation="tanh", loss="half_sse", reduction="sum",
                             name="summed_loop"),
}


def _data(model, dtype, n: int = 37):
    rng = np.random.default_rng(n)
    X = rng.normal(size=(n, model.inputs)).astype(dtype)
    if model.loss.name == "softmax_cross_entropy":
        return X, np.eye(model.sizes[-1], dtype=dtype)[rng.integers(0, model.sizes[-1], n)]
    return X, rng.uniform(size=(n, model.sizes[-1])).astype(dtype)


@pytest.mark.parametrize(("net", "strategy", "dtype"), [
    ("xor", "unrolled", "float64"), ("iris_4_16_3", "looped", "float32"),
    ("summed", "looped", "float64"), ("summed", "unrolled", "float32"),
])
def test_the_shared_loop_is_the_modules_train_bit_for_bit(net, strategy, dtype):
    k = sp.compile(NETS[net](), strategy=strategy, dtype=dtype)
    theta = k.flatten(k.init_params(seed=4))
    X, Y = _data(k.model, dtype)
    for lr, epochs, batch_size, seed, first in ((0.1, 3, 8, 5, 2), (0.05, 2, 1, 0, 0),
                                                (0.2, 2, 50, 9, 7), (0.1, 0, 4, 1, 0)):
        ours = training_loop.train(k, theta, X, Y, lr, epochs, batch_size, seed, first)
        theirs = k.module.train(theta, X, Y, lr, epochs, batch_size, seed, first)
        assert np.array_equal(ours[0], theirs[0]) and np.array_equal(ours[1], theirs[1])
        assert ours[0].dtype == theirs[0].dtype and ours[1].dtype == theirs[1].dtype
    assert all(training_loop._BODIES[k.module].values())  # it went through the shared loop


def test_a_second_net_is_fitted_without_compiling_a_training_loop():
    first = sp.compile(sp.mlp([2, 3, 1], activation="sigmoid", name="first_fit"))
    second = sp.compile(sp.mlp([2, 5, 2], activation="tanh", name="second_fit"))
    X, Y = _data(first.model, "float64")
    first.fit(first.init_params(0), X, Y, epochs=2, progress=False)
    loops = len(training_loop._train_loop.signatures)
    X, Y = _data(second.model, "float64")
    second.fit(second.init_params(0), X, Y, epochs=2, progress=False)
    assert len(training_loop._train_loop.signatures) == loops
    assert not first.module.train.signatures and not second.module.train.signatures


def test_without_the_bodys_address_fit_runs_the_modules_train(monkeypatch):
    """Another Numba may lack the private helper that gives the address: fit still trains,
    through the module's own ``train``, to the same numbers."""
    k = sp.compile(sp.mlp([2, 3, 1], activation="sigmoid", name="fallback_fit"))
    X, Y = _data(k.model, "float64")
    shared = k.fit(k.init_params(0), X, Y, epochs=3, progress=False)

    def missing(dispatcher, signature):
        raise ImportError("no function_type here")

    monkeypatch.setattr(training_loop, "_BODIES", weakref.WeakKeyDictionary())
    monkeypatch.setattr(training_loop, "_wrapper_address", missing)
    own = k.fit(k.init_params(0), X, Y, epochs=3, progress=False)
    assert np.array_equal(shared, own)
    assert k.module.train.signatures  # the module's train was compiled and ran
