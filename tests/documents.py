"""The bundled examples' documents, rendered once per test process and shared by the tests that
only read them (nine tests read the text of nielsen_232 at its values; rendering each time cost
the suite about 20 CPU-seconds).  A test of rendering itself — two renders agree, a setting
changed or a module patched first — renders for itself: ``example_document.__wrapped__``."""

from __future__ import annotations

import functools

import symbprop as sp
from symbprop import render


@functools.cache
def example_document(name: str, at: bool = True, fmt: str = "txt") -> str | bytes:
    """The document of ``examples:NAME`` in ``fmt``, at the example's values where ``at``."""
    d = sp.derive(sp.load(f"examples:{name}"))
    return render.render(d, f"examples:{name}" if at else None, fmt)
