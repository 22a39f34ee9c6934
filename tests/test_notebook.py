"""The tutorial notebook runs: its code cells, in order, in one namespace (no Jupyter needed)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

NOTEBOOK = Path(__file__).resolve().parent.parent / "examples" / "tutorial.ipynb"


IMPORT_IMAGE = "from IPython.display import Image"


def cell_source(cell: dict, have_ipython: bool) -> str:
    """A cell's code; without IPython its ``Image`` import is left to the test's stand-in."""
    source = "".join(cell["source"])
    return source if have_ipython else source.replace(IMPORT_IMAGE, "")


def test_tutorial_notebook_runs_top_to_bottom(tmp_path, monkeypatch):
    pytest.importorskip("matplotlib")
    try:
        import IPython.display  # noqa: F401
        have_ipython = True
    except ImportError:
        have_ipython = False
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SYMBPROP_CACHE_DIR", str(tmp_path / "cache"))
    cells = [c for c in json.loads(NOTEBOOK.read_text())["cells"] if c["cell_type"] == "code"]
    namespace: dict = {"Image": lambda path: Path(path).stat()}  # used if IPython is missing
    for number, cell in enumerate(cells, 1):
        code = compile(cell_source(cell, have_ipython), f"tutorial.ipynb cell {number}", "exec")
        exec(code, namespace)  # noqa: S102 (our own notebook)
    history = namespace["history"]
    assert history.test_accuracies[-1] > 0.9
    assert (tmp_path / "digits-loss.png").exists() and (tmp_path / "gd.png").exists()
    assert (tmp_path / "digits.npz").exists()
