"""Documents of a derivation: LaTeX (and PDF), Markdown, unicode text.

In: a ``Derivation`` and, optionally, values (a point).  Out: a document as text (LaTeX,
Markdown, unicode text, a self-contained HTML page) or bytes (PDF), and figures.

    from symbprop import render
    render.to_latex(d, values=None, max_params=20)   # a complete LaTeX document (str)
    render.to_pdf(d, values)                         # bytes, via pdflatex
    render.to_markdown(d, values), render.to_text(d, values)
    render.render(d, values, "md")                   # by format name: tex, pdf, md, txt, html
    render.to_html(d, values)                        # the step-through page (render.html)

``symbprop.render.context`` builds the document as plain data (math printed by
``SymbpropLatexPrinter``/``SymbpropTextPrinter``); the templates ``templates/derivation.*.j2``
lay it out.  Options (all formats): ``max_params``, ``max_paths``, ``digits``,
``kernel_gradients`` (see ``context.Options``).  Output is deterministic.
"""

from __future__ import annotations

import symbprop.render.pdf as pdf
from symbprop.render.context import build
from symbprop.render.fragment import fragment
from symbprop.render.html import to_html as page
from symbprop.templating import render as render_template

FORMATS = ("tex", "pdf", "md", "txt", "html")


def to_latex(d, values=None, **options) -> str:
    """The complete LaTeX document (compiles with pdflatex)."""
    doc = build(d, values, "tex", **options)
    return render_template("derivation.tex.j2", latex=True, doc=doc)


def to_markdown(d, values=None, **options) -> str:
    """Markdown with ``$$`` math (GitHub, Jupyter); the network is described in a table."""
    return render_template("derivation.md.j2", doc=build(d, values, "md", **options))


def to_text(d, values=None, **options) -> str:
    """Unicode text for the terminal, at most 100 columns."""
    return render_template("derivation.txt.j2", doc=build(d, values, "txt", **options))


def to_pdf(d, values=None, **options) -> bytes:
    """The LaTeX document compiled by pdflatex (``SymbpropError`` if it is missing or fails)."""
    return pdf.compile_pdf(to_latex(d, values, **options))


def to_latex_fragment(d) -> str:
    """Display math for Jupyter (``_repr_latex_``): the derived equations, index form."""
    return fragment(d)


def to_html(d, values=None, **options) -> str:
    """The self-contained step-through page (needs ``values``; ``render.html``)."""
    return page(d, values, **options)


def render(d, values=None, fmt: str = "tex", **options) -> str | bytes:
    """The document in format ``fmt`` (``tex``, ``pdf`` -> bytes, ``md``, ``txt``, ``html``)."""
    renderers = {"tex": to_latex, "pdf": to_pdf, "md": to_markdown, "txt": to_text,
                 "html": to_html}
    if fmt not in renderers:
        raise ValueError(f"unknown format {fmt!r}; formats: {', '.join(FORMATS)}")
    return renderers[fmt](d, values, **options)


__all__ = ["FORMATS", "render", "to_html", "to_latex",
           "to_latex_fragment", "to_markdown", "to_pdf", "to_text"]
