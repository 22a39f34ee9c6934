"""How the first process's compile time and memory grow with the net (issue 20, item 6).

    python benchmarks/compile_growth.py [--quick] [--plot docs/compile-growth.png]
    python benchmarks/compile_growth.py --targets     # issue 20's targets: first and second process

Each net is compiled in a fresh Python process with an empty symbprop cache
(``SYMBPROP_CACHE_DIR``) and an empty Numba cache (``NUMBA_CACHE_DIR``, so that the shared
helpers are compiled again too): what a user waits for the first time.  The child times
``import symbprop``, ``sp.compile`` (derive, generate, import the module) and the first
``loss_and_grad`` (Numba's JIT of what it calls), and reports its peak resident memory
(``getrusage`` ``ru_maxrss``) and the CPU seconds of compile and first call (on a busy shared
machine the wall time grows with the load; the CPU time much less).  A looped net's first
process on a fresh machine compiles the shared helpers half in a second process
(``symbprop.runtime.first_compile``), whose CPU time is not in the child's: the next net
starts when that process has ended.  ``SYMBPROP_PARALLEL_COMPILE=0`` in the environment
compiles them all in the child, as before.  Two series:

- ``unrolled`` (straight-line code per scalar) against the number of parameters: 2-2-1 up to
  about 600 parameters;
- ``looped`` (one matrix product per layer) against depth: hidden layers of 32, depths 1 to 64.

Prints the machine (CPU, cores, SIMD flags, BLAS, load), a table (seconds; "total" is compile
plus first call, the import apart), and writes a plot of both
series (needs matplotlib: ``pip install -e ".[plot]"``).  ``--quick``: three nets of each
series, about two minutes.  Then, for comparison, a second process with the caches warm for the
smallest net.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from symbprop.bench.machine import machine_lines

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_PLOT = ROOT / "docs" / "compile-growth.png"

#: (sizes, lowering): unrolled nets of growing parameter count (P = Σ n_out (n_in + 1)).
UNROLLED = [[2, 2, 1], [4, 8, 3], [6, 12, 4], [8, 16, 6], [12, 20, 8], [16, 24, 8]]
UNROLLED_QUICK = [[2, 2, 1], [4, 8, 3], [8, 16, 6]]
#: Depths (hidden layers of WIDTH) of the looped series.
DEPTHS = [1, 2, 4, 8, 16, 32, 64]
DEPTHS_QUICK = [1, 4, 16]
WIDTH = 32
#: The targets of issue 20 (``--targets``): every bundled example, nets up to 1000 parameters
#: around the ``auto`` cut and deep, and 64 hidden layers of 32, each with the lowering ``auto``
#: picks; first process (fresh caches) and second (warm).
TARGET_NETS = [[8, 14, 2], [16, 12, 4], [4, 10, 10, 10, 10, 10, 10, 10, 10, 10, 3],
               [16, 24, 8], [64, *[32] * 64, 10]]
#: A child that runs longer than this is stopped and reported as such.
TIMEOUT = 900

CHILD = r"""
import json, resource, sys, time
start = time.perf_counter()
import numpy as np
import symbprop as sp
imported, cpu_imported = time.perf_counter(), time.process_time()
net, strategy = sys.argv[1], sys.argv[2]
if net.startswith("examples:"):  # as a user compiles a spec file (a cached graph: no SymPy)
    k = sp.compile(net, strategy=strategy)
else:
    k = sp.compile(sp.mlp(json.loads(net), activation="tanh", loss="softmax_cross_entropy"),
                   strategy=strategy)
compiled = time.perf_counter()
if hasattr(k, "constants"):  # a graph (k.model would parse its spec)
    k.loss_and_grad({name: 0.75 for name in (*k.names, *k.constants)})
else:
    params = k.init_params(0)
    rng = np.random.default_rng(0)
    X = rng.normal(size=(8, k.model.inputs))
    Y = np.eye(k.model.sizes[-1])[rng.integers(0, k.model.sizes[-1], 8)]
    k.loss_and_grad(params, X, Y)
