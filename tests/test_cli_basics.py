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


@pytest.mark.parametrize(("args", "status", "says"), [
    (["--help"], 0, "derive"),
    (["examples"], 0, "two_two_one"),
    (["generate", "examples:none"], 2, "no such example"),
])
def test_python_dash_m_works_and_a_command_without_a_derivation_needs_no_sympy(args, status,
                                                                               says):
    """``python -m symbprop``; help, the example list and a refused spec answer without
    importing SymPy or Numba (about 0.3 s against 0.6 s with them)."""
    done = subprocess.run([sys.executable, "-X", "importtime", "-m", "symbprop", *args],
                          capture_output=True, text=True)
    assert done.returncode == status and says in done.stdout + done.stderr
    imported = {line.rpartition("|")[2].strip() for line in done.stderr.splitlines()
                if line.startswith("import time:")}
    assert "symbprop.cli.app" in imported and not imported & {"sympy", "numba"}


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


@pytest.mark.parametrize(("args", "status"), [(["examples"], 0),
                                              (["derive", "examples:staged", "--format", "txt"], 0),
                                              (["derive", "examples:none"], 2)])
def test_a_command_skips_the_last_garbage_collection(args, status):
    """When a command has run (done, or refused with exit status 2), every object is frozen
    (``gc.freeze``), so Python's collection at exit does not walk Numba's and SymPy's objects
    (0.1–0.25 s a command).  The output is whole."""
    script = ("import atexit, gc, sys\n"
              "atexit.register(lambda: print('frozen', gc.get_freeze_count() > 0))\n"
              "from symbprop.cli.app import main\n"
              f"sys.argv = ['symbprop', *{args!r}]\n"
              "main()\n")
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert result.stdout.splitlines()[-1] == "frozen True", result.stderr
    assert result.returncode == status
    if args[0] == "derive" and status == 0:
        assert "8. Insights" in result.stdout and "central ones)." in result.stdout
