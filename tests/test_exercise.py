"""Exercise sheets (``symbprop exercise``, ``sp.exercise``): the key's numbers, parsed back from
the written files, agree with an oracle written here (sympy.diff of the loss typed in by hand, at
the point of ``values-NN.yaml``); the sheet holds no answer; the same seed gives the same bytes;
a wrong answer stops everything before a file is written; bad options exit 2 in one line.

Tests marked ``latex`` run pdflatex and pdftotext (skipped when missing)."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
import sympy
import yaml
from typer.testing import CliRunner

import symbprop as sp
from symbprop.cli.app import app
from symbprop.exercises import AnswerMismatch
from symbprop.exercises.sheet import number

runner = CliRunner()
HAS_LATEX = shutil.which("pdflatex") is not None and shutil.which("pdftotext") is not None
latex = pytest.mark.latex
needs_latex = pytest.mark.skipif(not HAS_LATEX, reason="pdflatex or pdftotext is not installed")
NUMBER = r"(-?\d+(?:\.\d+)?(?: \\times 10\^\{-?\d+\})?)"


def _float(text: str) -> float:
    if "times" in text:
        mantissa, exponent = text.split(r" \times 10^{")
        return float(mantissa) * 10 ** int(exponent.rstrip("}"))
    return float(text)


def _close(a: float, b: float) -> bool:
    """Agreement to the key's 6 significant digits."""
    return abs(a - b) <= 1e-5 * max(abs(b), 1e-3)


# ---------------------------------------------------------------- oracles, typed in by hand


def _two_two_one_oracle(point: dict) -> tuple[dict, dict]:
    """(forward values, gradients) of the 2-2-1 net: sigmoid hidden layer, linear output, C =
    (y - a)^2 / 2, by sympy.diff of the composed loss at the point, by scalar name."""
    W1 = sympy.Matrix(2, 2, sympy.symbols("w00 w01 w10 w11"))
    b1 = sympy.Matrix(sympy.symbols("b0 b1"))
    W2 = sympy.Matrix(1, 2, sympy.symbols("v0 v1"))
    b2 = sympy.Symbol("c0")
    x = sympy.Matrix([sympy.Rational(str(v)) for v in point["x"]])
    y = sympy.Rational(str(point["y"][0]))
    z1 = W1 * x + b1
    a1 = z1.applyfunc(lambda z: 1 / (1 + sympy.exp(-z)))
    z2 = (W2 * a1)[0] + b2
    loss = (y - z2) ** 2 / 2
    names = {"W1[0,0]": W1[0, 0], "W1[0,1]": W1[0, 1], "W1[1,0]": W1[1, 0],
             "W1[1,1]": W1[1, 1], "b1[0]": b1[0], "b1[1]": b1[1], "W2[0,0]": W2[0, 0],
             "W2[0,1]": W2[0, 1], "b2[0]": b2}
    p = point["params"]
    at = {W1[i, j]: sympy.Rational(str(p["W1"][i][j])) for i in range(2) for j in range(2)}
    at |= {b1[i]: sympy.Rational(str(p["b1"][i])) for i in range(2)}
    at |= {W2[0, j]: sympy.Rational(str(p["W2"][0][j])) for j in range(2)}
    at |= {b2: sympy.Rational(str(p["b2"][0]))}
    forward = {"z^{1}_{0}": z1[0], "z^{1}_{1}": z1[1], "a^{1}_{0}": a1[0], "a^{1}_{1}": a1[1],
               "z^{2}_{0}": z2, "C": loss}
    forward = {k: float(v.subs(at).evalf(30)) for k, v in forward.items()}
    grads = {n: float(sympy.diff(loss, s).subs(at).evalf(30)) for n, s in names.items()}
    return forward, grads


def _staged_oracle(point: dict) -> dict:
    x, y, z = sympy.symbols("x y z")
    f = (x + y) * z
    at = {s: sympy.Rational(str(point[s.name])) for s in (x, y, z)}
    return {s.name: float(sympy.diff(f, s).subs(at)) for s in (x, y, z)}


def _tex_gradients(text: str) -> dict[str, float]:
    """∂C/∂θ as the key's tables write them: "$\\displaystyle \\frac{\\partial C}{\\partial
    w^{1}_{01}} =$ & $-0.0115104$", by scalar name ("W1[0,1]", "b2[0]")."""
    found = {}
    pattern = (r"\\displaystyle \\frac\{\\partial C\}\{\\partial ([wb])\^\{(\d)\}_\{(\d+)\}\} "
               r"=\$ & \$" + NUMBER + r"\$")
    for kind, layer, index, value in re.findall(pattern, text):
        name = f"W{layer}[{index[0]},{index[1]}]" if kind == "w" else f"b{layer}[{index}]"
        found[name] = _float(value)
    return found


