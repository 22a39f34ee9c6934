"""Atomic file output: write to a temporary file in the same folder, then rename over the target.

A reader never sees a half-written file, and a failed write leaves the old file as it was.
Problems (folder cannot be created, not writable) raise ``SymbpropError`` naming the path.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from .errors import SymbpropError


def write_bytes(path: str | Path, data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically (creating parent folders); returns the path."""
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    except FileExistsError:  # mkdir met a file where a folder of the path should be
        blocker = next(p for p in (path.parent, *path.parent.parents) if p.exists())
        raise SymbpropError(f"{path}: cannot write ({blocker} is not a directory)") from None
    except OSError as err:
        raise SymbpropError(f"{path}: cannot write ({err.strerror or err})") from None
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
        os.chmod(temporary, 0o644)
        os.replace(temporary, path)
    except OSError as err:
        Path(temporary).unlink(missing_ok=True)
        raise SymbpropError(f"{path}: cannot write ({err.strerror or err})") from None
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return path


def write_text(path: str | Path, text: str) -> Path:
    """Write UTF-8 ``text`` (newlines as given) atomically."""
    return write_bytes(path, text.encode("utf-8"))
