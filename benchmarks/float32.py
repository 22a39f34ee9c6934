"""4-16-3 (tanh, softmax cross-entropy), float64 against float32 (issue 20, item 4).

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python benchmarks/float32.py [BATCH] [REPEAT]

Times ``loss_and_grad_into`` (kept gradient and scratch buffers) of both lowerings in float64
and float32, and the hand-written Numba kernel of ``handwritten_numba.py`` in both dtypes, on
the same data (float32: the float64 data rounded).  Samples are interleaved across the six
implementations (``symbprop.bench.timing.time_calls``); each time is the 20th percentile of the
samples with its spread (80th / 20th percentile).  Prints the machine first.
"""
import sys
from pathlib import Path

import numpy as np

import symbprop as sp
from symbprop.bench.machine import machine_lines
from symbprop.bench.timing import PERCENTILE, REPEAT, sample_data, time_calls

sys.path.insert(0, str(Path(__file__).parent))
from handwritten_numba import hand  # noqa: E402 (a sibling script, found through sys.path)


def ours(model, strategy: str, dtype: str, X, Y):
    kernels = sp.compile(model, strategy=strategy, dtype=dtype)
    theta = kernels.flatten(kernels.init_params(0))
    grad, work = kernels.empty_vector(), kernels.work(X.shape[0])
    call = lambda: kernels.module.loss_and_grad_into(theta, X, Y, grad, work)  # noqa: E731
    call()
    return call, kernels, theta


def handwritten(kernels, theta, X, Y):
    p = kernels.unflatten(theta)
    g = {name: np.empty_like(value) for name, value in p.items()}
    args = (p["W1"], p["b1"], p["W2"], p["b2"], X, Y, g["W1"], g["b1"], g["W2"], g["b2"])
    hand(*args)
    return lambda: hand(*args)


def main() -> None:
    batch = int(sys.argv[1]) if len(sys.argv) > 1 else 32
    repeat = int(sys.argv[2]) if len(sys.argv) > 2 else REPEAT
    model = sp.load("examples:iris_4_16_3")
    X64, Y64 = sample_data(model, batch, "float64")
    calls = {}
    for dtype in ("float64", "float32"):
        X, Y = X64.astype(dtype), Y64.astype(dtype)
        for strategy in ("unrolled", "looped"):
            calls[strategy, dtype], kernels, theta = ours(model, strategy, dtype, X, Y)
        calls["hand-written", dtype] = handwritten(kernels, theta, X, Y)
    print("\n".join(machine_lines()))
    print(f"iris_4_16_3, batch {batch}, loss_and_grad_into; {PERCENTILE}th percentile of "
          f"{repeat} interleaved samples (spread: 80th / {PERCENTILE}th)")
    results = dict(zip(calls, time_calls(list(calls.values()), repeat), strict=True))
    for name in ("unrolled", "looped", "hand-written"):
        (t64, s64), (t32, s32) = results[name, "float64"], results[name, "float32"]
        print(f"  {name:>12}: float64 {t64 * 1e6:6.2f} µs (×{s64:.2f}), float32 "
              f"{t32 * 1e6:6.2f} µs (×{s32:.2f}); float64 / float32 {t64 / t32:.2f}")
    hand64 = results["hand-written", "float64"][0]
    for name in ("unrolled", "looped"):
        print(f"  {name} / hand-written float64: float64 "
              f"{results[name, 'float64'][0] / hand64:.2f}, float32 "
              f"{results[name, 'float32'][0] / hand64:.2f}")


if __name__ == "__main__":
    main()
