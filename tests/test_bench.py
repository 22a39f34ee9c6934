"""The benchmark's peers compute the same loss and gradients as the kernels (so the timings
compare like with like), and ``symbprop bench`` runs."""

from __future__ import annotations

import numpy as np
import pytest
from typer.testing import CliRunner

import symbprop as sp
from symbprop import peers
from symbprop.bench import bench, matmul_flops, sample_data
from symbprop.cli import app

MODELS = ["examples:two_two_one", "examples:iris_4_16_3", "examples:xor"]


def _flat(grads_pairs) -> np.ndarray:
    return np.concatenate(
        [np.ravel(np.asarray(g, dtype=float)) for pair in grads_pairs for g in pair]
    )


@pytest.mark.parametrize("spec", MODELS)
@pytest.mark.parametrize("peer", ["numpy", "torch", "jax"])
def test_peers_agree_with_the_kernels(spec, peer):
    model = sp.load(spec)
    k = sp.compile(model)
    params = k.init_params(seed=2)
    X, Y = sample_data(model, 5, "float64", seed=1)
    loss, grads = k.loss_and_grad(params, X, Y)
    make = {"numpy": peers.make_numpy, "torch": peers.make_torch, "jax": peers.make_jax}[peer]
    run = make(model, params, X, Y) if peer == "numpy" else make(model, params, X, Y, "float64")
    if run is None:
        pytest.skip(f"{peer} is not installed")
    peer_loss, peer_grads = run()
    if peer == "numpy":  # output layer first
        peer_grads = list(reversed(peer_grads))
    elif peer == "torch":
        peer_grads = [
            (peer_grads[i].detach().numpy(), peer_grads[i + 1].detach().numpy())
            for i in range(0, len(peer_grads), 2)
        ]
    ours = np.concatenate([np.ravel(grads[n]) for n in k.names])
    assert float(peer_loss) == pytest.approx(loss, rel=1e-10)
    np.testing.assert_allclose(_flat(peer_grads), ours, rtol=1e-8, atol=1e-12)


def test_bench_rows_and_flops():
    model = sp.load("examples:two_two_one")
    rows = bench(model, batches=(1,), with_peers=False)
    assert [r.impl for r in rows] == ["symbprop", "symbprop (dicts)", "symbprop (dicts, out=)"]
    assert rows[0].ratio is None and rows[1].ratio > 0
    assert matmul_flops(sp.mlp([784, 128, 10]), 1) == 2.0 * (2 * (784 * 128 + 128 * 10) + 128 * 10)


def test_bench_command():
    result = CliRunner().invoke(
        app, ["bench", "examples:two_two_one", "--batch", "1", "--no-peers"]
    )
    assert result.exit_code == 0 and "symbprop" in result.output
    assert CliRunner().invoke(app, ["bench", "examples:nope"]).exit_code == 2
