"""Seed 004 (a network where each layer has a single neuron, layers numbered from the output) in
its own notation: ``examples:seed004_chain`` (``notation: {layers: from_output}``) teaches the
seed's points with superscripts (L), (L-1), (L-2), in every format; each number is parsed back
from the text document and compared with central differences of a forward pass written here
(plain Python floats) from the seed's formulas a^(L) = f(w^(L) a^(L-1) + b^(L)),
Cost_i = (a^(L) - y)^2.

The seed's points, in its order:

1. the chain a^(L) = f(w^(L) a^(L-1) + b^(L)) = f(z^(L)) and Cost_i = (a^(L) - y)^2;
2. the chain rule ∂Cost/∂w^(L) = ∂Cost/∂a^(L) · ∂a^(L)/∂z^(L) · ∂z^(L)/∂w^(L)
   = 2(a^(L) - y) f'(z^(L)) a^(L-1), with its three local factors;
3. the same for b^(L) (∂z/∂b = 1) and for a^(L-1): ∂Cost/∂a^(L-1) = 2(a^(L) - y) f'(z^(L)) w^(L),
   backpropagation to the previous layer;
4. iterated backwards: every earlier weight and bias;
5. over n training examples the average 1/n Σ ∂Cost_i/∂w;
6. layers with several neurons: the sum over layer L (BP2's Σₖ) and the update
   w^(L)+ = w^(L) - lr ∂Cost/∂w^(L).

The layer numbering's default (``examples:chain``, the same net numbered from the input) and
its error are checked last.  The pdflatex compile of the example without values runs in
``tests/test_documents.py`` (every bundled example); the one with values runs here.
"""

from __future__ import annotations

import math
import shutil
import subprocess
import sys

import pytest

import symbprop as sp
from symbprop.errors import SpecError
from symbprop.render.pdf import overfull_boxes
from tests.oracle import central_difference

NAME = "seed004_chain"
H = 1e-6
#: The values file's point (the seed gives no numbers): w, b for layers L-2, L-1, L.
POINT = {"w1": 0.8, "b1": 0.1, "w2": -1.2, "b2": 0.3, "w3": 1.5, "b3": -0.2}
X, Y, LR = 1.0, 0.0, 1.0
#: The document's names of the parameters (text format).
SHOWN = {"w1": "w⁽ᴸ⁻²⁾₀₀", "b1": "b⁽ᴸ⁻²⁾₀", "w2": "w⁽ᴸ⁻¹⁾₀₀", "b2": "b⁽ᴸ⁻¹⁾₀",
         "w3": "w⁽ᴸ⁾₀₀", "b3": "b⁽ᴸ⁾₀"}


def f(z):
    return 1.0 / (1.0 + math.exp(-z))


def cost(p, x=X, y=Y, a_before_last=None):
    """Seed 004's chain: a^(l) = f(w^(l) a^(l-1) + b^(l)), Cost = (a^(L) - y)^2; with
    ``a_before_last`` the activation a^(L-1) is set to it (to differentiate with respect to
    it)."""
    a = x
    for layer in (1, 2, 3):
        if layer == 3 and a_before_last is not None:
            a = a_before_last
        a = f(p[f"w{layer}"] * a + p[f"b{layer}"])
    return (a - y) ** 2


def central(fun, p, name):
    return central_difference(fun, p, name, h=H)


@pytest.fixture(scope="module")
def d():
    return sp.derive(sp.load(f"examples:{NAME}"))


@pytest.fixture(scope="module")
def doc(d):
    return d.to_text(f"examples:{NAME}")


def _answer(doc, lhs):
    """The last line of the display that starts with ``lhs = [``: the gradient's value."""
    block = doc[doc.index(f"    {lhs} = ["):].split("\n\n")[0]
    return float(block.splitlines()[-1].split("=")[-1])


def _display(doc, lhs):
    block = doc[doc.index(f"    {lhs} = ["):].split("\n\n")[0]
    return " ".join(block.split())


# ---------------------------------------------------------------- 1. the chain


