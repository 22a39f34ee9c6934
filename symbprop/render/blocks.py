"""The plain data a document is made of: sections holding blocks, every string already printed.

A section is ``{"title", "blocks"}``; a block is one of

* ``{"kind": "text", "text"}``: a paragraph (prose with inline math);
* ``{"kind": "math", "lines": [{"lhs", "rel", "rhs"}], "lhs_width"}``: display math, aligned at
  ``rel`` (``=``, ``+``, ``\\approx``, or ``cdot``: a product continued on a line indented
  past the alignment point); a continuation line has an empty ``lhs``;
* ``{"kind": "table", "header", "rows", "align", "widths"}``: ``align`` is one letter per
  column (``l``/``r``/``c``), ``widths`` the widest cell per column (for text layout);
* ``{"kind": "list", "items"}``, ``{"kind": "steps", "items"}`` (numbered);
* ``{"kind": "figure", "tikz", "caption", "height"}``: LaTeX documents only; the picture is
  shrunk to fit the text width and ``height`` times the text height, and is never a float.
* ``{"kind": "image", "file", "caption"}``: an image file next to the document (Markdown).

Templates lay these out; they never compute math.
"""

from __future__ import annotations


def section(title: str, blocks: list[dict]) -> dict:
    return {"title": title, "blocks": [b for b in blocks if b is not None]}


def para(text: str) -> dict:
    return {"kind": "text", "text": text}


def math(lines: list[tuple[str, str, str]]) -> dict:
    """Display math from (lhs, rel, rhs) triples of printed strings."""
    rows = [{"lhs": lhs, "rel": rel, "rhs": rhs} for lhs, rel, rhs in lines]
    return {"kind": "math", "lines": rows, "lhs_width": max((len(r["lhs"]) for r in rows),
                                                            default=0)}


def table(header: list[str], rows: list[list[str]], align: str) -> dict:
    if any(len(row) != len(header) for row in rows) or len(align) != len(header):
        raise ValueError("every table row needs one cell per header column")
    widths = [max(len(cell) for cell in column) for column in zip(header, *rows, strict=True)]
    return {"kind": "table", "header": header, "rows": rows, "align": align, "widths": widths}


def items(entries: list[str], numbered: bool = False) -> dict:
    return {"kind": "steps" if numbered else "list", "items": entries}


def figure(tikz: str, caption: str, height: float = 0.42) -> dict:
    """A TikZ picture shrunk to the text width and to ``height`` times the text height."""
    return {"kind": "figure", "tikz": tikz, "caption": caption, "height": height}


def image(file: str, caption: str) -> dict:
    return {"kind": "image", "file": file, "caption": caption}
