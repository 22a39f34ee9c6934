"""The committed outputs under ``generated/``: every bundled example's documents, step-through
page and generated kernels, written again from the current code.

    python -c "from symbprop import goldens; goldens.regenerate_all()"

Tests regenerate each kind into a temporary folder and compare it with the committed files byte
for byte (``tests/test_documents.py``, ``tests/test_html.py``, ``tests/test_generated_fresh.py``);
a change to any of them is meant and shows in the diff.
"""

from __future__ import annotations

from pathlib import Path

import symbprop.examples as examples
import symbprop.render.descent_figure as descent_figure
from symbprop.codegen.generator import generate
from symbprop.files.atomic import write_text
from symbprop.render import to_html, to_latex, to_markdown
from symbprop.render.html import PAGE_EXAMPLES, PAGE_NAME
from symbprop.spec.loader import load
from symbprop.symbolic.derivation import derive


def regenerate_documents(out_dir: str | Path = "generated", names=None) -> list[Path]:
    """Write ``<out_dir>/<example>/derivation.tex`` and ``derivation.md`` for every bundled
    example (``names`` to restrict), with its bundled values where it has them, and the
    step-through page ``derivation.html`` of the examples in ``html.PAGE_EXAMPLES``."""
    written = []
    for name in names or examples.names():
        d = derive(load(f"examples:{name}"))
        values = f"examples:{name}" if examples.has_values(name) else None
        folder = Path(out_dir) / name
        written.append(write_text(folder / "derivation.tex", to_latex(d, values)))
        written.append(write_text(folder / "derivation.md", to_markdown(d, values)))
        if name in PAGE_EXAMPLES:
            written.append(write_text(folder / PAGE_NAME, to_html(d, values)))
    return written


def regenerate_pages(out_dir: str | Path = "generated", names=PAGE_EXAMPLES) -> list[Path]:
    """Write ``<out_dir>/<example>/derivation.html`` for the examples in ``names``."""
    return [write_text(Path(out_dir) / name / PAGE_NAME,
                       to_html(derive(load(f"examples:{name}")), f"examples:{name}"))
            for name in names]


def regenerate_figures(out_dir: str | Path = "generated", names=None) -> list[Path]:
    """Write the PNG each Markdown document with values refers to (``<example>-descent.png``,
    ``render.descent_figure``; needs matplotlib).  Not compared byte for byte by the tests:
    matplotlib's rasteriser differs between its versions; the runs drawn are the document's."""
    written = []
    for name in names or examples.names():
        if examples.has_values(name):
            d = derive(load(f"examples:{name}"))
            written.append(descent_figure.write(d, f"examples:{name}", Path(out_dir) / name))
    return written


def regenerate_examples(out_dir: str | Path = "generated") -> list[Path]:
    """Write the kernels of every bundled example (auto strategy, float64) under ``out_dir``."""
    return [generate(load(f"examples:{name}"), out_dir) for name in examples.names()]


def regenerate_all(out_dir: str | Path = "generated") -> list[Path]:
    """Every committed output: documents, their descent plots, pages and kernels."""
    return (regenerate_documents(out_dir) + regenerate_figures(out_dir)
            + regenerate_examples(out_dir))
