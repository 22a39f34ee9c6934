"""``threads=`` of ``sp.compile``, ``symbprop train`` and ``symbprop bench``: the BLAS thread
count in force while the kernels run, read from OpenBLAS itself (its own
``openblas_get_num_threads``, found through SciPy's BLAS wrapper module, which is what Numba's
``np.dot`` calls) -- not from threadpoolctl, which the code under test uses to set it."""

from __future__ import annotations

import ctypes
import os
import pickle
import subprocess
import sys

import numpy as np
import pytest
from typer.testing import CliRunner

import symbprop as sp
from symbprop.cli.app import app
from symbprop.runtime import training_loop
from symbprop.runtime.threads import AUTO_MIN_WEIGHTS
from symbprop.training.loop import train

SMALL = "examples:iris_4_16_3"  # widest layer 16·4 = 64 weights: auto is one thread


def _openblas_count():
    """OpenBLAS's own thread count getter of the library SciPy's BLAS wrapper links (dlsym on
    the wrapper's handle searches the libraries it needs), or None for another BLAS."""
    import scipy.linalg.cython_blas as cython_blas

    handle = ctypes.CDLL(cython_blas.__file__)
    for name in ("scipy_openblas_get_num_threads", "openblas_get_num_threads",
                 "scipy_openblas_get_num_threads64_", "openblas_get_num_threads64_"):
        function = getattr(handle, name, None)
        if function is not None:
            function.restype = ctypes.c_int
            return function
    return None


def _openblas_setter():
    import scipy.linalg.cython_blas as cython_blas

    handle = ctypes.CDLL(cython_blas.__file__)
    for name in ("scipy_openblas_set_num_threads", "openblas_set_num_threads"):
        function = getattr(handle, name, None)
        if function is not None:
            return function
    return None


@pytest.fixture
def count():
    getter = _openblas_count()
    if getter is None:
        pytest.skip("SciPy's BLAS is not OpenBLAS here: no thread count to read")
    before = getter()
    yield getter
    _openblas_setter()(before)  # leave the process as it was for the other tests


def _data(model, n=64):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(n, model.inputs))
    Y = np.eye(model.sizes[-1])[rng.integers(0, model.sizes[-1], n)]
    return X, Y


@pytest.mark.parametrize("threads", [1, 2, 3])
def test_the_count_is_in_force_inside_fit(count, monkeypatch, threads):
    """Each call of the compiled train loop that ``fit`` makes (in chunks, with the progress
    bar) runs with the count asked for, even if something changed it after compile."""
    k = sp.compile(SMALL, threads=threads)
    assert count() == threads and k.threads == threads
    _openblas_setter()(1 if threads != 1 else 2)  # someone else changed it since
    seen, real = [], training_loop._train_loop

    def watched(*args):
        seen.append(count())
        return real(*args)

    monkeypatch.setattr(training_loop, "_train_loop", watched)
    params = k.init_params(0)
    k.fit(params, *_data(k.model), epochs=20, batch_size=8, progress=True)
    assert seen and set(seen) == {threads}


def test_the_count_is_in_force_inside_train(count):
    """``training.train`` sets the kernels' count when it starts; the epoch callback, run
    inside the training call, reads it from OpenBLAS."""
    k = sp.compile(SMALL, threads=2)
    _openblas_setter()(1)
    seen = []
    train(k, k.init_params(0), *_data(k.model), epochs=3, progress=False,
          callback=lambda epoch, history, params: seen.append(count()))
    assert seen == [2, 2, 2]


def test_a_loss_and_grad_call_runs_with_the_count_of_compile(count):
    k = sp.compile(SMALL, threads=2)
    value, _ = k.loss_and_grad(k.init_params(0), *_data(k.model))
    assert np.isfinite(value) and count() == 2


