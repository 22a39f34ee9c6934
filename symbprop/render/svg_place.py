"""Room for the labels of the page's drawings (``svg_network``, ``svg_graph``): a label's box is
estimated from its text, and ``Room`` keeps the boxes placed so far, so that a new label can be
put where it overlaps none of those that can be shown at the same step.

The estimate is an upper bound for the page's sans-serif font (``page.css.j2``) at the size a
label has at its own step (``.latest``: 17 px, 14 px for ``small``, 12 px for weights), from the
number of characters alone (measured in Chromium: at most 0.61 em a character in labels of
more than two, 1.54 em for "−4"), so the output depends only on the text.
"""

from __future__ import annotations

import html

#: Width of a label: ``CHAR_EM`` per character plus ``EXTRA_EM``, in em.
CHAR_EM = 0.62
EXTRA_EM = 0.3
#: Font size of a label at its own step, by its class (``page.css.j2``).
SIZES = {"weight": 12.0, "small": 14.0}
LARGEST = 17.0
#: Room left between two labels, px.
PAD = 2.0


def size_of(cls: str) -> float:
    """The largest font size a label of class ``cls`` is drawn at."""
    return min((SIZES[c] for c in cls.split() if c in SIZES), default=LARGEST)


def box(x: float, y: float, text: str, cls: str, anchor: str = "middle") -> tuple:
    """(x0, y0, x1, y1) of a label at ``x`` (its ``anchor``) and baseline ``y``."""
    size = size_of(cls)
    width = size * (CHAR_EM * len(html.unescape(text)) + EXTRA_EM)
    x0 = {"middle": x - width / 2, "end": x - width}.get(anchor, x)
    return (x0, y - 0.95 * size, x0 + width, y + 0.25 * size)


def overlap(a: tuple, b: tuple) -> float:
    """The area two boxes (grown by ``PAD``) share."""
    w = min(a[2], b[2]) - max(a[0], b[0]) + PAD
    h = min(a[3], b[3]) - max(a[1], b[1]) + PAD
    return w * h if w > 0 and h > 0 else 0.0


class Room:
    """Boxes placed so far, each with the step at which alone it is shown (``only``), or None
    (shown from some step on, or always: assumed to meet every other box)."""

    def __init__(self) -> None:
        self.boxes: list[tuple[tuple, int | None]] = []

    def add(self, b: tuple, only: int | None = None) -> None:
        self.boxes.append((b, only))

    def clash(self, b: tuple, only: int | None = None) -> float:
        """The area ``b`` shares with the boxes that can be shown with it."""
        return sum(overlap(b, other) for other, when in self.boxes
                   if only is None or when is None or when == only)

    def best(self, candidates: list):
        """The first candidate ``(boxes, ...)`` whose boxes ``[(box, only)]`` clash with
        nothing, else the one that clashes least."""
        def cost(candidate):
            return sum(self.clash(b, only) for b, only in candidate[0])

        costs = [cost(c) for c in candidates]
        for candidate, c in zip(candidates, costs, strict=True):
            if c == 0:
                return candidate
        return candidates[costs.index(min(costs))]
