"""The command line's contract for bad input: one line ``symbprop: error: ...`` naming the option
or file and what is allowed, exit status 2, no traceback, nothing written; and output that a
build log can read (no wrapping, no trailing spaces when stdout is not a terminal)."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

import symbprop as sp
import symbprop.codegen.generator as codegen
from symbprop.cli.app import app

runner = CliRunner()


def _one_line_error(result, *expected: str) -> str:
    """The single error line of ``result``, after checking the contract."""
    assert result.exit_code == 2, result.output
    text = result.output.strip()
    assert "\n" not in text, text
    assert text.startswith("symbprop: error: "), text
    assert "Traceback" not in text and "╭" not in text
    for part in expected:
        assert part in text, text
    return text


# ---------------------------------------------------------------- usage errors


@pytest.mark.parametrize("args, expected", [
    (["check", "examples:xor", "--samples", "-1"], "--samples: must be at least 0, got -1"),
    (["bench", "examples:xor", "--batch", "-3"], "--batch: must be at least 1, got -3"),
    (["bench", "examples:xor", "--batch", "0"], "--batch: must be at least 1, got 0"),
    (["bench", "examples:xor", "--batch", "abc"], "--batch: "),
    (["derive", "examples:xor", "--max-params", "0"], "--max-params: must be at least 1, got 0"),
    (["train", "examples:xor", "--lr", "abc"], "--lr: "),
    (["train", "examples:xor", "--batch-size", "0"], "--batch-size: must be at least 1"),
    (["train", "examples:quadratic", "--steps", "-2"], "--steps: must be at least 0"),
    (["check", "examples:quadratic", "--seed", "-1"],
     f"--seed: must be from 0 to {2**63 - 1}, got -1"),
    (["train", "examples:xor", "--seed", str(2**64)], "--seed: must be from 0 to"),
    (["derive", "examples:xor", "--bogus"], "--bogus"),
    (["nope"], "nope"),
    (["derive"], "SPEC"),
])
def test_usage_errors_are_one_line_naming_the_option(args, expected):
    text = _one_line_error(runner.invoke(app, args), expected)
    assert f"symbprop {args[0]} --help" in text or args == ["nope"]


def test_bad_values_name_the_value():
    text = _one_line_error(runner.invoke(app, ["bench", "examples:xor", "--batch", "abc"]))
    assert "'abc'" in text and "integer" in text


@pytest.mark.parametrize("args", [
    ["train", "examples:xor", "--data", "xor", "--lr", "-1"],
    ["train", "examples:quadratic", "--lr", "0.1", "--lr", "-1"],
    ["derive", "examples:quadratic", "--at", "examples:quadratic", "--lr", "-1"],
])
def test_a_negative_learning_rate_names_lr(args):
    _one_line_error(runner.invoke(app, args), "--lr: must be a positive number, got -1.0")


@pytest.mark.parametrize("args, expected", [
    (["--schedule", "step", "--gamma", "2"], "--gamma: must be in (0, 1], got 2.0"),
    (["--schedule", "step", "--step-size", "0"], "--step-size: must be at least 1, got 0"),
    (["--schedule", "inverse", "--decay", "nan"], "--decay: must be a finite number ≥ 0, got nan"),
    (["--tol", "-1"], "--tol: must be a finite number ≥ 0, got -1.0"),
])
def test_schedule_options_are_checked_by_name_before_training(args, expected):
    result = runner.invoke(app, ["train", "examples:xor", "--data", "xor", *args])
    _one_line_error(result, expected)


@pytest.mark.parametrize("option", ["--strategy", "--dtype"])
def test_generate_check_with_a_bad_option_is_a_usage_error_not_stale(tmp_path, option):
    result = runner.invoke(app, ["generate", "examples:xor", "-o", str(tmp_path), "--check",
                                 option, "bogus"])
    _one_line_error(result, "unknown 'bogus'")


@pytest.mark.parametrize("check", [[], ["--check"]])
def test_generate_into_an_empty_folder_name_is_refused(tmp_path, monkeypatch, check):
    monkeypatch.chdir(tmp_path)  # -o "$OUT" with OUT unset must not write into the working folder
    result = runner.invoke(app, ["generate", "examples:xor", "-o", "", *check])
    _one_line_error(result, "-o: empty; give an output folder")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("args", [["--epochs", "5"], ["--schedule", "inverse"],
                                  ["--batch-size", "8"], ["--standardize"]])
def test_train_refuses_network_options_for_an_expression(args):
    result = runner.invoke(app, ["train", "examples:quadratic", *args])
    _one_line_error(result, f"{args[0]} is for training a network on --data; gradient descent "
                            "on an expression takes --lr, --steps, --tol, --at, --plot")


def test_train_refuses_expression_options_for_a_network():
    result = runner.invoke(app, ["train", "examples:xor", "--data", "xor", "--steps", "3"])
    _one_line_error(result, "--steps is for gradient descent on an expression")


def test_a_suffix_that_means_another_format_is_refused(tmp_path):
    result = runner.invoke(app, ["derive", "examples:staged", "--format", "txt", "-o",
                                 str(tmp_path / "notes.pdf")])
    _one_line_error(result, "the suffix means pdf but --format is txt")
    assert list(tmp_path.iterdir()) == []
    result = runner.invoke(app, ["derive", "examples:staged", "--format", "txt", "-o",
                                 str(tmp_path / "notes.text")])
    assert result.exit_code == 0 and (tmp_path / "notes.text").read_text().startswith("Back")


def test_memory_errors_are_one_line(monkeypatch):
    def exhausted(*args, **kwargs):
        raise MemoryError

    monkeypatch.setattr("symbprop.cli.bench.bench", exhausted)
    result = runner.invoke(app, ["bench", "examples:xor", "--no-peers"])
    _one_line_error(result, "not enough memory")


@pytest.mark.parametrize("command", ["derive", "generate", "check", "train", "bench"])
def test_usage_line_shows_the_spec_metavar(command):
    result = runner.invoke(app, [command, "--help"])
    assert result.exit_code == 0
    assert f"symbprop {command} [OPTIONS] SPEC" in result.output
    assert "{spec}" not in result.output and "{SPEC}" not in result.output


# ---------------------------------------------------------------- derive -o and --format


def test_output_with_a_trailing_slash_names_a_missing_folder(tmp_path):
    target = tmp_path / "somedir"
    text = _one_line_error(runner.invoke(app, ["derive", "examples:two_two_one", "-o",
                                               f"{target}/"]))
    assert text.endswith(f"-o {target}/: ends in '/', so it names a folder, and no such folder "
                         f"exists; -o takes a file name, such as {target}/derivation.pdf "
                         "(missing folders are created)")
    assert not target.exists()


def test_output_that_is_an_existing_directory_is_refused(tmp_path):
    _one_line_error(runner.invoke(app, ["derive", "examples:two_two_one", "-o", str(tmp_path)]),
                    f"-o {tmp_path}: is a directory")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("name", ["notes.docx", "notes"])
def test_an_unknown_output_suffix_is_refused(tmp_path, name):
    target = tmp_path / name
    _one_line_error(runner.invoke(app, ["derive", "examples:two_two_one", "-o", str(target)]),
                    ".tex, .pdf, .md", ".txt", "--format")
    assert not target.exists()


def test_format_and_suffix_are_case_insensitive(tmp_path):
    upper = tmp_path / "OUT.MD"
    assert runner.invoke(app, ["derive", "examples:staged", "-o", str(upper)]).exit_code == 0
    assert upper.read_text(encoding="utf-8").startswith("# Backpropagation")
    result = runner.invoke(app, ["derive", "examples:staged", "--format", "TXT"])
    assert result.exit_code == 0 and "\\documentclass" not in result.output
    explicit = tmp_path / "notes.docx"  # an explicit --format accepts any file name
    result = runner.invoke(app, ["derive", "examples:staged", "--format", "Md", "-o",
                                 str(explicit)])
    assert result.exit_code == 0 and explicit.read_text(encoding="utf-8").startswith("# ")


def test_output_under_a_regular_file_is_not_a_directory(tmp_path):
    blocker = tmp_path / "afile"
    blocker.write_text("x")
    _one_line_error(runner.invoke(app, ["derive", "examples:staged", "-o",
                                        str(blocker / "x.tex")]),
                    f"{blocker} is not a directory")


def test_version_is_the_one_stamped_into_generated_modules():
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0 and result.output == f"symbprop {sp.__version__}\n"
    assert f'SYMBPROP_VERSION = "{sp.__version__}"' in codegen.source(sp.load("examples:xor"))