called, cpu_called = time.perf_counter(), time.process_time()
print(json.dumps({"import": imported - start, "compile": compiled - imported,
                  "cpu": cpu_called - cpu_imported,
                  "first_call": called - compiled, "params": k.size, "strategy": k.strategy,
                  "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def run_child(sizes, strategy: str, cache: str | None = None,
              numba_cache: str | None = None) -> dict:
    """One fresh process compiling ``sizes`` (a list of layer sizes, or "examples:NAME") with
    ``strategy``; with ``cache`` (a folder) it uses and keeps that cache, else an empty one that
    is removed after.  ``numba_cache``: Numba's cache folder instead of the one in ``cache``
    (a machine's cache of the shared helpers, kept from another net)."""
    with tempfile.TemporaryDirectory(prefix="symbprop-growth-") as fresh:
        folder = cache or fresh
        env = dict(os.environ, SYMBPROP_CACHE_DIR=os.path.join(folder, "symbprop"),
                   NUMBA_CACHE_DIR=numba_cache or os.path.join(folder, "numba"))
        start = time.perf_counter()
        try:
            net = sizes if isinstance(sizes, str) else json.dumps(sizes)
            result = subprocess.run([sys.executable, "-c", CHILD, net, strategy],
                                    env=env, capture_output=True, text=True, timeout=TIMEOUT)
        except subprocess.TimeoutExpired:
            return {"error": f"stopped after {TIMEOUT} s"}
        wall = time.perf_counter() - start
        wait_for_second_process(env["NUMBA_CACHE_DIR"])
    if result.returncode:
        return {"error": result.stderr.strip().splitlines()[-1] if result.stderr else "failed"}
    record = json.loads(result.stdout.strip().splitlines()[-1])
    record["jit"] = record["compile"] + record["first_call"]
    record["wall"] = wall
    return record


def wait_for_second_process(numba_cache: str, limit: float = 60.0) -> None:
    """Wait (at most ``limit`` seconds) until the second process that a machine's first looped
    net starts (``symbprop.runtime.first_compile``) has ended, so that it neither runs beside
    the next measurement nor writes into a folder being removed.  It holds a lock file in
    Numba's cache until it ends."""
    end = time.perf_counter() + limit
    while time.perf_counter() < end and any(Path(numba_cache).rglob("symbprop-shared-*.lock")):
        time.sleep(0.05)


def net_name(sizes) -> str:
    if len(sizes) > 5 and len(set(sizes[1:-1])) == 1:
        return f"{sizes[0]}-({sizes[1]}×{len(sizes) - 2})-{sizes[-1]}"
    return "-".join(map(str, sizes))


def row(label: str, strategy: str, depth: int, record: dict) -> str:
    if "error" in record:
        return f"{label:18s} {strategy:9s} {depth:5d}  error: {record['error']}"
    return (f"{label:18s} {record['strategy']:9s} {depth:5d} {record['params']:7d} "
            f"{record['import']:7.2f} {record['compile']:8.2f} {record['first_call']:8.2f} "
            f"{record['jit']:8.2f} {record['cpu']:7.2f} {record['peak_mb']:8.0f}")


HEADER = (f"{'net':18s} {'lowering':9s} {'depth':>5s} {'params':>7s} {'import':>7s} "
          f"{'compile':>8s} {'1st call':>8s} {'total':>8s} {'CPU s':>7s} {'peak MB':>8s}")


def plot(unrolled, looped, path: Path, stamp: str) -> Path | None:
    try:
        # Imported here: matplotlib is an optional extra (plot).
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print('matplotlib is not installed, so no plot (pip install -e ".[plot]"); the table '
              "above has the figures", file=sys.stderr)
        return None
    figure, axes = plt.subplots(1, 2, figsize=(11, 4.2))
    for ax, series, key, xlabel, title in (
        (axes[0], unrolled, "params", "parameters", "unrolled: against parameters"),
        (axes[1], looped, "depth", f"hidden layers of {WIDTH}", "looped: against depth"),
    ):
        points = [(r[key], r["jit"], r["cpu"], r["peak_mb"]) for r in series if "error" not in r]
        if not points:
            continue
        xs, seconds, cpu, memory = zip(*points, strict=True)
        ax.plot(xs, seconds, "o-", color="C0", label="wall seconds")
        ax.plot(xs, cpu, "o:", color="C0", alpha=0.6, label="CPU seconds")
        ax.legend(loc="lower right", fontsize=8)  # clear of both curves
        ax.set_xlabel(xlabel)
        ax.set_ylabel("seconds (first process)", color="C0")
        ax.set_title(title)
        ax.grid(alpha=0.3)
        if key == "depth":
            ax.set_xscale("log", base=2)
            ax.set_xticks(xs, [str(x) for x in xs])
        twin = ax.twinx()
        twin.plot(xs, memory, "s--", color="C1", label="peak memory")
        twin.set_ylabel("peak resident memory, MB", color="C1")
        twin.set_ylim(bottom=0)
        ax.set_ylim(bottom=0)
    figure.suptitle("symbprop: first compile (derive, generate, JIT, first loss_and_grad)",
                    fontsize=11)
    figure.text(0.5, 0.005, stamp, ha="center", fontsize=7, color="0.35")
    figure.tight_layout(rect=(0, 0.04, 1, 0.95))
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true",
                        help="three nets per series (about two minutes)")
    parser.add_argument("--plot", type=Path, default=DEFAULT_PLOT,
                        help=f"where the plot goes (default {DEFAULT_PLOT.relative_to(ROOT)})")
    parser.add_argument("--no-plot", action="store_true", help="print the table only")
    parser.add_argument("--targets", action="store_true",
                        help="first and second process for every bundled example and the "
                             "target nets (TARGET_NETS), in the lowering auto picks; no plot")
    args = parser.parse_args()
    if args.targets:
        targets()
        return
    started = time.perf_counter()
    machine = machine_lines()
    print("\n".join(machine), flush=True)
    print(HEADER, flush=True)
    unrolled, looped = [], []
    for sizes in UNROLLED_QUICK if args.quick else UNROLLED:
        record = run_child(sizes, "unrolled")
        unrolled.append(record)
        print(row(net_name(sizes), "unrolled", len(sizes) - 2, record), flush=True)
    for depth in DEPTHS_QUICK if args.quick else DEPTHS:
        sizes = [WIDTH] * (depth + 1) + [10]
        record = dict(run_child(sizes, "looped"), depth=depth)
        looped.append(record)
        print(row(net_name(sizes), "looped", depth, record), flush=True)
    with tempfile.TemporaryDirectory(prefix="symbprop-growth-warm-") as cache:
        run_child(UNROLLED[0], "unrolled", cache)
        warm = run_child(UNROLLED[0], "unrolled", cache)
    if "error" not in warm:
        print(f"second process, caches warm, {net_name(UNROLLED[0])}: import "
              f"{warm['import']:.2f} s, compile {warm['compile']:.2f} s, first call "
              f"{warm['first_call']:.2f} s, {warm['peak_mb']:.0f} MB")
    after = f"{os.getloadavg()[0]:.2f}"
    print(f"load average (1 min) after: {after}; the run took "
          f"{time.perf_counter() - started:.0f} s")
    if not args.no_plot:
        model = machine[0].removeprefix("CPU: ").split(";")[0]
        stamp = (f"{model}, {os.cpu_count()} cores; {machine[1]}; "
                 f"{time.strftime('%Y-%m-%d')}")
        written = plot(unrolled, looped, args.plot, stamp)
        if written:
            print(f"plot written to {written}")


def targets() -> None:
    """The ``--targets`` table, per net: a first process on a fresh machine (empty symbprop and
    Numba caches), a first process on a machine that compiled another net before (Numba's
    cache of the shared BLAS helpers and input checks kept, the net's own caches empty) and a
    second process (both caches warm)."""
    from symbprop import examples

    print("\n".join(machine_lines()), flush=True)
    print(f"{'net':24s} {'lowering':9s} {'params':>7s} {'fresh s':>8s} {'CPU s':>6s} "
          f"{'used s':>7s} {'second s':>9s}", flush=True)
    nets = [f"examples:{name}" for name in examples.names()] + TARGET_NETS
    with tempfile.TemporaryDirectory(prefix="symbprop-machine-") as machine:
        for warm_up in ("examples:xor", [3, 40, 2]):  # one unrolled net, one looped
            run_child(warm_up, "auto", numba_cache=machine)
        for net in nets:
            with tempfile.TemporaryDirectory(prefix="symbprop-targets-") as cache:
                first = run_child(net, "auto", cache)
                second = run_child(net, "auto", cache)
            used = run_child(net, "auto", numba_cache=machine)
            label = net.removeprefix("examples:") if isinstance(net, str) else net_name(net)
            failed = [r["error"] for r in (first, used, second) if "error" in r]
            if failed:
                print(f"{label:24s} error: {failed[0]}", flush=True)
                continue
            print(f"{label:24s} {first['strategy']:9s} {first['params']:7d} "
                  f"{first['wall']:8.2f} {first['cpu']:6.2f} {used['wall']:7.2f} "
                  f"{second['wall']:9.2f}", flush=True)
    print(f"load average (1 min) after: {os.getloadavg()[0]:.2f}")

if __name__ == "__main__":
    main()
