"""generated/ holds the kernels of every bundled example, exactly as symbprop generates them."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from symbprop import examples
from symbprop.cli import app
from symbprop.codegen import regenerate_examples

REPO = Path(__file__).resolve().parent.parent
GENERATED = REPO / "generated"


def test_regenerated_kernels_are_byte_identical_to_the_committed_ones(tmp_path):
    written = regenerate_examples(tmp_path)
    assert sorted(p.parent.name for p in written) == examples.names()
    for path in written:
        committed = GENERATED / path.parent.name / "kernels.py"
        assert committed.exists(), f"{committed} is missing; run symbprop.codegen." \
                                   "regenerate_examples()"
        assert path.read_bytes() == committed.read_bytes(), (
            f"{committed} is stale; run python -c 'from symbprop.codegen import "
            "regenerate_examples; regenerate_examples()'")


@pytest.mark.parametrize("name", ["two_two_one", "staged", "digits_64_32_10"])
def test_committed_kernels_import_and_run_without_sympy(name, tmp_path):
    path = GENERATED / name / "kernels.py"
    script = (
        "import sys; sys.modules['sympy'] = None; sys.modules['symbprop'] = None\n"
        "import importlib.util, numpy as np\n"
        f"spec = importlib.util.spec_from_file_location('k', {str(path)!r})\n"
        "k = importlib.util.module_from_spec(spec); spec.loader.exec_module(k)\n"
        "theta = np.linspace(-1, 1, k.N_PARAMS)\n"
        "if hasattr(k, 'SIZES'):\n"
        "    X, Y = np.ones((2, k.SIZES[0])), np.zeros((2, k.SIZES[-1])); Y[:, 0] = 1\n"
        "    value, grad = k.loss_and_grad(theta, X, Y)\n"
        "else:\n"
        "    value, grad = k.loss_and_grad(theta)\n"
        "assert np.isfinite(value) and grad.shape == theta.shape\n"
    )
    # The committed folder must stay clean: Numba's cache goes to a temporary copy.
    copy = tmp_path / "kernels.py"
    copy.write_bytes(path.read_bytes())
    script = script.replace(repr(str(path)), repr(str(copy)))
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                            env={**os.environ, "PYTHONPATH": ""}, cwd=tmp_path)
    assert result.returncode == 0, result.stderr


def test_generate_command_and_its_check_flag(tmp_path):
    runner = CliRunner()
    out = str(tmp_path)
    result = runner.invoke(app, ["generate", "examples:two_two_one", "-o", out, "--check"])
    assert result.exit_code == 1 and "stale" in result.output and "missing" in result.output
    result = runner.invoke(app, ["generate", "examples:two_two_one", "-o", out])
    assert result.exit_code == 0, result.output
    assert f"wrote {tmp_path / 'two_two_one' / 'kernels.py'} (unrolled, float64" in result.output
    result = runner.invoke(app, ["generate", "examples:two_two_one", "-o", out, "--check"])
    assert result.exit_code == 0 and "up to date" in result.output
    result = runner.invoke(app, ["generate", "examples:two_two_one", "-o", out, "--check",
                                 "--strategy", "looped"])
    assert result.exit_code == 1 and "differs" in result.output
    result = runner.invoke(app, ["generate", "examples:nope", "-o", out])
    assert result.exit_code == 2 and "no such example" in result.output
    result = runner.invoke(app, ["generate", "examples:two_two_one", "-o", out,
                                 "--strategy", "fast"])
    assert result.exit_code == 2 and "allowed: auto, unrolled, looped" in result.output
