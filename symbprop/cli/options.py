"""Checks of command-line options, done before any work, with messages that name the option.

* ``at_least(n)``: a Typer callback; a value (or each value of a repeated option) below ``n`` is
  a usage error "``--batch: must be at least 1, got -3``" (exit 2, see ``symbprop.cli.app``).
  ``SEED``: the callback of every ``--seed``, 0 to 2⁶³ − 1 (what the generated ``train`` and
  NumPy's generators take).
  ``threads_option``: the callback of every ``--threads`` (``auto`` or a whole number ≥ 1).
* ``positive(option, value)``: a finite number > 0, else ``SymbpropError`` naming ``option``.
* ``output_file(raw, option, example, suffixes)``: the path of one output file (derive -o,
  train --plot, train --save).  Refused, with ``SymbpropError``: a name longer than the file
  system allows, a symbolic-link loop on the way, an existing folder, a name ending in "/" (a
  folder path where a file is expected), a path under a regular file, a folder that cannot be
  written, and a suffix not in ``suffixes`` (compared in lower case) when they are given.
  ``output_folder`` checks an output folder (generate -o) the same way.  Nothing is created.
* ``load_spec(spec)``: the model of a command's SPEC: a spec file, examples:NAME, or a formula
  typed on the command line ("(x + y) * z", every name a variable).
"""

from __future__ import annotations

import errno
import math
import os
from pathlib import Path

import typer

from symbprop.errors import SymbpropError

#: The help of every command's SPEC argument.
SPEC_HELP = 'A spec file (YAML), examples:NAME, or a formula in quotes: "(x + y) * z".'
#: ``-q/--quiet`` of the commands that report what they wrote.
QUIET_HELP = "Do not report the file written (on stderr)."

#: The longest path the kernel takes (Linux PATH_MAX, with its final NUL).
PATH_MAX = 4096


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

#: The help of ``--threads`` (train, bench).
THREADS_HELP = ("BLAS threads of the kernels' matrix products, for this process: a whole number "
                ">= 1, or auto (one thread when the widest layer has under 8192 weights, else "
                "BLAS's default; unrolled kernels call no BLAS and leave it).  On a shared "
                "machine use 1.")


def threads_option(value):
    """The callback of ``--threads`` (one value, or a list when repeated): None for ``auto``
    (or no option), else a whole number ≥ 1; anything else is a usage error (exit 2) naming
    the option and what is allowed."""
    # Imported here: the command-line modules import the pipeline on use.
    from symbprop.runtime.threads import ThreadsError, parse_threads

    try:
        if isinstance(value, (list, tuple)):
            return [parse_threads(item, "--threads") for item in value]
        return parse_threads(value, "--threads")
    except ThreadsError as err:
        raise typer.BadParameter(str(err).split(": ", 1)[1]) from None


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
    _check_reachable(path, option, raw)
    if path.is_dir():
        raise SymbpropError(f"{option} {raw}: is a directory; give a file name such as "
                            f"{path / example}")
    if raw.endswith(("/", os.sep)):
        raise SymbpropError(f"{option} {raw}: ends in '/', so it names a folder, and no such "
                            f"folder exists; {option} takes a file name, such as "
                            f"{path / example} (missing folders are created)")
    _check_folder(path, option, raw)
    if suffixes and path.suffix.lower() not in suffixes:
        found = f"unknown suffix {path.suffix!r}" if path.suffix else "no suffix"
        raise SymbpropError(f"{option} {raw}: {found}; allowed: {', '.join(suffixes)}{hint}")
    return path


def output_folder(raw: str, option: str, inside: str = "", write: bool = True) -> Path:
    """The checked path of an output folder given as ``option raw``; ``inside`` is the longest
    relative path written under it (its names are checked for length too).  Refused like
    ``output_file``'s paths: too long a name, a symbolic-link loop, an existing file, and with
    ``write``, a path under a regular file or a folder that cannot be written.  Nothing is
    created."""
    path = Path(raw)
    _check_reachable(path / inside if inside else path, option, raw)
    if path.exists() and not path.is_dir():
        raise SymbpropError(f"{option} {raw}: is a file; give a folder (it is created if "
                            "missing)")
    if write:
        _check_folder(path / "x", option, raw)
    return path


