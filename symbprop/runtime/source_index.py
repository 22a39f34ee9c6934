"""The kernel cache found by a spec's text: a graph's cached kernels without parsing its spec.

Parsing a graph or expression spec builds SymPy expressions, and importing SymPy was a third
of a second process that only loads cached kernels (0.22 of 0.65 s).  So when
``symbprop.compile`` compiles a graph from a file or ``examples:NAME``, it also writes
``<cache>/sources/<key>``, a line naming the kernel folder; a later ``compile`` of the same
text reads that line and imports the module without reading the spec's formulas.

``<key>`` hashes everything the folder depends on: the spec's text and default name (its file
name), the lowering and dtype asked for, the target, symbprop's version, the generator's
fingerprint and the sources of the spec readers, so an edited spec, parser or generator never
finds an old entry.  The module found is verified as every cached module is
(``symbprop.codegen.loader.module_at``); an entry that names a missing, damaged or network
module is ignored, and the compile parses the spec as usual.  Networks are not indexed: their
specs load without SymPy.  As Python shows a ``SyntaxWarning`` when it compiles a file, not
when it loads the bytecode, a warning about a spec found here shows when its kernels were
compiled, and again only if ``k.model`` is asked for (which parses the spec).
"""

from __future__ import annotations

import functools
import hashlib
from pathlib import Path

from symbprop.codegen.loader import cache_root, generator_fingerprint, sources_fingerprint
from symbprop.errors import SymbpropError
from symbprop.files.atomic import write_text
from symbprop.version import __version__

#: The folder of the index, under the cache directory.
FOLDER = "sources"


def key(text: str, default_name: str, strategy: str, dtype: str, target: str) -> str:
    """The index key of a spec's text compiled with these options (see the module docstring)."""
    parts = (text, default_name, strategy, dtype, target, __version__, generator_fingerprint(),
             _readers_fingerprint())
    digest = hashlib.sha256()
    for part in parts:
        digest.update(part.encode("utf-8", "surrogatepass"))
        digest.update(b"\0")
    return digest.hexdigest()[:32]


def lookup(entry: str) -> Path | None:
    """The kernel file the index entry ``entry`` names, or None (no entry, or not readable)."""
    path = cache_root() / FOLDER / entry
    try:
        if not path.is_file():  # not there, or a pipe or device that a read would wait on
            return None
        folder = path.read_text("utf-8").strip()
    except (OSError, UnicodeDecodeError):
        return None
    if not folder or "/" in folder or "\\" in folder or folder.startswith("."):
        return None  # written by something else: ignore it
    return cache_root() / folder / "kernels.py"


def record(entry: str, kernel_file: Path) -> None:
    """Write the index entry ``entry`` naming the folder of ``kernel_file`` (atomically).  An
    index that cannot be written costs a later process the parse, nothing else: not an error."""
    path = cache_root() / FOLDER / entry
    try:
        if path.exists() and not path.is_file():
            return  # a pipe or device: write_text would write into it
        write_text(path, kernel_file.parent.name + "\n")
    except (OSError, SymbpropError):
        pass


@functools.lru_cache(maxsize=1)
def _readers_fingerprint() -> str:
    """sha256 of the spec readers' sources (``symbprop/spec/*.py``)."""
    return sources_fingerprint(sorted((Path(__file__).resolve().parent.parent / "spec")
                                      .glob("*.py")))
