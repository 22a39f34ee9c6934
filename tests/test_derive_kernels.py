"""``symbprop derive --kernels``: the compiled kernels' gradients join the verification table."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

import symbprop as sp
from symbprop.cli.app import app
from symbprop.cli.derive import kernel_gradients
from symbprop.spec.values import load_values


@pytest.mark.parametrize("name", ["staged", "nielsen_232"])
def test_kernel_gradients_agree_with_the_derivation(name):
    d = sp.derive(sp.load(f"examples:{name}"))
    exact = d.evaluate(f"examples:{name}")["grad"]
    compiled = kernel_gradients(d, load_values(d.model, f"examples:{name}"))
    assert compiled.keys() == exact.keys()
    for param, value in exact.items():
        assert compiled[param] == pytest.approx(value, rel=1e-9, abs=1e-12)


def test_derive_kernels_adds_a_column():
    result = CliRunner().invoke(
        app,
        ["derive", "examples:staged", "--at", "examples:staged", "--format", "txt", "--kernels"],
    )
    assert result.exit_code == 0, result.output
    assert "kernels" in result.output.split("Verification")[1]


def test_kernels_needs_values():
    result = CliRunner().invoke(app, ["derive", "examples:staged", "--kernels"])
    assert result.exit_code == 2
