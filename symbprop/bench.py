"""Timing the compiled kernels against the peers (NumPy, PyTorch, JAX), side by side in one run.

``bench(model, batches, dtypes)`` returns one ``Row`` per (batch, dtype, implementation): the
median time of one "loss and every gradient" call, measured from Python, and its ratio to ours
(``> 1`` means the peer is slower).  Ours is the generated allocation-free entry point on a flat
parameter vector with a preallocated gradient: ``loss_and_grad_into`` (unrolled) or
``loss_and_grad_work`` with a preallocated scratch buffer (looped); "ours (dicts)" is
``Kernels.loss_and_grad`` with dicts of arrays, and "(dicts, out=)" the same writing into the
gradient arrays of an earlier call.  The peers are in ``symbprop.peers``.  Used by
``symbprop bench`` and ``benchmarks/bench_kernels.py``.  Timings are medians of 5 runs of
``timeit``'s autorange.
"""

from __future__ import annotations

import statistics
import time
import timeit
from dataclasses import dataclass

import numpy as np

from . import peers

#: Pause before timing each implementation, for the previous one's worker threads to go idle.
SETTLE_SECONDS = 0.2


@dataclass(frozen=True)
class Row:
    net: str
    batch: int
    dtype: str
    impl: str
    seconds: float  # median seconds per call
    ratio: float | None = None  # seconds / ours' seconds (None for ours)
    gflops: float | None = None  # matmul GFLOP/s achieved (wide nets)


def time_call(function, repeat: int = 5) -> float:
    """Median seconds per call of ``function()`` (after a warm-up call)."""
    function()
    timer = timeit.Timer(function)
    loops, _ = timer.autorange()
    loops = max(1, loops // 2)
    return statistics.median(t / loops for t in timer.repeat(repeat=repeat, number=loops))


def sample_data(model, batch: int, dtype: str, seed: int = 0):
    """Inputs and targets that fit ``model`` (one-hot for softmax, in (0, 1) for bce)."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(batch, model.inputs)).astype(dtype)
    n_out = model.sizes[-1]
    if model.loss.name == "softmax_cross_entropy":
        Y = np.eye(n_out, dtype=dtype)[rng.integers(0, n_out, batch)]
    elif model.loss.name == "bce":
        Y = rng.uniform(size=(batch, n_out)).astype(dtype)
    else:
        Y = rng.normal(size=(batch, n_out)).astype(dtype)
    return X, Y


def matmul_flops(model, batch: int) -> float:
    """FLOPs of the matrix products in one loss-and-gradient call: forward W a, the weight
    gradients δ aᵀ, and the back-propagated Wᵀ δ for every layer but the first."""
    products = [n_out * n_in for n_in, n_out in zip(model.sizes, model.sizes[1:], strict=False)]
    return 2.0 * batch * (2 * sum(products) + sum(products[1:]))


def roofline_gflops(size: int = 1024, dtype: str = "float64") -> float:
    """This machine's NumPy matmul speed, GFLOP/s, for a size² by size² product: the best of
    7 runs, since a roofline is a best case (the median of 3 moved by 10% between runs on a
    shared 2-core machine: 136 to 152 GFLOP/s)."""
    a = np.random.default_rng(0).normal(size=(size, size)).astype(dtype)
    a @ a
    seconds = min(timeit.Timer(lambda: a @ a).repeat(repeat=7, number=3)) / 3
    return 2.0 * size**3 / seconds / 1e9


def bench(model, batches=(1, 64), dtypes=("float64",), with_peers: bool = True) -> list[Row]:
    """Rows for every batch and dtype: ours, ours (dicts), then each installed peer."""
    from .kernels import compile_model

    rows: list[Row] = []
    for dtype in dtypes:
        kernels = compile_model(model, dtype=dtype)
        params = kernels.init_params(seed=0)
        for batch in batches:
            rows += _bench_one(model, kernels, params, batch, dtype, with_peers)
    return rows


def _bench_one(model, kernels, params, batch, dtype, with_peers) -> list[Row]:
    X, Y = sample_data(model, batch, dtype)
    theta = kernels.flatten(params)
    grad, work = kernels.empty_vector(), kernels.work(batch)  # 64-byte aligned, as theta
    module, out = kernels.module, kernels.loss_and_grad(params, X, Y)[1]
    if module.WORK_PER_SAMPLE:  # looped: the scratch space, allocated once
        ours = lambda: module.loss_and_grad_work(theta, X, Y, grad, work)  # noqa: E731
    else:
        ours = lambda: module.loss_and_grad_into(theta, X, Y, grad)  # noqa: E731
    candidates = [
        ("symbprop", ours),
        ("symbprop (dicts)", lambda: kernels.loss_and_grad(params, X, Y)),
        ("symbprop (dicts, out=)", lambda: kernels.loss_and_grad(params, X, Y, out=out)),
    ]
    if with_peers and peers.supported(model):
        host = {k: np.asarray(v, dtype) for k, v in params.items()}
        candidates += [
            ("numpy", peers.make_numpy(model, host, X, Y)),
            ("pytorch", peers.make_torch(model, host, X, Y, dtype)),
            ("jax", peers.make_jax(model, host, X, Y, dtype)),
        ]
    flops = matmul_flops(model, batch) if model.kind == "network" else 0.0
    flops = flops if flops >= 1e6 else 0.0  # GFLOP/s means nothing for tiny nets
    rows, ours = [], None
    for impl, function in candidates:
        if function is None:
            continue
        # PyTorch's OpenMP and XLA's worker threads spin for a while after their last call;
        # on 2 cores that slows whatever is timed next (784-128-10, batch 1: 32 µs, not 28).
        time.sleep(SETTLE_SECONDS)
        seconds = time_call(function)
        ours = seconds if ours is None else ours
        rows.append(
            Row(
                model.name,
                batch,
                dtype,
                impl,
                seconds,
                None if impl == "symbprop" else seconds / ours,
                flops / seconds / 1e9 if flops else None,
            )
        )
    return rows


def format_time(seconds: float) -> str:
    if seconds < 1e-3:
        return f"{seconds * 1e6:.2f} µs"
    return f"{seconds * 1e3:.2f} ms"


def format_ratio(ratio: float) -> str:
    """A peer's time over ours, with two decimals below 2× where one cannot tell ahead (1.04×)
    from behind (0.96×), and none from 20× on."""
    return f"{ratio:.0f}×" if ratio >= 20 else f"{ratio:.1f}×" if ratio >= 2 else f"{ratio:.2f}×"


def table(rows: list[Row], roofline: float | None = None):
    """A rich table: time per call, and how many times slower than symbprop each peer is."""
    from rich.table import Table

    out = Table(title="loss and every gradient, per call (median)")
    for column in ("net", "batch", "dtype", "implementation", "time", "× symbprop", "GFLOP/s"):
        out.add_column(
            column, justify="right" if column not in ("net", "implementation") else "left"
        )
    for row in rows:
        ratio = "1" if row.ratio is None else format_ratio(row.ratio)
        gflops = "" if row.gflops is None else f"{row.gflops:.1f}"
        if (
            row.gflops is not None
            and roofline
            and row.impl == "symbprop"
            and row.dtype == "float64"
        ):
            gflops += f" ({100 * row.gflops / roofline:.0f}%)"
        out.add_row(
            row.net, str(row.batch), row.dtype, row.impl, format_time(row.seconds), ratio, gflops
        )
    return out
