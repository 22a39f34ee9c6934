"""generated/ holds the kernels of every bundled example, exactly as symbprop generates them."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from symbprop import examples
from symbprop.cli.app import app
from symbprop.goldens import regenerate_examples

REPO = Path(__file__).resolve().parent.parent
GENERATED = REPO / "generated"


def test_regenerated_kernels_are_byte_identical_to_the_committed_ones(tmp_path):
    written = regenerate_examples(tmp_path)
    assert sorted(p.parent.name for p in written) == examples.names()
    for path in written:
        committed = GENERATED / path.parent.name / "kernels.py"
        assert committed.exists(), f"{committed} is missing; run symbprop.goldens." \
                                   "regenerate_examples()"
        assert path.read_bytes() == committed.read_bytes(), (
            f"{committed} is stale; run python -c 'from symbprop.goldens import "
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
    spaced = tmp_path / "my kernels"
    result = runner.invoke(app, ["generate", "examples:two_two_one", "-o", str(spaced), "--check"])
    assert f"run: symbprop generate examples:two_two_one -o '{spaced}'" in result.output
    result = runner.invoke(app, ["generate", "examples:nope", "-o", out])
    assert result.exit_code == 2 and "no such example" in result.output
    result = runner.invoke(app, ["generate", "examples:two_two_one", "-o", out,
                                 "--strategy", "fast"])
    assert result.exit_code == 2 and "allowed: auto, unrolled, looped" in result.output


def test_the_numba_cache_loads_however_the_module_is_imported(tmp_path):
    """Numba's cache records the module name it compiled under and imports it again on load
    (numba#10485); the generated module registers a fixed name, so importing the same file by
    importlib without sys.modules, under another name, or as a plain module all load it."""
    copy = tmp_path / "kernels.py"
    copy.write_bytes((GENERATED / "xor" / "kernels.py").read_bytes())
    load = ("import importlib.util, sys, numpy as np\n"
            "spec = importlib.util.spec_from_file_location({name!r}, {path!r})\n"
            "k = importlib.util.module_from_spec(spec)\n"
            "{register}spec.loader.exec_module(k)\n")
    run = ("theta = np.linspace(-1, 1, k.N_PARAMS)\n"
           "X = np.array([[0., 0.], [0., 1.], [1., 0.], [1., 1.]])\n"
           "Y = np.array([[0.], [1.], [1.], [0.]])\n"
           "theta, history = k.train(theta, X, Y, 0.5, 3, 2, 0)\n"
           "print(repr(float(k.loss(theta, X, Y))))\n")
    scripts = [load.format(name="k", path=str(copy), register="") + run,
               load.format(name="k", path=str(copy), register="") + run,
               load.format(name="other", path=str(copy), register="sys.modules[spec.name] = k\n")
               + run,
               "import kernels as k, numpy as np\n" + run]
    outputs = []
    for script in scripts:
        result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                                cwd=tmp_path, env={**os.environ, "PYTHONPATH": str(tmp_path)})
        assert result.returncode == 0, result.stderr
        outputs.append(result.stdout)
    assert len(set(outputs)) == 1
    assert any(p.suffix == ".nbi" for p in (tmp_path / "__pycache__").iterdir())


def test_committed_kernels_have_no_unused_imports_or_locals():
    """Generated code is read by people: nothing in it is dead (pyflakes' F401, F841)."""
    pytest.importorskip("ruff")
    files = sorted(str(p) for p in GENERATED.glob("*/kernels.py"))
    result = subprocess.run(
        [sys.executable, "-m", "ruff", "check", "--isolated", "--no-cache", "--select",
         "F401,F841", *files], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout
