"""PDF output: run ``pdflatex`` on the LaTeX document in a temporary directory, again while
its log asks for it.

The documents cross-reference nothing; what needs a second run is a ``longtable``, which
settles its column widths from the ``.aux`` of the run before and says so in the log ("Table
widths have changed. Rerun LaTeX."), as LaTeX itself says "Rerun" for labels.  So pdflatex runs
again while the log contains "Rerun", at most ``MAX_RUNS`` times, as latexmk decides.  A
derivation's tables of up to 12 rows are tabulars (``templates/doc_blocks.tex.j2``), so every
bundled example's document takes one run; a longer table is a longtable, which breaks across
pages and takes two (a table whose widths move again on the second run gets its third).  The
exercise sheets and keys keep longtables, whose answer rows break across pages: two runs.

Without ``pdflatex`` a ``SymbpropError`` says which Debian packages provide it; a LaTeX error
raises a ``SymbpropError`` with the relevant lines of the log (the ``!`` error and its context).
The same source compiles to the same bytes: pdflatex runs with a fixed ``SOURCE_DATE_EPOCH``
(``reproducible_env``), which fixes the dates and the trailer /ID that pdfTeX writes.

pdflatex works in a temporary folder ``symbprop-pdf-<pid>-<random>``, removed when the
compilation ends, fails or is interrupted (the command line turns SIGTERM into an exit for
this).  A process killed outright (SIGKILL) cannot clean up: each compilation first removes the
folders of that name, owned by the user, whose process no longer runs (``sweep_stale``).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
import zlib
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from symbprop.errors import SymbpropError

PACKAGES = "texlive-latex-base texlive-latex-recommended texlive-pictures"
TIMEOUT = 120
#: The start of the temporary folders' names; the process id follows (see the docstring).
PREFIX = "symbprop-pdf-"
#: The date written into every PDF (pdfTeX's /CreationDate, /ModDate and /ID), unless the caller's
#: environment sets ``SOURCE_DATE_EPOCH``: 2000-01-01, so that builds are byte-identical.
SOURCE_DATE_EPOCH = "946684800"
#: pdflatex runs at most this many times on one document (see the docstring).
MAX_RUNS = 3


class LatexError(SymbpropError):
    """pdflatex could not compile the document (or is not installed)."""


def compile_pdf(tex: str, runs: int | None = None) -> bytes:
    """The PDF of LaTeX source ``tex``: pdflatex runs ``runs`` times, or (None) until its log
    asks for no rerun (``needs_rerun``), at most ``MAX_RUNS`` times."""
    pdflatex = shutil.which("pdflatex")
    if pdflatex is None:
        raise LatexError("pdflatex not found; PDF output needs it: "
                         f"apt-get install {PACKAGES}")
    sweep_stale()
    with tempfile.TemporaryDirectory(prefix=f"{PREFIX}{os.getpid()}-") as folder:
        source = Path(folder) / "derivation.tex"
        source.write_text(tex, encoding="utf-8")
        for _ in range(MAX_RUNS if runs is None else runs):
            log = _run(pdflatex, folder)
            if runs is None and not needs_rerun(log):
                break
        return (Path(folder) / "derivation.pdf").read_bytes()


def compile_pdfs(texts: list[str]) -> list[bytes]:
    """``[compile_pdf(tex) for tex in texts]``, several pdflatex processes at once (the thread
    pool's own count; each document in its own temporary folder); the same bytes, in the same
    order.  The first document that fails raises its ``LatexError``."""
    with ThreadPoolExecutor() as pool:
        return list(pool.map(compile_pdf, texts))


def sweep_stale(root: str | Path | None = None) -> list[Path]:
    """Remove the ``symbprop-pdf-<pid>-*`` folders under ``root`` (default: the temporary
    folder) that the user owns and whose process is gone; returns the folders removed."""
    removed = []
    for folder in Path(root or tempfile.gettempdir()).glob(f"{PREFIX}*"):
        pid = folder.name[len(PREFIX):].split("-")[0]
        try:
            mine = folder.is_dir() and not folder.is_symlink() and \
                folder.stat().st_uid == os.getuid()
        except OSError:
            continue
        if mine and pid.isdigit() and not _running(int(pid)):
            shutil.rmtree(folder, ignore_errors=True)
            removed.append(folder)
    return removed


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, another user's
        return True
    except (OverflowError, ValueError):  # no such pid at all
        return False
    return pid > 0  # (0 would be the process group)


def page_count(pdf: bytes) -> int | None:
    """The number of pages of ``pdf`` (the /Count of its root /Pages node, also inside the
    compressed object streams pdfTeX writes), or None if none is found."""
    texts = [pdf]
    for stream in re.findall(rb"stream\r?\n(.*?)endstream", pdf, re.S):
        try:
            texts.append(zlib.decompress(stream))
        except zlib.error:
            continue
    counts = [int(count) for text in texts
              for node in re.findall(rb"<<[^<>]*/Type\s*/Pages(?![A-Za-z])[^<>]*>>", text)
              for count in re.findall(rb"/Count\s+(\d+)", node)]
    return max(counts) if counts else None


def reproducible_env() -> dict[str, str]:
    """The environment for pdflatex: the caller's, with a fixed ``SOURCE_DATE_EPOCH`` (kept if
    already set) and ``FORCE_SOURCE_DATE=1``, so that pdfTeX writes no wall-clock time and
    derives the trailer /ID from that date: the same source gives the same bytes."""
    env = dict(os.environ)
    env.setdefault("SOURCE_DATE_EPOCH", SOURCE_DATE_EPOCH)
    env["FORCE_SOURCE_DATE"] = "1"
    return env


def needs_rerun(log: str) -> bool:
    """Whether a pdflatex log asks for another run ("Rerun LaTeX", "Rerun to get ...")."""
    return "Rerun" in log


def _run(pdflatex: str, folder: str) -> str:
    """Run pdflatex once on ``derivation.tex`` in ``folder``; returns its log."""
    command = [pdflatex, "-halt-on-error", "-interaction=nonstopmode", "derivation.tex"]
    try:
        done = subprocess.run(command, cwd=folder, capture_output=True, timeout=TIMEOUT,
                              check=False, env=reproducible_env())
    except subprocess.TimeoutExpired:
        raise LatexError(f"pdflatex did not finish within {TIMEOUT} s") from None
    log = Path(folder) / "derivation.log"
    text = log.read_text(encoding="utf-8", errors="replace") if log.exists() else \
        done.stdout.decode("utf-8", errors="replace")
    if done.returncode != 0:
        raise LatexError("pdflatex failed:\n" + log_excerpt(text))
    return text


def log_excerpt(log: str, context: int = 6) -> str:
    """The lines of a LaTeX log around each ``!`` error (or its tail if there is none)."""
    lines = log.splitlines()
    marks = [i for i, line in enumerate(lines) if line.startswith("!")]
    if not marks:
        return "\n".join(lines[-20:])
    keep: list[str] = []
    for i in marks[:3]:
        keep += lines[i: i + context]
    return "\n".join(keep)


def overfull_boxes(log: str) -> list[float]:
    """The widths (pt) of every ``Overfull \\hbox (Xpt too wide)`` in a LaTeX log."""
    widths = []
    for line in log.splitlines():
        if line.startswith("Overfull \\hbox ("):
            widths.append(float(line.split("(")[1].split("pt")[0]))
    return widths
