"""Hostile output paths, failing streams, signals and first-contact mistakes on the command line.

Every bad case must give one line ``symbprop: error: <path>: <problem>`` on stderr, exit status
2, no traceback, and nothing half-written on disk.  Categories (each test says which):

* paths: a file name longer than the file system allows, a symbolic-link loop, a folder path
  ("newdir/") where a file is expected, an unwritable folder, a full disk, stdout on /dev/full;
* pdf: the temporary folders of pdflatex after SIGTERM and SIGKILL;
* exact: the check's exact side at a float whose decimal repr is not its binary value;
* polish: what ``derive -o`` reports, formulas typed as SPEC, the help of every command.

Oracles: the file system (``os.listdir``), mpmath at the float's exact binary value, and
``sp.expression`` with a spec file written by the test.
"""

from __future__ import annotations

import errno
import os
import re
import signal
import subprocess
import sys
import time
import warnings
from pathlib import Path

import mpmath
import pytest
from typer.testing import CliRunner

import symbprop as sp
from symbprop.cli.app import COMMANDS, app

pytestmark = pytest.mark.usefixtures("kernel_cache_dir")
runner = CliRunner()
LONG = "a" * 300
HAS_LATEX = subprocess.run(["which", "pdflatex"], capture_output=True).returncode == 0


def _one_line_error(result, *expected: str) -> str:
    assert result.exit_code == 2, result.output
    text = result.output.strip()
    assert "\n" not in text, text
    assert text.startswith("symbprop: error: "), text
    assert "Traceback" not in text
    for part in expected:
        assert part in text, text
    return text


def _run(args, cwd, stdout=subprocess.PIPE, env=None, timeout=240):
    return subprocess.run([sys.executable, "-m", "symbprop", *args], cwd=cwd, stdout=stdout,
                          stderr=subprocess.PIPE, text=True, timeout=timeout,
                          env={**os.environ, **(env or {})})


# every command that writes a file, with the option that names it ({} is the path)
WRITERS = {
    "derive -o": ["derive", "examples:staged", "--format", "txt", "-o", "{}.txt"],
    "generate -o": ["generate", "examples:staged", "-o", "{}"],
    "train --save": ["train", "examples:xor", "--data", "xor", "--epochs", "1", "--save",
                     "{}.npz"],
    "train --plot": ["train", "examples:quadratic", "--steps", "2", "--plot", "{}.png"],
}


def _args(writer: str, path: str) -> list[str]:
    return [a.replace("{}", path) for a in WRITERS[writer]]


# ---------------------------------------------------------------- paths


@pytest.mark.parametrize("writer", WRITERS)
def test_a_file_name_too_long_is_one_line(tmp_path, writer):
    path = str(tmp_path / LONG)
    text = _one_line_error(runner.invoke(app, _args(writer, path)), "file name too long",
                           "at most 255")
    assert text.startswith(f"symbprop: error: {writer.split()[-1]} ")  # names the option
    assert len(text) < 300  # the 300 characters are shortened
    assert os.listdir(tmp_path) == []


@pytest.mark.parametrize("writer", WRITERS)
def test_a_path_too_long_is_one_line(tmp_path, writer):
    path = "/".join([str(tmp_path), *["b" * 250] * 20])  # each name fits, the whole does not
    _one_line_error(runner.invoke(app, _args(writer, path)), "path too long", "4095 bytes")
    assert os.listdir(tmp_path) == []


@pytest.mark.parametrize("size", [249, 250, 255])
def test_a_name_near_the_limit_is_written_or_refused_in_one_line(tmp_path, size):
    # the atomic writer's temporary name is longer than the file's: at the limit it may not fit
    target = tmp_path / ("c" * (size - 4) + ".txt")
    result = runner.invoke(app, ["derive", "examples:staged", "-o", str(target), "-q"])
    if result.exit_code == 0:
        assert os.listdir(tmp_path) == [target.name] and result.output == ""
    else:
        _one_line_error(result, "name too long")
        assert os.listdir(tmp_path) == []


def test_a_full_device_as_output_file_is_one_line(tmp_path):
    _one_line_error(runner.invoke(app, ["derive", "examples:staged", "--format", "txt", "-o",
                                        "/dev/full"]), "/dev/full: cannot write (No space")


