"""symbprop.distributed on a real dask.distributed LocalCluster (2 single-threaded worker
processes): the exact data-parallel gradient against the kernel on all the data and against
central differences, local SGD and full-batch training, file partitions, a worker killed mid-run,
and bad data reaching the caller as the local error.  Skipped without Dask."""

from __future__ import annotations

import importlib.util
import os
import re
import signal
import subprocess
import sys
import threading
import time

import numpy as np
import pytest

import symbprop as sp
from symbprop.errors import DataError, SymbpropError

pytestmark = pytest.mark.usefixtures("kernel_cache_dir")

# Imported by the fixtures below, not at collection, where each pytest-xdist worker spent half a
# second importing them.
HAS_DASK = all(importlib.util.find_spec(name) for name in ("dask", "distributed"))
needs_dask = pytest.mark.skipif(not HAS_DASK, reason='needs Dask: pip install -e ".[dask]"')


@pytest.fixture(scope="module")
def da():
    import dask.array

    return dask.array


@pytest.fixture(scope="module")
def client(kernel_cache_dir):
    import distributed

    from symbprop.distributed import local_cluster

    with local_cluster(2) as cluster, distributed.Client(cluster) as client:
        yield client


@pytest.fixture(scope="module")
def small():
    """A 5-4-3 tanh/sigmoid net with half_sse, its kernels, params and 203 samples."""
    model = sp.mlp([5, 4, 3], activation=["tanh", "sigmoid"], loss="half_sse", name="dask_small")
    k = sp.compile(model)
    rng = np.random.default_rng(1)
    return warm(k), k.init_params(3), rng.normal(size=(203, 5)), rng.uniform(size=(203, 3))


@pytest.fixture(scope="module")
def digits():
    from symbprop.training.data import load_data

    model = sp.load("examples:digits_64_32_10")
    return warm(sp.compile(model)), load_data(model, "digits", seed=0)


def warm(k):
    """Every function the workers call compiled here first: they then load Numba's cache
    instead of each compiling them again (slow on a busy 2-core machine)."""
    params = k.init_params(0)
    X, Y = np.full((2, k.model.inputs), 0.5), np.full((2, k.model.sizes[-1]), 0.5)
    if k.model.loss.targets_sum_to_one:
        Y = np.eye(k.model.sizes[-1])[[0, 1]]
    theta = k.flatten(params)
    k.module.loss_and_grad(theta, X, Y)
    k.module.loss(theta, X, Y), k.module.forward(theta, X)
    k.fit(params, X, Y, epochs=1, progress=False)
    return k


def close(a: dict, b: dict, rel: float) -> bool:
    """Every array of a within rel · max|b| of b's (per name)."""
    return all(np.max(np.abs(a[n] - b[n])) <= rel * np.max(np.abs(b[n])) for n in b)


# ---------------------------------------------------------------- no cluster needed


def test_symbprop_imports_without_dask():
    code = ("import sys, symbprop, symbprop.distributed; "
            "assert 'dask' not in sys.modules and 'distributed' not in sys.modules")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_missing_dask_is_a_clear_error(monkeypatch):
    from symbprop.distributed import require

    monkeypatch.setitem(sys.modules, "distributed", None)
    with pytest.raises(SymbpropError, match=r'pip install -e "\.\[dask\]"'):
        require("training on a cluster")


@pytest.mark.parametrize(("text", "parsed"), [
    ("local", ("local", None)), ("local:3", ("local", 3)),
    ("tcp://10.0.0.5:8786", ("address", "tcp://10.0.0.5:8786")),
    ("scheduler:8786", ("address", "scheduler:8786")),
])
def test_scheduler_option(text, parsed):
    from symbprop.distributed import parse_scheduler

    assert parse_scheduler(text) == parsed


@pytest.mark.parametrize("text", ["local:0", "local:x", "", "nowhere"])
def test_scheduler_option_refused(text):
    from symbprop.distributed import parse_scheduler

    with pytest.raises(SymbpropError, match=r"--scheduler: .*local\[:N\]"):
        parse_scheduler(text)


