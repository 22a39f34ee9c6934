"""Estimated widths of printed LaTeX math, for breaking long display lines and spacing pictures.

``latex_width(tex)`` reads the output of ``SymbpropLatexPrinter`` (``\\frac``, ``\\boxed``, sub-
and superscripts, ``\\left(``, ``\\sum_{k}``, ``\\operatorname{relu}``, ...) and returns its
width in points when set in display style at the document's 11 pt.  It is an estimate, within
about 15% of what TeX sets for the formulas symbprop prints (``tests/test_documents.py`` checks
it against pdflatex): good enough to decide how many factors of a product fit on a line, never
used where an exact width matters.  Unknown commands count as one letter.
"""

from __future__ import annotations

import re

#: The text width of the document (A4, 2.2 cm margins, 11 pt), in points.
TEXT_WIDTH_PT = 472.3
#: Sub- and superscripts are set at 70% of the size.
SCRIPT = 0.7

_TOKEN = re.compile(r"\\[A-Za-z]+|\\.|.", re.S)
_GLYPH = {"letter": 6.0, "digit": 5.5, "punct": 3.1, "bracket": 4.3, "bin": 13.0,
          "rel": 14.6, "other": 6.0}
#: Commands that take no argument: their width in points (binary operators with their space).
_COMMANDS = {
    r"\cdot": 8.0, r"\times": 13.5, r"\odot": 13.5, r"\approx": 14.6, r"\leftarrow": 16.0,
    r"\to": 16.0, r"\cdots": 13.2, r"\ldots": 13.2, r"\qquad": 21.9, r"\quad": 11.0,
    r"\,": 1.8, r"\;": 3.1, r"\ ": 3.7, r"\partial": 5.7, r"\sum": 17.0, r"\prod": 17.0,
    r"\nabla": 9.1, r"\lVert": 3.1, r"\rVert": 3.1, r"\{": 5.5, r"\}": 5.5, r"\%": 9.1,
    r"\log": 15.0, r"\exp": 17.0, r"\sin": 14.0, r"\cos": 15.0, r"\tanh": 22.0,
    r"\left": 0.0, r"\right": 0.0, r"\displaystyle": 0.0, r"\limits": 0.0,
}
#: Commands whose one argument is set in upright letters of about this width each.
_WORDS = {r"\operatorname": 5.2, r"\text": 5.0, r"\mathrm": 5.2, r"\mathsf": 5.2,
          r"\mathbf": 6.3, r"\texttt": 5.7}


def latex_width(tex: str) -> float:
    """The estimated width in points of math ``tex`` (no ``$``), display style, 11 pt."""
    width, _ = _group(_TOKEN.findall(tex), 0)
    return width


def _group(tokens: list[str], i: int, stop: str | None = None) -> tuple[float, int]:
    """The width of ``tokens[i:]`` up to the closing ``stop`` brace; (width, next index)."""
    width = 0.0
    script = 0.0  # the width of the last sub/superscript, shared by ^ and _ of one base
    while i < len(tokens):
        token = tokens[i]
        if token == stop:
            return width + script, i + 1
        if token in "^_":
            part, i = _argument(tokens, i + 1)
            script = max(script, SCRIPT * part)
            continue
        width, script = width + script, 0.0
        part, i = _atom(tokens, i)
        width += part
    return width + script, i


def _argument(tokens: list[str], i: int) -> tuple[float, int]:
    """The width of one argument: a ``{...}`` group or a single token."""
    if i < len(tokens) and tokens[i] == "{":
        return _group(tokens, i + 1, "}")
    return _atom(tokens, i) if i < len(tokens) else (0.0, i)


def _atom(tokens: list[str], i: int) -> tuple[float, int]:
    token = tokens[i]
    if token == "{":
        return _group(tokens, i + 1, "}")
    if token == r"\frac":
        top, i = _argument(tokens, i + 1)
        bottom, i = _argument(tokens, i)
        return max(top, bottom) + 2.4, i
    if token == r"\boxed":
        inner, i = _argument(tokens, i + 1)
        return inner + 6.8, i
    if token in _WORDS:
        start = i + 1
        _, i = _argument(tokens, start)
        letters = sum(1 for t in tokens[start:i] if t not in "{} ")
        return _WORDS[token] * letters + 1.7, i
    return _glyph(token), i + 1


def _glyph(token: str) -> float:
    if token in _COMMANDS:
        return _COMMANDS[token]
    if token.startswith("\\"):
        return _GLYPH["other"]
    if token.isspace() or token in "&":
        return 0.0
    if token.isdigit():
        return _GLYPH["digit"]
    if token.isalpha():
        return _GLYPH["letter"]
    if token in ".,;:'!|":
        return _GLYPH["punct"]
    if token in "()[]/":
        return _GLYPH["bracket"]
    if token in "+-*":
        return _GLYPH["bin"]
    if token in "=<>":
        return _GLYPH["rel"]
    return _GLYPH["other"]
