"""4-16-3 (tanh, softmax cross-entropy) against the same net written by hand in Numba (issue 20,
item 4).

    python benchmarks/handwritten_numba.py [BATCH]      # default batch 32

The hand-written kernel is what an engineer would write: ``np.dot`` for the products (batch-major,
Z = X Wᵀ), element loops for tanh, the softmax and the sums, ``@njit(cache=True)``.  Both of our
lowerings (``loss_and_grad_into`` with kept buffers) and it are timed interleaved, three rounds,
the best of 7 autoranged repeats each; the gradients are checked to agree first.  The time at
this size goes to scalar libm calls (512 tanh and 96 exp per call at batch 32: about 10 ns per
tanh in either precision), which LLVM cannot vectorise without Intel's SVML, and the pip builds
of llvmlite are not patched for it (``numba -s``: "llvmlite Using SVML Patched LLVM: False"); so
the hand-written kernel is no faster in float32 than in float64.  Ours are: their float32 tanh
is a rational approximation that vectorises (see ``benchmarks/float32.py``).
"""
import os
import platform
import sys
import timeit

import numpy as np
from numba import njit

import symbprop as sp
from symbprop.bench.timing import sample_data


def machine() -> str:
    model = next((line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo")
                  if line.startswith("model name")), platform.processor())
    load = " ".join(f"{v:.2f}" for v in os.getloadavg())
    return f"{model}, {os.cpu_count()} cores, load average {load}"


@njit(cache=True, error_model="numpy", fastmath=False)
def hand(W1, b1, W2, b2, X, Y, gW1, gb1, gW2, gb2):
    n = X.shape[0]
    Z1 = np.dot(X, W1.T)
    H, K = W1.shape[0], W2.shape[0]
    A1 = np.empty_like(Z1)
    for i in range(n):
        for j in range(H):
            A1[i, j] = np.tanh(Z1[i, j] + b1[j])
    Z2 = np.dot(A1, W2.T)
    D2 = np.empty_like(Z2)
    total = 0.0
    for i in range(n):
        top = -np.inf
        for k in range(K):
            Z2[i, k] += b2[k]
            top = max(top, Z2[i, k])
        s = 0.0
        for k in range(K):
            D2[i, k] = np.exp(Z2[i, k] - top)
            s += D2[i, k]
        lse = top + np.log(s)
        for k in range(K):
            total -= Y[i, k] * (Z2[i, k] - lse)
            D2[i, k] = (D2[i, k] / s - Y[i, k]) / n
    gW2[:, :] = np.dot(D2.T, A1)
    for k in range(K):
        acc = 0.0
        for i in range(n):
            acc += D2[i, k]
        gb2[k] = acc
    D1 = np.dot(D2, W2)
    for i in range(n):
        for j in range(H):
            D1[i, j] *= 1.0 - A1[i, j] * A1[i, j]
    gW1[:, :] = np.dot(D1.T, X)
    for j in range(H):
        acc = 0.0
        for i in range(n):
            acc += D1[i, j]
        gb1[j] = acc
    return total / n

def best(function, repeat: int = 7) -> float:
    number = timeit.Timer(function).autorange()[0]
    return min(timeit.repeat(function, number=number, repeat=repeat)) / number


def flat_call(kernels, theta, X, Y, batch):
    """Our allocation-free call, with its own gradient and scratch buffers."""
    grad, work = kernels.empty_vector(), kernels.work(batch)
    return lambda: kernels.module.loss_and_grad_into(theta, X, Y, grad, work), grad


def compare(model, batch: int, dtype: str) -> str:
    X, Y = sample_data(model, batch, dtype)
    calls = {}
    for strategy in ("unrolled", "looped"):
        k = sp.compile(model, strategy=strategy, dtype=dtype)
        theta = k.flatten(k.init_params(0))
        calls[strategy], grad = flat_call(k, theta, X, Y, batch)
        calls[strategy]()
    p = k.unflatten(theta)
    g = {name: np.empty_like(value) for name, value in p.items()}
    args = (p["W1"], p["b1"], p["W2"], p["b2"], X, Y, g["W1"], g["b1"], g["W2"], g["b2"])
    hand(*args)
    calls["hand-written"] = lambda: hand(*args)
    ours = k.unflatten(grad)
    error = max(float(np.max(np.abs(ours[name] - g[name]))) for name in p)
    times = {name: [] for name in calls}
    for _ in range(3):  # interleaved rounds
        for name, call in calls.items():
            times[name].append(best(call))
    t = {name: min(values) for name, values in times.items()}
    shown = ", ".join(f"{name} {value * 1e6:.2f} µs" for name, value in t.items())
    return (f"{dtype}, batch {batch}: {shown}; unrolled / hand-written "
            f"{t['unrolled'] / t['hand-written']:.2f}, looped / hand-written "
            f"{t['looped'] / t['hand-written']:.2f} (gradients agree to {error:.1e})")


def main() -> None:
    batch = int(sys.argv[1]) if len(sys.argv) > 1 else 32
    model = sp.load("examples:iris_4_16_3")
    print(machine())
    for dtype in ("float64", "float32"):
        print(compare(model, batch, dtype))


if __name__ == "__main__":
    main()
