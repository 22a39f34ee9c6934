"""The BLAS thread count of the compiled kernels: ``threads=`` of ``symbprop.compile``.

The generated kernels' matrix products are Numba's ``np.dot``, which calls SciPy's BLAS (the
functions of ``scipy.linalg.cython_blas``).  That may be another library than NumPy's: with the
PyPI wheels SciPy bundles its own OpenBLAS (``scipy.libs/libscipy_openblas-*.so``) beside NumPy's
(``numpy.libs/libscipy_openblas64_-*.so``).  ``kernels_blas()`` finds the library that SciPy's
``dgemm`` wrapper calls (the dynamic linker says which file holds the symbol it resolves) and
wraps it in threadpoolctl's controller; ``set_threads`` sets its thread count.  The plain-NumPy
kernels (``target="numpy"``) run on NumPy's BLAS, and their ``threads`` set that one.

**Process-wide, set once.**  A BLAS thread count belongs to the library, so to the whole
process: it is set when kernels are made (``compile_model``) and again when ``fit`` or
``training.train`` starts, never per call.  A kernel call of a small net takes 0.2–2 µs, and
entering threadpoolctl's ``threadpool_limits`` context costs about 900 µs (10 µs with a
controller made beforehand), so no call pays for it.  Kernels compiled later in the same
process with another count set theirs; ``scipy.linalg`` in the process runs with the count too;
NumPy's own BLAS, when it is another library, is left alone.  ``kernels.threads`` is the count
the kernels asked for (None: BLAS's default), ``blas_threads()`` the one in force.

``threads``:

* ``None`` (the default, "auto"): one thread when no layer has ``AUTO_MIN_WEIGHTS`` weights or
  more (n_in · n_out), since a second thread does not pay for products that small (see
  ``AUTO_MIN_WEIGHTS``); otherwise BLAS's own default, the count it had before symbprop first
  changed it (``OPENBLAS_NUM_THREADS``, else one per core).  Kernels that call no BLAS (the
  unrolled lowering, graphs) leave the count as it is.
* an integer ≥ 1: that many threads.

**On a shared machine** (other processes busy on the cores, or several training processes side
by side), use ``threads=1`` (``--threads 1``): a second BLAS thread then waits for a core at
every product, and BLAS-bound calls were measured 10–75× slower with 2 threads than with 1
while another process held one of 2 cores.  ``OPENBLAS_NUM_THREADS=1`` in the environment does
the same for every OpenBLAS in the process, before it starts.
"""

from __future__ import annotations

import ctypes
import functools
import importlib
import os
from numbers import Integral

from symbprop.errors import SymbpropError
from symbprop.runtime import scipy_blas

#: The widest layer (n_in · n_out weights) from which "auto" leaves BLAS its default count.
#: Measured on a quiet 2-core machine (AMD EPYC, OpenBLAS 0.3.30), the time of a loss and
#: gradient call with 2 threads against 1 at batch 64: 64-32-10 and 64-64-10 1.00× (their
#: products, 64 · 4096 = 262 144 multiply-adds at most, are below the size from which OpenBLAS
#: itself starts a second thread), 128-128-10 1.31×, 256-256-10 1.55×, 784-128-10 1.36× (and
#: 1.00× at batch 1, a gemv).  At batches of 256 and 1024, 64-64-10 gains 1.11× and 1.25× from
#: a second thread on a quiet machine: pass threads=2 for that.
AUTO_MIN_WEIGHTS = 8192

#: Per target: the compiled module whose BLAS the kernels' products reach, and the names it may
#: import ``dgemm`` under.  Numba's ``np.dot`` calls SciPy's wrappers (SciPy's OpenBLAS wheels
#: prefix ``scipy_``; a SciPy built against a system BLAS imports ``dgemm_``); the plain-NumPy
#: kernels (target "numpy") use NumPy's own BLAS through its CBLAS interface.
_WRAPPERS = {
    "numba": ("scipy.linalg.cython_blas",
              ("scipy_dgemm_", "dgemm_", "scipy_dgemm64_", "dgemm_64_", "dgemm")),
    "numpy": ("numpy._core._multiarray_umath",
              ("scipy_cblas_dgemm64_", "scipy_cblas_dgemm", "cblas_dgemm64_", "cblas_dgemm")),
}

#: BLAS's own count per library file, read before symbprop first changed it.
_defaults: dict[str, int] = {}


