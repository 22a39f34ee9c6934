"""Checks of command-line options, done before any work, with messages that name the option.

* ``at_least(n)``: a Typer callback; a value (or each value of a repeated option) below ``n`` is
  a usage error "``--batch: must be at least 1, got -3``" (exit 2, see ``symbprop.cli``).
  ``SEED``: the callback of every ``--seed``, 0 to 2⁶³ − 1 (what the generated ``train`` and
  NumPy's generators take).
* ``positive(option, value)``: a finite number > 0, else ``SymbpropError`` naming ``option``.
* ``output_file(raw, option, example, suffixes)``: the path of one output file (derive -o,
  train --plot, train --save).  Refused, with ``SymbpropError``: a folder (an existing one, or a
  name ending in "/"), a path under a regular file, a folder that cannot be written, and a
  suffix not in ``suffixes`` (compared in lower case) when they are given.  Nothing is created.
"""

from __future__ import annotations

import math
import os
from pathlib import Path

import typer

from ..errors import SymbpropError


def at_least(minimum: int, maximum: int | None = None):
    """A Typer option callback refusing values below ``minimum`` (one value or a list), and
    above ``maximum`` when it is given."""

    def callback(value):
        for item in value if isinstance(value, (list, tuple)) else [value]:
            if item is None:
                continue
            if maximum is not None and not minimum <= item <= maximum:
                raise typer.BadParameter(f"must be from {minimum} to {maximum}, got {item}")
            if item < minimum:
                raise typer.BadParameter(f"must be at least {minimum}, got {item}")
        return value

    return callback


#: The callback of ``--seed``.
SEED = at_least(0, 2**63 - 1)


def positive(option: str, value: float) -> float:
    """``value`` if it is a finite number > 0; else ``SymbpropError`` naming ``option``."""
    if not (math.isfinite(value) and value > 0):
        raise SymbpropError(f"{option}: must be a positive number, got {value}")
    return value


def output_file(raw: str | None, option: str, example: str,
                suffixes: tuple[str, ...] | None = None, hint: str = "") -> Path | None:
    """The checked path of a single output file given as ``option raw`` (None stays None).

    ``example`` is a file name to suggest when ``raw`` is a folder; ``suffixes`` (lower case,
    with the dot) are the allowed ones, if any; ``hint`` ends the message about a suffix."""
    if raw is None:
        return None
    path = Path(raw)
    if raw.endswith(("/", os.sep)) or path.is_dir():
        raise SymbpropError(f"{option} {raw}: is a directory; give a file name such as "
                            f"{path / example}")
    folder = _nearest_existing(path.parent)
    if not folder.is_dir():
        raise SymbpropError(f"{option} {raw}: cannot write ({folder} is not a directory)")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise SymbpropError(f"{option} {raw}: cannot write (folder {folder} is not writable)")
    if suffixes and path.suffix.lower() not in suffixes:
        found = f"unknown suffix {path.suffix!r}" if path.suffix else "no suffix"
        raise SymbpropError(f"{option} {raw}: {found}; allowed: {', '.join(suffixes)}{hint}")
    return path


def _nearest_existing(folder: Path) -> Path:
    """``folder`` or its nearest ancestor that exists (as anything: folder, file, link)."""
    for candidate in (folder, *folder.parents):
        if candidate.exists() or candidate.is_symlink():
            return candidate
    return Path(".")
