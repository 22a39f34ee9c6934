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
from tests.documents import example_document
from tests.test_documents import _pdflatex

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


# ---------------------------------------------------------------- the reverse network (item 7)

TWO_TWO_ONE = {"x": [0.05, 0.10], "y": [0.01], "W1": [[0.15, 0.20], [0.25, 0.30]],
               "b1": [0.35, 0.35], "W2": [[0.40, 0.45]], "b2": [0.60]}  # its values file


def _numpy_two_two_one(b1, b2):
    """Loss and every z, a, δ of two_two_one by numpy: sigmoid hidden layer, identity output,
    C = (y - a)^2 / 2, so δ² = (a² - y)·1 and δ¹ = σ'(z¹) ⊙ (W²)ᵀ δ²."""
    import numpy as np

    v = {k: np.asarray(w, dtype=float) for k, w in TWO_TWO_ONE.items()}
    z1 = v["W1"] @ v["x"] + b1
    a1 = 1 / (1 + np.exp(-z1))
    z2 = v["W2"] @ a1 + b2
    loss = 0.5 * float(np.sum((v["y"] - z2) ** 2))
    delta2 = (z2 - v["y"]) * 1.0
    delta1 = a1 * (1 - a1) * (v["W2"].T @ delta2)
    return loss, {1: delta1, 2: delta2}, {"z1": z1, "a1": a1, "z2": z2}


DELTA_NODE = re.compile(r"\\node\[value\] \(d(\d)_(\d+)\) at \([^)]*\) "
                        r"\{\$\\delta\^\{(\d)\}_\{(\d+)\} = ([-\d.]+)\$\};")


def test_the_reverse_network_carries_the_errors_of_an_independent_oracle():
    import numpy as np

    tex = render.to_latex(sp.derive(sp.load("examples:two_two_one")), "examples:two_two_one")
    assert r"\section{The backward pass as a reverse network}" in tex
    backward = tex[tex.index(r"\section{The backward pass as a reverse network}"):]
    found = {(int(m[0]), int(m[1])): float(m[4]) for m in DELTA_NODE.findall(backward)}
    assert sorted(found) == [(1, 0), (1, 1), (2, 0)]
    _, deltas, _ = _numpy_two_two_one(np.array(TWO_TWO_ONE["b1"]), np.array(TWO_TWO_ONE["b2"]))
    h = 1e-6  # and ∂C/∂b^l_j = δ^l_j by central differences
    for (layer, j), printed in found.items():
        assert printed == pytest.approx(deltas[layer][j], rel=5e-4)  # 4 significant digits
        b = [np.array(TWO_TWO_ONE["b1"]), np.array(TWO_TWO_ONE["b2"])]
        b[layer - 1][j] += h
        up = _numpy_two_two_one(*b)[0]
        b[layer - 1][j] -= 2 * h
        down = _numpy_two_two_one(*b)[0]
        assert printed == pytest.approx((up - down) / (2 * h), rel=5e-4)
    # σ'(z) on every hidden amplifier, the numbers of the forward pass on the neurons
    _, _, forward = _numpy_two_two_one(np.array(TWO_TWO_ONE["b1"]), np.array(TWO_TWO_ONE["b2"]))
    gains = [float(g) for g in re.findall(r"\{\$\\times (-?[\d.]+)\$\}", backward)]
    slopes = forward["a1"] * (1 - forward["a1"])
    assert gains == pytest.approx([slopes[0], slopes[1], 1.0], rel=5e-4)
    z = re.findall(r"z\^\{1\}_\{(\d)\} = ([-\d.]+)", backward)
    assert [float(value) for _, value in z] == pytest.approx(forward["z1"], rel=5e-4)


def test_markdown_and_text_list_the_amplifiers():
    d = sp.derive(sp.load("examples:two_two_one"))
    txt = render.to_text(d, "examples:two_two_one")
    section = txt[txt.index("The backward pass as a reverse network"):]
    assert "δ¹₀ = σ′(z¹₀) · w²₀₀ · δ²₀\n        = 0.241301 · 0.4 · 1.09591\n        = 0.105777" \
        in section
    md = render.to_markdown(d, "examples:two_two_one")
    assert re.search(r"^## \d+\. The backward pass as a reverse network$", md, re.M)
    assert r"\delta^{1}_{0} &= \sigma'\left(z^{1}_{0}\right) \cdot w^{2}_{00}" in md
    assert r"\begin{tikzpicture}" not in md
    plain = render.to_latex(d)  # no values, no reverse network
    assert "reverse network" not in plain


PATH_LABEL = re.compile(r"\\path \(([-\d.]+), ([-\d.]+)\) -- node\[weight, pos=([\d.]+)\] "
                        r"\{(.*?)\} \(([-\d.]+), ([-\d.]+)\);")


@pytest.mark.parametrize("sizes", [[2, 2, 1], [5, 8, 3], [12, 12, 12], [1, 12, 1], [3, 3, 2, 3]],
                         ids=str)