def usable_cpus() -> int:
    """How many CPUs this process may run on (its affinity where the system has one)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


class ThreadsError(SymbpropError, ValueError):
    """A ``threads`` value that is not None (auto) or a whole number ≥ 1."""


def checked_threads(value, name: str = "threads") -> int | None:
    """``value`` if it is None (auto) or a whole number ≥ 1; else ``ThreadsError`` naming
    ``name`` and what is allowed."""
    if value is None:
        return None
    if isinstance(value, Integral) and not isinstance(value, bool) and value >= 1:
        return int(value)
    raise ThreadsError(f"{name}: must be a whole number ≥ 1 (BLAS threads) or None (one "
                       f"thread for small nets, BLAS's default for wide ones), got {value!r}")


def parse_threads(text: str | None, name: str = "--threads") -> int | None:
    """A command line's ``--threads``: ``auto`` (or no option) is None, a whole number ≥ 1 is
    itself; else ``ThreadsError`` naming ``name`` and what is allowed."""
    if text is None or text.strip().lower() == "auto":
        return None
    if text.strip().isdigit() and int(text) >= 1:
        return int(text)
    raise ThreadsError(f"{name}: must be a whole number ≥ 1 (BLAS threads) or auto (one "
                       f"thread for small nets, BLAS's default for wide ones), got {text!r}")


def auto_threads(model) -> int | None:
    """The count "auto" picks for the network ``model``: 1 when its widest layer has fewer
    than ``AUTO_MIN_WEIGHTS`` weights, else None (BLAS's default)."""
    sizes = model.sizes
    widest = max(n_in * n_out for n_in, n_out in zip(sizes, sizes[1:], strict=False))
    return 1 if widest < AUTO_MIN_WEIGHTS else None


@functools.cache
def kernels_blas(target: str = "numba"):
    """threadpoolctl's controller of the BLAS library that the kernels of ``target`` call
    (Numba's ``np.dot``: SciPy's BLAS; "numpy": NumPy's), or None when threadpoolctl does not
    see it (then no count can be set)."""
    # Imported here: threadpoolctl loads when a thread count is set or read.
    from threadpoolctl import ThreadpoolController

    name, symbols = _WRAPPERS.get(target, _WRAPPERS["numba"])
    try:  # loads that BLAS before threadpoolctl looks
        wrapper = scipy_blas.load() if name == scipy_blas.NAME else importlib.import_module(name)
    except ImportError:  # NumPy < 2 keeps it in numpy.core
        wrapper = importlib.import_module(name.replace("._core.", ".core."))
    path = _library_of_dgemm(wrapper.__file__, symbols)
    for lib in ThreadpoolController().lib_controllers:
        if lib.user_api == "blas" and path is not None and \
                os.path.realpath(lib.filepath) == path:
            return lib
    return None


def _library_of_dgemm(wrapper_file: str, symbols) -> str | None:
    """The real path of the shared library that provides the ``dgemm`` which the compiled
    module ``wrapper_file`` imports (the dynamic linker's own look-up: dlsym, then dladdr)."""

    class DlInfo(ctypes.Structure):
        _fields_ = [("dli_fname", ctypes.c_char_p), ("dli_fbase", ctypes.c_void_p),
                    ("dli_sname", ctypes.c_char_p), ("dli_saddr", ctypes.c_void_p)]

    try:
        wrapper, libc = ctypes.CDLL(wrapper_file), ctypes.CDLL(None)
    except OSError:
        return None
    for symbol in symbols:
        function = getattr(wrapper, symbol, None)
        if function is None:
            continue
        info = DlInfo()
        if libc.dladdr(ctypes.cast(function, ctypes.c_void_p), ctypes.byref(info)) and \
                info.dli_fname and os.path.realpath(info.dli_fname) != \
                os.path.realpath(wrapper_file):
            return os.path.realpath(os.fsdecode(info.dli_fname))
    return None


def blas_threads(target: str = "numba") -> int | None:
    """The thread count in force now in the BLAS of ``target``'s kernels (None if it cannot be
    seen)."""
    lib = kernels_blas(target)
    return None if lib is None else lib.get_num_threads()


def set_threads(threads: int | None, target: str = "numba") -> int | None:
    """Set the BLAS of ``target``'s kernels to ``threads`` (checked; None: BLAS's own default,
    restored if symbprop changed it); returns the count in force after it."""
    threads = checked_threads(threads)
    lib = kernels_blas(target)
    if lib is None:
        return None
    if threads is None and lib.filepath not in _defaults:
        return lib.get_num_threads()  # never changed: BLAS's default is in force
    default = _defaults.setdefault(lib.filepath, lib.get_num_threads())
    count = default if threads is None else threads
    if lib.get_num_threads() != count:
        lib.set_num_threads(count)
    return lib.get_num_threads()
