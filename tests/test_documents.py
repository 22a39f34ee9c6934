"""The derivation documents: every bundled example compiles, the committed documents are fresh,
the numbers printed are the derivation's and match finite differences, the CLI's errors are clear.

Tests marked ``latex`` run ``pdflatex`` (two worker threads for the whole set, about 20 s); they
are skipped when pdflatex is missing.  Overfull boxes: a line may stick out into the margin by at
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
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import mpmath
import pytest
import sympy
from typer.testing import CliRunner

import symbprop as sp
from symbprop import examples, render
from symbprop.cli import app
from symbprop.errors import SymbpropError
from symbprop.functions import as_elementary
from symbprop.render.pdf import overfull_boxes
from symbprop.render.text import text
from symbprop.values import load_values

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
    d = sp.derive(sp.load(f"examples:{name}"))
    return render.render(d, f"examples:{name}" if at else None, fmt)


# ---------------------------------------------------------------- pdflatex on every example


def _pdflatex(source: str, folder: Path) -> tuple[int, str]:
    (folder / "doc.tex").write_text(source, encoding="utf-8")
    command = ["pdflatex", "-halt-on-error", "-interaction=nonstopmode", "doc.tex"]
    code = 0
    for _ in range(2):  # longtable settles its column widths on the second run
        code = subprocess.run(command, cwd=folder, capture_output=True, timeout=120).returncode
        if code:
            break
    log = (folder / "doc.log").read_text(encoding="utf-8", errors="replace")
    return code, log


@pytest.fixture(scope="module")
def compiled(tmp_path_factory) -> dict:
    """(name, at) -> (pdflatex exit code, log) for every case, two compilations at a time."""
    if not HAS_LATEX:
        pytest.skip("pdflatex is not installed")
    sources = {case: document(*case) for case in CASES}
    root = tmp_path_factory.mktemp("latex")

    def run(case):
        folder = root / case_id(case)
        folder.mkdir()
        return case, _pdflatex(sources[case], folder)

    with ThreadPoolExecutor(max_workers=2) as pool:
        return dict(pool.map(run, CASES))


@latex
@needs_latex
@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_every_example_compiles(compiled, case):
    code, log = compiled[case]
    errors = [line for line in log.splitlines() if line.startswith("!")]
    assert code == 0, errors


@latex
@needs_latex
@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_no_line_leaves_the_page(compiled, case):
    _, log = compiled[case]
    assert max(overfull_boxes(log), default=0.0) <= OVERFULL_LIMIT_PT


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


def test_missing_pdflatex_says_what_to_install(monkeypatch):
    from symbprop.render import pdf

    monkeypatch.setattr(pdf.shutil, "which", lambda name: None)
    with pytest.raises(SymbpropError, match="apt-get install texlive-latex-base "
                                            "texlive-latex-recommended texlive-pictures"):
        pdf.compile_pdf("\\documentclass{article}\\begin{document}x\\end{document}")


# ---------------------------------------------------------------- a 784-128-10 network


def test_mnist_sized_document_is_fast_and_small(tmp_path):
    out = tmp_path / "mnist.tex"
    start = time.perf_counter()
    result = CliRunner().invoke(app, ["derive", "examples:mnist_784_128_10", "--format", "tex",
                                      "-o", str(out)])
    elapsed = time.perf_counter() - start
    assert result.exit_code == 0, result.output
    assert elapsed < 10.0
    assert out.stat().st_size < 1_000_000
    tex = out.read_text(encoding="utf-8")
    assert "more parameters of the same form" in tex
    assert r"\cdots \text{ (" in tex  # a weight of layer 1 has 100 paths; a few are shown


# ---------------------------------------------------------------- committed documents, determinism


def test_generated_documents_are_fresh(tmp_path):
    written = render.regenerate_documents(tmp_path)
    assert len(written) == 2 * len(examples.names())
    for path in written:
        committed = ROOT / "generated" / path.relative_to(tmp_path)
        assert committed.exists(), f"{committed} is missing: run regenerate_documents()"
        assert committed.read_bytes() == path.read_bytes(), f"{committed} is stale"


def test_two_renders_are_byte_identical():
    first = document("nielsen_232", True, "tex") + document("one_node", True, "md")
    second = document("nielsen_232", True, "tex") + document("one_node", True, "md")
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
    labels = {text(d.element(n), network=d.model.kind == "network"): n for n in d.params}
    table = {labels[row[0]]: tuple(map(float, row[1:])) for row in rows_after(lines, "parameter")}
    return table, labels, lines


def fd_gradients(d, values) -> dict[str, float]:
    """Central differences of the composed loss, computed here (mpmath, 30 digits)."""
    vals = load_values(d.model, values)
    loss = as_elementary(d.composed_loss())
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
    before = re.search(r"After the step the loss is L = (\S+), (?:lower|not lower) than (\S+) "
                       r"before", doc.replace("\n", " "))
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
        n, j = int(layer), int(neuron)
        assert float(z) == pytest.approx(forward[f"z{n}"][j], rel=1e-5, abs=1e-12)
        assert float(a) == pytest.approx(forward[f"a{n}"][j], rel=1e-5, abs=1e-12)
        assert float(delta) == pytest.approx(deltas[f"delta{n}"][j], rel=1e-5, abs=1e-12)


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


def test_stdout_is_the_document():
    with tempfile.TemporaryDirectory() as folder:
        result = CliRunner().invoke(app, ["derive", "examples:one_path", "--format", "tex"],
                                    catch_exceptions=False)
        assert result.exit_code == 0 and result.output.startswith("\\documentclass")
        assert not os.listdir(folder)
