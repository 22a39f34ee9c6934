"""A machine's first looped net: the shared functions compiled by a second process at once
(``symbprop.runtime.first_compile``)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

import symbprop as sp
from symbprop.runtime import first_compile

REPO = Path(__file__).resolve().parent.parent
#: kernel_helpers functions that only other helpers call (compiled as part of them).
CALLED_BY_HELPERS = {"_outer_sample"}

SIGNATURES = r"""
import json, sys, numpy as np, symbprop as sp
from numba.core.dispatcher import Dispatcher
import symbprop.codegen.kernel_helpers as helpers
from symbprop.runtime import first_compile, input_checks
for dtype in ("float64", "float32"):  # xor, 2-2-1: an input layer and a hidden one
    for spec in ("examples:xor",):
        k = sp.compile(spec, strategy="looped", dtype=dtype)
        m = k.model
        for n in (1, 3):
            X = np.linspace(-1, 1, n * m.inputs).reshape(n, m.inputs)
            Y = np.eye(m.sizes[-1])[np.arange(n) % m.sizes[-1]]
            k.loss_and_grad(k.init_params(seed=0), X, Y)
compiled = {name: sorted(map(str, d.signatures)) for name, d in vars(helpers).items()
            if isinstance(d, Dispatcher) and name not in sys.argv[1:]}
compiled["batch_problem"] = sorted(map(str, input_checks.batch_problem.signatures))
listed = {}
for dtype in ("float64", "float32"):
    for d, signature in first_compile.shared_functions(dtype):
        listed.setdefault(d.__name__, []).append(str(signature))
