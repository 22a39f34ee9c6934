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
    folder = tmp_path / "examples"  # the notebook's own folder, as Jupyter runs it
    folder.mkdir()
    monkeypatch.chdir(folder)
    cells = [c for c in json.loads(NOTEBOOK.read_text())["cells"] if c["cell_type"] == "code"]
    namespace: dict = {"Image": lambda path: Path(path).stat()}  # used if IPython is missing
    try:
        for number, cell in enumerate(cells, 1):
            code = compile(cell_source(cell, have_ipython), f"tutorial.ipynb cell {number}",
                           "exec")
            exec(code, namespace)  # noqa: S102 (our own notebook)
        history = namespace["history"]
        assert history.test_accuracies[-1] > 0.9
        assert list(folder.iterdir()) == [], "the notebook leaves its folder as it was"
        work = Path(namespace["work"])  # where it writes, a temporary folder
        assert work.is_dir() and not work.is_relative_to(NOTEBOOK.parent)
        assert {p.name for p in work.iterdir()} >= {"digits-loss.png", "gd.png", "digits.npz"}
    finally:
        if "work_dir" in namespace:
            namespace["work_dir"].cleanup()
    assert not work.exists(), "the temporary folder goes when the notebook's kernel does"


def _history(epoch: int):
    from types import SimpleNamespace

    return SimpleNamespace(epochs=epoch, losses=[1.0 / epoch], accuracies=[0.5],
                           test_accuracies=[0.4], learning_rates=[0.1])


def test_progress_bar_in_jupyter_without_ipywidgets_is_plain_text(monkeypatch, capsys):
    """Inside Jupyter rich draws its bar with ipywidgets; without them it warns and shows nothing.
    The bar is then plain text on stderr, printed once when training ends, with no warning."""
    import builtins
    import sys
    import warnings

    from symbprop.training.progress import EpochProgress

    class ZMQInteractiveShell:  # what get_ipython() returns in a Jupyter kernel
        pass

    monkeypatch.setattr(builtins, "get_ipython", ZMQInteractiveShell, raising=False)
    monkeypatch.setitem(sys.modules, "ipywidgets", None)  # import ipywidgets fails
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with EpochProgress(True, 3) as bar:
            for epoch in (1, 2, 3):
                bar.update(_history(epoch))
    assert not caught, [str(w.message) for w in caught]
    err = capsys.readouterr().err
    assert "epoch 3/3" in err and "loss 0.3333" in err and err.count("epoch") == 1, err
    assert "\x1b" not in err, "plain text, no terminal control codes"
