"""Timing the compiled kernels against the peers (NumPy, PyTorch, JAX), side by side in one run.

``bench(model, batches, dtypes)`` returns one ``Row`` per (batch, dtype, implementation): the
median time of one "loss and every gradient" call, measured from Python, and its ratio to ours
(``> 1`` means the peer is slower).  Ours is the generated allocation-free entry point on a flat
parameter vector with a preallocated gradient and scratch space, ``loss_and_grad_into``
(theta, X, Y, grad, work); "ours (dicts)" is
``Kernels.loss_and_grad`` with dicts of arrays, and "(dicts, out=)" the same writing into the
gradient arrays of an earlier call.  The peers are in ``symbprop.bench.peers``.  Used by
``symbprop bench`` and ``benchmarks/bench_kernels.py``.

A graph or expression has no data and no batch: its rows (batch shown as 1: one evaluation per
call) time the flat ``loss_and_grad_into(theta, grad)`` and the dict call
``GraphKernels.loss_and_grad({name: float})`` at a point with every variable in [0.5, 1.5];
the peers implement networks only, so they are not timed for graphs.

Timing: every implementation is first warmed up (at least ``WARMUP_CALLS`` untimed calls and
``WARMUP_SECONDS``: JIT or cache load, first touch of the buffers, caches); the number of calls
per measurement is then chosen by ``timeit``'s autorange (halved: 0.1 to 0.25 s), and the time
is the median of ``REPEAT`` measurements.  Our implementations are measured in turn, one
measurement each per round, so that a change in the machine's load hits them alike; each peer
is measured on its own after a pause (``SETTLE_SECONDS``).
"""

from __future__ import annotations

import statistics
import time
import timeit
from dataclasses import dataclass

import numpy as np

import symbprop.bench.peers as peers
from symbprop.errors import SymbpropError

#: Pause before timing each implementation, for the previous one's worker threads to go idle.
SETTLE_SECONDS = 0.2
#: Untimed calls (at least this many, for at least this long) before an implementation is timed.
WARMUP_CALLS = 5
WARMUP_SECONDS = 0.05
#: Measurements per implementation; the reported time is their median.
REPEAT = 7


@dataclass(frozen=True)
class Row:
    net: str
    batch: int
    dtype: str
    impl: str
    seconds: float  # median seconds per call
    ratio: float | None = None  # seconds / ours' seconds (None for ours)
    gflops: float | None = None  # matmul GFLOP/s achieved (wide nets)


def warm_up(function, calls: int = WARMUP_CALLS, seconds: float = WARMUP_SECONDS) -> int:
    """Call ``function()`` at least ``calls`` times and for at least ``seconds``, untimed;
    returns the number of calls made."""
    made, start = 0, time.perf_counter()
    while made < calls or time.perf_counter() - start < seconds:
        function()
        made += 1
    return made


