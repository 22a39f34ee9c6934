"""Input checks for the compiled kernels, run in the wrapper before any compiled code: real
dtypes, no masked entries, casts that do not overflow, finite values (one vectorizable njit
pass), softmax targets that sum to 1, and the numbers, counts and seeds of ``fit``.  Each
failure raises a ``SymbpropError`` naming the input."""

from __future__ import annotations

import math
import sys

import numpy as np
from numba import njit

from symbprop.errors import SymbpropError
from symbprop.spec.values import warn_large_rate

REAL_KINDS = "fiu"
#: Seeds are integers 0 ≤ seed < SEED_LIMIT: the generated ``train`` takes an int64 (and seeds
#: splitmix64 with it); NumPy's generators take any integer ≥ 0.
SEED_LIMIT = 2**63
#: ``fit`` returns one float64 loss per epoch: at most this many epochs (800 MB of history).
MAX_EPOCHS = 10**8
#: Counts passed to the compiled code (batch sizes) are int64.
MAX_COUNT = 2**63 - 1


class ParamsError(SymbpropError):
    """Parameters that do not fit the model (names, shapes, dtypes, NaN)."""


def real_array(value, what: str, dtype, error: type[SymbpropError] = ParamsError) -> np.ndarray:
    """``value`` as an array of real numbers (float, int or unsigned; not cast yet); a complex,
    boolean, text or object dtype, or a masked array with masked entries (the kernels have no
    number for them), raises ``error`` naming ``what``."""
    if isinstance(value, np.ma.MaskedArray) and np.ma.getmaskarray(value).any():
        place = ", ".join(map(str, np.argwhere(np.ma.getmaskarray(value))[0]))
        raise error(f"{what}: a masked array with {np.ma.count_masked(value)} masked "
                    f"entries (the first at [{place}]); the kernels need a number in every "
                    "entry: fill them (a.filled(value)) or leave those rows out")
    array = np.asarray(value)
    if array.dtype.kind not in REAL_KINDS:
        raise error(
            f"{what}: dtype {array.dtype} is not a real number type; "
            f"expected floats (cast to {np.dtype(dtype).name})"
        )
    return array


def cast(array: np.ndarray, dtype, what: str, error: type[SymbpropError] = ParamsError):
    """``array`` (real numbers) as a C-contiguous array of ``dtype``.  A finite number too
    large for ``dtype`` (1e300 into float32) raises ``error`` naming ``what`` and the entry,
    instead of becoming infinity."""
    with np.errstate(over="ignore"):
        result = np.ascontiguousarray(array, dtype=dtype)
    if result is array or all_finite(result):
        return result
    lost = np.isfinite(array) & ~np.isfinite(result)
    if lost.any():
        index = tuple(int(i) for i in np.argwhere(lost)[0])
        place = f"[{', '.join(map(str, index))}]" if index else ""
        raise error(f"{what}{place}: {array[index]:g} is too large for {result.dtype.name} "
                    f"(largest {np.finfo(result.dtype).max:.4g})")
    return result


@njit(cache=True, fastmath={"reassoc"})
def all_finite(array) -> bool:
    """True if no entry is NaN or ±inf: Σ 0·v is 0 exactly unless some v is not finite (then
    NaN), whatever the order of the sum, so reassociation (vectorization) cannot change it."""
    flat = array.reshape(array.size)
    total = 0.0
    for i in range(flat.shape[0]):
        total += flat[i] * 0.0
    return total == 0.0


@njit(inline="always")
def _worst_row_sum_error(Y) -> float:
    """max_i |Σ_j Y[i, j] − 1|, summed left to right (inlined where it is called)."""
    worst = 0.0
    for i in range(Y.shape[0]):
        total = 0.0
        for j in range(Y.shape[1]):
            total += Y[i, j]
        worst = max(worst, abs(total - 1.0))
    return worst


@njit(inline="always")
def _any_not_finite(matrix) -> bool:
    """True if an entry of ``matrix`` is NaN or ±inf: v·0 is 0 unless v is; "any" is an or
    over booleans, which LLVM vectorizes without reassociating floats (inlined where called)."""
    bad = False
    for i in range(matrix.shape[0]):
        for j in range(matrix.shape[1]):
            bad |= matrix[i, j] * 0.0 != 0.0
    return bad


