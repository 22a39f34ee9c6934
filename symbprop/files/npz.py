"""NPZ archives on disk: write compressed arrays atomically, read every array back.

Shared by saved parameters (``symbprop.files.params``), user data files
(``symbprop.datasets.files``) and the bundled data sets (``symbprop.datasets.export``).
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import numpy as np

from symbprop.errors import SymbpropError
from symbprop.files.atomic import write_bytes

#: The first bytes of a zip archive (an .npz file; an empty one starts with PK\x05\x06) and of
#: a .npy file.
ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")
NPY_MAGIC = b"\x93NUMPY"


def write_npz(path: str | Path, arrays: dict[str, np.ndarray]) -> Path:
    """Write ``arrays`` to ``path`` as a compressed NPZ file, atomically (a failed write leaves
    an existing file untouched; ``SymbpropError`` names the path); returns the path."""
    buffer = io.BytesIO()
    np.savez_compressed(buffer, **arrays)
    return write_bytes(path, buffer.getvalue())


def read_npz(path: str | Path, error: type[SymbpropError] = SymbpropError,
             what: str = "NPZ") -> dict[str, np.ndarray]:
    """Every array of the NPZ file at ``path``, loaded into memory (pickles are refused).

    Raises ``error`` with "<path>: no such file"; for a file that is not a zip archive, "<path>:
    a NumPy .npy file (one array), not an .npz archive ..." or "<path>: not a NumPy .npz archive
    ..."; for an array of Python objects, "<path>: array '<name>' holds Python objects ...";
    otherwise "<path>: cannot read as <what> (<reason>)".
    """
    _check_kind(path, error, what)
    try:
        with np.load(path, allow_pickle=False) as archive:
            return {name: _array(archive, name, path, error) for name in archive.files}
    except FileNotFoundError:
        raise error(f"{path}: no such file") from None
    except (OSError, ValueError, zipfile.BadZipFile, EOFError) as err:
        raise error(f"{path}: cannot read as {what} ({err})") from None


def file_kind(path: str | Path) -> str | None:
    """"npz" (a zip archive), "npy" (one NumPy array) or None, from the file's first bytes."""
    with open(path, "rb") as stream:
        magic = stream.read(len(NPY_MAGIC))
    if magic.startswith(ZIP_MAGIC):
        return "npz"
    return "npy" if magic == NPY_MAGIC else None


def _check_kind(path, error, what: str) -> None:
    """Refuse, by its first bytes, a file that is not an NPZ archive (NumPy would try to read
    it as a pickle and say so)."""
    try:
        kind = file_kind(path)
    except FileNotFoundError:
        raise error(f"{path}: no such file") from None
    except OSError as err:
        raise error(f"{path}: cannot read as {what} ({err.strerror or err})") from None
    if kind == "npy":
        raise error(f"{path}: a NumPy .npy file (one array), not an .npz archive of named "
                    "arrays; numpy.savez(path, name=array, ...) writes one")
    if kind is None:
        raise error(f"{path}: not a NumPy .npz archive (a zip file of .npy arrays, as "
                    "numpy.savez writes)")


def _array(archive, name: str, path, error) -> np.ndarray:
    try:
        return archive[name]
    except ValueError as err:
        if "allow_pickle" not in str(err):
            raise
        raise error(f"{path}: array '{name}' holds Python objects (pickled), which are not "
                    "loaded; store numbers") from None