def time_calls(functions, repeat: int = REPEAT) -> list[float]:
    """Median seconds per call of each of ``functions``, measured in turn (see the module
    docstring): after ``warm_up``, ``repeat`` rounds of one measurement per function."""
    timers = []
    for function in functions:
        warm_up(function)
        timer = timeit.Timer(function)
        loops, _ = timer.autorange()
        timers.append((timer, max(1, loops // 2)))
    samples: list[list[float]] = [[] for _ in timers]
    for _ in range(repeat):
        for (timer, loops), times in zip(timers, samples, strict=True):
            times.append(timer.timeit(number=loops) / loops)
    return [statistics.median(times) for times in samples]


def time_call(function, repeat: int = REPEAT) -> float:
    """Median seconds per call of ``function()``, after a warm-up (see ``time_calls``)."""
    return time_calls([function], repeat)[0]


def sample_data(model, batch: int, dtype: str, seed: int = 0):
    """Inputs and targets that fit the network ``model`` (one-hot for softmax, in (0, 1) for
    bce)."""
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


def graph_point(model, seed: int = 0) -> dict[str, float]:
    """A point for timing a graph: every variable uniform in [0.5, 1.5] (away from the zeros
    and negative numbers where log, sqrt or 1/x have no finite value)."""
    rng = np.random.default_rng(seed)
    return {name: float(rng.uniform(0.5, 1.5)) for name in model.params}


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
    """Rows for every batch and dtype: ours, ours (dicts), then each installed peer; for a graph,
    ours and ours (dicts) per dtype (``batches`` does not apply).  A batch below 1 raises
    ``SymbpropError``."""
    # Imported here: Numba loads when the timing starts, not for --help.
    from symbprop.runtime.kernels import compile_model

    for batch in batches:
        if isinstance(batch, bool) or not isinstance(batch, (int, np.integer)) or batch < 1:
            raise SymbpropError(f"batch: must be an integer ≥ 1, got {batch!r}")
    rows: list[Row] = []
    for dtype in dtypes:
        kernels = compile_model(model, dtype=dtype)
        if model.kind == "graph":
            rows += _measure(model, 1, dtype, _graph_candidates(kernels), [], 0.0)
            continue
        params = kernels.init_params(seed=0)
        for batch in batches:
            rows += _bench_one(model, kernels, params, batch, dtype, with_peers)
    return rows


def _graph_candidates(kernels) -> list:
    params = graph_point(kernels.model)
    theta, grad = kernels.flatten(params), np.empty(kernels.size, kernels.dtype)
    flat = kernels.module.loss_and_grad_into
    return [("symbprop", lambda: flat(theta, grad)),
            ("symbprop (dicts)", lambda: kernels.loss_and_grad(params))]


def _bench_one(model, kernels, params, batch, dtype, with_peers) -> list[Row]:
    X, Y = sample_data(model, batch, dtype)
    theta = kernels.flatten(params)
    grad, work = kernels.empty_vector(), kernels.work(batch)  # 64-byte aligned, as theta
    module, out = kernels.module, kernels.loss_and_grad(params, X, Y)[1]
    flat = lambda: module.loss_and_grad_into(theta, X, Y, grad, work)  # noqa: E731
    ours = [
        ("symbprop", flat),
        ("symbprop (dicts)", lambda: kernels.loss_and_grad(params, X, Y)),
        ("symbprop (dicts, out=)", lambda: kernels.loss_and_grad(params, X, Y, out=out)),
    ]
    others = []
    if with_peers and peers.supported(model):
        host = {k: np.asarray(v, dtype) for k, v in params.items()}
        others = [
            ("numpy", peers.make_numpy(model, host, X, Y)),
            ("pytorch", peers.make_torch(model, host, X, Y, dtype)),
            ("jax", peers.make_jax(model, host, X, Y, dtype)),
        ]
    flops = matmul_flops(model, batch)
    flops = flops if flops >= 1e6 else 0.0  # GFLOP/s means nothing for tiny nets
    return _measure(model, batch, dtype, ours, [c for c in others if c[1] is not None], flops)


def _measure(model, batch, dtype, ours, others, flops) -> list[Row]:
    """Rows for our implementations (timed in turn) and then each peer (timed alone)."""
    # PyTorch's OpenMP and XLA's worker threads spin for a while after their last call;
    # on 2 cores that slows whatever is timed next (784-128-10, batch 1: 32 µs, not 28).
    time.sleep(SETTLE_SECONDS)
    timed = list(zip([impl for impl, _ in ours], time_calls([f for _, f in ours]), strict=True))
    for impl, function in others:
        time.sleep(SETTLE_SECONDS)
        timed.append((impl, time_call(function)))
    base = timed[0][1]
    return [
        Row(model.name, batch, dtype, impl, seconds, None if index == 0 else seconds / base,
            flops / seconds / 1e9 if flops else None)
        for index, (impl, seconds) in enumerate(timed)
    ]


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
    # Imported here: rich loads only when a table is printed.
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