@pytest.mark.parametrize("writer", WRITERS)
@pytest.mark.parametrize("inside", [False, True], ids=["link", "under-link"])
def test_a_symlink_loop_is_one_line(tmp_path, writer, inside):
    suffix = {"derive -o": ".txt", "train --save": ".npz", "train --plot": ".png"}.get(writer, "")
    loop = tmp_path / f"loop{suffix}"
    loop.symlink_to(loop.name)
    path = f"{loop}/x" if inside else str(tmp_path / "loop")
    _one_line_error(runner.invoke(app, _args(writer, path)), "symbolic link loop")
    assert os.listdir(tmp_path) == [loop.name]


@pytest.mark.parametrize("args", [
    ["derive", "examples:staged", "--format", "txt"],
    ["derive", "examples:staged", "--format", "txt", "-o", "-"],
    ["examples", "staged"],
    ["examples"],
    ["check", "examples:staged", "--samples", "1"],
    ["train", "examples:quadratic", "--steps", "2"],
    ["derive", "--help"],
], ids=lambda a: " ".join(a))
def test_stdout_on_a_full_device_is_one_line(tmp_path, args):
    with open("/dev/full", "w") as full:
        done = _run(args, tmp_path, stdout=full)
    assert done.returncode == 2, done.stderr
    assert done.stderr == ("symbprop: error: standard output (/dev/full): cannot write (no "
                           "space left on device)\n")
    assert os.listdir(tmp_path) == []


def test_generate_reports_on_stderr_so_a_full_stdout_does_not_matter(tmp_path):
    with open("/dev/full", "w") as full:
        done = _run(["generate", "examples:staged", "-o", "out"], tmp_path, stdout=full)
    assert done.returncode == 0, done.stderr
    assert done.stderr.startswith("wrote out/staged/kernels.py")
    assert os.listdir(tmp_path / "out" / "staged") == ["kernels.py"]


@pytest.mark.parametrize("option, args, example", [
    ("-o", ["derive", "examples:staged"], "derivation.pdf"),
    ("--save", ["train", "examples:xor", "--data", "xor", "--epochs", "1"], "params.npz"),
    ("--plot", ["train", "examples:quadratic", "--steps", "2"], "loss.png"),
])
def test_a_folder_path_that_does_not_exist_says_so(tmp_path, option, args, example):
    target = f"{tmp_path}/newdir/"
    text = _one_line_error(runner.invoke(app, [*args, option, target]),
                           f"{option} {target}: ends in '/'", "no such folder exists",
                           f"such as {tmp_path}/newdir/{example}")
    assert "is a directory" not in text
    assert os.listdir(tmp_path) == []