# ---------------------------------------------------------------- files written once


@pytest.fixture(scope="module")
def network_tex(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("two_two_one")
    sp.exercise("examples:two_two_one", seed=11, count=2, fmt="tex", out_dir=folder)
    return folder


@pytest.fixture(scope="module")
def graph_md(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("staged")
    result = runner.invoke(app, ["exercise", "examples:staged", "--seed", "5", "--format", "md",
                                 "-o", str(folder), "-q"])
    assert result.exit_code == 0, result.output
    return folder


def test_the_files_of_every_sheet_are_written(network_tex):
    names = sorted(p.name for p in network_tex.iterdir())
    assert names == ["key-01.tex", "key-02.tex", "sheet-01.tex", "sheet-02.tex",
                     "values-01.yaml", "values-02.yaml"]


def test_each_sheet_has_its_own_point(network_tex):
    first, second = (yaml.safe_load((network_tex / f"values-0{k}.yaml").read_text())
                     for k in (1, 2))
    assert first != second


@pytest.mark.parametrize("k", [1, 2])
def test_network_key_agrees_with_sympy_diff_at_the_values_file(network_tex, k):
    point = yaml.safe_load((network_tex / f"values-0{k}.yaml").read_text())
    forward, grads = _two_two_one_oracle(point)
    key = (network_tex / f"key-0{k}.tex").read_text()
    parsed = _tex_gradients(key)
    assert len(parsed) >= 3  # the chosen gradients: one weight per layer and a bias
    for name, value in parsed.items():
        assert _close(value, grads[name]), (name, value, grads[name])
    for label, value in forward.items():
        found = re.search(r"\$\\displaystyle " + re.escape(label) + r" =\$ & \$" + NUMBER, key)
        assert found, label
        assert _close(_float(found.group(1)), value), (label, found.group(1), value)
    lr = point["lr"]
    updates = re.findall(r"\{([wb])\^\{(\d)\}_\{(\d+)\}\}' =\$ & \$" + NUMBER, key)
    assert updates
    for kind, layer, index, value in updates:
        name = f"W{layer}[{index[0]},{index[1]}]" if kind == "w" else f"b{layer}[{index}]"
        base, _, rest = name.partition("[")
        theta = point["params"][base]
        for i in rest.rstrip("]").split(","):
            theta = theta[int(i)]
        assert _close(_float(value), theta - lr * grads[name]), name


def test_network_key_answers_the_conceptual_questions(network_tex):
    key = (network_tex / "key-01.tex").read_text()
    assert re.search(r"how many parameters the model has\):.*\\fbox\{9\}", key)
    assert re.search(r"Do weights nearer the input.*\\fbox\{longer\}", key)
    chains = re.findall(r"one chain-rule path of \$\\frac\{\\partial C\}\{\\partial "
                        r"w\^\{(\d)\}_\{\d+\}\}\$ \\hfill \\fbox\{(\d+)\}", key)
    assert {layer: int(n) for layer, n in chains} == {"1": 5, "2": 3}


def test_the_key_carries_the_worked_derivation(network_tex):
    key = (network_tex / "key-01.tex").read_text()
    assert "The worked derivation at this point" in key
    assert key.count(r"\begin{document}") == 1 and key.count(r"\end{document}") == 1
    assert r"\section{" in key  # the derivation document's own sections


def test_the_sheet_holds_no_answer(network_tex):
    sheet, key = ((network_tex / f"{kind}-01.tex").read_text() for kind in ("sheet", "key"))
    point = yaml.safe_load((network_tex / "values-01.yaml").read_text())
    forward, grads = _two_two_one_oracle(point)
    answers = [number(v) for v in [*forward.values(), *grads.values()]]
    answers = [a for a in answers if len(a.lstrip("-").replace(".", "").strip("0")) >= 3]
    assert answers
    shown = [a for a in answers if a in key]
    assert shown, "the key should show the answers the sheet hides"
    for answer in shown:
        assert answer not in sheet, answer
    assert r"\answerbox" in sheet and r"\answerbox" not in key
    assert "The worked derivation" not in sheet


def test_the_values_file_is_what_derive_at_reads(network_tex):
    path = network_tex / "values-01.yaml"
    assert "# symbprop derive examples:two_two_one --at values-01.yaml\n" in path.read_text()
    result = runner.invoke(app, ["derive", "examples:two_two_one", "--at", str(path),
                                 "--format", "txt"])
    assert result.exit_code == 0, result.output
    d = sp.derive(sp.load("examples:two_two_one"))
    _, grads = _two_two_one_oracle(yaml.safe_load(path.read_text()))
    evaluated = d.evaluate(str(path))["grad"]
    assert all(_close(evaluated[n], grads[n]) for n in grads)


def test_graph_key_in_markdown_agrees_with_sympy_diff(graph_md):
    point = yaml.safe_load((graph_md / "values-01.yaml").read_text())
    grads = _staged_oracle(point)
    key = (graph_md / "key-01.md").read_text()
    found = dict(re.findall(r"- \$\\frac\{\\partial f\}\{\\partial ([xyz])\}\$ = \*\*"
                            r"(-?[\d.]+)\*\*", key))
    assert set(found) == {"x", "y", "z"}
    for name, value in found.items():
        assert float(value) == pytest.approx(grads[name], rel=1e-9)  # exact: a rational point
    q = float(sympy.Rational(str(point["x"])) + sympy.Rational(str(point["y"])))
    assert re.search(rf"- \$q\$ = \*\*{re.escape(number(q))}\*\*", key)
    sheet = (graph_md / "sheet-01.md").read_text()
    assert "**" not in sheet and "______" in sheet


def test_same_seed_same_bytes_and_another_seed_other_numbers(network_tex, tmp_path):
    again = sp.exercise("examples:two_two_one", seed=11, count=2, fmt="tex")
    for name, data in again.files.items():
        assert (network_tex / name).read_bytes() == data, name
    other = sp.exercise("examples:two_two_one", seed=12, count=1, fmt="tex")
    assert other.files["values-01.yaml"] != again.files["values-01.yaml"]


def test_questions_picks_the_kinds(tmp_path):
    result = sp.exercise("examples:one_path", seed=1, fmt="md", questions="forward,concept")
    assert [q.kind for q in result.sheets[0].questions] == ["forward", "concept"]
    key = result.files["key-01.md"].decode()
    assert "chain-rule product" not in key.split("---")[0]
    with pytest.raises(sp.SymbpropError, match="questions: unknown kind 'deltas'"):
        sp.exercise("examples:one_path", questions="forward,deltas")


def test_points_are_short_decimals_away_from_saturation():
    result = sp.exercise("examples:two_two_one", seed=2, count=3, fmt="md", questions="forward")
    for sheet in result.sheets:
        numbers = [*sheet.values["x"], *sheet.values["y"],
                   *(v for array in sheet.values["params"].values() for row in array
                     for v in (row if isinstance(row, list) else [row]))]
        assert all(round(v, 1) == v and v != 0 for v in numbers)
        z = [item.value for item in sheet.questions[0].items if item.label.startswith("z")]
        assert all(abs(v) <= 2.5 for v in z)


def test_relu_points_stay_off_the_kink():
    model = sp.mlp([2, 3, 1], activation="relu", loss="half_sse")
    result = sp.exercise(model, seed=0, count=2, fmt="md", questions="forward,gradient")
    for sheet in result.sheets:
        z = [i.value for i in sheet.questions[0].items if i.label.startswith("z^{1}")]
        assert len(z) == 3 and all(abs(v) >= 0.05 for v in z)


# ---------------------------------------------------------------- a wrong answer


def _wrong_gradients(monkeypatch):
    from symbprop.symbolic.derivation import Derivation

    evaluate = Derivation.evaluate

    def wrong(self, values):
        result = evaluate(self, values)
        result["grad"] = {n: g * 1.001 for n, g in result["grad"].items()}
        return result

    monkeypatch.setattr(Derivation, "evaluate", wrong)


def test_a_wrong_answer_is_an_error_and_nothing_is_written(monkeypatch, tmp_path):
    _wrong_gradients(monkeypatch)
    with pytest.raises(AnswerMismatch, match="disagrees with the compiled kernels"):
        sp.exercise("examples:one_path", seed=3, count=2, fmt="tex", out_dir=tmp_path / "out")
    assert not (tmp_path / "out").exists()
    result = runner.invoke(app, ["exercise", "examples:one_path", "--format", "tex", "-o",
                                 str(tmp_path / "cli")])
    assert result.exit_code == 1
    text = result.output.strip()
    assert text.startswith("symbprop: error: sheet 01: the key's answer") and "\n" not in text
    assert "no file was written" in text and not (tmp_path / "cli").exists()


def test_a_wrong_forward_value_or_local_partial_is_an_error_too(monkeypatch, tmp_path):
    from symbprop.render.numbers import Point

    number_at = Point.number
    monkeypatch.setattr(Point, "number", lambda self, expr: number_at(self, expr) + 1e-4)
    for kinds, source in (("forward", "the exact forward pass"),
                          ("local", "a central difference"),
                          ("delta", "a central difference")):
        with pytest.raises(AnswerMismatch, match=source):
            sp.exercise("examples:staged", fmt="md", questions=kinds, out_dir=tmp_path / kinds)
        assert not (tmp_path / kinds).exists()


# ---------------------------------------------------------------- the command line


@pytest.mark.parametrize("args, expected", [
    (["--questions", "foo"], "--questions: unknown kind 'foo'; kinds: forward, local"),
    (["--count", "0"], "--count: must be from 1 to 99, got 0"),
    (["--count", "100"], "--count: must be from 1 to 99, got 100"),
    (["--seed", "-1"], "--seed: must be from 0 to"),
    (["--format", "docx"], "--format: unknown format 'docx'; formats: pdf, tex, md"),
])
def test_bad_options_exit_2_in_one_line(tmp_path, args, expected):
    result = runner.invoke(app, ["exercise", "examples:staged", *args, "-o", str(tmp_path / "o")])
    assert result.exit_code == 2, result.output
    text = result.output.strip()
    assert text.startswith("symbprop: error: ") and "\n" not in text and expected in text, text
    assert not (tmp_path / "o").exists()


def test_missing_output_folder_and_big_models_are_refused(tmp_path):
    result = runner.invoke(app, ["exercise", "examples:staged"])
    assert result.exit_code == 2 and "-o: missing" in result.output
    (tmp_path / "file").write_text("")
    result = runner.invoke(app, ["exercise", "examples:staged", "-o", str(tmp_path / "file")])
    assert result.exit_code == 2 and "is a file" in result.output
    result = runner.invoke(app, ["exercise", "examples:iris_4_16_3", "-o", str(tmp_path / "i")])
    assert result.exit_code == 2 and "at most 40" in result.output


# ---------------------------------------------------------------- PDF


def _pdftotext(path: Path) -> str:
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True,
                          text=True, check=True).stdout


@latex
@needs_latex
def test_pdf_sheets_and_keys_compile_reproducibly_and_read_back(tmp_path):
    args = ["exercise", "examples:two_two_one", "--seed", "4", "--questions",
            "forward,gradient,concept"]
    first = runner.invoke(app, [*args, "-o", str(tmp_path / "a")])
    assert first.exit_code == 0, first.output
    assert "wrote 3 files" in first.output
    second = runner.invoke(app, [*args, "-o", str(tmp_path / "b"), "-q"])
    assert second.exit_code == 0, second.output
    for name in ("sheet-01.pdf", "key-01.pdf", "values-01.yaml"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()
    point = yaml.safe_load((tmp_path / "a" / "values-01.yaml").read_text())
    forward, grads = _two_two_one_oracle(point)
    key = _pdftotext(tmp_path / "a" / "key-01.pdf")
    sheet = _pdftotext(tmp_path / "a" / "sheet-01.pdf")
    loss = re.search(r"C = +(-?[\d.]+)", key)
    assert loss and _close(float(loss.group(1)), forward["C"])
    for name, value in grads.items():
        text = number(value)
        if name in {"W1[0,0]", "W1[0,1]", "W1[1,0]", "W1[1,1]"} and text in key:
            assert text not in sheet
    chosen = [n for n in grads if number(grads[n]) in key]
    assert len(chosen) >= 3
    assert "Answer key" in key and "exercise sheet 01" in sheet
    assert not re.search(r"C = +-?\d", sheet)


def test_the_same_bytes_in_another_process_with_another_hash_seed(tmp_path):
    import os
    import sys

    root = Path(__file__).resolve().parent.parent
    for seed in ("1", "2"):
        env = dict(os.environ, PYTHONHASHSEED=seed,
                   PYTHONPATH=os.pathsep.join([str(root), os.environ.get("PYTHONPATH", "")]))
        subprocess.run([sys.executable, "-m", "symbprop", "exercise", "examples:staged",
                        "--seed", "3", "--format", "md", "-q", "-o", str(tmp_path / seed)],
                       check=True, env=env, capture_output=True)
    for name in ("sheet-01.md", "key-01.md", "values-01.yaml"):
        assert (tmp_path / "1" / name).read_bytes() == (tmp_path / "2" / name).read_bytes()


def test_verifying_a_key_never_builds_the_dict_call(monkeypatch):
    """The finite differences that verify a key call the kernels a few dozen times, through
    the module's ``loss_and_grad_into``: the dict API, and its own compiled path (about 1 s
    to build), is never asked for."""
    from symbprop.runtime.kernels import Kernels

    asked = []
    monkeypatch.setattr(Kernels, "_dict_call", lambda self, *args: asked.append(args))
    sp.exercise("examples:two_two_one", seed=3, fmt="tex")
    assert asked == []
