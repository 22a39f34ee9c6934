"""Compile options of generated functions: no runtime where nothing allocates, no parallel backend.

With the runtime, Numba wraps each array argument of every call in a freshly allocated MemInfo
(about 25 ns apiece: a third of a 2-2-1 ``loss_and_grad_into``).  ``_nrt=False`` leaves that
out; these tests pin which functions get it and that nothing leaks or is freed early when such
functions are called directly, through ``Kernels``, and from compiled code that keeps the
runtime (``train``, ``loss_and_grad``).  Nothing uses Numba's parallel backend: its OpenMP
threads spin after a parallel loop and starve OpenBLAS's threads in the next product (a
one-sample call then a batch-64 call at 784-128-10: 7.4 ms instead of 0.35 ms).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

import symbprop as sp

REPO = Path(__file__).resolve().parent.parent

WITHOUT_RUNTIME = {
    "unrolled": {"loss", "loss_and_grad_into", "_loss_and_grad_checked"},
    "looped": set(),  # _times_input allocates a transposed copy of a small X
    "graph": {"forward", "loss", "loss_and_grad_into"},
}


pytestmark = pytest.mark.usefixtures("kernel_cache_dir")


@pytest.mark.parametrize("example, strategy", [
    ("two_two_one", "unrolled"), ("iris_4_16_3", "looped"), ("staged", "graph")])
def test_exactly_the_allocation_free_functions_skip_the_runtime(example, strategy):
    kernels = sp.compile(sp.load(f"examples:{example}"),
                         strategy="auto" if strategy == "graph" else strategy)
    module = kernels.module
    compiled = {name for name, value in vars(module).items() if hasattr(value, "targetoptions")}
    skipping = {name for name in compiled
                if module.__dict__[name].targetoptions.get("_nrt", True) is False}
    assert skipping == WITHOUT_RUNTIME[strategy]


def test_no_generated_function_uses_the_parallel_backend():
    wide = sp.mlp([300, 200, 10], activation="relu", loss="softmax_cross_entropy", name="wide")
    for model, strategy in ((wide, "looped"), (sp.load("examples:xor"), "unrolled")):
        module = sp.compile(model, strategy=strategy).module
        compiled = [v for v in vars(module).values() if hasattr(v, "targetoptions")]
        assert compiled and not any(v.targetoptions.get("parallel") for v in compiled)
        assert "prange" not in vars(module)


LEAK_SCRIPT = """
import sys
import numpy as np
from numba.core.runtime import rtsys
import symbprop as sp

def balance():
    stats = rtsys.get_allocation_stats()
    return stats.alloc - stats.free, stats.mi_alloc - stats.mi_free

def calls(kernels, params, X, Y):
    module, theta = kernels.module, kernels.flatten(params)
    grad = np.empty_like(theta)
    if kernels.model.kind == "graph":
        yield lambda: module.loss_and_grad_into(theta, grad)
        yield lambda: module.train(theta, 0.01, 3)
        yield lambda: kernels.loss_and_grad(params)
        return
    work = np.empty(module.WORK_PER_SAMPLE * X.shape[0])
    yield lambda: module.loss_and_grad_into(theta, X, Y, grad, work)
    yield lambda: module.loss_and_grad(theta, X, Y)
    yield lambda: module.train(theta, X, Y, 0.01, 2, 2, 0)
    yield lambda: kernels.loss_and_grad(params, X, Y)
    yield lambda: kernels.loss_and_grad(params, X, Y, out=kernels.loss_and_grad(params, X, Y)[1])

for example in ("two_two_one", "iris_4_16_3", "staged"):
    kernels = sp.compile(sp.load("examples:" + example))
    model = kernels.model
    if model.kind == "graph":
        params = {name: 0.5 for name in kernels.names}
        X = Y = None
    else:
        params = kernels.init_params(seed=0)
        X = np.random.default_rng(0).normal(size=(4, model.inputs))
        Y = np.eye(model.sizes[-1])[[0, 1, 0, 1]] if model.sizes[-1] > 1 else np.ones((4, 1))
    for call in calls(kernels, params, X, Y):
        call()  # compile or load, outside the count
        watched = [params[name] for name in kernels.names if hasattr(params[name], "shape")]
        refs = [sys.getrefcount(a) for a in watched]
        before = balance()
        for _ in range(200):
            call()
        assert balance() == before, (example, balance(), before)
        assert [sys.getrefcount(a) for a in watched] == refs, example
print("balanced")
"""


def test_calls_with_and_without_the_runtime_leak_nothing():
    env = {**os.environ, "NUMBA_NRT_STATS": "1"}  # and the run's kernel cache
    result = subprocess.run([sys.executable, "-c", LEAK_SCRIPT], cwd=REPO, env=env,
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.split() == ["balanced"]