def test_reverse_network_labels_do_not_overlap(sizes):
    import numpy as np

    from symbprop.render import numbers
    from symbprop.render.network_doc import NetView
    from symbprop.render.reverse_network import _values, backward_picture, forward_picture

    r = np.random.default_rng(1)
    params = {}
    for layer in range(1, len(sizes)):
        params[f"W{layer}"] = np.round(r.normal(0, 0.5, (sizes[layer], sizes[layer - 1])),
                                       3).tolist()
        params[f"b{layer}"] = [0.1] * sizes[layer]
    d = sp.derive(sp.mlp(sizes, activation="tanh"))
    values = {"x": [0.5] * sizes[0], "y": [1.0] + [0.0] * (sizes[-1] - 1), "params": params,
              "lr": 0.1}
    v = NetView(d)
    at = _values(v, numbers.point(d, values))
    s = Style("tex")
    for picture in (forward_picture(v, s, at), backward_picture(v, s, at)):
        boxes = []
        for x0, y0, pos, label, x1, y1 in PATH_LABEL.findall(picture):
            t = float(pos)
            x = float(x0) + t * (float(x1) - float(x0))
            y = float(y0) + t * (float(y1) - float(y0))
            half = 1.2 * (latex_width(label.strip("$")) * SCRIPT + 2) * PT / 2
            boxes.append((x - half, y - HEIGHT / 2, x + half, y + HEIGHT / 2))
        assert boxes
        for i, box in enumerate(boxes):
            assert not any(_overlap(box, other) for other in boxes[i + 1:]), sizes


# ---------------------------------------------------------------- pdflatex: budgets, placement

def _compile(tex: str, folder) -> tuple[int, str, str]:
    """(pages by pdfinfo, the log, the text of page 1 by pdftotext)."""
    code, log, _ = _pdflatex(tex, folder)
    assert code == 0, "pdflatex failed"
    info = subprocess.run(["pdfinfo", "doc.pdf"], cwd=folder, capture_output=True, text=True,
                          check=True).stdout
    pages = int(re.search(r"^Pages:\s+(\d+)", info, re.M)[1])
    first = subprocess.run(["pdftotext", "-f", "1", "-l", "1", "doc.pdf", "-"], cwd=folder,
                           capture_output=True, text=True, check=True).stdout
    return pages, log, first


def _digits_values() -> dict:
    """A point for digits 64-32-10 (the example has no values file): fixed pseudo-random."""
    import numpy as np

    r = np.random.default_rng(0)
    return {"x": np.round(r.uniform(0, 1, 64), 3).tolist(), "y": [0.0] * 3 + [1.0] + [0.0] * 6,
            "params": {"W1": np.round(r.normal(0, 0.2, (32, 64)), 3).tolist(), "b1": [0.0] * 32,
                       "W2": np.round(r.normal(0, 0.2, (10, 32)), 3).tolist(), "b2": [0.0] * 10},
            "lr": 0.1}


#: Issue 17's budgets: digits 64-32-10 at most 8 pages, mnist 784-128-10 at most 10, as
#: `symbprop derive examples:NAME --format pdf` prints them (no values).  With values the
#: document adds the worked example, the gradient-descent run with the learning-rate lesson and
#: its plot, and the verification: about two pages more for digits.
BUDGETS = [("digits_64_32_10", False, 8), ("digits_64_32_10", True, 10),
           ("mnist_784_128_10", False, 10)]


@pytest.mark.latex
@needs_latex
@pytest.mark.parametrize("name, at, budget", BUDGETS, ids=lambda c: str(c))
def test_wide_documents_keep_their_page_budget(tmp_path, name, at, budget):
    d = sp.derive(sp.load(f"examples:{name}"))
    tex = render.to_latex(d, _digits_values() if at else None)
    if at:  # runs in float64, the printed iterates exact: after one step at 10η the cost is
        # 7.68401e-16 (mpmath at 30 and 60 digits); float64 alone gave 5.55112e-16
        assert "7.68401" in tex and "5.55112" not in tex
    pages, log, _ = _compile(tex, tmp_path)
    assert pages <= budget
    overfull = [float(w) for w in re.findall(r"^Overfull \\hbox \(([\d.]+)pt", log, re.M)]
    assert max(overfull, default=0.0) <= 5.0


@pytest.mark.latex
@needs_latex
def test_the_drawing_of_a_5_8_3_net_stays_on_page_1(tmp_path):
    d = sp.derive(sp.mlp([5, 8, 3], activation="sigmoid"))
    _, _, first = _compile(render.to_latex(d), tmp_path)
    assert "The network: every neuron, weights labelled" in first


def test_a_wide_net_works_out_one_weight_per_layer_and_covers_the_rest_by_delta():
    txt = example_document("digits_64_32_10", False, "txt")
    section = txt[txt.index("Gradients, parameter by parameter"):txt.index("Insights")]
    assert re.findall(r"^    ∂C/∂(\S+) = \[", section, re.M) == ["w¹₀₀", "w²₀₀"]
    assert "= [a²₀ - y₀] · [w²₀₀] · [step(z¹₀)] · [x₀]" in section  # δ² = a² - y, once
    assert "(96 more paths)" not in section and "+ … (6 more paths)" in section
    for line in ("∂C/∂w¹ⱼₖ = xₖ·δ¹ⱼ", "∂C/∂b¹ⱼ = δ¹ⱼ", "∂C/∂w²ⱼₖ = a¹ₖ·δ²ⱼ", "∂C/∂b²ⱼ = δ²ⱼ"):
        assert line in section


@pytest.mark.parametrize("name", ["two_two_one", "nielsen_232", "chain"])
def test_small_nets_still_work_out_every_parameter(name):
    txt = example_document(name, True, "txt")
    params = sp.derive(f"examples:{name}").params
    assert len(re.findall(r"^    ∂C/∂\S+ = \[", txt, re.M)) == len(params)
