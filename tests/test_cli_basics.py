"""The command line as a new user meets it: help, examples, and exit 2 with one clear message."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from symbprop.cli.app import app

runner = CliRunner()


def test_help_lists_every_command():
    result = runner.invoke(app, ["--help"])
    assert result.exit_code == 0
    for command in ("derive", "examples"):
        assert command in result.output


@pytest.mark.parametrize("command", ["derive", "generate", "check", "bench", "train"])
def test_options_show_what_they_take_not_python_types(command):
    # Typer 0.29 labels an option by its annotation (<str>, <list[float]>) unless given a
    # metavar; ours say FILE, DIR, N, RATE, VALUES, ...
    result = runner.invoke(app, [command, "--help"], terminal_width=160)
    assert result.exit_code == 0
    rows = [line for line in result.output.splitlines()
            if line.lstrip("│ ").startswith("-") and "--help" not in line]
    typed = re.compile(r"\s<(str|int|float|path|list\[\w+\])>\s")
    assert rows and not [row for row in rows if typed.search(row)]


def test_python_dash_m_works():
    done = subprocess.run(
        [sys.executable, "-m", "symbprop", "--help"], capture_output=True, text=True
    )
    assert done.returncode == 0 and "derive" in done.stdout


def test_examples_list_and_print():
    listing = runner.invoke(app, ["examples"])
    assert listing.exit_code == 0 and "two_two_one" in listing.output and "staged" in listing.output
    spec = runner.invoke(app, ["examples", "staged"])
    assert spec.exit_code == 0 and 'q: "x + y"' in spec.output


def test_unknown_example_exits_2_without_traceback():
    done = subprocess.run(
        [sys.executable, "-m", "symbprop", "examples", "nope"], capture_output=True, text=True
    )
    assert done.returncode == 2
    assert "no such example; examples: chain" in done.stderr
    assert "Traceback" not in done.stderr
