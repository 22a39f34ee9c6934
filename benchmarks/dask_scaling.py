"""Samples per second: one process (the fused compiled loop) against a Dask LocalCluster of 2
single-threaded worker processes (``symbprop.distributed``), for training and for the gradient.

    python benchmarks/dask_scaling.py [--rows 1438 100000] [--epochs 5] [--repeats 3]

digits 64-32-10 (relu + softmax cross-entropy), batch 32, lr 0.1.  Data: the digits training part
(1 438 rows) and, for more rows, those rows repeated with small noise.  Measured, as the median of
``--repeats`` runs after one warm-up (JIT, cache loading and worker start-up are not counted):

* SGD, one process: ``Kernels.fit`` (the generated fused ``train``) — samples · epochs / s;
* SGD, 2 workers: ``symbprop.distributed.fit`` local SGD, averaged every epoch and every 5;
* gradient, one process: ``Kernels.loss_and_grad`` on all rows — samples / s;
* gradient, 2 workers: the exact data-parallel gradient over partitions held by the workers
  (one full-batch step, ``mode="full_batch"``).

BLAS is single-threaded in this process as in the workers.  Prints the CPU model, the load
average before and after (the machine may be shared) and the scaling (2 workers / one process).
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
import warnings
from pathlib import Path

# One BLAS thread here as in the workers (the Nanny sets these): 1 core against 2 cores.
for _name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_name, "1")

import numpy as np  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import symbprop as sp  # noqa: E402
import symbprop.distributed as spd  # noqa: E402
from symbprop.training.data import load_data  # noqa: E402


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def median_time(run, repeats: int) -> float:
    run()  # warm-up
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def data_of(rows: int, base):
    X, Y = base.train.X, base.train.Y
    if rows <= len(X):
        return np.ascontiguousarray(X[:rows]), np.ascontiguousarray(Y[:rows])
    reps = -(-rows // len(X))
    noise = np.random.default_rng(0).normal(0, 0.1, (reps * len(X), X.shape[1]))
    return (np.ascontiguousarray((np.tile(X, (reps, 1)) + noise)[:rows]),
            np.ascontiguousarray(np.tile(Y, (reps, 1))[:rows]))


def measure(k, client, rows: int, base, epochs: int, repeats: int) -> dict:
    X, Y = data_of(rows, base)
    with warnings.catch_warnings():  # "Sending large graph": the NumPy rows go to the workers
        warnings.simplefilter("ignore", UserWarning)
        parts = spd.on_cluster(k, client, X, Y)  # held by the workers from here on
    theta = k.flatten(k.init_params(0))
    fit_args = dict(lr=0.1, epochs=epochs, batch_size=32, progress=False)

    def local():
        k.fit(k.unflatten(theta.copy()), X, Y, **fit_args)

    def sgd(every):
        return lambda: spd.fit(k, k.unflatten(theta.copy()), parts, client=client,
                               sync_every=every, **fit_args)

    result = {"rows": rows}
    result["sgd 1 process"] = rows * epochs / median_time(local, repeats)
    result["sgd 2 workers (avg every epoch)"] = rows * epochs / median_time(sgd(1), repeats)
    result[f"sgd 2 workers (avg every {min(5, epochs)})"] = rows * epochs / median_time(
        sgd(5), repeats)
    params = k.unflatten(theta.copy())
    result["gradient 1 process"] = rows / median_time(
        lambda: k.loss_and_grad(params, X, Y), repeats)
    result["gradient 2 workers"] = rows / median_time(
        lambda: spd.gradient.summed_on(parts, theta), repeats)
    return result


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[1438, 100_000])
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)
    model = sp.load("examples:digits_64_32_10")
    k, base = sp.compile(model), load_data(model, "digits", seed=0)
    import distributed

    print(f"CPU: {cpu_model()}, {os.cpu_count()} cores; load average before: "
          f"{' '.join(f'{v:.2f}' for v in os.getloadavg())}")
    with spd.local_cluster(2) as cluster, distributed.Client(cluster) as client:
        results = [measure(k, client, rows, base, args.epochs, args.repeats)
                   for rows in args.rows]
    print(f"load average after: {' '.join(f'{v:.2f}' for v in os.getloadavg())}")
    print(f"\ndigits 64-32-10, batch 32, {args.epochs} epochs, median of {args.repeats}; "
          "samples per second (SGD: samples × epochs / s)")
    for r in results:
        print(f"\n{r['rows']:,} rows")
        for name, value in r.items():
            if name != "rows":
                print(f"  {name:<34}{value:>14,.0f}")
        for what, one in (("sgd", "sgd 1 process"), ("gradient", "gradient 1 process")):
            two = r[f"sgd 2 workers (avg every {min(5, args.epochs)})" if what == "sgd"
                    else "gradient 2 workers"]
            print(f"  scaling {what} (2 workers / 1 process){two / r[one]:>13.2f}×")


if __name__ == "__main__":
    main()