def _failing(monkeypatch, folder: Path, err: OSError, where: str) -> None:
    """Make writes under ``folder`` fail (elsewhere, the kernel cache, nothing changes): at
    creating the atomic writer's temporary file ("create", as in an unwritable folder) or at
    writing into it ("write", a full disk)."""
    import tempfile

    real_mkstemp, real = tempfile.mkstemp, os.fdopen

    def inside(fd: int) -> bool:
        return os.readlink(f"/proc/self/fd/{fd}").startswith(str(folder))

    if where == "create":
        def refuse(*args, **kwargs):
            if str(kwargs.get("dir", "")).startswith(str(folder)):
                raise err
            return real_mkstemp(*args, **kwargs)
        monkeypatch.setattr(tempfile, "mkstemp", refuse)
        return

    class Full:
        def __init__(self, stream):
            self.stream = stream

        def write(self, data):
            self.stream.write(data[: len(data) // 2])  # part of it reached the disk
            raise err

        def __getattr__(self, name):
            return getattr(self.stream, name)

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            self.stream.close()

    monkeypatch.setattr(os, "fdopen", lambda fd, *a, **k: Full(real(fd, *a, **k))
                        if inside(fd) else real(fd, *a, **k))


@pytest.mark.parametrize("writer", WRITERS)
@pytest.mark.parametrize("where, err, message", [
    ("write", OSError(errno.ENOSPC, "No space left on device"), "no space left on device"),
    ("create", PermissionError(errno.EACCES, "Permission denied"), "permission denied"),
], ids=["full-disk", "unwritable"])
def test_a_failed_write_leaves_nothing(tmp_path, monkeypatch, writer, where, err, message):
    folder = tmp_path / "out"
    folder.mkdir()
    _failing(monkeypatch, folder, err, where)
    result = runner.invoke(app, _args(writer, str(folder / "result")))
    assert result.exit_code == 2, result.output
    text = result.output.strip().splitlines()[-1]  # train has shown its summary before
    assert text.startswith("symbprop: error: ") and "cannot write" in text, result.output
    assert message in text.lower() and "result" in text and "Traceback" not in result.output
    leftovers = [str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file()]
    assert leftovers == []


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_a_read_only_folder_is_refused_before_any_work(tmp_path):
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o500)
    try:
        _one_line_error(runner.invoke(app, _args("derive -o", str(folder / "x"))),
                        "is not writable")
        assert os.listdir(folder) == []
    finally:
        folder.chmod(0o700)


# ---------------------------------------------------------------- pdf temporary folders


def _pdf_folders(root: Path) -> list[Path]:
    return sorted(root.glob("symbprop-pdf-*"))


def _start_pdf(tmp_path: Path, temp: Path) -> subprocess.Popen:
    """``derive --format pdf`` with its temporary folder under ``temp``, once pdflatex runs."""
    process = subprocess.Popen(
        [sys.executable, "-m", "symbprop", "derive", "examples:nielsen_232", "--at",
         "examples:nielsen_232", "-o", "doc.pdf"], cwd=tmp_path, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True, env={**os.environ, "TMPDIR": str(temp)})
    deadline = time.monotonic() + 120
    while not any((f / "derivation.tex").exists() for f in _pdf_folders(temp)):
        assert process.poll() is None and time.monotonic() < deadline, process.communicate()
        time.sleep(0.01)
    return process


@pytest.mark.skipif(not HAS_LATEX, reason="pdflatex is not installed")
def test_sigterm_during_pdflatex_removes_the_temporary_folder(tmp_path):
    temp = tmp_path / "tmp"
    temp.mkdir()
    process = _start_pdf(tmp_path, temp)
    (folder,) = _pdf_folders(temp)
    assert folder.name.startswith(f"symbprop-pdf-{process.pid}-")  # the owner's pid
    process.send_signal(signal.SIGTERM)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 128 + signal.SIGTERM
    assert "Traceback" not in stderr and "terminated" in stderr
    assert _pdf_folders(temp) == [] and not (tmp_path / "doc.pdf").exists()


@pytest.mark.skipif(not HAS_LATEX, reason="pdflatex is not installed")
def test_sigkill_leaves_a_folder_that_the_next_run_removes(tmp_path):
    temp = tmp_path / "tmp"
    temp.mkdir()
    process = _start_pdf(tmp_path, temp)
    process.kill()
    process.communicate(timeout=60)
    time.sleep(0.5)  # pdflatex, orphaned, may still write into the folder for a moment
    (stale,) = _pdf_folders(temp)
    live = temp / f"symbprop-pdf-{os.getpid()}-keep"  # a running process's folder stays
    live.mkdir()
    other = temp / "symbprop-pdf-notapid"  # a name without a pid is not ours to judge
    other.mkdir()
    done = _run(["derive", "examples:staged", "-o", "doc.pdf", "-q"], tmp_path,
                env={"TMPDIR": str(temp)})
    assert done.returncode == 0, done.stderr
    assert not stale.exists() and live.exists() and other.exists()
    assert (tmp_path / "doc.pdf").read_bytes().startswith(b"%PDF")


# ---------------------------------------------------------------- exact side of the check

# The exact side must be evaluated at the float's binary value: 5e-324 is 4.94065645841...e-324,
# and the double nearest 0.1 is 0.1000000000000000055511151231257827...
def _decimal_differs(x: float, c: float) -> bool:
    """x·c correctly rounded differs between the binary x and its decimal repr."""
    with mpmath.workdps(60):
        exact = float(mpmath.mpf(x) * mpmath.mpf(c))
        decimal = float(mpmath.mpf(repr(x)) * mpmath.mpf(c))
    return exact != decimal


def _first_point_where_repr_matters() -> float:
    for k in range(1, 10_000):
        x = k / 7
        if repr(x) != f"{mpmath.mpf(x)}" and _decimal_differs(x, 3.0):
            return x
    raise AssertionError("no such point")


@pytest.mark.parametrize("formula, x", [
    ("x * 1e15", 5e-324),  # a subnormal: repr 5e-324 is 1.2 % away from the binary value
    ("x * 3", _first_point_where_repr_matters()),
], ids=["subnormal", "repr-differs"])
def test_the_check_evaluates_the_exact_side_at_the_binary_value(formula, x):
    from symbprop.crosscheck.compare import check

    model = sp.expression(formula, params=["x"])
    constant = float(formula.split("*")[1])
    with mpmath.workdps(60):
        oracle = float(mpmath.mpf(x) * mpmath.mpf(constant))  # correctly rounded
    assert x * constant == oracle  # IEEE multiplication is correctly rounded: the kernel's
    result = sp.derive(model).evaluate({"x": x})
    assert result["loss"] == oracle
    with warnings.catch_warnings():  # the finite difference at a subnormal x divided 0 by 0
        warnings.simplefilter("error", RuntimeWarning)
        report = check(model, values={"x": x}, samples=0)
    loss_row = next(row for row in report.rows if row.group == "loss")
    assert report.ok and loss_row.max_abs_err == 0.0


# ---------------------------------------------------------------- polish (issue 22)


@pytest.mark.parametrize("name, expected", [
    ("notes.md", r"wrote .*notes\.md \(\d+(\.\d)? (bytes|kB)\)"),
    pytest.param("notes.pdf", r"wrote .*notes\.pdf \((\d+) pages?\)",
                 marks=pytest.mark.skipif(not HAS_LATEX, reason="no pdflatex")),
])
def test_derive_says_what_it_wrote_unless_quiet(tmp_path, name, expected):
    target = tmp_path / name
    result = runner.invoke(app, ["derive", "examples:staged", "-o", str(target)])
    assert result.exit_code == 0, result.output
    match = re.fullmatch(expected, result.output.strip())
    assert match, result.output
    data = target.read_bytes()
    if name.endswith(".pdf"):  # pages as pdftoppm counts them
        info = subprocess.run(["pdfinfo", str(target)], capture_output=True, text=True)
        if info.returncode == 0:
            pages = re.search(r"Pages:\s+(\d+)", info.stdout).group(1)
            assert match.group(1) == pages
    else:
        size = len(data)
        assert f"{size} bytes" in result.output or f"{size / 1000:.1f} kB" in result.output
    quiet = runner.invoke(app, ["derive", "examples:staged", "-o", str(target), "-q"])
    assert quiet.exit_code == 0 and quiet.output == ""


FORMULA = "(x + y) * z"


def test_a_formula_as_spec_is_the_expression(tmp_path):
    spec = tmp_path / "expression.yaml"
    spec.write_text(f'expression: "{FORMULA}"\nparams: [x, y, z]\n', encoding="utf-8")
    inline = runner.invoke(app, ["derive", FORMULA, "--format", "txt"])
    from_file = runner.invoke(app, ["derive", str(spec), "--format", "txt"])
    assert inline.exit_code == 0, inline.output
    assert inline.output == from_file.output
    # the model SPEC names, against sympy.diff of the formula (every name a variable)
    import sympy

    from symbprop.cli.options import load_spec

    model = load_spec(FORMULA)
    x, y, z = sympy.symbols("x y z")
    point = {"x": 1.5, "y": -2.0, "z": 0.25}
    grad = sp.derive(model).evaluate(point)["grad"]
    assert model.params == ("x", "y", "z")
    for v in (x, y, z):
        assert grad[v.name] == float(sympy.diff((x + y) * z, v).subs(point))


@pytest.mark.parametrize("args", [
    ["generate", FORMULA, "-o", "{tmp}", "-q"],
    ["check", FORMULA, "--samples", "2"],
    ["train", "(x - 3) * (x - 3)", "--steps", "50", "--lr", "0.25"],
    ["bench", FORMULA, "--no-peers", "--repeat", "3"],
], ids=lambda a: a[0])
def test_every_command_takes_a_formula(tmp_path, args):
    result = runner.invoke(app, [a.replace("{tmp}", str(tmp_path)) for a in args])
    assert result.exit_code == 0, result.output
    if args[0] == "generate":
        assert (tmp_path / "expression" / "kernels.py").exists()
    if args[0] == "train":  # gradient descent reaches the minimum x = 3 (the oracle)
        assert re.search(r"x = 3(\.0+)?\b", result.output), result.output


@pytest.mark.parametrize("spec, expected", [
    ("nope.yaml", "nope.yaml: no such file; SPEC is a spec file (YAML), examples:NAME"),
    ("spec", "spec: no such file; SPEC is a spec file (YAML)"),
    ("(x + ", "(x + : no such file, and not a formula: "),
    ("__import__('os')", "no such file"),
    ("x.y", "x.y: no such file"),
    ("2 * 3", "has no variables"),
])
@pytest.mark.parametrize("command", ["derive", "check", "generate", "train", "bench"])
def test_a_spec_that_is_neither_file_nor_formula_says_how_to_write_one(command, spec, expected):
    _one_line_error(runner.invoke(app, [command, spec]), expected)


@pytest.mark.parametrize("command", COMMANDS)
@pytest.mark.parametrize("columns", ["80", "200"])
def test_help_shows_no_python_types(command, columns):
    result = CliRunner(env={"COLUMNS": columns}).invoke(app, [command, "--help"])
    assert result.exit_code == 0
    assert not re.search(r"<(str|bool|int|float|path|list\[\w+\])>", result.output), result.output
    if command != "examples":
        assert re.search(r"│ \*\s+SPEC\s+A spec file", result.output), result.output


@pytest.mark.parametrize("columns", ["80", "120"])
def test_the_command_list_has_one_line_per_command(columns):
    result = CliRunner(env={"COLUMNS": columns}).invoke(app, ["--help"])
    assert result.exit_code == 0 and "<bool>" not in result.output
    panel = result.output.split("Commands")[1].splitlines()[1:]
    rows = [line for line in panel if line.startswith("│")]
    assert [row.split()[1] for row in rows] == list(COMMANDS), result.output


def test_training_a_network_with_a_huge_rate_warns_once(tmp_path):
    """``train --lr 1e300`` on a network saturated every unit and reported a finished run with
    no word; it now warns, once, in one line, and still trains (it is allowed)."""
    result = _run(["train", "examples:xor", "--data", "xor", "--lr", "1e300", "--epochs", "1",
                   "--no-progress"], tmp_path)
    assert result.returncode == 0, result.stderr
    warned = [line for line in result.stderr.splitlines() if "warning" in line]
    assert warned == ["symbprop: warning: lr: 1e+300 is more than 1,000,000: a step of gradient "
                      "descent this long diverges, overflows to inf, or drives every unit into "
                      "saturation so that the loss stops changing; usual rates are 1e-4 to 1"]


def test_the_cli_says_each_warning_once(tmp_path):
    """One text warned twice in a command (a rate checked where a run is set up and where it
    starts, with Dask's ``catch_warnings`` between, which resets Python's "once") shows once."""
    script = ("import warnings\n"
              "from symbprop.cli.app import _one_line_warnings\n"
              "with _one_line_warnings():\n"
              "    warnings.warn('the same', UserWarning, stacklevel=1)\n"
              "    with warnings.catch_warnings():\n"
              "        pass\n"
              "    warnings.warn('the same', UserWarning, stacklevel=1)\n"
              "    warnings.warn('another', UserWarning, stacklevel=1)\n")
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                            cwd=tmp_path, timeout=60)
    assert result.stderr.splitlines() == ["symbprop: warning: the same",
                                          "symbprop: warning: another"], result.stderr


def test_a_warning_is_one_line_naming_the_file(tmp_path):
    """polish: a warning (here a learning rate of 1e300) is ``symbprop: warning: <message>``,
    one line, not Python's ``file:line: UserWarning:`` followed by a line of source."""
    values = tmp_path / "v.yaml"
    values.write_text("x: 1.0\nlr: 1e300\n")
    result = _run(["derive", "x**2", "--at", str(values), "--format", "txt"], tmp_path)
    assert result.returncode == 0, result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"symbprop: warning: {values}: lr:"), lines
