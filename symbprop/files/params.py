"""Trained parameters on disk: NPZ files written atomically and checked against a model on load.

Format ``symbprop-params-1``: one float64 array per parameter (``W1``, ``b1``, ...), a JSON
``__meta__`` string (format, and the model's name and sha256 when given), and any ``extra``
arrays under ``__name__`` keys — ``symbprop train --standardize --save`` stores the feature
statistics of the training part there as ``__mean__`` and ``__scale__``.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from symbprop.errors import SymbpropError
from symbprop.files.npz import read_npz, write_npz


def save_params(path: str | Path, params: dict, model=None, extra: dict | None = None) -> Path:
    """Write ``params`` ({W1: array, ...}) to an NPZ file atomically (a failed write leaves an
    existing file untouched).  ``extra`` arrays are stored under ``__name__`` keys.  Values
    must be real numbers (complex values and masked arrays with masked entries are refused
    with ``SymbpropError``, not cut to their real part or unmasked)."""
    arrays = {name: _real(value, f"params[{name!r}]").astype(np.float64)
              for name, value in params.items()}
    meta = {"format": "symbprop-params-1"}
    if model is not None:
        meta.update(model=model.name, sha256=model.sha256)
    for name, value in (extra or {}).items():
        arrays[f"__{name}__"] = np.asarray(value)
    arrays["__meta__"] = np.array(json.dumps(meta, sort_keys=True))
    return write_npz(path, arrays)


def load_params(path: str | Path, model, with_extra: bool = False):
    """Read parameters saved by ``save_params`` and check them against ``model``'s shapes.

    Returns {name: float64 array} in ``model.param_shapes`` order, or ``(params, extra)`` with
    ``with_extra`` (extra arrays by name, ``meta`` included).  A missing file, an unreadable
    one (a .npy file, not an archive), unknown or missing names, wrong shapes, values that are
    not real numbers (complex, text) and non-finite values raise ``SymbpropError``.
    """
    shapes = model.param_shapes
    stored = read_npz(path, what="NPZ parameters")
    extra = {k[2:-2]: v for k, v in stored.items() if _is_extra(k)}
    _check_names(path, model.name, shapes, [k for k in stored if not _is_extra(k)])
    params = {}
    for name, shape in shapes.items():
        value = stored[name]
        if tuple(value.shape) != tuple(shape):
            raise SymbpropError(f"{path}: {name} has shape {tuple(value.shape)}, spec "
                                f"'{model.name}' needs {tuple(shape)}")
        _real(value, f"{path}: {name}")
        if not np.all(np.isfinite(value)):
            raise SymbpropError(f"{path}: {name} must hold finite numbers")
        params[name] = np.array(value, dtype=np.float64)
    return (params, extra) if with_extra else params


def _real(value, what: str) -> np.ndarray:
    """``value`` as an array of real numbers (int or float, not yet cast), else
    ``SymbpropError`` naming ``what``."""
    if isinstance(value, np.ma.MaskedArray) and np.ma.getmaskarray(value).any():
        raise SymbpropError(f"{what} is a masked array with masked entries; fill them "
                            "(a.filled(value)) first")
    array = np.asarray(value)
    if array.dtype.kind == "c":
        raise SymbpropError(f"{what} holds complex numbers ({array.dtype}); parameters are "
                            "real numbers")
    if array.dtype.kind not in "iuf":
        raise SymbpropError(f"{what} holds {array.dtype} values, not numbers")
    return array


def _is_extra(key: str) -> bool:
    return key.startswith("__") and key.endswith("__")


def _check_names(path, model_name: str, shapes: dict, names: list[str]) -> None:
    """Unknown names are reported before missing ones, with the shapes the spec expects."""
    unknown = [n for n in names if n not in shapes]
    missing = [n for n in shapes if n not in names]
    if unknown or missing:
        problem = f"unknown {', '.join(unknown)}" if unknown else f"missing {', '.join(missing)}"
        expected = ", ".join(f"{n} {s}" for n, s in shapes.items())
        raise SymbpropError(f"{path}: {problem}; spec '{model_name}' has {expected}")
