"""Where ``auto`` should switch from the unrolled to the looped lowering (README, "Two lowerings").

    python benchmarks/crossover.py

For tanh + softmax cross-entropy nets of growing size, the median time of the flat
``loss_and_grad_into`` call (a kept gradient and scratch buffer) in both lowerings at batch 1 and
64, float64.  The first run compiles the unrolled kernels: about a minute in all.
"""

from __future__ import annotations

import numpy as np

import symbprop as sp
from symbprop.bench.tables import format_time
from symbprop.bench.timing import sample_data, time_call

SIZES = ([2, 2, 1], [4, 8, 3], [4, 16, 3], [8, 16, 4], [16, 16, 4], [16, 24, 6])
BATCHES = (1, 64)


def seconds(model, strategy: str, batch: int) -> float:
    kernels = sp.compile(model, strategy=strategy)
    theta = kernels.flatten(kernels.init_params(seed=0))
    grad, work = np.empty_like(theta), kernels.work(batch)
    X, Y = sample_data(model, batch, "float64")
    return time_call(lambda: kernels.module.loss_and_grad_into(theta, X, Y, grad, work), repeat=7)


def main() -> None:
    print("| net (params) | " + " | ".join(f"batch {b}: unrolled / looped" for b in BATCHES) + " |")
    print("|---|" + "---|" * len(BATCHES))
    for sizes in SIZES:
        loss = "half_sse" if sizes[-1] == 1 else "softmax_cross_entropy"
        model = sp.mlp(sizes, activation="tanh", loss=loss, name="n" + "_".join(map(str, sizes)))
        cells = []
        for batch in BATCHES:
            unrolled, looped = (seconds(model, s, batch) for s in ("unrolled", "looped"))
            cells.append(f"{format_time(unrolled)} / {format_time(looped)}")
        label = "-".join(map(str, sizes))
        print(f"| {label} ({model.param_count}) | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
