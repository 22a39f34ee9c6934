"""Working precision for the exact side of symbprop: enough digits that every result is right to
float64 precision, found by doubling.

A derivation is evaluated node by node (``symbprop.symbolic.evaluate``,
``symbprop.symbolic.reference``), each node rounded to the working precision before the next uses
it.  At 30 digits that is exact for almost every point, but not where a node cancels more digits
than it has: 1 − tanh(50) is 7.4e-44 and comes out 0; the gradient of (1 − cos x)/x² at x = 1e-8
loses 18 digits to the cancellation of two terms near 1e8.  ``settled(compute)`` runs
``compute(digits)`` at 30, 60, 120, ... digits until two runs agree to within a few units in the
last place of a float64 in every number they return, and returns the later one; at ``MAX_DIGITS`` it
stops and returns that run (a value that is 0 exactly but comes out as rounding noise, 1e-31 then
1e-61, never agrees; the noise is then below 10^-MAX_DIGITS of the values it came from).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from contextvars import ContextVar
from typing import TypeVar

import numpy as np

START_DIGITS = 30
MAX_DIGITS = 480
#: Two results agree when they differ by at most this many units of the larger one's last place.
ULPS = 4

#: The working precision of the current ``settled`` run (``START_DIGITS`` outside one).
DIGITS: ContextVar[int] = ContextVar("symbprop_digits", default=START_DIGITS)

T = TypeVar("T")


def settled(compute: Callable[[int], T]) -> T:
    """``compute(digits)`` at doubling precision until two runs agree (see the module
    docstring); ``DIGITS`` holds the precision during each run.  Results are nested dicts,
    lists, tuples and arrays of floats (and None); an exception propagates from the run that
    raises it."""
    digits = START_DIGITS
    result = _run(compute, digits)
    while digits < MAX_DIGITS:
        digits *= 2
        finer = _run(compute, digits)
        if agree(result, finer):
            return finer
        result = finer
    return result


def _run(compute: Callable[[int], T], digits: int) -> T:
    token = DIGITS.set(digits)
    try:
        return compute(digits)
    finally:
        DIGITS.reset(token)


def agree(a, b) -> bool:
    """Whether ``a`` and ``b`` have the same structure and their floats agree to ``ULPS``
    units in the last place (NaN agrees with NaN, ±inf with itself)."""
    if isinstance(a, dict):
        return (isinstance(b, dict) and a.keys() == b.keys()
                and all(agree(a[k], b[k]) for k in a))
    if isinstance(a, (list, tuple)):
        return (isinstance(b, (list, tuple)) and len(a) == len(b)
                and all(agree(x, y) for x, y in zip(a, b, strict=True)))
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        x, y = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
        return x.shape == y.shape and all(_close(float(p), float(q))
                                          for p, q in zip(x.ravel(), y.ravel(), strict=True))
    if a is None or b is None or isinstance(a, str):
        return a == b
    return _close(float(a), float(b))


def _close(a: float, b: float) -> bool:
    if a == b or (math.isnan(a) and math.isnan(b)):
        return True
    if not (math.isfinite(a) and math.isfinite(b)):
        return False
    return abs(a - b) <= ULPS * math.ulp(max(abs(a), abs(b)))