@needs_dask
@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_exact_gradient_threads(reduction, small, da):
    """Uneven chunks, columns split too (rechunked), the threaded scheduler (no cluster)."""
    k = small[0]
    if reduction == "sum":
        k = sp.compile(sp.mlp([5, 4, 3], activation=["tanh", "sigmoid"], loss="half_sse",
                              reduction="sum", name="dask_sum"))
    rng = np.random.default_rng(2)
    params, X, Y = k.init_params(4), rng.normal(size=(157, 5)), rng.uniform(size=(157, 3))
    value, grads = k.loss_and_grad(params, X, Y)
    import symbprop.distributed as spd

    dvalue, dgrads = spd.loss_and_grad(k, params, da.from_array(X, chunks=(40, 2)),
                                       da.from_array(Y, chunks=(23, 3)))
    assert abs(dvalue - value) <= 1e-12 * abs(value)
    assert close(dgrads, grads, 1e-12)
    # against central differences of the loss on all the data, a few entries per array
    h = 1e-6
    for name in grads:
        for index in list(np.ndindex(grads[name].shape))[:3]:
            up = {n: a.copy() for n, a in params.items()}
            down = {n: a.copy() for n, a in params.items()}
            up[name][index] += h
            down[name][index] -= h
            fd = (k.loss(up, X, Y) - k.loss(down, X, Y)) / (2 * h)
            assert dgrads[name][index] == pytest.approx(fd, rel=1e-6, abs=1e-8)


# ---------------------------------------------------------------- on the cluster


@needs_dask
def test_exact_gradient_on_cluster(client, small, da):
    import symbprop.distributed as spd

    k, params, X, Y = small
    value, grads = k.loss_and_grad(params, X, Y)
    dvalue, dgrads = spd.loss_and_grad(k, params, da.from_array(X, chunks=50),
                                       da.from_array(Y, chunks=50))
    assert abs(dvalue - value) <= 1e-12 * abs(value) and close(dgrads, grads, 1e-12)
    out = {n: np.zeros_like(a) for n, a in params.items()}
    assert spd.loss_and_grad(k, params, da.from_array(X, chunks=70), Y, out=out)[1] is out
    assert close(out, grads, 1e-12)


@needs_dask
def test_workers_take_the_thread_count_of_the_kernels(client, small):
    """The BLAS thread count of ``compile(threads=)`` is set on the workers that run the
    kernels' tasks (they start with one: the Nanny sets OPENBLAS_NUM_THREADS=1), again when
    kernels of another count have run there since, and never by kernels that set none."""
    from symbprop.distributed.remote import KernelRef, kernels_of
    from symbprop.runtime.threads import blas_threads, set_threads

    model, here, there = small[0].model, blas_threads(), client.run(blas_threads)
    if here is None:
        pytest.skip("threadpoolctl does not see the kernels' BLAS")
    try:
        two, one = sp.compile(model, threads=2), sp.compile(model, threads=1)
        for kernels, expected in ((two, 2), (one, 1), (two, 2)):
            client.run(kernels_of, KernelRef(kernels))
            assert set(client.run(blas_threads).values()) == {expected}
        client.run(kernels_of, KernelRef(small[0]))  # auto, unrolled: sets no count
        assert set(client.run(blas_threads).values()) == {2}
    finally:
        set_threads(here)
        for address, count in there.items():
            client.run(set_threads, count, workers=[address])


@needs_dask
def test_one_partition_is_kernels_fit(client, small, da):
    """Local SGD on one partition is Kernels.fit, bit for bit (partition 0 keeps the seed)."""
    import symbprop.distributed as spd

    k, params, X, Y = small
    ours, theirs = ({n: a.copy() for n, a in params.items()} for _ in range(2))
    history = spd.fit(k, ours, da.from_array(X, chunks=len(X)), da.from_array(Y, chunks=len(Y)),
                      lr=0.2, epochs=4, batch_size=16, seed=5, client=client, progress=False)
    expected = k.fit(theirs, X, Y, lr=0.2, epochs=4, batch_size=16, seed=5, progress=False)
    assert np.array_equal(history, expected)
    assert all(np.array_equal(ours[n], theirs[n]) for n in params)


@needs_dask
def test_full_batch_is_gradient_descent(client, small):
    import symbprop.distributed as spd

    k, params, X, Y = small
    ours, theirs = ({n: a.copy() for n, a in params.items()} for _ in range(2))
    history = spd.fit(k, ours, X, Y, lr=0.5, epochs=5, client=client, mode="full_batch",
                      progress=False)
    losses = []
    for _ in range(5):
        value, grads = k.loss_and_grad(theirs, X, Y)
        losses.append(value)
        theirs = {n: theirs[n] - 0.5 * grads[n] for n in theirs}
    assert np.allclose(history, losses, rtol=1e-12) and close(ours, theirs, 1e-11)


