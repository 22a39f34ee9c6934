"""The derivation documents: every bundled example compiles, the committed documents are fresh,
the numbers printed are the derivation's and match finite differences, the CLI's errors are clear.

Tests marked ``latex`` run ``pdflatex`` (one example per test, about a second each); they are
skipped when pdflatex is missing.  Overfull boxes: a line may stick out into the margin by at
most ``OVERFULL_LIMIT_PT`` (the margin is 2.2 cm = 62 pt, so nothing leaves the page).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import mpmath
import pytest
import sympy
from typer.testing import CliRunner

import symbprop as sp
from symbprop import examples, goldens, render
from symbprop.cli.app import app
from symbprop.errors import SymbpropError
from symbprop.functions.sympy_classes import as_elementary
from symbprop.render.names import display_names, top_layer
from symbprop.render.notation import Partial
from symbprop.render.pdf import MAX_RUNS, needs_rerun, overfull_boxes
from symbprop.render.text import text
from symbprop.spec.values import load_values
from tests.documents import example_document

ROOT = Path(__file__).resolve().parent.parent
OVERFULL_LIMIT_PT = 5.0
HAS_LATEX = shutil.which("pdflatex") is not None
latex = pytest.mark.latex
needs_latex = pytest.mark.skipif(not HAS_LATEX, reason="pdflatex is not installed")


def with_values(name: str) -> bool:
    return (Path(examples.__file__).parent / f"{name}.values.yaml").exists()


CASES = [(n, False) for n in examples.names()] + [(n, True) for n in examples.names()
                                                   if with_values(n)]


def case_id(case) -> str:
    return f"{case[0]}{'-at' if case[1] else ''}"


def document(name: str, at: bool, fmt: str = "tex") -> str:
    """The example's document, rendered once per process (``tests.documents``)."""
    return example_document(name, at, fmt)


#: The same, rendered at each call: for the tests of rendering itself.
rendered_now = example_document.__wrapped__


# ---------------------------------------------------------------- pdflatex on every example


#: A table of at most this many rows is a tabular (``UNBROKEN_ROWS`` of
#: ``templates/doc_blocks.tex.j2``), which needs no second pdflatex run.
UNBROKEN_ROWS = 12


def _pdflatex(source: str, folder: Path) -> tuple[int, str, int]:
    """pdflatex on ``source`` in ``folder``, run again while its log asks for it (a longtable
    settles its column widths on a second run), as ``symbprop.render.pdf.compile_pdf`` does;
    (exit status, log of the last run, number of runs)."""
    (folder / "doc.tex").write_text(source, encoding="utf-8")
    command = ["pdflatex", "-halt-on-error", "-interaction=nonstopmode", "doc.tex"]
    code, log, runs = 0, "", 0
    while runs < MAX_RUNS:
        code = subprocess.run(command, cwd=folder, capture_output=True, timeout=120).returncode
        log = (folder / "doc.log").read_text(encoding="utf-8", errors="replace")
        runs += 1
        if code or not needs_rerun(log):
            break
    return code, log, runs


@latex
@needs_latex
@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_every_example_compiles_and_no_line_leaves_the_page(tmp_path, case):
    """One case per test, so that the pytest-xdist workers share them out (a module fixture
    compiling all of them held one worker for half a minute).  A document whose tables are
    short (tabulars) takes one pdflatex run; only a long table (a longtable) asks for more."""
    source = document(*case)
    code, log, runs = _pdflatex(source, tmp_path)
    errors = [line for line in log.splitlines() if line.startswith("!")]
    assert code == 0, errors
    assert max(overfull_boxes(log), default=0.0) <= OVERFULL_LIMIT_PT
    long_tables = re.findall(r"\\begin\{longtable\}(.*?)\\end\{longtable\}", source, re.S)
    rows = [table.count("\\\\") - 1 for table in long_tables]  # less the head's row
    assert all(count > UNBROKEN_ROWS for count in rows), rows
    assert runs == 1 or long_tables, "the log asks for another run"


