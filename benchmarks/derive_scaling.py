"""How the cost of the symbolic derivation grows with width and depth (issue 2).

    python benchmarks/derive_scaling.py

Prints: ``sp.derive`` (the layer-level derivation, BP1–BP4) of a 784-128-10 relu/softmax net
(target < 5 s); the full per-weight scalar form (every z, a, δ and gradient instantiated) of a
10-10-10-1 net (target < 10 s); ``sp.derive`` of 256 hidden tanh layers of 32, CPU seconds of
its first call in the process (target < 1 s, issue 20); and all against width and depth.
"""

from __future__ import annotations

import statistics
import time

import symbprop as sp


def timed(function, repeat: int = 3) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def derive_only(sizes, activation="relu", loss="softmax_cross_entropy"):
    return timed(lambda: sp.derive(sp.mlp(sizes, activation=activation, loss=loss)))


def scalar_form(sizes, activation="sigmoid", loss="half_sse"):
    def run():
        d = sp.derive(sp.mlp(sizes, activation=activation, loss=loss))
        return len(d.scalar_equations())

    return timed(run, repeat=1)


def main() -> None:
    print("symbprop derivation scaling (median of 3 for derive, 1 run for scalar forms)\n")
    first = timed(lambda: sp.derive(sp.mlp([784, 128, 10], activation="relu",
                                           loss="softmax_cross_entropy")), repeat=1)
    print(f"sp.derive 784-128-10, first call in the process: {first:8.3f} s   (target < 5 s)")
    t = derive_only([784, 128, 10])
    print(f"sp.derive 784-128-10 relu/softmax-CE:            {t:8.3f} s   (target < 5 s)")
    t = scalar_form([10, 10, 10, 1])
    print(f"full scalar form 10-10-10-1 sigmoid:             {t:8.3f} s   (target < 10 s)")
    deep = sp.mlp([32] + [32] * 256 + [10], activation="tanh")
    start = time.process_time()
    sp.derive(deep)
    t = time.process_time() - start
    print(f"sp.derive 256 hidden tanh layers of 32, first:   {t:8.3f} s   (CPU, target < 1 s)\n")

    print("layer-level derive vs width (one hidden layer, relu/softmax-CE):")
    for width in (8, 64, 512, 4096):
        print(f"  {width:5d}-{width:5d}-10     {derive_only([width, width, 10]):8.3f} s")
    print("layer-level derive vs depth (width 32):")
    for depth in (1, 2, 4, 8, 16, 64, 256):
        print(f"  {depth:3d} hidden layers     {derive_only([32] * (depth + 1) + [10]):8.3f} s")
    print("full scalar form vs width (2 hidden layers, sigmoid):")
    for width in (2, 4, 8, 12):
        equations = len(sp.derive(sp.mlp([width, width, width, 1])).scalar_equations())
        print(
            f"  {width:3d}-{width:3d}-{width:3d}-1   {scalar_form([width] * 3 + [1]):8.3f} s"
            f"   ({equations} scalar equations)"
        )


if __name__ == "__main__":
    main()
