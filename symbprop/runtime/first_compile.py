"""A machine's first looped net: its shared functions compiled by two processes at once.

The looped lowering's BLAS helpers (``symbprop.codegen.kernel_helpers``) and the input check
(``symbprop.runtime.input_checks.batch_problem``) are compiled once per machine and dtype and
kept in Numba's cache beside their files; every later net loads them.  On a machine's first
looped net that compile is a third to a half of what the user waits for, and it does not depend
on the net.  So ``start`` launches a second Python process that compiles them into Numba's
cache, first to last, while this process derives and generates the net; ``finish`` then
compiles them here, last to first, until it reaches the one the other process is compiling,
and loads the rest from the cache when that process has ended.  The two meet in the middle,
on a machine with a second core to spare.

It happens only where more than one CPU is usable, only until a stamp beside Numba's cache says
that this dtype is done, and with one such process at a time (a lock file beside the stamp:
pytest-xdist workers or a build's parallel jobs share it).  ``SYMBPROP_PARALLEL_COMPILE=0``
turns it off.  Nothing here can change a result: whatever fails (no second process, a killed
one, a stale stamp) costs time only, since Numba compiles what it does not find in its cache.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np

ENV = "SYMBPROP_PARALLEL_COMPILE"
#: A lock older than this (seconds) was left by a process that died: it is taken over.
STALE_LOCK_SECONDS = 120.0
#: How long ``finish`` waits for the second process to end its function (seconds).
WAIT_SECONDS = 60.0


def shared_functions(dtype) -> list[tuple]:
    """[(dispatcher, signature)] of what every looped module of ``dtype`` compiles besides its
    own functions, in the order the second process compiles them.  The signatures are the ones
    the generated code calls with (C-contiguous arrays of ``dtype``); a test compiles looped nets
    and checks that they are exactly these."""
    # Imported here: Numba loads only when kernels are asked for.
    from numba import from_dtype, types

    import symbprop.codegen.kernel_helpers as helpers
    from symbprop.runtime.input_checks import batch_problem

    scalar = from_dtype(np.dtype(dtype))
    matrix, vector = types.Array(scalar, 2, "C"), types.Array(scalar, 1, "C")
    products = (matrix, matrix, matrix)
    return [(helpers._times_input, products), (helpers._outer, products),
            (helpers._times, products), (helpers._times_transposed, products),
            (helpers._outer_input, products), (helpers._row_sums, (matrix, vector)),
            (batch_problem, (vector, matrix, matrix, types.float64))]


class SecondProcess:
    """The process compiling ``dtype``'s shared functions first to last, as ``start`` began it.
    It prints the index of each function before compiling it; a thread here reads those lines
    (``begun``) and reaps the process when its output ends (``ended``)."""

    def __init__(self, process: subprocess.Popen, dtype: str):
        self.dtype = dtype
        self.begun = -1
        self.ended = threading.Event()
        self._process = process
        threading.Thread(target=self._follow, name="symbprop-first-compile",
                         daemon=True).start()

    def _follow(self) -> None:
        with contextlib.suppress(OSError, ValueError):
            for line in self._process.stdout:
                self.begun = max(self.begun, int(line))
        self.ended.set()
        self._process.wait()  # reaped: neither a zombie nor warned about at exit


def start(dtype) -> SecondProcess | None:
    """Start the second process for ``dtype`` if it would help (see the module docstring) and
    none is running; None if not.  Never raises for an environment it cannot use."""
    if os.environ.get(ENV, "1").strip() == "0" or _usable_cpus() < 2:
        return None
    folder = _cache_folder()
    if folder is None or _stamp(folder, dtype).exists():
        return None
    lock = _lock(folder, dtype)
    if not _take(lock):
        return None
    name = np.dtype(dtype).name
    try:
        process = subprocess.Popen([sys.executable, "-m", __name__, name, str(lock)],
                                   stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                   stderr=subprocess.DEVNULL, text=True)
    except OSError:
        lock.unlink(missing_ok=True)
        return None
    return SecondProcess(process, name)


def finish(other: SecondProcess) -> None:
    """Compile the shared functions of ``other.dtype`` here, last to first, until reaching the
    one the second process is compiling; wait for it to end (at most WAIT_SECONDS), then load
    the rest from Numba's cache (or compile what it did not leave there), and stamp the dtype
    as done."""
    functions = shared_functions(other.dtype)
    for index in reversed(range(len(functions))):
        if other.begun >= index:  # it has done the ones before this and is on this one
            other.ended.wait(WAIT_SECONDS)
            break
        dispatcher, signature = functions[index]
        dispatcher.compile(signature)
    for dispatcher, signature in functions:
        dispatcher.compile(signature)  # loaded from the cache, or already compiled here
    _write_stamp(other.dtype)


def compile_all(dtype) -> None:
    """The second process's work: every shared function of ``dtype``, first to last, each
    announced on standard output (its index) before it is compiled."""
    for index, (dispatcher, signature) in enumerate(shared_functions(dtype)):
        print(index, flush=True)
        dispatcher.compile(signature)
    _write_stamp(dtype)


def _usable_cpus() -> int:
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def _cache_folder() -> Path | None:
    """The folder Numba caches ``kernel_helpers`` in, or None if it caches nothing there (with
    ``NUMBA_DISABLE_JIT``, or a Numba without a ``cache_path``)."""
    import symbprop.codegen.kernel_helpers as helpers

    cache = getattr(helpers._times, "_cache", None)
    path = getattr(cache, "cache_path", None)
    return Path(path) if path else None


def _stamp(folder: Path, dtype) -> Path:
    # Imported here: only once a looped net is compiled.
    import numba

    return folder / f"symbprop-shared-{np.dtype(dtype).name}-numba-{numba.__version__}.done"


def _lock(folder: Path, dtype) -> Path:
    return folder / f"symbprop-shared-{np.dtype(dtype).name}.lock"


def _take(lock: Path) -> bool:
    """Create ``lock`` if no live process holds it (one older than STALE_LOCK_SECONDS is
    taken over); True if this process now holds it."""
    for _ in range(2):
        try:
            lock.parent.mkdir(parents=True, exist_ok=True)
            os.close(os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644))
            return True
        except FileExistsError:
            with contextlib.suppress(OSError):
                if time.time() - lock.stat().st_mtime > STALE_LOCK_SECONDS:
                    lock.unlink()
                    continue
            return False
        except OSError:  # a folder that cannot be written
            return False
    return False


def _write_stamp(dtype) -> None:
    folder = _cache_folder()
    if folder is not None:
        with contextlib.suppress(OSError):
            _stamp(folder, dtype).touch()


if __name__ == "__main__":
    try:
        compile_all(sys.argv[1])
    finally:
        Path(sys.argv[2]).unlink(missing_ok=True)
