"""Atomic file output: write to a temporary file in the same folder, then rename over the target.

A reader never sees a half-written file, and a failed write leaves the old file as it was.
A symbolic link is followed: the file it points to is replaced, the link stays.  A target that
exists and is not a regular file (``/dev/null``, ``/dev/stdout``, a named pipe) is written to
directly, as any tool would: renaming over it would replace the device or pipe with a file.
Problems (folder cannot be created, not writable) raise ``SymbpropError`` naming the path.

Temporary files are named ``.<target name>.tmp-<writer pid>-<random>``.  A writer killed
between write and rename (SIGKILL, power loss) leaves one behind; the next write into that
folder removes each such file whose writer is gone (no live process of that pid) or that is
older than ``STALE_SECONDS``.  Nothing else in the folder is touched (not even the
``.<name>.<8 random characters>`` leftovers of earlier versions: a user's own hidden file
could look the same).
"""

from __future__ import annotations

import os
import re
import stat
import tempfile
import time
from pathlib import Path

from symbprop.errors import SymbpropError

#: A temporary file older than this is a leftover, whatever its writer's pid says.
STALE_SECONDS = 60
_TEMPORARY = re.compile(r"^\..+\.tmp-(\d+)-[A-Za-z0-9_]+$")


def write_bytes(path: str | Path, data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically (creating parent folders); returns the path as
    given (see the module docstring for links, devices and pipes)."""
    given = Path(path)
    existing = _status(given)  # of what a link points to
    if existing is not None and not stat.S_ISREG(existing.st_mode):
        return _write_in_place(given, data)
    path = given.resolve() if given.is_symlink() else given
    mode = stat.S_IMODE(existing.st_mode) if existing is not None else 0o644
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        _remove_leftovers(path.parent)
        handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.tmp-{os.getpid()}-",
                                             dir=path.parent)
    except FileExistsError:  # mkdir met a file where a folder of the path should be
        blocker = next(p for p in (path.parent, *path.parent.parents) if p.exists())
        raise SymbpropError(f"{path}: cannot write ({blocker} is not a directory)") from None
    except OSError as err:
        raise SymbpropError(f"{path}: cannot write ({err.strerror or err})") from None
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
        os.chmod(temporary, mode)
        os.replace(temporary, path)
    except OSError as err:
        Path(temporary).unlink(missing_ok=True)
        raise SymbpropError(f"{path}: cannot write ({err.strerror or err})") from None
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return given


def _remove_leftovers(folder: Path) -> None:
    """Remove the temporary files of killed writers in ``folder`` (see the module docstring)."""
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return
    now = time.time()
    for entry in entries:
        ours = _TEMPORARY.match(entry.name)
        if not ours:
            continue
        try:
            if not entry.is_file(follow_symlinks=False):
                continue
            old = now - entry.stat(follow_symlinks=False).st_mtime > STALE_SECONDS
            if old or not _alive(int(ours.group(1))):
                os.unlink(entry.path)
        except OSError:  # gone already, or not ours to remove
            continue


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError, ValueError):
        return True
    return True


def _status(path: Path) -> os.stat_result | None:
    try:
        return path.stat()
    except OSError:
        return None


def _write_in_place(given: Path, data: bytes) -> Path:
    if given.is_dir():
        raise SymbpropError(f"{given}: cannot write (is a directory)")
    try:
        with open(given, "wb") as stream:
            stream.write(data)
    except OSError as err:
        raise SymbpropError(f"{given}: cannot write ({err.strerror or err})") from None
    return given


def write_text(path: str | Path, text: str) -> Path:
    """Write UTF-8 ``text`` (newlines as given) atomically."""
    return write_bytes(path, text.encode("utf-8"))