def test_auto_is_one_thread_for_small_nets_and_blas_default_for_wide_ones():
    """In a fresh process: an unrolled net (no BLAS call) leaves the count alone; a small looped
    net sets 1 thread, then a net whose widest layer is at the threshold puts back BLAS's own
    default (the count before symbprop changed it); NumPy's BLAS, when it is another library,
    keeps its count."""
    wide = [AUTO_MIN_WEIGHTS // 64, 64, 1]
    code = f"""
import ctypes, scipy.linalg.cython_blas as cb, symbprop as sp
from threadpoolctl import threadpool_info
h = ctypes.CDLL(cb.__file__)
get = getattr(h, "scipy_openblas_get_num_threads", None) or h.openblas_get_num_threads
before = get()
unrolled = sp.compile("{SMALL}")  # calls no BLAS: auto leaves the count alone
untouched = get()
small = sp.compile("{SMALL}", strategy="looped")
one = get()
wide = sp.compile(sp.mlp({wide}, activation="tanh", loss="half_sse"))
print(unrolled.strategy, unrolled.threads, untouched == before, before, small.threads, one,
      wide.threads, get(),
      [i["num_threads"] for i in threadpool_info() if "numpy" in i["filepath"]])
"""
    # BLAS's default as a user gets it (Dask, run by other tests, may have set these to 1)
    env = {name: value for name, value in os.environ.items()
           if name not in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS")}
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=300, env=env)
    if "openblas_get_num_threads" in result.stderr:
        pytest.skip("SciPy's BLAS is not OpenBLAS here")
    assert result.returncode == 0, result.stderr[-2000:]
    words = result.stdout.split(maxsplit=8)
    assert words[:3] == ["unrolled", "None", "True"]
    before, small, one, wide_threads, after, numpy_counts = words[3:]
    if before == "1":
        pytest.skip("BLAS runs one thread by default here (one core, or OPENBLAS_NUM_THREADS)")
    assert (small, one, wide_threads, after) == ("1", "1", "None", before)
    assert "1" not in numpy_counts  # NumPy's own BLAS (a separate library here) left alone


@pytest.mark.parametrize("bad", [0, -1, "two", "2", True, 1.5, [1]])
def test_compile_refuses_a_bad_count_before_any_work(bad):
    with pytest.raises(sp.SymbpropError, match=r"^threads: must be a whole number ≥ 1 "
                                               r"\(BLAS threads\) or None") as info:
        sp.compile(SMALL, threads=bad)
    assert isinstance(info.value, ValueError) and repr(bad) in str(info.value)


@pytest.mark.parametrize("command", [
    ["train", SMALL, "--data", "iris", "--epochs", "1", "--no-progress"],
    ["bench", SMALL, "--batch", "1", "--no-peers"],
])
@pytest.mark.parametrize("bad", ["0", "-1", "two", "1.5"])
def test_the_commands_refuse_a_bad_count_with_status_2(command, bad):
    result = CliRunner().invoke(app, [*command, "--threads", bad])
    assert result.exit_code == 2, result.output
    assert "--threads: must be a whole number ≥ 1 (BLAS threads) or auto" in result.output
    assert f"got '{bad}'" in result.output and "Traceback" not in result.output


def test_train_command_runs_with_the_count_asked(count):
    result = CliRunner().invoke(app, ["train", SMALL, "--data", "iris", "--epochs", "2",
                                      "--no-progress", "--threads", "2"])
    assert result.exit_code == 0, result.output
    assert count() == 2


def test_plain_numpy_kernels_set_numpys_blas(count):
    """target="numpy" runs its products on NumPy's BLAS: that one gets the count (read from
    its own OpenBLAS getter, through NumPy's compiled core)."""
    import numpy._core._multiarray_umath as core

    handle = ctypes.CDLL(core.__file__)
    getter = next((getattr(handle, name) for name in (
        "scipy_openblas_get_num_threads64_", "openblas_get_num_threads64_",
        "scipy_openblas_get_num_threads", "openblas_get_num_threads")
        if hasattr(handle, name)), None)
    if getter is None:
        pytest.skip("NumPy's BLAS is not OpenBLAS here")
    setter = getattr(handle, getter.__name__.replace("get_", "set_"))
    before = getter()
    try:
        k = sp.compile(SMALL, target="numpy", threads=2)
        setter(1)
        k.fit(k.init_params(0), *_data(k.model), epochs=2, progress=False)
        assert getter() == 2
    finally:
        setter(before)


def test_a_pickled_kernels_sets_its_count_where_it_is_unpickled(count):
    k = sp.compile(SMALL, threads=2)
    _openblas_setter()(1)
    again = pickle.loads(pickle.dumps(k))
    assert again.threads == 2 and count() == 2