def _check_folder(path: Path, option: str, raw: str) -> None:
    """The nearest existing folder above ``path`` is a folder that can be written."""
    folder = _nearest_existing(path.parent)
    if not folder.is_dir():
        raise SymbpropError(f"{option} {raw}: cannot write ({folder} is not a directory)")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise SymbpropError(f"{option} {raw}: cannot write (folder {folder} is not writable)")


def _check_reachable(path: Path, option: str, raw: str) -> None:
    """Names within the file system's limits, and no symbolic-link loop on the way."""
    limit = _name_max(path)
    for part in path.parts:
        size = len(os.fsencode(part))
        if size > limit:
            raise SymbpropError(f"{option} {shorten(raw)}: file name too long ({shorten(part)} "
                                f"has {size} bytes; at most {limit})")
    if len(os.fsencode(os.path.abspath(path))) >= PATH_MAX:
        raise SymbpropError(f"{option} {shorten(raw)}: path too long (at most {PATH_MAX - 1} "
                            "bytes)")
    for candidate in (path, *path.parents):
        try:
            os.stat(candidate)
            return
        except FileNotFoundError:
            continue
        except NotADirectoryError:
            return  # reported by _check_folder, which names the file in the way
        except OSError as err:
            where = "" if candidate == path else f" at {candidate}"
            problem = ("a symbolic link loop" if err.errno == errno.ELOOP
                       else (err.strerror or str(err)).lower())
            raise SymbpropError(f"{option} {shorten(raw)}: cannot write ({problem}{where})"
                                ) from None


def _name_max(path: Path) -> int:
    """The longest file name (bytes) the file system under ``path`` allows (255 if unknown)."""
    try:
        return os.pathconf(_nearest_folder(path), "PC_NAME_MAX")
    except (OSError, ValueError):
        return 255


def _nearest_folder(path: Path) -> Path:
    for candidate in (path.parent, *path.parent.parents):
        try:
            if candidate.is_dir():
                return candidate
        except OSError:
            continue
    return Path(".")


def shorten(text: str, limit: int = 60) -> str:
    """``text``, or its start and end around "…" when longer than ``limit`` characters."""
    return text if len(text) <= limit else f"{text[: limit // 2]}…{text[-(limit // 3):]}"


def _nearest_existing(folder: Path) -> Path:
    """``folder`` or its nearest ancestor that exists (as anything: folder, file, link)."""
    for candidate in (folder, *folder.parents):
        if os.path.lexists(candidate):
            return candidate
    return Path(".")


def load_spec(spec: str):
    """The model of a command's SPEC: a spec file, ``examples:NAME``, or an inline formula.

    A SPEC that is no file, does not start with ``examples:``, is not a bare name (a file name
    without suffix is likelier than the formula ``f = spec``) and parses as a formula
    (``symbprop.spec.formula``) is the expression ``sp.expression(spec, params=every name in it)``.
    Otherwise a missing file is "no such file" with the three ways to write SPEC."""
    from symbprop.spec.loader import load

    if spec.startswith("examples:") or os.path.lexists(spec) or not spec.strip():
        return load(spec)
    if not spec.strip().isidentifier() and not spec.lower().endswith((".yaml", ".yml")):
        # Imported here: the formula parser brings SymPy (0.3 s), which a spec file does not
        # need before it is derived (a refused one never is).
        from symbprop.errors import FormulaError
        from symbprop.spec.builders import expression
        from symbprop.spec.formula import formula_names

        try:
            return expression(spec, params=formula_names(spec))
        except FormulaError as err:
            if any(c in spec for c in "()+*/^"):  # meant as a formula: say what is wrong
                raise SymbpropError(f"{shorten(spec)}: no such file, and not a formula: "
                                    f"{err}") from None
    raise SymbpropError(f"{shorten(spec)}: no such file; SPEC is a spec file (YAML), "
                        "examples:NAME (see 'symbprop examples') or a formula in quotes, "
                        "such as \"(x + y) * z\"")
