"""``MathMLMarkup``: the DOM building blocks of symbprop's MathML printers.

A base class of SymPy's ``MathMLPresentationPrinter`` that makes elements (``_el``; ``_mi``,
``_mo``, ``_row``), parentheses at text size (``_fenced``, and SymPy's own ``_l_paren`` and
``_r_paren``) and the ∂-fraction ``_fraction``; ``escape`` and ``join`` prepare text nodes and
separated lists.  It prints no expression itself: ``symbprop.render.mathml`` and
``mathml_notation`` decide what each expression becomes.
"""

from __future__ import annotations

from sympy.printing.mathml import MathMLPresentationPrinter


class MathMLMarkup(MathMLPresentationPrinter):
    """SymPy's MathML presentation printer with element-building helpers."""

    def _el(self, tag: str, *children, text: str | None = None, **attributes):
        element = self.dom.createElement(tag)
        if text is not None:
            element.appendChild(self.dom.createTextNode(escape(text)))
        for child in children:
            element.appendChild(child)
        for name, value in attributes.items():
            element.setAttribute(name, value)
        return element

    def _mo(self, text: str):
        return self._el("mo", text=text)

    def _mi(self, text: str):
        return self._el("mi", text=text)

    def _row(self, *children):
        return self._el("mrow", *children)

    def _l_paren(self):
        return self._el("mo", text="(", stretchy="false")

    def _r_paren(self):
        return self._el("mo", text=")", stretchy="false")

    def _fenced(self, inner):
        """``(inner)``, the parentheses at text size (Chromium stretches them around scripts)."""
        return self._row(self._el("mo", text="(", stretchy="false"), inner,
                         self._el("mo", text=")", stretchy="false"))

    def _fraction(self, of, wrt):
        return self._el("mfrac", self._row(self._mo("\u2202"), of),
                        self._row(self._mo("\u2202"), wrt))


def escape(text: str) -> str:
    """Text for a raw text node (SymPy's MathML printer writes text nodes unescaped)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def join(items: list, glue, separator=None) -> list:
    """``items`` with ``separator`` (a fresh copy each time) between neighbours."""
    if separator is None and glue is None:
        return items
    mark = separator if separator is not None else glue
    joined = []
    for n, item in enumerate(items):
        if n:
            joined.append(mark.cloneNode(True))
        joined.append(item)
    return joined