@latex
@needs_latex
def test_pdf_command_writes_a_pdf(tmp_path):
    out = tmp_path / "x.pdf"
    result = CliRunner().invoke(app, ["derive", "examples:two_two_one", "--at",
                                      "examples:two_two_one", "--format", "pdf", "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert out.read_bytes().startswith(b"%PDF")


@latex
@needs_latex
def test_a_latex_error_shows_the_log_lines():
    from symbprop.render.pdf import compile_pdf

    with pytest.raises(SymbpropError, match="Undefined control sequence"):
        compile_pdf("\\documentclass{article}\\begin{document}\\nosuchmacro\\end{document}")


@latex
@needs_latex
def test_pdfs_built_side_by_side_are_the_ones_built_one_by_one():
    """``compile_pdfs`` (an exercise's sheet and key) gives each document's own bytes, in
    order, and the error of a document that fails."""
    from symbprop.render.pdf import compile_pdf, compile_pdfs

    texts = [f"\\documentclass{{article}}\\begin{{document}}{word}\\end{{document}}"
             for word in ("sheet", "key", "third")]
    assert compile_pdfs(texts) == [compile_pdf(tex) for tex in texts]
    assert len(set(compile_pdfs(texts))) == 3
    with pytest.raises(SymbpropError, match="Undefined control sequence"):
        compile_pdfs([texts[0], texts[1].replace("key", "\\nosuchmacro")])


def test_missing_pdflatex_says_what_to_install(monkeypatch):
    from symbprop.render import pdf

    monkeypatch.setattr(pdf.shutil, "which", lambda name: None)
    with pytest.raises(SymbpropError, match="apt-get install texlive-latex-base "
                                            "texlive-latex-recommended texlive-pictures"):
        pdf.compile_pdf("\\documentclass{article}\\begin{document}x\\end{document}")


# ---------------------------------------------------------------- a 784-128-10 network


def test_mnist_sized_document_is_fast_and_small(tmp_path):
    out = tmp_path / "mnist.tex"
    start = time.thread_time()
    result = CliRunner().invoke(app, ["derive", "examples:mnist_784_128_10", "--format", "tex",
                                      "-o", str(out)])
    elapsed = time.thread_time() - start
    assert result.exit_code == 0, result.output
    assert elapsed < 10.0
    assert out.stat().st_size < 1_000_000
    tex = out.read_text(encoding="utf-8")
    assert "one weight per layer is worked out" in tex  # the others in the delta form
    assert tex.count(r"\frac{\partial C}{\partial w^{1}_{00}} &= \boxed") == 1
    assert r"\cdots \text{ (6 more paths)}" in tex  # 10 paths from delta^2, 4 shown


# ---------------------------------------------------------------- committed documents, determinism


@pytest.mark.parametrize("name", examples.names())
def test_generated_documents_are_fresh(tmp_path, name):
    written = goldens.regenerate_documents(tmp_path, names=[name])
    from symbprop.render.html import PAGE_EXAMPLES

    assert len(written) == 2 + (name in PAGE_EXAMPLES)
    for path in written:
        committed = ROOT / "generated" / path.relative_to(tmp_path)
        assert committed.exists(), f"{committed} is missing: run regenerate_documents()"
        assert committed.read_bytes() == path.read_bytes(), f"{committed} is stale"


def test_the_wide_nets_evaluation_gives_the_same_documents(monkeypatch):
    """A network above ``numbers.EVALUATE_MAX`` parameters is evaluated by ``Reference``, not
    ``Derivation.evaluate``: forced for every bundled network with values, its documents are
    the committed ones, byte for byte."""
    from symbprop.render import numbers

    monkeypatch.setattr(numbers, "EVALUATE_MAX", 0)
    names = [n for n in examples.names() if with_values(n)
             and sp.load(f"examples:{n}").kind == "network"]
    assert len(names) >= 4
    for name in names:
        committed = ROOT / "generated" / name / "derivation.md"
        assert rendered_now(name, True, "md") == committed.read_text(encoding="utf-8"), name


def test_composed_size_stops_counting_past_its_limit():
    d = sp.derive(sp.load("examples:digits_64_32_10"))
    loss = d.definition(d.program.output)
    assert d.composed_size(loss, 20_000) == 20_001  # 3.4 million parts in all
    small = sp.derive(sp.load("examples:nielsen_232"))
    loss = small.definition(small.program.output)
    assert small.composed_size(loss, 20_000) == small.composed_size(loss) < 20_000


def test_two_renders_are_byte_identical():
    first = rendered_now("nielsen_232", True, "tex") + rendered_now("one_node", True, "md")
    second = rendered_now("nielsen_232", True, "tex") + rendered_now("one_node", True, "md")
    assert first == second


def test_output_does_not_depend_on_hash_seed():
    outputs = []
    for seed in ("1", "2"):
        env = dict(os.environ, PYTHONHASHSEED=seed)
        done = subprocess.run([sys.executable, "-m", "symbprop", "derive", "examples:staged",
                               "--at", "examples:staged", "--format", "txt"], env=env, cwd=ROOT,
                              capture_output=True, check=True)
        outputs.append(done.stdout)
    assert outputs[0] == outputs[1]


@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_text_fits_100_columns(case):
    assert max(len(line) for line in document(*case, fmt="txt").splitlines()) <= 100


@pytest.mark.parametrize("name", ["two_two_one", "staged"])
def test_markdown_uses_display_math_and_no_tikz(name):
    md = document(name, True, "md")
    assert "tikzpicture" not in md
    assert md.count("$$") % 2 == 0 and "\\begin{aligned}" in md


# ---------------------------------------------------------------- the numbers of the worked example


def rows_after(lines: list[str], first_cell: str) -> list[list[str]]:
    """The cells of the text table whose header starts with ``first_cell``."""
    start = next(i for i, line in enumerate(lines) if line.split() and line.split()[0] ==
                 first_cell and "---" in lines[i + 1])
    rows = []
    for line in lines[start + 2:]:
        if not line.strip():
            break
        rows.append(re.split(r"\s{2,}", line.strip()))
    return rows


def printed_gradients(name: str) -> tuple[dict, dict, list[str]]:
    """{parameter: (θ, ∂L/∂θ, θ − η∂L/∂θ)} read back from the text document."""
    d = sp.derive(sp.load(f"examples:{name}"))
    lines = document(name, True, "txt").splitlines()
    shown = display_names(d)  # a spec's notation (seed 001's w_0 ... w_5)
    labels = {text(d.element(n).xreplace(shown), network=d.model.kind == "network",
                   top_layer=top_layer(d)): n
              for n in d.params}
    table = {labels[row[0]]: tuple(map(float, row[1:])) for row in rows_after(lines, "parameter")}
    return table, labels, lines


def fd_gradients(d, values) -> dict[str, float]:
    """Central differences of the composed loss, computed here (mpmath, 30 digits)."""
    vals = load_values(d.model, values)
    loss = as_elementary(d.composed_loss())
    if d.model.kind == "graph":  # constants are numbers; an upstream ∂L/∂f scales ∂f/∂θ
        loss = loss.xreplace({sympy.Symbol(c): v for c, v in vals.constants.items()})
        loss = loss * (1 if vals.upstream is None else vals.upstream)
    if d.model.kind == "network":
        data = {b.label.name: b for b in d.program.shapes if isinstance(b, sympy.IndexedBase)}
        loss = loss.xreplace({data["x"][k]: v for k, v in enumerate(vals.X[0])}
                             | {data["y"][j]: v for j, v in enumerate(vals.Y[0])})
    elements = [d.element(n) for n in d.params]
    f = sympy.lambdify(elements, loss, modules="mpmath")
    point = []
    for name in d.params:
        head, _, rest = name.partition("[")
        value = vals.params[head]
        for i in (int(p) for p in rest.rstrip("]").split(",") if p):
            value = value[i]
        point.append(mpmath.mpf(value))
    result = {}
    with mpmath.workdps(30):
        h = mpmath.mpf("1e-10")
        for i, name in enumerate(d.params):
            up, down = list(point), list(point)
            up[i] += h
            down[i] -= h
            result[name] = float((f(*up) - f(*down)) / (2 * h))
    return result


WITH_VALUES = [n for n in examples.names() if with_values(n)]


@pytest.mark.parametrize("name", WITH_VALUES)
def test_printed_gradients_are_evaluate_and_finite_differences(name):
    d = sp.derive(sp.load(f"examples:{name}"))
    result = d.evaluate(f"examples:{name}")
    fd = fd_gradients(d, f"examples:{name}")
    table, _, _ = printed_gradients(name)
    assert set(table) == set(d.params)
    for param, (_, grad, _new) in table.items():
        assert grad == pytest.approx(result["grad"][param], rel=1e-5, abs=1e-12)
        assert grad == pytest.approx(fd[param], rel=1e-5, abs=1e-9)
        assert result["grad"][param] == pytest.approx(fd[param], rel=1e-8, abs=1e-12)
    lr = result["step"]["lr"]
    for param, (theta, _grad, new) in table.items():
        assert new == pytest.approx(theta - lr * result["grad"][param], rel=1e-5, abs=1e-9)


@pytest.mark.parametrize("name", WITH_VALUES)
def test_printed_losses_are_evaluate(name):
    d = sp.derive(sp.load(f"examples:{name}"))
    result = d.evaluate(f"examples:{name}")
    doc = document(name, True, "txt")
    before = re.search(r"After the step (?:the loss is )?\S+ = (\S+), (?:lower|not lower) than "
                       r"(\S+) before", doc.replace("\n", " ")) or re.search(
        r"After the step \S+ = (\S+) \((\S+) before\)", doc.replace("\n", " "))  # seeded
    assert float(before.group(1)) == pytest.approx(result["step"]["loss"], rel=1e-5, abs=1e-12)
    assert float(before.group(2)) == pytest.approx(result["loss"], rel=1e-5, abs=1e-12)


@pytest.mark.parametrize("name", [n for n in WITH_VALUES
                                  if sp.load(f"examples:{n}").kind == "network"])
def test_printed_neuron_table_is_evaluate(name):
    d = sp.derive(sp.load(f"examples:{name}"))
    result = d.evaluate(f"examples:{name}")
    lines = document(name, True, "txt").splitlines()
    neuron_rows = [r for r in _neuron_rows(lines) if r[1].isdigit()]
    assert len(neuron_rows) == sum(d.model.sizes[1:])
    forward, deltas = result["forward"], result["delta"]
    for layer, neuron, z, a, _, delta in neuron_rows:
        n, j = _layer_number(layer, len(d.model.layers)), int(neuron)
        assert float(z) == pytest.approx(forward[f"z{n}"][j], rel=1e-5, abs=1e-12)
        assert float(a) == pytest.approx(forward[f"a{n}"][j], rel=1e-5, abs=1e-12)
        assert float(delta) == pytest.approx(deltas[f"delta{n}"][j], rel=1e-5, abs=1e-12)


def _layer_number(label: str, L: int) -> int:
    """``"2"`` -> 2; seed 004's ``"L"``, ``"L - 1"`` (numbered from the output) -> L, L - 1."""
    if not label.startswith("L"):
        return int(label)
    return L - (int(label.split("-")[1]) if "-" in label else 0)


def _neuron_rows(lines: list[str]) -> list[list[str]]:
    """The rows of the worked example's table of neurons (header "layer  neuron  z ...")."""
    rows = []
    for i, line in enumerate(lines[:-1]):
        if line.split()[:2] == ["layer", "neuron"] and "---" in lines[i + 1]:
            for body in lines[i + 2:]:
                if not body.strip():
                    break
                rows.append(re.split(r"\s{2,}", body.strip()))
    return rows


@pytest.mark.parametrize("name", ["two_two_one", "nielsen_232", "chain", "digits_64_32_10"])
def test_insight_counts_match_the_chains(name):
    from symbprop.render.insights import chain_shape, local_partial_count

    d = sp.derive(sp.load(f"examples:{name}"))
    net = d.model
    for layer in range(1, len(net.layers) + 1):
        paths = d.chain(f"W{layer}[0,0]")
        assert chain_shape(net, layer) == (len(paths[0]), len(paths))
    if net.param_count < 100:
        edges = {(f.of, f.wrt) for n in d.params for path in d.chain(n) for f in path}
        assert local_partial_count(net) == len(edges)


def test_kernel_column_hook():
    d = sp.derive(sp.load("examples:two_two_one"))
    tex = render.to_latex(d, "examples:two_two_one",
                          kernel_gradients=lambda d, values: {n: 0.5 for n in d.params})
    assert "& kernels \\\\" in tex


# ---------------------------------------------------------------- the command line


def _values_file(tmp_path: Path, text_: str) -> str:
    path = tmp_path / "values.yaml"
    path.write_text(text_, encoding="utf-8")
    return str(path)


BAD_VALUES = {
    "wrong shape": ("x: [0.05, 0.10]\ny: 0.01\nparams:\n  W1: [[0.15, 0.20]]\n"
                    "  b1: [0.35, 0.35]\n  W2: [[0.40, 0.45]]\n  b2: [0.60]\n", "params.W1"),
    "missing parameter": ("x: [0.05, 0.10]\ny: 0.01\nparams:\n  W1: [[0.15, 0.20], [0.25, 0.3]]\n"
                          "  b1: [0.35, 0.35]\n  W2: [[0.40, 0.45]]\n", "missing b2"),
    "not a number": ("x: [0.05, 0.10]\ny: 0.01\nparams:\n  W1: [[0.15, oops], [0.25, 0.3]]\n"
                     "  b1: [0.35, 0.35]\n  W2: [[0.40, 0.45]]\n  b2: [0.60]\n",
                     "must be a number"),
    "not a mapping": ("- 1\n- 2\n", "must be a mapping"),
}


@pytest.mark.parametrize("case", sorted(BAD_VALUES))
def test_bad_values_exit_2_with_a_clear_message(tmp_path, case):
    content, expected = BAD_VALUES[case]
    path = _values_file(tmp_path, content)
    result = CliRunner().invoke(app, ["derive", "examples:two_two_one", "--at", path])
    assert result.exit_code == 2
    assert result.output.startswith("symbprop: error: ")
    assert path in result.output and expected in result.output
    assert "Traceback" not in result.output


@pytest.mark.parametrize("args, expected", [
    (["--format", "pdf"], "give -o"),
    (["--format", "pdf", "-o", "-"], "give -o FILE.pdf, not stdout"),
    (["--format", "word"], "formats: tex, pdf, md, txt (or latex, markdown, text)"),
    (["--format", "docx"], "unknown format"),
    (["--lr", "0.1"], "--lr needs --at"),
])
def test_bad_options_exit_2(args, expected):
    result = CliRunner().invoke(app, ["derive", "examples:two_two_one", *args])
    assert result.exit_code == 2 and expected in result.output


def test_output_file_is_written_and_format_follows_the_suffix(tmp_path):
    out = tmp_path / "doc.md"
    result = CliRunner().invoke(app, ["derive", "examples:staged", "-o", str(out)])
    assert result.exit_code == 0
    assert out.read_text(encoding="utf-8").startswith("# Backpropagation")


def test_lr_overrides_the_values_file():
    result = CliRunner().invoke(app, ["derive", "examples:quadratic", "--at",
                                      "examples:quadratic", "--lr", "0.25", "--format", "txt"])
    assert result.exit_code == 0 and "η = 0.25" in result.output


def test_max_params_caps_the_parameters_worked_out():
    result = CliRunner().invoke(app, ["derive", "examples:nielsen_232", "--format", "txt",
                                      "--max-params", "4"])
    assert result.exit_code == 0
    assert result.output.count("∂C/∂w¹₀₀ = [") == 1
    assert "more parameters of the same form" in result.output


@pytest.mark.parametrize("fmt, start", [("markdown", "# Backpropagation"),
                                        ("LaTeX", "\\documentclass"), ("text", "Backpropagation")])
def test_long_format_names_are_aliases(fmt, start):
    result = CliRunner().invoke(app, ["derive", "examples:one_path", "--format", fmt])
    assert result.exit_code == 0 and result.output.startswith(start), result.output[:200]


def test_dash_output_is_stdout(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(app, ["derive", "examples:one_path", "-o", "-"])
    assert result.exit_code == 0 and result.output.startswith("\\documentclass")
    assert not os.listdir(tmp_path)  # no file named '-'


def test_stdout_is_the_document():
    with tempfile.TemporaryDirectory() as folder:
        result = CliRunner().invoke(app, ["derive", "examples:one_path", "--format", "tex"],
                                    catch_exceptions=False)
        assert result.exit_code == 0 and result.output.startswith("\\documentclass")
        assert not os.listdir(folder)


# ---------------------------------------------------------------- a parameter the output ignores

UNUSED = {"name": "unusedp", "expression": "x*y", "params": ["x", "y", "w"]}
UNUSED_AT = {"x": 1.5, "y": 2.0, "w": 3.0}


def _unused():
    with pytest.warns(UserWarning, match="does not depend on w"):
        return sp.derive(sp.load(dict(UNUSED)))


@pytest.mark.parametrize("values", [None, UNUSED_AT], ids=["symbolic", "at"])
def test_unused_parameter_has_gradient_zero_in_every_format(values):
    d = _unused()
    txt = render.to_text(d, values)
    assert "f does not depend on w" in txt and "∂f/∂w = 0\n" in txt
    for fmt in ("md", "tex"):
        assert r"\frac{\partial f}{\partial w} &= 0" in render.render(d, values, fmt)


def test_unused_parameter_from_the_command_line(tmp_path):
    spec = tmp_path / "unusedp.yaml"
    spec.write_text("expression: \"x*y\"\nparams: [x, y, w]\n", encoding="utf-8")
    with pytest.warns(UserWarning):
        result = CliRunner().invoke(app, ["derive", str(spec), "-f", "txt"])
    assert result.exit_code == 0, result.output
    assert "∂f/∂w = 0" in result.output


@latex
@needs_latex
def test_unused_parameter_document_compiles(tmp_path):
    code, log, _ = _pdflatex(render.to_latex(_unused(), UNUSED_AT), tmp_path)
    assert code == 0, [line for line in log.splitlines() if line.startswith("!")]


# ---------------------------------------------------------------- --max-params

TANH3 = {"name": "tanh3", "inputs": 3, "loss": "softmax_cross_entropy",
         "layers": [{"units": 3, "activation": "tanh"}, {"units": 2, "activation": "tanh"},
                    {"units": 3, "activation": "softmax"}]}  # 12 + 8 + 9 = 29 parameters
TANH3_AT = {"x": [0.1, -0.2, 0.3], "y": [0, 1, 0], "lr": 0.1, "params": {
    "W1": [[0.1, 0.2, 0.3]] * 3, "b1": [0.0] * 3, "W2": [[0.2, -0.1, 0.1]] * 2,
    "b2": [0.1] * 2, "W3": [[0.3, -0.3]] * 3, "b3": [0.0] * 3}}


def _shown(txt: str) -> list[str]:
    """The parameters whose chain-rule products a text document works out."""
    return re.findall(r"^    ∂C/∂(\S+) = \[", txt, re.M)


@pytest.mark.parametrize("cap", [28, 20, 9, 2])
def test_max_params_works_out_that_many_from_every_layer(cap):
    from symbprop.render.gradients import selected

    d = sp.derive(sp.load(dict(TANH3)))
    names = selected(d, cap)
    assert len(names) == cap and names == [n for n in d.params if n in names]
    assert {n[1] for n in names} == ({"1", "3"} if cap < 3 else {"1", "2", "3"})
    txt = render.to_text(d, TANH3_AT, max_params=cap)
    assert len(_shown(txt)) == cap
    rest = 29 - cap
    assert f"... and {rest} more parameter{'s' if rest > 1 else ''} of the same form" in txt
    assert len(rows_after(txt.splitlines(), "parameter")) == cap  # the gradient-step table
    assert f"({rest} more parameter{'s are' if rest > 1 else ' is'} not listed.)" in txt


def test_max_params_takes_whole_rows_first():
    from symbprop.render.gradients import selected, shares

    d = sp.derive(sp.load(dict(TANH3)))
    assert shares({1: 12, 2: 8, 3: 9}, 20) == {1: 7, 2: 6, 3: 7}
    assert selected(d, 20) == [
        "W1[0,0]", "W1[0,1]", "W1[0,2]", "W1[1,0]", "W1[1,1]", "W1[1,2]", "b1[0]",
        "W2[0,0]", "W2[0,1]", "W2[0,2]", "W2[1,0]", "W2[1,1]", "b2[0]",
        "W3[0,0]", "W3[0,1]", "W3[1,0]", "W3[1,1]", "W3[2,0]", "b3[0]", "b3[1]"]
    assert selected(d, 29) == list(d.params)


def test_max_params_default_is_twenty(tmp_path):
    spec = tmp_path / "tanh3.yaml"
    spec.write_text(__import__("yaml").safe_dump(TANH3), encoding="utf-8")
    result = CliRunner().invoke(app, ["derive", str(spec), "-f", "txt"])
    assert result.exit_code == 0, result.output
    assert len(_shown(result.output)) == 20 and "... and 9 more parameters" in result.output


# ---------------------------------------------------------------- reproducible PDFs


@latex
@needs_latex
def test_two_pdf_builds_are_byte_identical():
    from symbprop.render.pdf import compile_pdf

    tex = document("staged", True, "tex")
    first = compile_pdf(tex, runs=1)
    time.sleep(1.1)  # pdfTeX's dates (and the /ID made from them) have one-second resolution
    assert compile_pdf(tex, runs=1) == first


def test_pdflatex_environment_fixes_the_date(monkeypatch):
    from symbprop.render.pdf import reproducible_env

    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    env = reproducible_env()
    assert env["SOURCE_DATE_EPOCH"].isdigit() and env["FORCE_SOURCE_DATE"] == "1"
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    assert reproducible_env()["SOURCE_DATE_EPOCH"] == "1700000000"  # the caller's wins


# ---------------------------------------------------------------- long chain-rule products


def _widths_by_pdflatex(formulas: list[str], folder: Path) -> list[float]:
    body = "\n".join(rf"\settowidth{{\w}}{{$\displaystyle {f}$}}\typeout{{WIDTH \the\w}}"
                     for f in formulas)
    code, log, _ = _pdflatex("\\documentclass[11pt]{article}\\usepackage{amsmath,amssymb}"
                          f"\\newlength{{\\w}}\\begin{{document}}\n{body}\n\\end{{document}}",
                          folder)
    assert code == 0
    return [float(w) for w in re.findall(r"^WIDTH ([\d.]+)pt", log, re.M)]


@latex
@needs_latex
def test_width_estimate_is_within_a_fifth_of_pdflatex(tmp_path):
    from symbprop.render.measure import latex_width
    from symbprop.render.style import Style

    d = sp.derive(sp.load(dict(TANH3)))
    s = Style("tex")
    formulas = [s.expr(f.value) for f in d.chain("W1[0,0]")[1]]
    formulas += [s.expr(Partial(f.of, f.wrt)) for f in d.chain("W1[0,0]")[1]]
    formulas += [r"\boxed{0.241301} \cdot \boxed{1.09591}", s.expr(d.gradient("W2[1,0]"))]
    for formula, measured in zip(formulas, _widths_by_pdflatex(formulas, tmp_path),
                                 strict=True):
        assert abs(latex_width(formula) - measured) <= 0.2 * measured, formula


def test_chain_lines_are_filled_by_width_and_continue_indented():
    tex = render.to_latex(sp.derive(sp.load(dict(TANH3))), max_params=3)
    first = next(line for line in tex.splitlines()
                 if line.startswith(r"\frac{\partial C}{\partial w^{1}_{00}} &= "))
    assert first.count(r"\boxed") == 6  # the whole product fits on one line (from delta^3)
    deep = render.to_latex(sp.derive(sp.mlp([2, 2, 2, 2, 2, 2, 1], activation="tanh")),
                           max_params=2, max_paths=1)
    assert "\n &\\qquad{}\\cdot{} \\boxed{" in deep  # 15 factors: a continuation, indented
    txt = render.to_text(sp.derive(sp.mlp([2, 2, 2, 2, 2, 2, 1], activation="tanh")),
                         max_params=2, max_paths=1)
    assert re.search(r"^ {13}  · \[", txt, re.M)


@latex
@needs_latex
def test_long_chains_stay_on_the_page(tmp_path):
    tex = render.to_latex(sp.derive(sp.mlp([2, 2, 2, 2, 2, 2, 2, 1], activation="tanh")),
                          max_params=2, max_paths=2)
    code, log, _ = _pdflatex(tex, tmp_path)
    assert code == 0 and max(overfull_boxes(log), default=0.0) <= OVERFULL_LIMIT_PT


# ---------------------------------------------------------------- pictures

BIG = {"name": "big", "expression": "exp(x*y) + log(1+x**2)*sin(y)", "params": ["x", "y"]}
NODE = re.compile(r"^\\node\[var\] \((v\d+)\) at \(([-\d.]+), ([-\d.]+)\)", re.M)
EDGE = re.compile(r"^\\draw\[->[^\]]*\] \((v\d+)\) -- (.*?)node\[bwd, (\w+)=1pt, sloped\] "
                  r"\{(.*)\} \((v\d+)\);$", re.M)


def _graph(spec, values) -> tuple[dict, list]:
    from symbprop.render.graph_tikz import graph_picture

    d = sp.derive(sp.load(spec))
    tikz, _ = graph_picture(d, render.style.Style("tex", network=False,
                                                  graph_output=d.model.output),
                            render.numbers.point(d, values) if values else None)
    nodes = {m[0]: (float(m[1]), float(m[2])) for m in NODE.findall(tikz)}
    return nodes, EDGE.findall(tikz)


def test_small_graph_keeps_its_layout():
    nodes, edges = _graph("examples:staged", "examples:staged")
    assert nodes == {"v0": (0.0, 1.7), "v1": (0.0, 0.0), "v2": (0.0, -1.7), "v3": (4.6, 0.0),
                     "v4": (9.2, 0.0)}
    assert [e[3] for e in edges] == [r"$\left(-4\right) \cdot 1 = -4$"] * 2 + [
        r"$1 \cdot \left(-4\right) = -4$", r"$1 \cdot 3 = 3$"]


def test_large_graph_is_laid_out_without_overprinting():
    from symbprop.render.graph_tikz import CLEARANCE_CM, MAX_WIDTH_CM

    nodes, edges = _graph(dict(BIG), {"x": 0.5, "y": 1.0})
    xs = [x for x, _ in nodes.values()]
    assert max(xs) - min(xs) <= MAX_WIDTH_CM - 2  # centres; not shrunk to an unreadable size
    assert all(" = " not in label for *_, label, _ in edges)  # compact: the value only
    for source, via, _, _, target in edges:
        (x0, y0), (x1, y1) = nodes[source], nodes[target]
        for node, (x, y) in nodes.items():  # a straight edge passes no node
            if not via and x0 < x < x1 and node not in (source, target):
                assert abs(y0 + (y1 - y0) * (x - x0) / (x1 - x0) - y) >= CLEARANCE_CM


def test_edge_labels_leave_room_for_the_arrows():
    nodes, edges = _graph("examples:exp_inverse", "examples:exp_inverse")
    assert nodes["v1"][0] - nodes["v0"][0] > 4.6  # widened for "1.64872 · (−0.25) = −0.41218"
    assert all(side in ("above", "below") for _, _, side, _, _ in edges)


@latex
@needs_latex
def test_large_graph_document_compiles(tmp_path):
    code, log, _ = _pdflatex(render.to_latex(sp.derive(sp.load(dict(BIG))), {"x": 0.5, "y": 1.0}),
                          tmp_path)
    assert code == 0 and max(overfull_boxes(log), default=0.0) <= OVERFULL_LIMIT_PT


def test_network_weight_labels_stay_off_crossing_edges():
    from symbprop.render.tikz import CLEAR, label_positions

    places = label_positions(2, 2, 4.2, [(j, k) for j in range(2) for k in range(2)])
    for j, k in ((0, 1), (1, 0)):  # the two crossing edges cross at pos 0.5, y = 0
        t = places[j, k]
        y = (0.85 if k == 0 else -0.85) * (1 - 2 * t)
        assert ((4.2 * (t - 0.5) / 2) ** 2 + y ** 2) ** 0.5 >= CLEAR
    tex = document("two_two_one", False)
    assert "pos=0.25] {$w^{1}_{01}$}" in tex and "and the loss $C$." in tex


# ---------------------------------------------------------------- wording


def test_wording_of_counts_seed_and_losses():
    assert "3 dense layers on 1 input, 6 parameters" in document("chain", False, "txt")
    assert "∂C/∂a³ⱼ = 2·(a³ⱼ - yⱼ)" in document("chain", False, "txt")
    assert "C = -Σⱼ yⱼ·log(a²ⱼ)" in document("iris_4_16_3", False, "txt")
    staged = document("staged", True, "txt")
    assert staged.count("∂f/∂f = 1") == 1 and "∂f/∂f ·" not in staged
    assert "    ∂f/∂q = z\n          = -4\n" in staged