def test_the_chain_and_the_cost_in_seed_notation(doc):
    for line in ("z⁽ᴸ⁾₀ = w⁽ᴸ⁾₀₀·a⁽ᴸ⁻¹⁾₀ + b⁽ᴸ⁾₀", "a⁽ᴸ⁾₀ = σ(z⁽ᴸ⁾₀)",
                 "z⁽ᴸ⁻¹⁾₀ = w⁽ᴸ⁻¹⁾₀₀·a⁽ᴸ⁻²⁾₀ + b⁽ᴸ⁻¹⁾₀", "z⁽ᴸ⁻²⁾₀ = w⁽ᴸ⁻²⁾₀₀·x₀ + b⁽ᴸ⁻²⁾₀",
                 "z⁽ᴸ⁾ = W⁽ᴸ⁾·a⁽ᴸ⁻¹⁾ + b⁽ᴸ⁾", "C = Σⱼ (a⁽ᴸ⁾ⱼ - yⱼ)²"):
        assert line in doc, line
    assert "Layers are numbered from the output, as seed 004 does" in " ".join(doc.split())
    # no layer printed with the input-side numbers
    assert not any(mark in doc for mark in ("w¹", "w²", "w³", "a³", "δ³", "z³"))
    # the worked example's activations, by the seed's forward pass
    z1 = POINT["w1"] * X + POINT["b1"]
    z2 = POINT["w2"] * f(z1) + POINT["b2"]
    z3 = POINT["w3"] * f(z2) + POINT["b3"]
    table = doc[doc.index("layer  neuron "):].split("\n\n")[0].splitlines()[2:]
    rows = {" ".join(r.split()[:-5]): [float(v) for v in r.split()[-5:]] for r in table}
    for label, z in (("L - 2", z1), ("L - 1", z2), ("L", z3)):
        neuron, z_shown, a_shown, slope, _ = rows[label]
        assert (z_shown, a_shown) == pytest.approx((z, f(z)), rel=1e-5)
        assert slope == pytest.approx(f(z) * (1 - f(z)), rel=1e-5)  # f'(z^(l))
    loss = float(doc[doc.index("The loss is C = "):].split("=")[1].split()[0].rstrip("."))
    assert loss == pytest.approx(cost(POINT), rel=1e-5)


# ---------------------------------------------------------------- 2. the chain rule for w^(L)


def test_chain_rule_for_the_last_weight(doc):
    flat = _display(doc, "∂C/∂w⁽ᴸ⁾₀₀")
    assert flat.startswith("∂C/∂w⁽ᴸ⁾₀₀ = [∂C/∂a⁽ᴸ⁾₀] · [∂a⁽ᴸ⁾₀/∂z⁽ᴸ⁾₀] · [∂z⁽ᴸ⁾₀/∂w⁽ᴸ⁾₀₀]")
    # 2(a^(L) - y) f'(z^(L)) a^(L-1), f' of the sigmoid written with its activation
    assert "= [2·(a⁽ᴸ⁾₀ - y₀)] · [(1 - a⁽ᴸ⁾₀)·a⁽ᴸ⁾₀] · [a⁽ᴸ⁻¹⁾₀]" in flat
    # the three local factors, in general
    for line in ("∂C/∂a⁽ᴸ⁾ⱼ = 2·(a⁽ᴸ⁾ⱼ - yⱼ)", "∂z⁽ᴸ⁾ⱼ/∂w⁽ᴸ⁾ⱼₖ = a⁽ᴸ⁻¹⁾ₖ",
                 "∂a⁽ᴸ⁾ⱼ/∂z⁽ᴸ⁾ⱼ = (1 - σ(z⁽ᴸ⁾ⱼ))·σ(z⁽ᴸ⁾ⱼ)", "δ⁽ᴸ⁾ = ∂C/∂a⁽ᴸ⁾ ⊙ σ′(z⁽ᴸ⁾)"):
        assert line in doc, line
    # the factors' numbers: 2(a - y), f'(z), a^(L-1), and their product
    numbers = flat.split("= [")[3].split("] = ")[0]
    factors = [float(v.strip(" []")) for v in numbers.split("·")]
    a1 = f(POINT["w1"] * X + POINT["b1"])
    a2 = f(POINT["w2"] * a1 + POINT["b2"])
    a3 = f(POINT["w3"] * a2 + POINT["b3"])
    assert factors == pytest.approx([2 * (a3 - Y), a3 * (1 - a3), a2], rel=1e-5)
    assert _answer(doc, "∂C/∂w⁽ᴸ⁾₀₀") == pytest.approx(central(cost, POINT, "w3"), rel=1e-5)


# ---------------------------------------------------------------- 3. b^(L) and a^(L-1)


def test_same_chain_rule_for_the_last_bias(doc):
    flat = _display(doc, "∂C/∂b⁽ᴸ⁾₀")
    assert "= [2·(a⁽ᴸ⁾₀ - y₀)] · [(1 - a⁽ᴸ⁾₀)·a⁽ᴸ⁾₀] · [1]" in flat  # 2(a - y) f'(z)
    assert "∂z⁽ᴸ⁾ⱼ/∂b⁽ᴸ⁾ⱼ = 1" in doc
    assert _answer(doc, "∂C/∂b⁽ᴸ⁾₀") == pytest.approx(central(cost, POINT, "b3"), rel=1e-5)


