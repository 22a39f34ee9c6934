"""NPZ archives on disk: write compressed arrays atomically, read every array back.

Shared by saved parameters (``symbprop.params_io``), user data files
(``symbprop.datasets.files``) and the bundled data sets (``symbprop.datasets.export``).
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import numpy as np

from .atomic import write_bytes
from .errors import SymbpropError


def write_npz(path: str | Path, arrays: dict[str, np.ndarray]) -> Path:
    """Write ``arrays`` to ``path`` as a compressed NPZ file, atomically (a failed write leaves
    an existing file untouched; ``SymbpropError`` names the path); returns the path."""
    buffer = io.BytesIO()
    np.savez_compressed(buffer, **arrays)
    return write_bytes(path, buffer.getvalue())


def read_npz(path: str | Path, error: type[SymbpropError] = SymbpropError,
             what: str = "NPZ") -> dict[str, np.ndarray]:
    """Every array of the NPZ file at ``path``, loaded into memory (pickles are refused).

    Raises ``error`` with "<path>: no such file" or "<path>: cannot read as <what> (<reason>)".
    """
    try:
        with np.load(path, allow_pickle=False) as archive:
            return {name: archive[name] for name in archive.files}
    except FileNotFoundError:
        raise error(f"{path}: no such file") from None
    except (OSError, ValueError, zipfile.BadZipFile, EOFError) as err:
        raise error(f"{path}: cannot read as {what} ({err})") from None
