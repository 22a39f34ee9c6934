"""The gradient-descent figure speaks the document's language: the function is named by the
model's output (f, or whatever the graph calls it), never a generic L, and the iterates are
numbered from k = 1 (the start is θ⁽¹⁾), as the derivation's descent table numbers them."""

from __future__ import annotations

import numpy as np
import pytest

import symbprop as sp
from symbprop.render import plots
from symbprop.training import descent as gd

pytest.importorskip("matplotlib")


@pytest.fixture
def figures(monkeypatch):
    """The figures ``plot_descent`` would write, kept open for inspection."""
    kept = []

    def keep(figure, path):
        kept.append(figure)
        return path

    monkeypatch.setattr(plots, "save_figure", keep)
    yield kept
    import matplotlib.pyplot as plt

    for figure in kept:
        plt.close(figure)


def _texts(figure) -> list[str]:
    """Every label, title, legend entry and colorbar label of the figure."""
    texts = [figure._suptitle.get_text()] if figure._suptitle else []
    for axes in figure.axes:
        texts += [axes.get_xlabel(), axes.get_ylabel(), axes.get_title()]
        legend = axes.get_legend()
        if legend is not None:
            texts += [t.get_text() for t in legend.get_texts()]
    return texts


@pytest.mark.parametrize(
    ("model", "start", "name"),
    [
        (sp.load("examples:quadratic"), {"x": 0.0}, "f"),  # (x − 5)², output f
        (sp.graph({"q": "x - 1", "cost": "q * q + 10 * y * y"}, output="cost",
                  params=["x", "y"]), {"x": -3.0, "y": 1.0}, "cost"),
        (sp.graph({"q": "x + y + z", "g": "q * q"}, output="g", params=["x", "y", "z"]),
         {"x": 1.0, "y": 2.0, "z": -1.0}, "g"),
    ],
    ids=["curve", "contour", "traces"],
)
def test_descent_plot_names_the_output_and_numbers_from_1(figures, model, start, name):
    runs = gd.compare(model, start, [0.01, 0.1], steps=5)
    gd.plot(runs, "unused.png")
    (figure,) = figures
    texts = _texts(figure)
    # the bare letter L appears nowhere: no axis "L", no "L(x)", no "∇L"
    assert not [t for t in texts if "L" in t], texts
    values_axes = figure.axes[-1]
    assert values_axes.get_ylabel().startswith(f"{name}(θ⁽ᵏ⁾)")
    assert values_axes.get_xlabel() == "k"
    assert f"∇{name}" in figure._suptitle.get_text()
    for run, line in zip(runs, values_axes.get_lines(), strict=True):
        k = np.asarray(line.get_xdata())
        assert k[0] == 1 and k[-1] == run.steps + 1  # θ⁽¹⁾ is the start
        np.testing.assert_array_equal(line.get_ydata(), run.values)
    top = figure.axes[0]
    if len(run.names) == 1:
        assert top.get_ylabel() == name
    elif len(run.names) > 2:
        assert top.get_xlabel() == "k"
        assert np.asarray(top.get_lines()[0].get_xdata())[0] == 1


def test_without_matplotlib_the_error_says_how_to_install_it(monkeypatch):
    """symbprop is installed from a checkout, so the hint is the checkout's extra (or matplotlib
    itself), not a ``symbprop[plot]`` requirement that pip would look up on an index."""
    import sys

    monkeypatch.setitem(sys.modules, "matplotlib", None)
    with pytest.raises(sp.SymbpropError) as error:
        plots.pyplot()
    assert 'pip install -e ".[plot]"' in str(error.value)
    assert "pip install matplotlib" in str(error.value)
    assert "symbprop[plot]" not in str(error.value)