def test_backpropagation_to_the_previous_activation(doc):
    """∂Cost/∂a^(L-1) = 2(a^(L) - y) f'(z^(L)) w^(L): the document sends δ^(L) back along
    w^(L) (local derivative ∂z^(L)/∂a^(L-1) = w^(L), then BP2 and the reverse network)."""
    assert "∂z⁽ᴸ⁾ⱼ/∂a⁽ᴸ⁻¹⁾ₖ = w⁽ᴸ⁾ⱼₖ" in doc
    assert "δ⁽ᴸ⁻¹⁾ⱼ = ∂a⁽ᴸ⁻¹⁾ⱼ/∂z⁽ᴸ⁻¹⁾ⱼ · (Σₖ ∂z⁽ᴸ⁾ₖ/∂a⁽ᴸ⁻¹⁾ⱼ · δ⁽ᴸ⁾ₖ)" in doc
    block = doc[doc.index("    δ⁽ᴸ⁻¹⁾₀ = σ′(z⁽ᴸ⁻¹⁾₀) · w⁽ᴸ⁾₀₀ · δ⁽ᴸ⁾₀"):].split("\n")
    slope, weight, delta_last = (float(v) for v in block[1].split("=")[1].split("·"))
    a2 = f(POINT["w2"] * f(POINT["w1"] * X + POINT["b1"]) + POINT["b2"])

    def by_activation(p):
        return cost(POINT, a_before_last=p["a"])

    assert weight * delta_last == pytest.approx(central(by_activation, {"a": a2}, "a"), rel=1e-5)
    assert slope == pytest.approx(a2 * (1 - a2), rel=1e-5)


# ---------------------------------------------------------------- 4. iterated backwards


@pytest.mark.parametrize("name", sorted(POINT))
def test_every_gradient_iterated_backwards(doc, name):
    assert _answer(doc, f"∂C/∂{SHOWN[name]}") == pytest.approx(central(cost, POINT, name),
                                                               rel=1e-5)


def test_the_first_weight_chains_through_every_layer(doc):
    flat = _display(doc, "∂C/∂w⁽ᴸ⁻²⁾₀₀")
    assert ("∂C/∂w⁽ᴸ⁻²⁾₀₀ = [∂C/∂a⁽ᴸ⁾₀] · [∂a⁽ᴸ⁾₀/∂z⁽ᴸ⁾₀] · [∂z⁽ᴸ⁾₀/∂a⁽ᴸ⁻¹⁾₀] · "
            "[∂a⁽ᴸ⁻¹⁾₀/∂z⁽ᴸ⁻¹⁾₀] · [∂z⁽ᴸ⁻¹⁾₀/∂a⁽ᴸ⁻²⁾₀] · [∂a⁽ᴸ⁻²⁾₀/∂z⁽ᴸ⁻²⁾₀] · "
            "[∂z⁽ᴸ⁻²⁾₀/∂w⁽ᴸ⁻²⁾₀₀]") in flat


# ---------------------------------------------------------------- 5. n training examples


def test_average_over_n_training_examples(d):
    xs, ys = [1.0, -0.5, 2.0], [0.0, 1.0, 0.5]
    values = {"X": xs, "Y": ys, "params": {"W1": [[0.8]], "b1": [0.1], "W2": [[-1.2]],
                                           "b2": [0.3], "W3": [[1.5]], "b3": [-0.2]}}
    doc = d.to_text(values)
    assert "∂L/∂w = (1/n) Σₓ ∂Cₓ/∂w" in doc

    def mean_cost(p):
        return sum(cost(p, x, y) for x, y in zip(xs, ys, strict=True)) / len(xs)

    rows = doc[doc.index("parameter     θ"):].split("\n\n")[0].splitlines()[2:]
    shown = {r.split()[0]: float(r.split()[2]) for r in rows}
    for name, label in SHOWN.items():
        assert shown[label] == pytest.approx(central(mean_cost, POINT, name), rel=1e-5)


# ---------------------------------------------------------------- 6. wider layers, the update


