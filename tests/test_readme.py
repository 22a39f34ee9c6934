"""The README's Python examples run, in order, and print what the README says they print.

A ```python block followed (with at most a short line such as "prints" in between) by a ```text
block must print exactly that text.  Blocks marked ```python no-run are shown, not run.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
from pathlib import Path

import pytest

README = Path(__file__).resolve().parent.parent / "README.md"
FENCE = re.compile(r"^```([\w-]*)([^\n]*)\n(.*?)^```\s*$", re.S | re.M)


def blocks():
    text = README.read_text(encoding="utf-8")
    found = [
        (m.group(1), m.group(2).strip(), m.group(3), m.start(), m.end())
        for m in FENCE.finditer(text)
    ]
    pairs = []
    for i, (lang, flags, body, _, end) in enumerate(found):
        if lang != "python" or "no-run" in flags:
            continue
        expected = None
        if i + 1 < len(found) and found[i + 1][0] == "text":
            between = text[end : found[i + 1][3]].strip()
            if len(between) <= 30:
                expected = found[i + 1][2]
        pairs.append((body, expected))
    return pairs


def test_readme_examples_run_and_print_what_they_say(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv(
        "SYMBPROP_CACHE_DIR", os.environ.get("SYMBPROP_CACHE_DIR", str(tmp_path / "cache"))
    )
    namespace: dict = {}
    examples = blocks()
    assert examples, "the README has Python examples"
    for body, expected in examples:
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            exec(compile(body, str(README), "exec"), namespace)  # noqa: S102 - our own README
        if expected is not None:
            assert out.getvalue().rstrip() == expected.rstrip(), body


#: The README's first install: light (no torch, no jax), in a virtual environment; .ci/run runs
#: exactly this line, then adds the bench extra.
INSTALL = 'pip install -e ".[dev,plot]"'
VENV = "python -m venv .venv && . .venv/bin/activate"


@pytest.mark.parametrize("command", ["venv", "install", "test"])
def test_readme_starts_with_the_setup_commands(command):
    first_block = FENCE.search(README.read_text(encoding="utf-8")).group(3).splitlines()
    wanted = {"venv": VENV, "install": INSTALL, "test": "python -m pytest"}[command]
    assert any(line.startswith(wanted) for line in first_block[:4])
    installs = [line.split("#")[0].strip() for line in first_block if line.startswith("pip ")]
    assert installs == [INSTALL], "the first install is the light one, without bench"


def test_ci_installs_the_readme_line_then_the_bench_and_dask_extras():
    ci = (README.parent / ".ci" / "run").read_text(encoding="utf-8")
    commands = [line.strip() for line in ci.splitlines() if line.strip().startswith("pip ")]
    assert commands[0] == INSTALL
    extras = {extra for line in commands[1:]
              for group in re.findall(r"""["']\.\[([\w,]+)\]["']""", line)
              for extra in group.split(",")}
    assert {"bench", "dask"} <= extras, extras


def test_readme_names_the_bench_extra_where_torch_and_jax_are_used():
    text = README.read_text(encoding="utf-8")
    for heading in ("\n### Speed (`python benchmarks/train_digits.py`)", "\n## Speed\n",
                    "\n## Development\n"):
        section = text[text.index(heading) + 1 :]
        section = section[: section.find("\n#", 1)]
        assert '.[bench]"' in section and "torch==2.13.0" in section, heading


def test_readme_links_only_what_the_repository_holds():
    """Every relative link and image resolves to a file of the checkout; the design document and
    the lecture notes ("seeds"), which are not in it, are neither linked nor required."""
    text = README.read_text(encoding="utf-8")
    for target in re.findall(r"\]\(([^)#]+)\)", text):
        if not re.match(r"[a-z]+://", target):
            assert (README.parent / target).exists(), target
    assert "DESIGN.md" not in text and "shared/" not in text and "design document" not in text
    first_citation = re.search(r"\bseeds? 00\d", text).start()
    assert "five sets of lecture notes" in text[:first_citation], "say what the seeds are first"


def test_readme_says_what_loss_and_grad_with_out_returns():
    """The bullet on ``loss_and_grad(..., out=)`` states the return value the code gives."""
    import numpy as np

    import symbprop as sp

    k = sp.compile(sp.load("examples:two_two_one"))
    params = k.init_params(seed=0)
    X, Y = np.array([[0.05, 0.1]]), np.array([[0.01]])
    loss, grads = k.loss_and_grad(params, X, Y)
    returned = k.loss_and_grad(params, X, Y, out=grads)
    assert isinstance(returned, tuple) and returned[1] is grads and returned[0] == loss
    bullet = re.search(r"^- `loss_and_grad\(params, X, Y, out=None\)`.*?(?=^- )",
                       README.read_text(encoding="utf-8"), re.S | re.M).group(0)
    bullet = " ".join(bullet.split())
    assert "returns `(loss, out)`" in bullet and "returns `out`" not in bullet, bullet


@pytest.mark.latex
def test_derivation_page_picture_is_the_current_pdf(tmp_path):
    """docs/derivation-page.png is the page the README says, rendered from today's document
    (same pixels); regenerate it with the command in the failure message."""
    import shutil
    import subprocess

    image = pytest.importorskip("PIL.Image")
    if not (shutil.which("pdflatex") and shutil.which("pdftoppm")):
        pytest.skip("needs pdflatex and pdftoppm (texlive, poppler-utils)")
    import numpy as np
    from typer.testing import CliRunner

    from symbprop.cli.app import app

    text = README.read_text(encoding="utf-8")
    page = re.search(r"`pdftoppm -png -r (\d+) -f (\d+) -l \2`", text)
    assert page and "docs/derivation-page.png" in text
    dpi, number = page.groups()
    pdf = tmp_path / "x.pdf"
    result = CliRunner().invoke(app, ["derive", "examples:two_two_one", "--at",
                                      "examples:two_two_one", "--format", "pdf", "-o", str(pdf)])
    assert result.exit_code == 0, result.output
    subprocess.run(["pdftoppm", "-png", "-r", dpi, "-f", number, "-l", number, "-singlefile",
                    str(pdf), str(tmp_path / "page")], check=True)
    fresh = np.asarray(image.open(tmp_path / "page.png").convert("RGB"))
    committed = np.asarray(image.open(README.parent / "docs" / "derivation-page.png")
                           .convert("RGB"))
    assert fresh.shape == committed.shape and (fresh == committed).all(), (
        "docs/derivation-page.png is stale: symbprop derive examples:two_two_one --at "
        "examples:two_two_one --format pdf -o x.pdf && pdftoppm -png -r "
        f"{dpi} -f {number} -l {number} -singlefile x.pdf docs/derivation-page")
