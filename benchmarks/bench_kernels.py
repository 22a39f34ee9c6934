"""symbprop's kernels against NumPy, PyTorch and JAX, side by side in one run (issue 4).

    python benchmarks/bench_kernels.py [--quick] [--markdown] [--threads 1,2]

First the machine: CPU model, cores, SIMD flags, load average, each BLAS library with the kernel
it runs and its threads (``symbprop.bench.machine``).  Then one table per BLAS thread count
(default 1, then 2; the kernels, NumPy's BLAS and PyTorch all run that count, see
``symbprop.bench.timing``), each with the matmul roofline measured at that count.
Cases (loss and every gradient per call, the 20th percentile of interleaved samples with its
spread, measured from Python): 2-2-1 sigmoid (batch 1,
64), 2-2-2 sigmoid (1), 4-16-3 tanh + softmax-CE (32), 64-64-10 relu + softmax-CE (64),
784-128-10 relu + softmax-CE (1, 64, 1024), 784-512-512-10 relu + softmax-CE (256), in float64
and float32; then the fused training loop on XOR (10 000 epochs, batch 4) against the same loop
in PyTorch (with the first --threads count), and the time of a first and a second
``sp.compile`` (fresh processes).
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import subprocess
import sys
import tempfile
import time

import numpy as np
from rich.console import Console

import symbprop as sp
from symbprop.bench.machine import machine_lines
from symbprop.bench.tables import format_ratio, format_time, table
from symbprop.bench.timing import bench, roofline_gflops, time_call

#: How to install the peers compared with (PyTorch, JAX).
BENCH_EXTRA = 'pip install -e ".[bench]"  (torch==2.13.0 CPU build, jax[cpu])'

CASES = [
    (sp.load("examples:two_two_one"), (1, 64)),
    (sp.mlp([2, 2, 2], activation="sigmoid", loss="half_sse", name="two_two_two"), (1,)),
    (sp.load("examples:iris_4_16_3"), (32,)),
    (
        sp.mlp([64, 64, 10], activation="relu", loss="softmax_cross_entropy", name="n64_64_10"),
        (64,),
    ),
    (sp.load("examples:mnist_784_128_10"), (1, 64, 1024)),
    (
        sp.mlp(
            [784, 512, 512, 10],
            activation="relu",
            loss="softmax_cross_entropy",
            name="n784_512_512_10",
        ),
        (256,),
    ),
]


def kernel_rows(quick: bool, threads: int | None = None):
    rows = []
    dtypes = ("float64",) if quick else ("float64", "float32")
    for model, batches in CASES[: 3 if quick else None]:
        rows += bench(model, batches, dtypes, threads=threads)
    return rows


def train_xor(threads: int, epochs: int = 10_000):
    """ns per sample-step of the generated fused loop, and the same loop in PyTorch with
    ``threads`` threads."""
    X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=float)
    Y = np.array([[0], [1], [1], [0]], dtype=float)
    kernels = sp.compile(sp.load("examples:xor"))
    theta = kernels.flatten(kernels.init_params(seed=1))
    kernels.module.train(theta.copy(), X, Y, 2.0, 2, 4, 0)  # compile
    start = time.perf_counter()
    trained, history = kernels.module.train(theta.copy(), X, Y, 2.0, epochs, 4, 0)
    ours = time.perf_counter() - start
    torch_seconds = _torch_xor(kernels.unflatten(theta), X, Y, epochs, threads)
    return ours / (epochs * 4) * 1e9, float(history[-1]), torch_seconds, ours


def _torch_xor(params, X, Y, epochs, threads: int):
    try:
        import torch
    except ImportError:
        return None
    torch.set_num_threads(threads)
    W1, b1, W2, b2 = (torch.tensor(params[n], requires_grad=True) for n in ("W1", "b1", "W2", "b2"))
    x, y = torch.tensor(X), torch.tensor(Y)
    optimizer = torch.optim.SGD([W1, b1, W2, b2], lr=2.0)
    start = time.perf_counter()
    for _ in range(epochs):
        optimizer.zero_grad()
        a = torch.sigmoid(torch.sigmoid(x @ W1.T + b1) @ W2.T + b2)
        loss = (0.5 * ((a - y) ** 2).sum(dim=1)).mean()
        loss.backward()
        optimizer.step()
    return time.perf_counter() - start


def numba_call_floor() -> tuple[float, float]:
    """Seconds per call of an empty @njit function of 4 arrays (theta, X, Y, grad, batch 1),
    compiled with Numba's runtime and without it (``_nrt=False``, as the generated functions
    that allocate nothing are): the least a Numba kernel called from Python costs here."""
    from numba import njit

    def empty(theta, X, Y, grad):
        return 0.0

    arrays = (np.zeros(9), np.zeros((1, 2)), np.zeros((1, 1)), np.zeros(9))
    with_runtime, without = njit(empty), njit(_nrt=False)(empty)
    return time_call(lambda: with_runtime(*arrays)), time_call(lambda: without(*arrays))


def compile_times():
    """Seconds for a first sp.compile of a small net in a fresh cache (symbprop's and Numba's),
    then a second process."""
    code = (
        "import time; t=time.perf_counter(); import symbprop as sp; "
        "k=sp.compile(sp.mlp([3,5,2], activation='tanh')); "
        "k.loss_and_grad(k.init_params(), [[0.1,0.2,0.3]], [[0.0,1.0]]); "
        "print(time.perf_counter()-t)"
    )
    with tempfile.TemporaryDirectory() as cache:
        # a fresh Numba cache too: the shared helpers are compiled again, as in a first install
        env = dict(os.environ, SYMBPROP_CACHE_DIR=cache, NUMBA_CACHE_DIR=cache)
        times = [
            float(
                subprocess.run(
                    [sys.executable, "-c", code],
                    env=env,
                    capture_output=True,
                    text=True,
                    check=True,
                ).stdout
            )
            for _ in range(2)
        ]
    return times


def markdown(rows) -> str:
    lines = [
        "| net | batch | dtype | threads | symbprop (spread) | dicts | dicts, out= | numpy | "
        "pytorch | jax |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    groups: dict = {}
    for row in rows:
        groups.setdefault((row.net, row.batch, row.dtype, row.threads), {})[row.impl] = row
    for (net, batch, dtype, _), impls in groups.items():
        ours = impls["symbprop"]
        cells = [str(ours.threads or "default"),
                 f"{format_time(ours.seconds)} (+{100 * (ours.spread - 1):.0f}%)"]
        for kind in ("dicts", "dicts, out="):
            cells.append(format_time(impls[f"symbprop ({kind})"].seconds))
        for peer in ("numpy", "pytorch", "jax"):
            r = impls.get(peer)
            cells.append(
                "—" if r is None else f"{format_time(r.seconds)} ({format_ratio(r.ratio)})"
            )
        lines.append(f"| {net} | {batch} | {dtype} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small nets, float64 only")
    parser.add_argument("--markdown", action="store_true", help="also print a Markdown table")
    parser.add_argument("--threads", default="1,2",
                        help="BLAS thread counts, one table each (default 1,2)")
    args = parser.parse_args()
    counts = [int(count) for count in args.threads.split(",")]
    console = Console(width=120)
    for line in machine_lines():
        console.print(line, markup=False, highlight=False, soft_wrap=True)
    missing = [name for name in ("torch", "jax") if importlib.util.find_spec(name) is None]
    if missing:
        console.print(f"{' and '.join(missing)} not installed: their columns stay empty; "
                      f"for them: {BENCH_EXTRA}", markup=False)
    rows = []
    for count in counts:
        table_rows = kernel_rows(args.quick, count)
        roofline = roofline_gflops(threads=count)
        console.print(table(table_rows, roofline))
        console.print(f"matmul roofline (the kernels' BLAS, 1024² float64, {count} "
                      f"thread{'' if count == 1 else 's'}): {roofline:.1f} GFLOP/s; load "
                      f"average now {os.getloadavg()[0]:.2f}")
        rows += table_rows
    floors = numba_call_floor()
    torch_221 = next((r.seconds for r in rows if r.net == "two_two_one" and r.batch == 1
                      and r.dtype == "float64" and r.impl == "pytorch" and r.threads == 1),
                     None)
    for label, floor in zip(("with its runtime", "without (_nrt=False)"), floors, strict=True):
        line = f"Numba call floor, empty @njit of 4 arrays, {label}: {format_time(floor)}"
        if torch_221:
            line += f" = PyTorch 2-2-1 batch 1 / {torch_221 / floor:.0f}"
        console.print(line)
    ns, final_loss, torch_s, ours_s = train_xor(counts[0])
    line = f"XOR train, 10 000 epochs × 4 samples: {ns:.0f} ns per sample-step"
    line += f", final loss {final_loss:.4f}"
    if torch_s is not None:
        line += (f"; PyTorch loop ({counts[0]} thread{'' if counts[0] == 1 else 's'}, the "
                 f"first --threads) {torch_s:.2f} s vs {ours_s:.3f} s ({torch_s / ours_s:.0f}×)")
    console.print(line)
    first, second = compile_times()
    console.print(
        f"sp.compile of a small net: first process {first:.1f} s, second process {second:.2f} s"
    )
    if args.markdown:
        print(markdown(rows))


if __name__ == "__main__":
    main()