def test_sum_over_layer_L_and_the_update(doc):
    assert "δ⁽ᴸ⁻¹⁾ⱼ = (1 - a⁽ᴸ⁻¹⁾ⱼ)·a⁽ᴸ⁻¹⁾ⱼ·Σₖ w⁽ᴸ⁾ₖⱼ·δ⁽ᴸ⁾ₖ" in doc
    assert "∂C/∂w⁽ᴸ⁾ⱼₖ = a⁽ᴸ⁻¹⁾ₖ·δ⁽ᴸ⁾ⱼ" in doc
    assert "W⁽ᴸ⁾ ← W⁽ᴸ⁾ - η·δ⁽ᴸ⁾·(a⁽ᴸ⁻¹⁾)ᵀ" in doc
    rows = doc[doc.index("parameter     θ"):].split("\n\n")[0].splitlines()[2:]
    table = {r.split()[0]: [float(v) for v in r.split()[1:]] for r in rows}
    for name, label in SHOWN.items():
        theta, _, stepped = table[label]
        assert theta == POINT[name]
        assert stepped == pytest.approx(POINT[name] - LR * central(cost, POINT, name),
                                        rel=1e-5)


# ---------------------------------------------------------------- every format


@pytest.mark.parametrize("fmt", ["to_latex", "to_markdown"])
def test_latex_and_markdown_in_seed_notation(d, fmt):
    doc = getattr(d, fmt)(f"examples:{NAME}")
    for piece in (r"a^{(L)}_{j} &= \sigma\left(z^{(L)}_{j}\right)", r"w^{(L)}_{jk}",
                  r"a^{(L-1)}_{k}", r"\delta^{(L-1)}_{j}",
                  r"\frac{\partial z^{(L)}_{j}}{\partial w^{(L)}_{jk}} &= a^{(L-1)}_{k}",
                  r"(layer $L - 1$)"):
        assert piece in doc, piece
    assert "a^{3}" not in doc and "w^{3}" not in doc


def test_html_page_in_seed_notation(d):
    page = d.to_html(f"examples:{NAME}")
    assert "<mi>L</mi><mo>\u2212</mo><mn>1</mn>" in page.replace("&#8722;", "\u2212")
    assert "of layer L - 1" in page and "w⁽ᴸ⁾₀₀" in page


@pytest.mark.latex
@pytest.mark.skipif(shutil.which("pdflatex") is None, reason="pdflatex is not installed")
def test_pdflatex_compiles_without_overfull_boxes(d, tmp_path):
    (tmp_path / "doc.tex").write_text(d.to_latex(f"examples:{NAME}"), encoding="utf-8")
    command = ["pdflatex", "-halt-on-error", "-interaction=nonstopmode", "doc.tex"]
    for _ in range(2):
        run = subprocess.run(command, cwd=tmp_path, capture_output=True, timeout=120)
        assert run.returncode == 0, run.stdout[-2000:]
    log = (tmp_path / "doc.log").read_text(encoding="utf-8", errors="replace")
    assert max(overfull_boxes(log), default=0.0) <= 5.0


# ---------------------------------------------------------------- the default, and errors


def test_default_numbering_is_from_the_input():
    doc = sp.derive(sp.load("examples:chain")).to_text()
    assert "z³ⱼ = b³ⱼ + Σₖ w³ⱼₖ·a²ₖ" in doc and "⁽ᴸ" not in doc


BASE = {"name": "n", "inputs": 1, "layers": [{"units": 1, "activation": "sigmoid"}],
        "loss": "sse"}


@pytest.mark.parametrize("layers", ["from_top", "", 3, ["from_output"], "__import__('os')"])
def test_bad_layer_numbering(layers):
    with pytest.raises(SpecError) as err:
        sp.load({**BASE, "notation": {"layers": layers}})
    message = str(err.value)
    assert "notation" in message and "layers" in message
    assert "from_input, from_output" in message


def test_layer_numbering_with_names():
    net = sp.load({**BASE, "notation": {"layers": "from_output", "W1[0,0]": "w"}})
    assert net.layer_numbering == "from_output" and net.notation == (("W1[0,0]", "w"),)
    assert net.spec["notation"] == {"W1[0,0]": "w", "layers": "from_output"}


def test_bad_layer_numbering_names_the_file_and_exits_2(tmp_path):
    spec = tmp_path / "bad.yaml"
    spec.write_text("name: bad\ninputs: 1\nlayers: [{units: 1, activation: sigmoid}]\n"
                    "loss: sse\nnotation: {layers: from_top}\n")
    run = subprocess.run([sys.executable, "-m", "symbprop", "derive", str(spec)],
                         capture_output=True, text=True)
    assert run.returncode == 2
    assert "bad.yaml" in run.stderr and "notation" in run.stderr and "from_top" in run.stderr
