"""Input checks for the compiled kernels, run in the wrapper before any compiled code: real
dtypes, finite values (one vectorizable njit pass), softmax targets that sum to 1, and the
numbers and counts of ``fit``.  Each failure raises a ``SymbpropError`` naming the input."""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from .errors import SymbpropError

REAL_KINDS = "fiu"


class ParamsError(SymbpropError):
    """Parameters that do not fit the model (names, shapes, dtypes, NaN)."""


def real_array(value, what: str, dtype) -> np.ndarray:
    array = np.asarray(value)
    if array.dtype.kind not in REAL_KINDS:
        raise ParamsError(
            f"{what}: dtype {array.dtype} is not a real number type; "
            f"expected floats (cast to {np.dtype(dtype).name})"
        )
    return array


@njit(cache=True, fastmath={"reassoc"})
def all_finite(array) -> bool:
    """True if no entry is NaN or ±inf: Σ 0·v is 0 exactly unless some v is not finite (then
    NaN), whatever the order of the sum, so reassociation (vectorization) cannot change it."""
    flat = array.reshape(array.size)
    total = 0.0
    for i in range(flat.shape[0]):
        total += flat[i] * 0.0
    return total == 0.0


@njit(cache=True)
def row_sum_error(Y) -> float:
    """max_i |Σ_j Y[i, j] − 1| (softmax cross-entropy assumes each target row sums to 1)."""
    worst = 0.0
    for i in range(Y.shape[0]):
        total = 0.0
        for j in range(Y.shape[1]):
            total += Y[i, j]
        worst = max(worst, abs(total - 1.0))
    return worst


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


def checked_count(value, what: str, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ParamsError(f"{what}: expected an integer >= {minimum}, got {value!r}")
    return int(value)
