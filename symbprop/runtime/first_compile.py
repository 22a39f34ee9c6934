"""Compiling in two processes at once: a machine's first looped net, a new net's training.

The looped lowering's BLAS helpers (``symbprop.codegen.kernel_helpers``) and the input check
(``symbprop.runtime.input_checks.batch_problem``) are compiled once per machine and dtype and
kept in Numba's cache beside their files; every later net loads them.  On a machine's first
looped net that compile is a third to a half of what the user waits for, and it does not depend
on the net.  So ``start`` launches a second Python process that compiles them into Numba's
cache, first to last, while this process derives and generates the net; ``finish`` then
compiles them here, last to first, until it reaches the one the other process is compiling,
and loads the rest from the cache once that one is done.  The two meet in the middle, on a
machine with a second core to spare.

The same split serves a net's own functions: ``symbprop train`` compiles the net's
``loss_and_grad_into`` (which the training loop calls) while a second process compiles its
``loss`` and ``forward`` (which the evaluation after each epoch calls), when the module was
written by this process (``start_functions``); so does ``check``, for the kernels of
its lowerings and dtypes.

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

from symbprop.codegen.loader import module_at, written_here
from symbprop.runtime.signatures import array_types, module_function
from symbprop.runtime.threads import usable_cpus as _usable_cpus

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
    from numba import types

    # Imported here: both import Numba.
    import symbprop.codegen.kernel_helpers as helpers
    from symbprop.runtime.input_checks import batch_problem

    matrix, vector = array_types(dtype)
    products = (matrix, matrix, matrix)
    return [(helpers._times_input, products), (helpers._outer, products),
            (helpers._times, products), (helpers._times_transposed, products),
            (helpers._outer_input, products), (helpers._row_sums, (matrix, vector)),
            (batch_problem, (vector, matrix, matrix, types.float64))]


class SecondProcess:
    """A process compiling ``functions`` first to last, as ``start`` or ``start_functions``
    began it.  It prints the index of each function before compiling it; a thread here reads those
    lines (``begun``) and reaps the process when its output ends (``ended``).  ``done`` runs
    when ``finish`` has them all."""

    def __init__(self, process: subprocess.Popen, functions: list, done=None):
        self.functions, self.done = functions, done
        self.begun, self.ended = -1, False
        self._changed = threading.Condition()
        self._process = process
        threading.Thread(target=self._follow, name="symbprop-first-compile",
                         daemon=True).start()

    def wait_past(self, index: int, seconds: float) -> bool:
        """Wait (at most ``seconds``) until the process has finished function ``index``: it
        began a later one, or ended; True if it has."""
        with self._changed:
            return self._changed.wait_for(lambda: self.ended or self.begun > index, seconds)

    def _follow(self) -> None:
        with contextlib.suppress(OSError, ValueError):
            for line in self._process.stdout:
                with self._changed:
                    self.begun = max(self.begun, int(line))
                    self._changed.notify_all()
        with self._changed:
            self.ended = True
            self._changed.notify_all()
        self._process.wait()  # reaped: neither a zombie nor warned about at exit


def start(dtype) -> SecondProcess | None:
    """Start the second process for the shared functions of ``dtype`` if it would help (see
    the module docstring) and none is running; None if not.  Never raises for an environment
    it cannot use."""
    if not _allowed():
        return None
    folder = _cache_folder()
    if folder is None or _stamp(folder, dtype).exists():
        return None
    lock = _lock(folder, dtype)
    if not _take(lock):
        return None
    name = np.dtype(dtype).name
    other = _spawn(["shared", name, str(lock)], shared_functions(name),
                   done=lambda: _write_stamp(name))
    if other is None:
        lock.unlink(missing_ok=True)
    return other


def start_functions(pairs) -> SecondProcess | None:
    """Start a second process compiling the functions of generated modules, ``pairs`` of
    (module, name) in that order (each module loaded from its file as ``sp.compile`` loads
    it), while this process compiles something else: ``symbprop train`` compiles
    ``loss_and_grad_into`` here and ``loss`` and ``forward`` there; ``check`` splits the
    kernels of its lowerings and dtypes.  None where it would not help: see ``start``, or
    functions that are not compiled (the NumPy target)."""
    # Imported here: Numba loads only when kernels are asked for.
    from numba.core.dispatcher import Dispatcher

    pairs = list(pairs)
    if not (pairs and _allowed() and all(isinstance(getattr(module, name, None), Dispatcher)
                                         for module, name in pairs)):
        return None
    arguments = [text for module, name in pairs for text in (module.__file__, name)]
    return _spawn(["functions", *arguments],
                  [module_function(module, name) for module, name in pairs])


def compile_written(kernels, name: str) -> None:
    """Compile the function ``name`` of each of ``kernels`` whose module this process has just
    written (none of it can be in Numba's cache), half of them in a second process when there
    are two or more: ``check`` does this for the kernels of its lowerings and dtypes."""
    written = {k.path: k.module for k in kernels if written_here(k.path)}
    other = start_functions((m, name) for m in written.values()) if len(written) > 1 else None
    if other is not None:
        finish(other)


def finish(other: SecondProcess) -> None:
    """Compile ``other.functions`` here, last to first, until reaching the one the second
    process is compiling; wait for it to finish that one (at most WAIT_SECONDS), then load
    the rest from Numba's cache (or compile what it did not leave there)."""
    functions = other.functions
    for index in reversed(range(len(functions))):
        if other.begun >= index:  # it has done the ones before this and is on this one
            other.wait_past(index, WAIT_SECONDS)
            break
        dispatcher, signature = functions[index]
        dispatcher.compile(signature)
    for dispatcher, signature in functions:
        dispatcher.compile(signature)  # loaded from the cache, or already compiled here
    if other.done is not None:
        other.done()


def compile_all(functions) -> None:
    """The second process's work: each of ``functions``, first to last, announced on standard
    output (its index) before it is compiled."""
    for index, (dispatcher, signature) in enumerate(functions):
        print(index, flush=True)
        dispatcher.compile(signature)


def _allowed() -> bool:
    return os.environ.get(ENV, "1").strip() != "0" and _usable_cpus() >= 2


def _spawn(arguments: list[str], functions: list, done=None) -> SecondProcess | None:
    try:
        process = subprocess.Popen([sys.executable, "-m", __name__, *arguments],
                                   stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                   stderr=subprocess.DEVNULL, text=True)
    except OSError:
        return None
    return SecondProcess(process, functions, done)


def _cache_folder() -> Path | None:
    """The folder Numba caches ``kernel_helpers`` in, or None if it caches nothing there (with
    ``NUMBA_DISABLE_JIT``, or a Numba without a ``cache_path``)."""
    # Imported here: Numba loads only when kernels are asked for.
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


def _main(job: str, *arguments: str) -> None:
    """``shared DTYPE LOCK`` or ``functions PATH NAME [PATH NAME ...]``: the second
    process."""
    if job == "shared":
        dtype, lock = arguments
        try:
            compile_all(shared_functions(dtype))
            _write_stamp(dtype)
        finally:
            Path(lock).unlink(missing_ok=True)
    else:
        functions = []
        for path, name in zip(arguments[::2], arguments[1::2], strict=True):
            module = module_at(Path(path), [name])
            if module is None:  # removed or damaged since: this process compiles it
                return
            functions.append(module_function(module, name))
        compile_all(functions)


if __name__ == "__main__":
    _main(*sys.argv[1:])