@needs_dask
def test_digits_local_sgd_reaches_95_percent(client, digits):
    """digits 64-32-10: 2 partitions, averaged after every epoch, ≥ 95% held out."""
    import symbprop.distributed as spd
    from symbprop.training.data import accuracy

    k, data = digits
    params = k.init_params(0)
    history = spd.fit(k, params, data.train.X, data.train.Y, lr=0.1, epochs=40, batch_size=32,
                      client=client, progress=False)
    assert len(history) == 40 and history[-1] < history[0] / 5
    test = data.test
    assert accuracy(k.forward(params, test.X), test.labels, data.task) >= 0.95


@needs_dask
def test_file_partitions_train_as_the_arrays(client, small, tmp_path, da):
    """A directory of NPZ and CSV files (one partition each) = Dask arrays with those chunks."""
    import symbprop.distributed as spd

    k, params, X, Y = small
    np.savez(tmp_path / "a.npz", X=X[:120], y=Y[:120])
    header = ",".join([f"x{j}" for j in range(5)] + [f"y{j}" for j in range(3)])
    np.savetxt(tmp_path / "b.csv", np.hstack([X[120:], Y[120:]]), delimiter=",",
               header=header, comments="", fmt="%.17g")
    from_files, from_arrays = ({n: a.copy() for n, a in params.items()} for _ in range(2))
    h1 = spd.fit(k, from_files, tmp_path, lr=0.2, epochs=3, client=client, progress=False,
                 sync_every=2)
    h2 = spd.fit(k, from_arrays, da.from_array(X, chunks=((120, 83), (5,))),
                 da.from_array(Y, chunks=((120, 83), (3,))), lr=0.2, epochs=3, client=client,
                 progress=False, sync_every=2)
    assert np.array_equal(h1, h2) and all(np.array_equal(from_files[n], from_arrays[n])
                                          for n in params)


@needs_dask
def test_bad_file_gives_the_local_error(client, small, tmp_path):
    import symbprop.distributed as spd
    from symbprop.training.data import load_data

    k, params, X, Y = small
    np.savez(tmp_path / "a.npz", X=X[:100], y=Y[:100])
    bad = tmp_path / "b.csv"
    bad.write_text("x0,x1,x2,x3,x4,y0,y1,y2\n1,2,3,4,5,0,1,0\n1,2,oops,4,5,0,1,0\n")
    with pytest.raises(DataError) as local:
        load_data(k.model, bad, test_fraction=0.0)
    with pytest.raises(DataError) as remote:
        spd.fit(k, params, tmp_path, client=client, epochs=1, progress=False)
    assert type(remote.value) is type(local.value) and str(remote.value) == str(local.value)
    assert "b.csv" in str(remote.value)


@needs_dask
def test_nan_in_a_chunk_gives_the_local_error(client, small, da):
    import symbprop.distributed as spd

    k, params, X, Y = small
    X = X.copy()
    X[177, 2] = np.nan
    with pytest.raises(DataError) as local:
        k.loss_and_grad(params, X, Y)
    for call in (lambda: spd.loss_and_grad(k, params, da.from_array(X, chunks=40), Y),
                 lambda: spd.fit(k, params, X, Y, client=client, epochs=1, progress=False)):
        with pytest.raises(DataError) as remote:
            call()
        assert str(remote.value) == str(local.value) == "X: row 177 contains NaN or infinity"


@needs_dask
def test_bad_arguments(client, small, da):
    import symbprop.distributed as spd

    k, params, X, Y = small
    with pytest.raises(SymbpropError, match="mode: unknown 'adam'; allowed: local_sgd"):
        spd.fit(k, params, X, Y, client=client, mode="adam")
    with pytest.raises(SymbpropError, match="sync_every: expected an integer >= 1"):
        spd.fit(k, params, X, Y, client=client, sync_every=0)
    with pytest.raises(DataError, match=r"Y: 200 samples, but X has 203"):
        spd.loss_and_grad(k, params, da.from_array(X), da.from_array(Y[:200]))
    with pytest.raises(SymbpropError, match="client: expected a dask.distributed.Client"):
        spd.fit(k, params, X, Y, client="tcp://nowhere:1")


