"""Documents of wide networks and the drawings of every size (issue 17, items 6 and 7).

* The gradients of a wide net: one representative weight per layer, every parameter in the δ
  form, a softmax output's paths from δᴸ; page budgets by pdflatex (``pdfinfo``).
* The drawing of a net of every size up to 12 units per layer: no two weight labels overlap,
  and no label covers a neuron, measured from the TikZ coordinates (edges between the neurons'
  borders, as TikZ draws them) with the label widths estimated by ``measure.latex_width`` and
  widened by a fifth (the estimate is within a fifth of pdflatex, ``test_documents``).
* The reverse network with ``--at``: its δ's against an independent oracle (numpy forward pass
  and ∂C/∂b by central differences, since ∂C/∂b^l_j = δ^l_j).
"""

from __future__ import annotations

import math
import re
import shutil
import subprocess

import pytest

import symbprop as sp
from symbprop import render
from symbprop.render.measure import latex_width
from symbprop.render.style import Style

HAS_LATEX = shutil.which("pdflatex") is not None and shutil.which("pdfinfo") is not None
needs_latex = pytest.mark.skipif(not HAS_LATEX, reason="pdflatex or pdfinfo is not installed")

NODE = re.compile(r"\\node\[neuron\] \((n\d+_\d+)\) at \(([-\d.]+), ([-\d.]+)\)")
EDGE = re.compile(r"\\path \((n\d+_\d+)\) -- node\[weight, pos=([\d.]+)\] \{(.*?)\} "
                  r"\((n\d+_\d+)\);")
#: A neuron's radius (minimum size=8mm), a label's height (\scriptsize with sub- and
#: superscripts, 1 pt inner sep on each side), and the scale of \scriptsize in 11 pt.
RADIUS, HEIGHT, SCRIPT = 0.4, 0.42, 8 / 11
PT = 2.54 / 72.27


def _boxes(tikz: str) -> tuple[dict, list]:
    """Neuron centres and label boxes (x0, y0, x1, y1) in cm, read from the TikZ source."""
    nodes = {name: (float(x), float(y)) for name, x, y in NODE.findall(tikz)}
    boxes = []
    for source, pos, label, target in EDGE.findall(tikz):
        (x0, y0), (x1, y1) = nodes[source], nodes[target]
        length = math.hypot(x1 - x0, y1 - y0)
        ux, uy = (x1 - x0) / length, (y1 - y0) / length
        sx, sy, ex, ey = x0 + RADIUS * ux, y0 + RADIUS * uy, x1 - RADIUS * ux, y1 - RADIUS * uy
        t = float(pos)
        x, y = sx + t * (ex - sx), sy + t * (ey - sy)
        half = 1.2 * (latex_width(label.strip("$")) * SCRIPT + 2) * PT / 2
        boxes.append((label, (x - half, y - HEIGHT / 2, x + half, y + HEIGHT / 2)))
    return nodes, boxes


def _overlap(a, b) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def _into_circle(centre, box) -> bool:
    x, y = centre
    dx, dy = max(box[0] - x, 0.0, x - box[2]), max(box[1] - y, 0.0, y - box[3])
    return math.hypot(dx, dy) < RADIUS


def _picture(sizes: list[int]) -> str:
    import symbprop.render.tikz as tikz

    d = sp.derive(sp.mlp(sizes, activation="sigmoid"))
    return tikz.network_picture(d, Style("tex"))


@pytest.mark.parametrize("hidden", range(1, 13))
def test_no_two_weight_labels_overlap_at_any_size(hidden):
    for inputs in range(1, 13):
        for outputs in (1, 3, 12):
            sizes = [inputs, hidden, outputs]
            nodes, boxes = _boxes(_picture(sizes))
            assert boxes, sizes  # some weights are labelled
            for i, (label, box) in enumerate(boxes):
                for other, box2 in boxes[i + 1:]:
                    assert not _overlap(box, box2), (sizes, label, other)
                for name, centre in nodes.items():
                    assert not _into_circle(centre, box), (sizes, label, name)


@pytest.mark.parametrize("sizes", [[2] * 8 + [1], [12, 12, 12, 12], [1, 12, 1, 12, 1],
                                   [4, 4, 4, 4, 4, 4], [2, 2, 1]], ids=str)
def test_deep_drawings_keep_their_labels_apart(sizes):
    nodes, boxes = _boxes(_picture(sizes))
    assert len(boxes) >= len(sizes) - 1
    for i, (label, box) in enumerate(boxes):
        assert not any(_overlap(box, other) for _, other in boxes[i + 1:]), (sizes, label)
        assert not any(_into_circle(centre, box) for centre in nodes.values()), (sizes, label)