print(json.dumps([compiled, {name: sorted(s) for name, s in listed.items()}]))
"""


def test_the_shared_functions_are_exactly_what_looped_modules_compile(tmp_path):
    """The list the second process compiles is what the generated code calls: each signature
    compiled by looped modules of both dtypes (one sample and a batch), and nothing else.  A
    helper with a new signature, or a new helper, fails here.  The modules are written in an
    empty cache: a module loaded from Numba's cache compiles no helper."""
    env = dict(os.environ, SYMBPROP_CACHE_DIR=str(tmp_path), **{first_compile.ENV: "0"})
    result = subprocess.run([sys.executable, "-c", SIGNATURES, *CALLED_BY_HELPERS], cwd=REPO,
                            env=env, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr
    compiled, listed = json.loads(result.stdout.splitlines()[-1])
    assert compiled == listed


FIRST_NET = r"""
import json, sys
from symbprop.runtime import first_compile
second = first_compile.start("float32")
assert second is not None, "no second process"
assert second.wait_past(6, 600) and second.begun == 6
first_compile.finish(second)
loaded = {d.__name__: sum(d.stats.cache_hits.values())
          for d, _ in first_compile.shared_functions("float32")}
print(json.dumps([loaded, first_compile.start("float32") is None,
                  sorted(p.name for p in first_compile._cache_folder().glob("symbprop-*"))]))
"""


def test_the_second_process_fills_numbas_cache_and_stamps_the_dtype(tmp_path):
    """On a fresh machine (an empty Numba cache) the second process compiles every shared
    function into the cache; this process then loads each of them instead of compiling it,
    the dtype is stamped as done (so no later net starts one) and the lock is gone."""
    env = dict(os.environ, NUMBA_CACHE_DIR=str(tmp_path / "numba"))
    env.pop(first_compile.ENV, None)
    result = subprocess.run([sys.executable, "-c", FIRST_NET], cwd=REPO, env=env,
                            capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stderr
    loaded, no_second, files = json.loads(result.stdout.splitlines()[-1])
    assert loaded and all(hits == 1 for hits in loaded.values()), loaded
    assert no_second
    assert len(files) == 1 and files[0].startswith("symbprop-shared-float32-numba-"), files


class FakeProcess:
    def __init__(self, argv, **_):
        self.argv = argv
        self.stdout = iter(())

    def wait(self):
        return 0


@pytest.fixture
def machine(tmp_path, monkeypatch):
    """A machine of two CPUs whose Numba cache folder is ``tmp_path``, where starting a process
    only records it."""
    started = []
    monkeypatch.delenv(first_compile.ENV, raising=False)
    monkeypatch.setattr(first_compile, "_usable_cpus", lambda: 2)
    monkeypatch.setattr(first_compile, "_cache_folder", lambda: tmp_path)
    monkeypatch.setattr(first_compile.subprocess, "Popen",
                        lambda argv, **kw: started.append(FakeProcess(argv)) or started[-1])
    return tmp_path, started


def test_one_second_process_at_a_time_and_none_once_stamped(machine):
    folder, started = machine
    second = first_compile.start("float64")
    assert second.wait_past(0, 5) and second.ended
    assert started[0].argv[1:3] == ["-m", first_compile.__name__]
    lock = folder / "symbprop-shared-float64.lock"
    assert started[0].argv[3:] == ["shared", "float64", str(lock)]
    assert first_compile.start("float64") is None  # the lock is held
    assert first_compile.start("float32") is not None  # another dtype, another lock
    (folder / "symbprop-shared-float64.lock").unlink()  # the second process ended
    first_compile._stamp(folder, "float64").touch()
    assert first_compile.start("float64") is None
    assert len(started) == 2


def test_a_lock_left_by_a_dead_process_is_taken_over(machine):
    folder, started = machine
    lock = folder / "symbprop-shared-float64.lock"
    lock.touch()
    old = time.time() - first_compile.STALE_LOCK_SECONDS - 1
    os.utime(lock, (old, old))
    assert first_compile.start("float64") is not None
    assert lock.stat().st_mtime > old


@pytest.mark.parametrize("reason", ["one cpu", "turned off", "no cache folder"])
def test_no_second_process_where_it_cannot_help(machine, monkeypatch, reason):
    folder, started = machine
    if reason == "one cpu":
        monkeypatch.setattr(first_compile, "_usable_cpus", lambda: 1)
    elif reason == "turned off":
        monkeypatch.setenv(first_compile.ENV, "0")
    else:
        monkeypatch.setattr(first_compile, "_cache_folder", lambda: None)
    assert first_compile.start("float64") is None
    assert started == [] and list(folder.iterdir()) == []


def test_a_process_that_cannot_start_releases_the_lock(machine, monkeypatch):
    folder, _ = machine

    def refuse(argv, **_):
        raise OSError("no such interpreter")

    monkeypatch.setattr(first_compile.subprocess, "Popen", refuse)
    assert first_compile.start("float64") is None
    assert list(folder.iterdir()) == []


def test_sp_compile_shares_the_first_compile_of_looped_nets_only(monkeypatch):
    calls = []
    monkeypatch.setattr(first_compile, "start", lambda dtype: calls.append(("start", dtype)))
    monkeypatch.setattr(first_compile, "finish", lambda second: calls.append(("finish", second)))
    sp.compile("examples:xor", strategy="unrolled")
    sp.compile("examples:xor", target="numpy")
    assert calls == []
    sp.compile("examples:xor", strategy="looped", dtype="float32")
    assert calls == [("start", "float32")]  # start returned None: nothing to finish
    second = object()
    monkeypatch.setattr(first_compile, "start", lambda dtype: calls.append(("start", dtype))
                        or second)
    sp.compile("examples:xor", strategy="looped", dtype="float32")
    assert calls[1:] == [("start", "float32"), ("finish", second)]


class Function:
    def __init__(self, index, log):
        self.index, self.log = index, log

    def compile(self, signature):
        self.log.append(self.index)


@pytest.mark.parametrize("begun", [-1, 0, 3, 6])
def test_finish_compiles_from_the_end_until_it_meets_the_second_process(monkeypatch, begun):
    """This process compiles the functions the second has not begun, from the last; on
    meeting it, it waits for it to finish the one it is on, then takes every function (now
    loaded from the cache).  It never compiles one that the other has begun."""
    log, waited = [], []
    functions = [(Function(index, log), None) for index in range(7)]

    def wait_past(index, seconds):
        waited.append((index, list(log)))
        return True

    second = SimpleNamespace(functions=functions, begun=begun, wait_past=wait_past,
                             done=lambda: log.append("stamp"))
    first_compile.finish(second)
    own = list(range(6, begun, -1))
    assert log == own + list(range(7)) + ["stamp"]
    assert waited == ([] if begun < 0 else [(begun, own)])


MODULE_JOB = r"""
import json, numpy as np, symbprop as sp
from symbprop.codegen.loader import written_here
from symbprop.runtime import first_compile
from symbprop.training.loop import train
k = sp.compile("examples:xor")
assert written_here(k.path)
other = first_compile.start_functions([(k.module, "loss"), (k.module, "forward")])
assert other is not None, "no second process"
assert other.wait_past(1, 600) and other.begun == 1
first_compile.finish(other)
hits = {n: sum(getattr(k.module, n).stats.cache_hits.values()) for n in ("loss", "forward")}
X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=float)
train(k, k.init_params(seed=0), X, np.array([[0], [1], [1], [0]], dtype=float), epochs=1,
      progress=False)
signatures = {n: len(getattr(k.module, n).signatures) for n in ("loss", "forward")}
print(json.dumps([hits, signatures]))
"""


def test_a_new_nets_evaluation_compiles_in_the_second_process(tmp_path):
    """``start_functions``: a second process compiles a freshly written module's ``loss`` and
    ``forward`` into Numba's cache, and this process loads both; the training loop then calls
    them with those very types (it compiles no other signature)."""
    env = dict(os.environ, SYMBPROP_CACHE_DIR=str(tmp_path))
    env.pop(first_compile.ENV, None)
    result = subprocess.run([sys.executable, "-c", MODULE_JOB], cwd=REPO, env=env,
                            capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stderr
    hits, signatures = json.loads(result.stdout.splitlines()[-1])
    assert hits == {"loss": 1, "forward": 1}
    assert signatures == {"loss": 1, "forward": 1}


@pytest.mark.parametrize("labels", [True, False])
def test_training_a_module_written_here_compiles_its_evaluation_in_a_second_process(
        monkeypatch, labels):
    from symbprop.training import loop

    calls = []
    monkeypatch.setattr(first_compile, "start_functions",
                        lambda pairs: calls.append([name for _, name in pairs]))
    k = sp.compile("examples:xor")
    X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=float)
    Y = np.array([[0], [1], [1], [0]], dtype=float) if labels else X[:, :1] * 0.5
    for written in (True, False):
        monkeypatch.setattr(loop, "written_here", lambda path, written=written: written)
        loop.train(k, k.init_params(seed=0), X, Y, epochs=1, progress=False)
    assert calls == [["loss", "forward"] if labels else ["loss"]]


def test_start_functions_only_for_compiled_functions(machine):
    folder, started = machine
    numpy_module = SimpleNamespace(loss=lambda *a: 0.0, __file__="kernels.py")
    assert first_compile.start_functions([(numpy_module, "loss")]) is None
    assert first_compile.start_functions([]) is None
    assert started == []
    module = sp.compile("examples:xor").module
    assert first_compile.start_functions([(module, "loss"), (module, "forward")]) is not None
    assert started[0].argv[3:] == ["functions", module.__file__, "loss", module.__file__,
                                   "forward"]


@pytest.mark.parametrize("written", [0, 1, 2])
def test_check_splits_the_kernels_it_wrote_between_two_processes(monkeypatch, written):
    """``check`` hands the ``loss_and_grad_into`` of the kernels it has just written (two or
    more; each module once) to ``start_functions``, and none it found in the cache."""
    from symbprop.crosscheck import compare

    calls = []
    monkeypatch.setattr(first_compile, "start_functions",
                        lambda pairs: calls.append([(m.__file__, n) for m, n in pairs]))
    kernels = {s: sp.compile("examples:xor", strategy=s) for s in ("unrolled", "looped")}
    mine = {str(kernels[s].path) for s in ("unrolled", "looped")[:written]}
    monkeypatch.setattr(first_compile, "written_here", lambda path: str(path) in mine)
    assert compare.check(sp.load("examples:xor"), samples=1).ok
    expected = [(str(kernels[s].path), "loss_and_grad_into") for s in ("unrolled", "looped")]
    assert calls == ([expected] if written == 2 else [])


CALLS = r"""
import json, numpy as np, symbprop as sp
from symbprop.runtime import first_compile
agree = {}
for spec in ("examples:xor", "examples:staged"):
    for dtype in ("float64", "float32"):
        k = sp.compile(spec, dtype=dtype)
        params = k.init_params(seed=0)
        params.update({name: 0.5 for name in getattr(k, "constants", ())})
        data = () if hasattr(k, "constants") else (np.ones((3, 2)), np.ones((3, 1)) / 2)
        k.loss_and_grad(params, *data), k.loss(params, *data), k.forward(params, *data[:1])
        for name in ("loss_and_grad_into", "loss", "forward"):
            dispatcher, signature = first_compile.module_function(k.module, name)
            compiled = list(map(str, dispatcher.signatures))
            agree[f"{spec} {dtype} {name}"] = "none" if not compiled else compiled == [
                str(signature)]
print(json.dumps(agree))
"""


def test_module_signatures_are_the_ones_the_wrappers_call_with(tmp_path):
    """``module_function``'s signature of each function a second process may compile is the
    one the kernels' wrappers compile, for a network and for a graph (whose functions take θ
    only), in both dtypes: a wrong one would be compiled for nothing, and fail ``finish``."""
    env = dict(os.environ, SYMBPROP_CACHE_DIR=str(tmp_path), **{first_compile.ENV: "0"})
    result = subprocess.run([sys.executable, "-c", CALLS], cwd=REPO, env=env,
                            capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stderr
    agree = json.loads(result.stdout.splitlines()[-1])
    # a graph's loss is its value: its wrapper calls forward (nothing compiles loss)
    calls_forward = {key: "none" for key in agree if "staged" in key and key.endswith(" loss")}
    assert agree == {key: calls_forward.get(key, True) for key in agree} and len(agree) == 12


TWO_PROCESSES = r"""
import json, sys, numpy as np, symbprop as sp
from symbprop.runtime import first_compile
from symbprop.training.loop import train
started, start = [], first_compile.start_functions
first_compile.start_functions = lambda pairs: started.append(start(pairs)) or started[-1]
reports = [sp.check(spec, samples=1, dtypes=("float64", "float32")).ok
           for spec in ("examples:staged", "examples:xor")]
k = sp.compile("examples:nielsen_232")
X = np.array([[0.05, 0.1], [0.2, 0.4]]); Y = np.array([[0.01, 0.99], [1.0, 0.0]])
losses = train(k, k.init_params(seed=0), X, Y, epochs=3, progress=False).losses
print(json.dumps([reports, len(started), all(s is not None for s in started), len(losses)]))
"""


def test_check_and_train_with_the_second_process_on(tmp_path):
    """End to end with the second process on (the suite turns it off elsewhere): ``check`` of
    a graph and of a network in both dtypes, and training a new net, give their results."""
    env = dict(os.environ, SYMBPROP_CACHE_DIR=str(tmp_path))
    env.pop(first_compile.ENV, None)
    result = subprocess.run([sys.executable, "-c", TWO_PROCESSES], cwd=REPO, env=env,
                            capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout.splitlines()[-1]) == [[True, True], 3, True, 3]
