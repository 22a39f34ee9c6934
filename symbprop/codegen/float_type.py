"""The float type a generation prints for: float64 (the default) or float32.

Numba types a float literal as float64 and an integer literal as int64, and either promotes
float32 arithmetic to float64 (``1 - a`` with float32 ``a`` is float64), so a float32 kernel
printed like a float64 one computed in float64 and was no faster.  While ``printing("float32")``
is in effect, ``NumbaPrinter`` prints numbers as ``np.float32(...)`` and the activations in
their float32 forms (``symbprop.functions.float32``), and ``real(text)`` is what the lowerings
and templates print for a literal: ``text`` for float64 (so float64 modules stay byte-identical)
and ``np.float32(text)`` for float32.  Comparisons keep plain literals (``x > 0.0`` yields a
bool; LLVM compares in float32).
"""

from __future__ import annotations

import contextlib
import contextvars

_DTYPE: contextvars.ContextVar[str] = contextvars.ContextVar("symbprop_float_type",
                                                             default="float64")


@contextlib.contextmanager
def printing(dtype: str):
    """Within the block, printers and ``real`` print for ``dtype`` ("float64" or "float32")."""
    token = _DTYPE.set(dtype)
    try:
        yield
    finally:
        _DTYPE.reset(token)


def current() -> str:
    """The float type being printed for ("float64" outside ``printing``)."""
    return _DTYPE.get()


def real(text: str, dtype: str | None = None) -> str:
    """The literal or expression ``text`` as a number of ``dtype`` (default: ``current()``)."""
    return text if (dtype or current()) == "float64" else f"np.float32({text})"