@njit(cache=True)
def row_sum_error(Y) -> float:
    """max_i |Σ_j Y[i, j] − 1| (softmax cross-entropy assumes each target row sums to 1)."""
    return _worst_row_sum_error(Y)


@njit(cache=True)
def batch_problem(theta, X, Y, tolerance) -> int:
    """The first check on one call's inputs that fails, in the order the wrapper reports them:
    0 none; 1 ``theta`` has a NaN or ±inf, 2 ``X`` has, 3 ``Y`` has; 4 a row of ``Y`` is off
    summing to 1 by more than ``tolerance`` (``tolerance`` < 0: not checked).  One compiled
    call for what ``all_finite`` and ``row_sum_error`` check separately (the first call in a new
    process loads one function from Numba's cache, not three).  Its checks are inlined, not
    called: a call links the callee's code into this function's and compiles it again (0.94 s
    on a machine's first call with calls, 0.6 s inlined)."""
    bad = False
    for p in range(theta.shape[0]):  # _any_not_finite for a vector (a reshape costs more code)
        bad |= theta[p] * 0.0 != 0.0
    if bad:
        return 1
    if _any_not_finite(X):
        return 2
    if _any_not_finite(Y):
        return 3
    if tolerance >= 0.0 and _worst_row_sum_error(Y) > tolerance:
        return 4
    return 0


def copy_out(grads: dict, out, dtype) -> dict:
    """Copy ``grads`` into the arrays of ``out`` (``Kernels.loss_and_grad(..., out=)``), which
    must have the same names and shapes, the kernel dtype, and be writable; returns ``out``."""
    if not isinstance(out, dict) or set(out) != set(grads):
        raise ParamsError(f"out: expected a dict of {', '.join(grads)}")
    for name, value in grads.items():
        target = out[name]
        if not (isinstance(target, np.ndarray) and target.shape == value.shape
                and target.dtype == dtype and target.flags.writeable):
            raise ParamsError(f"out[{name!r}]: expected a writable {np.dtype(dtype).name} array "
                              f"of shape {value.shape}")
        target[...] = value
    return out


def checked_number(value, what: str) -> float:
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float, np.integer, np.floating))
        or not math.isfinite(value)
    ):
        raise ParamsError(f"{what}: expected a finite number, got {value!r}")
    return float(value)


def checked_rate(value) -> float:
    """A learning rate for fit/train: a finite number > 0 (as ``symbprop train --lr``); above
    ``LARGE_LR`` (1e6), a warning says what such steps do."""
    rate = checked_number(value, "lr")
    if rate <= 0:
        raise ParamsError(f"lr: must be a positive number, got {value!r}")
    warn_large_rate(rate, stacklevel=3)  # the caller of fit
    return rate


def _is_integer(value) -> bool:
    """A Python or NumPy integer, not a bool."""
    return not isinstance(value, bool) and isinstance(value, (int, np.integer))


def checked_count(value, what: str, minimum: int, maximum: int = MAX_COUNT) -> int:
    """``value`` as an int if it is an integer with minimum ≤ value ≤ maximum."""
    if not _is_integer(value) or value < minimum:
        raise ParamsError(f"{what}: expected an integer >= {minimum}, got {value!r}")
    if value > maximum:
        raise ParamsError(f"{what}: at most {maximum}, got {value!r}")
    return int(value)


def checked_epochs(value) -> int:
    """The ``epochs`` of ``fit``: 0 ≤ epochs ≤ MAX_EPOCHS (its history holds a loss each)."""
    if _is_integer(value) and value > MAX_EPOCHS:
        raise ParamsError(f"epochs: at most {MAX_EPOCHS:,} (fit returns the loss of every "
                          f"epoch, 8 bytes each), got {value!r}; train in several calls")
    return checked_count(value, "epochs", 0)


def checked_seed(value, what: str = "seed") -> int:
    """``value`` as an int if it is an integer with 0 ≤ value < 2**63 (``SEED_LIMIT``)."""
    if not _is_integer(value) or not 0 <= value < SEED_LIMIT:
        raise ParamsError(f"{what}: expected an integer with 0 ≤ {what} < 2**63, "
                          f"got {value!r}")
    return int(value)


def is_dask_array(value) -> bool:
    """True for a ``dask.array.Array``; never imports Dask (without it no value can be one)."""
    array = sys.modules.get("dask.array")
    return array is not None and isinstance(value, array.Array)
