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
``WARMUP_SECONDS``: JIT or cache load, first touch of the buffers, caches); a measurement is
then the first of 1, 2, 5, 10, 20, ... calls that lasts ``MEASURE_SECONDS``.  The
implementations' samples are interleaved: ``REPEAT`` rounds (``repeat=``; ``symbprop bench
--repeat``) of one measurement of each, so that a change in the machine's load hits them alike
(with a pause of ``SETTLE_SECONDS`` after a peer's measurement, whose worker threads spin for a
while after their last call).  The time
reported is a low percentile of the samples (``PERCENTILE``: the machine's noise only ever adds
time), with its spread, the ratio of the ``SPREAD_PERCENTILE`` to it.

Threads: ``bench(..., threads=N)`` compiles the kernels with ``threads=N`` (the BLAS that their
``np.dot`` calls; None: the kernels' "auto" choice, ``symbprop.runtime.threads``) and runs the
peers with the same count (every BLAS in the process through threadpoolctl, and
``torch.set_num_threads``; JAX's XLA pool is sized when JAX starts and is not changed).  Every
row records that count; ``roofline_gflops(threads)`` measures the matmul roofline with it, in
the kernels' own BLAS.
"""

from __future__ import annotations

import time
import timeit
from dataclasses import dataclass

import numpy as np

import symbprop.bench.peers as peers
from symbprop.errors import require_count

#: Pause after a peer's measurement, for its worker threads to go idle.
SETTLE_SECONDS = 0.2
#: Untimed calls (at least this many, for at least this long) before an implementation is timed.
WARMUP_CALLS = 5
WARMUP_SECONDS = 0.05
#: How long one measurement lasts, at least (``timeit``'s autorange, halved, as before).
MEASURE_SECONDS = 0.1
#: Measurements per implementation (interleaved rounds), by default and at least (a percentile
#: and a spread of fewer mean little).
REPEAT = 9
MIN_REPEAT = 3
#: The reported time: this percentile of the measurements; the spread is the ratio of the
#: ``SPREAD_PERCENTILE`` to it.
PERCENTILE = 20
SPREAD_PERCENTILE = 80


@dataclass(frozen=True)
class Row:
    net: str
    batch: int
    dtype: str
    impl: str
    seconds: float  # seconds per call, the PERCENTILE of the measurements
    ratio: float | None = None  # seconds / ours' seconds (None for ours)
    gflops: float | None = None  # matmul GFLOP/s achieved (wide nets)
    spread: float = 1.0  # SPREAD_PERCENTILE / PERCENTILE of the measurements (≥ 1)
    threads: int | None = None  # BLAS threads of the kernels' library while timed
    samples: int = REPEAT  # measurements the percentile is of


def warm_up(function, calls: int = WARMUP_CALLS, seconds: float | None = None) -> int:
    """Call ``function()`` at least ``calls`` times and for at least ``seconds`` (default
    ``WARMUP_SECONDS``), untimed; returns the number of calls made."""
    seconds = WARMUP_SECONDS if seconds is None else seconds
    made, start = 0, time.perf_counter()
    while made < calls or time.perf_counter() - start < seconds:
        function()
        made += 1
    return made


def time_calls(functions, repeat: int = REPEAT, settle=()) -> list[tuple[float, float]]:
    """(seconds per call, spread) of each of ``functions``, measured in interleaved rounds (see
    the module docstring): after ``warm_up``, ``repeat`` rounds of one measurement per function,
    with a pause of ``SETTLE_SECONDS`` after those whose index is in ``settle``."""
    timers = []
    for function in functions:
        warm_up(function)
        timer = timeit.Timer(function)
        timers.append((timer, calls_per_measurement(timer)))
    samples: list[list[float]] = [[] for _ in timers]
    for _ in range(repeat):
        for index, ((timer, loops), times) in enumerate(zip(timers, samples, strict=True)):
            times.append(timer.timeit(number=loops) / loops)
            if index in settle:
                time.sleep(SETTLE_SECONDS)
    return [summary(times) for times in samples]


def calls_per_measurement(timer: timeit.Timer) -> int:
    """The first of 1, 2, 5, 10, 20, 50, ... calls that ``timer`` takes ``MEASURE_SECONDS`` for."""
    for scale in (10 ** e for e in range(10)):
        for calls in (scale, 2 * scale, 5 * scale):
            if timer.timeit(number=calls) >= MEASURE_SECONDS:
                return calls
    return calls


def summary(times) -> tuple[float, float]:
    """(the ``PERCENTILE`` of ``times``, its spread: ``SPREAD_PERCENTILE`` / ``PERCENTILE``)."""
    low, high = np.percentile(times, [PERCENTILE, SPREAD_PERCENTILE])
    return float(low), float(high / low) if low > 0 else 1.0


def time_call(function, repeat: int = REPEAT) -> float:
    """Seconds per call of ``function()``, the ``PERCENTILE``, after a warm-up (see
    ``time_calls``)."""
    return time_calls([function], repeat)[0][0]


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


def roofline_gflops(size: int = 1024, dtype: str = "float64", threads: int | None = None) -> float:
    """This machine's matmul speed, GFLOP/s, for a size² by size² product in the BLAS the
    kernels call (SciPy's ``?gemm``) with ``threads`` threads (None: as it is): the best of 15
    products, since a roofline is a best case (the median of 3 moved by 10% between runs on a
    shared 2-core machine: 136 to 152 GFLOP/s; under load, short samples find the quiet
    moments better than long ones).  Measured after the rows, it can still fall below a row's
    GFLOP/s when the load rose in between (a share above 100%)."""
    # Imported here: SciPy's BLAS and threadpoolctl load when a roofline is asked for.
    from scipy.linalg import blas

    # Imported here: as above, the thread control loads with SciPy's BLAS.
    from symbprop.runtime.threads import kernels_blas

    a = np.asfortranarray(np.random.default_rng(0).normal(size=(size, size)).astype(dtype))
    gemm = blas.dgemm if np.dtype(dtype) == np.float64 else blas.sgemm
    lib = kernels_blas()
    before = lib.get_num_threads() if lib is not None else None
    try:
        if lib is not None and threads is not None:
            lib.set_num_threads(threads)
        gemm(1.0, a, a)
        seconds = min(timeit.Timer(lambda: gemm(1.0, a, a)).repeat(repeat=15, number=1))
    finally:
        if lib is not None:
            lib.set_num_threads(before)
    return 2.0 * size**3 / seconds / 1e9


def bench(model, batches=(1, 64), dtypes=("float64",), with_peers: bool = True,
          threads: int | None = None, repeat: int = REPEAT) -> list[Row]:
    """Rows for every batch and dtype: ours, ours (dicts), then each installed peer; for a graph,
    ours and ours (dicts) per dtype (``batches`` does not apply).  ``threads``: the kernels'
    BLAS threads (``compile``'s; None: auto), the peers' too (see the module docstring);
    ``repeat``: measurements per implementation, at least ``MIN_REPEAT``.  A batch below 1 or
    too few measurements raise ``SymbpropError``, a bad ``threads`` ``ThreadsError``."""
    # Imported here: Numba, SciPy's BLAS and threadpoolctl load when the timing starts.
    from threadpoolctl import threadpool_limits

    # Imported here: as above (the kernels and their thread control load with Numba).
    from symbprop.runtime.compiling import compile_model
    from symbprop.runtime.threads import blas_threads, checked_threads

    for batch in batches:
        require_count("batch", batch, 1)
    require_count("repeat", repeat, MIN_REPEAT)
    threads = checked_threads(threads)
    rows: list[Row] = []
    for dtype in dtypes:
        kernels = compile_model(model, dtype=dtype, threads=threads)
        count = blas_threads()
        with threadpool_limits(limits=count, user_api="blas"):  # NumPy's BLAS as the kernels'
            if model.kind == "graph":
                rows += _measure(model, 1, dtype, _graph_candidates(kernels), [], 0.0, count,
                                 repeat)
                continue
            params = kernels.init_params(seed=0)
            for batch in batches:
                rows += _bench_one(model, kernels, params, batch, dtype, with_peers, count,
                                   repeat)
    return rows


def _graph_candidates(kernels) -> list:
    params = graph_point(kernels.model)
    theta, grad = kernels.flatten(params), np.empty(kernels.size, kernels.dtype)
    flat = kernels.module.loss_and_grad_into
    return [("symbprop", lambda: flat(theta, grad)),
            ("symbprop (dicts)", lambda: kernels.loss_and_grad(params))]


def _bench_one(model, kernels, params, batch, dtype, with_peers, threads, repeat) -> list[Row]:
    X, Y = sample_data(model, batch, dtype)
    theta = kernels.flatten(params)
    grad, work = kernels.empty_vector(), kernels.work(batch)  # 64-byte aligned, as theta
    module, out = kernels.module, kernels.loss_and_grad(params, X, Y)[1]
    kernels.compile_dict_call()  # what a long loop of dict calls runs (Kernels._dict_call)
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
            ("pytorch", peers.make_torch(model, host, X, Y, dtype, threads or 2)),
            ("jax", peers.make_jax(model, host, X, Y, dtype)),
        ]
    flops = matmul_flops(model, batch)
    flops = flops if flops >= 1e6 else 0.0  # GFLOP/s means nothing for tiny nets
    return _measure(model, batch, dtype, ours, [c for c in others if c[1] is not None], flops,
                    threads, repeat)


def _measure(model, batch, dtype, ours, others, flops, threads, repeat) -> list[Row]:
    """Rows for our implementations and the peers, their samples interleaved."""
    # PyTorch's OpenMP and XLA's worker threads spin for a while after their last call;
    # on 2 cores that slows whatever is timed next (784-128-10, batch 1: 32 µs, not 28).
    time.sleep(SETTLE_SECONDS)
    named = ours + others
    settle = range(len(ours), len(named))
    timed = zip([impl for impl, _ in named],
                time_calls([f for _, f in named], repeat, settle=settle), strict=True)
    rows, base = [], None
    for impl, (seconds, spread) in timed:
        base = base or seconds
        rows.append(Row(model.name, batch, dtype, impl, seconds,
                        None if not rows else seconds / base,
                        flops / seconds / 1e9 if flops else None, spread, threads, repeat))
    return rows