@needs_dask
def test_worker_killed_mid_run(client, digits, da):
    """A worker process killed during full-batch descent: Dask recomputes its partitions and
    tasks, the run finishes, and the result is the run without failure, bit for bit."""
    import symbprop.distributed as spd

    k, data = digits
    X = da.from_array(data.train.X, chunks=200)
    Y = da.from_array(data.train.Y, chunks=200)
    reference = k.init_params(1)
    expected = spd.fit(k, reference, X, Y, lr=0.5, epochs=30, client=client,
                       mode="full_batch", progress=False)
    pids = client.run(os.getpid)
    killed = []

    def kill():  # as soon as a worker computes a partition's gradient sum
        deadline = time.perf_counter() + 60
        while time.perf_counter() < deadline and not killed:
            busy = [worker for worker, keys in client.processing().items()
                    if any("summed" in str(key) for key in keys)]
            if busy:
                os.kill(pids[busy[0]], signal.SIGKILL)
                killed.append(time.perf_counter())
            time.sleep(0.005)

    thread = threading.Thread(target=kill)
    params = k.init_params(1)
    thread.start()
    history = spd.fit(k, params, X, Y, lr=0.5, epochs=30, client=client, mode="full_batch",
                      progress=False)
    finished = time.perf_counter()
    thread.join()
    assert killed and killed[0] < finished  # the kill happened during the run
    assert np.array_equal(history, expected)
    assert all(np.array_equal(params[n], reference[n]) for n in params)
    client.wait_for_workers(2, timeout=60)


# ---------------------------------------------------------------- the hooks (once applied)


def _has_hooks() -> bool:
    import inspect

    from symbprop.cli.train import command
    from symbprop.runtime.kernels import Kernels

    return ("client" in inspect.signature(Kernels.fit).parameters
            and "scheduler" in inspect.signature(command).parameters)


needs_hooks = pytest.mark.skipif(not _has_hooks(), reason="the Kernels/CLI hooks are not applied")


@needs_dask
@needs_hooks
def test_kernels_dispatch_to_dask(client, small, da):
    import symbprop.distributed as spd

    k, params, X, Y = small
    value, grads = k.loss_and_grad(params, X, Y)
    dvalue, dgrads = k.loss_and_grad(params, da.from_array(X, chunks=60),
                                     da.from_array(Y, chunks=60))
    assert abs(dvalue - value) <= 1e-12 * abs(value) and close(dgrads, grads, 1e-12)
    ours, theirs = ({n: a.copy() for n, a in params.items()} for _ in range(2))
    h1 = k.fit(ours, X, Y, lr=0.2, epochs=3, client=client, progress=False, sync_every=2)
    h2 = spd.fit(k, theirs, X, Y, lr=0.2, epochs=3, client=client, progress=False,
                 sync_every=2)
    assert np.array_equal(h1, h2) and all(np.array_equal(ours[n], theirs[n]) for n in params)
    with pytest.raises(SymbpropError, match="mode: unknown"):
        k.fit(ours, X, Y, client=client, mode="adam")


@needs_dask
@needs_hooks
def test_cli_scheduler(client, digits, tmp_path):
    address = client.scheduler.address
    cli = [sys.executable, "-m", "symbprop", "train", "examples:digits_64_32_10"]
    done = subprocess.run([*cli, "--data", "digits", "--scheduler", address, "--epochs", "40",
                           "--no-progress"], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    accuracy = float(re.search(r"test accuracy\s+([\d.]+)%", done.stdout).group(1))
    assert accuracy >= 95.0 and "2 Dask workers" in done.stdout
    (tmp_path / "a.csv").write_text(",".join(f"p{j}" for j in range(64)) + ",label\n"
                                    + ",".join(["1"] * 64) + ",3\n")
    (tmp_path / "b.csv").write_text(",".join(f"p{j}" for j in range(64)) + ",label\n"
                                    + ",".join(["1"] * 64) + ",12\n")
    done = subprocess.run([*cli, "--data", str(tmp_path), "--scheduler", address,
                           "--no-progress"], capture_output=True, text=True, timeout=300)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert re.search(r"symbprop: error: .*b\.csv: .*label 12 .*out of range", done.stderr)
    done = subprocess.run([*cli, "--data", "digits", "--sync-every", "2"],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 2 and "--sync-every is for training on a Dask cluster" in done.stderr
