"""The ``symbprop`` command line: a thin layer over the Python API (the README is its reference).

Each command lives in ``symbprop/cli/<name>.py`` as a function ``command`` with Typer
annotations; this module registers them.  Every error in the input comes out as one line on
stderr, ``symbprop: error: <message>``, with exit status 2 and no traceback:

* a ``SymbpropError`` raised by a command (bad spec, values, data, output path), and
* a usage error found while parsing the command line (unknown command or option, a value of
  the wrong type or out of range): ``--batch: must be at least 1, got -3 (see 'symbprop bench
  --help')``, naming the option, instead of Typer's boxed multi-line report;
* a failed write to stdout (``> /dev/full``): ``standard output (/dev/full): cannot write (no
  space left on device)``; any other ``OSError`` that escaped a command names its file.

SIGTERM becomes an exit with status 143 that runs ``with`` blocks and ``finally`` clauses on its
way out (pdflatex's temporary folder is removed).  ``--help`` shows what each argument and
option takes (``SPEC``, ``FILE``), never a Python type, and ``symbprop --help`` lists each
command on one line (``SHORT_HELP``).
"""

from __future__ import annotations

import contextlib
import functools
import importlib
import os
import signal
import sys
import threading
from typing import Annotated

import typer
from typer.core import TyperCommand, TyperGroup

from symbprop.errors import SymbpropError

COMMANDS = ("derive", "generate", "check", "train", "bench", "examples", "exercise")
#: One line per command for ``symbprop --help`` (the docstring, each command's own --help,
#: is longer): short enough that the list does not wrap on an 80-column terminal.
SHORT_HELP = {
    "derive": "Write the derivation of SPEC as a document (tex, pdf, md, txt).",
    "generate": "Write the Numba kernel module of SPEC.",
    "check": "Cross-check symbolic, compiled and finite-difference gradients.",
    "train": "Train a network on data, or run gradient descent on SPEC.",
    "bench": "Time the compiled kernels against NumPy, PyTorch and JAX.",
    "examples": "List the bundled example specs, or print one.",
    "exercise": "Write exercise sheets with verified answer keys.",
}

#: Click's usage-error base class (Typer ≥ 0.16 vendors Click, so it is found through Typer).
_CLICK_ERROR = next(c for c in typer.BadParameter.__mro__ if c.__name__ == "ClickException")


def fail(message: str, status: int = 2):
    """Print ``symbprop: error: <message>`` on stderr and exit with ``status``."""
    print(f"symbprop: error: {message}", file=sys.stderr)
    raise SystemExit(status)


def usage_message(err) -> str:
    """One line for a Click usage error: the option (or argument) it concerns, the problem,
    the value when known, and where to read the usage."""
    param, text = getattr(err, "param", None), err.format_message()
    if param is not None and err.message and type(err).__name__ != "MissingParameter":
        names = [o for o in param.opts if o.startswith("--")] or list(param.opts)
        is_argument = param.param_type_name == "argument"
        where = param.human_readable_name if is_argument else names[0]
        problem = err.message[:1].lower() + err.message[1:].split(", unable to parse")[0]
        value = _input_value(err)
        got = f", got {value!r}" if value is not None and ", got" not in problem else ""
        text = f"{where}: {problem.rstrip('.')}{got}"
    text = text.strip().rstrip(".")
    ctx = getattr(err, "ctx", None)
    return f"{text} (see '{ctx.command_path} --help')" if ctx is not None else text


def _input_value(err):
    """The offending text of a type-conversion error, when Typer's validator kept it."""
    errors = getattr(err.__cause__, "errors", None)
    try:
        return errors()[0]["input"] if callable(errors) else None
    except Exception:  # noqa: BLE001 - only a nicer message is at stake
        return None


class _Group(TyperGroup):
    """Typer's group, with usage errors reported by ``usage_message`` and failed writes to
    stdout by ``output_failed`` (see the module docstring)."""

    def main(self, *args, standalone_mode: bool = True, **kwargs):
        if not standalone_mode:
            return super().main(*args, standalone_mode=False, **kwargs)
        try:
            with _sigterm_exits(), _one_line_warnings():
                status = super().main(*args, standalone_mode=False, **kwargs)
                sys.stdout.flush()  # a full disk shows here when the output was buffered
        except OSError as err:  # stdout on a full disk, or a file error no check foresaw
            fail(output_failed(err))
        except _CLICK_ERROR as err:
            if type(err).__name__ == "NoArgsIsHelpError":  # the help is the message
                if err.format_message().strip():  # (Typer has printed it already)
                    print(err.format_message(), file=sys.stderr)
                raise SystemExit(err.exit_code) from None
            fail(usage_message(err), err.exit_code)
        except typer.Abort:
            fail("aborted", 1)
        raise SystemExit(status if isinstance(status, int) else 0)


def _skip_the_last_collection() -> None:
    """Freeze every object now alive (``gc.freeze``), so that Python's collection at exit does
    not walk them: after a kernel was compiled or loaded, Numba's and SymPy's objects made
    that last pass take 0.1–0.25 s, longer than many a command's own work.  Called by ``main``
    as the process ends, not by the command group (which ``typer.testing.CliRunner`` runs in
    a process that goes on): every file the command wrote is closed
    (``symbprop.files.atomic``), and an object in a reference cycle is freed with the process
    instead of being collected first."""
    import gc

    gc.freeze()


def output_failed(err: OSError) -> str:
    """The message for an ``OSError`` that reached the command line.  Without a file name it
    is a failed write to stdout (every file is written by ``symbprop.files.atomic``, which names the
    path): stdout is then pointed at /dev/null, else Python would fail again flushing it at
    exit."""
    from symbprop.cli.options import shorten

    problem = (err.strerror or str(err)).lower()
    if err.filename:
        return f"{shorten(str(err.filename))}: cannot read or write ({problem})"
    where = "standard output"
    with contextlib.suppress(OSError, ValueError, AttributeError):
        where += f" ({os.readlink(f'/proc/self/fd/{sys.stdout.fileno()}')})"
    with contextlib.suppress(OSError, ValueError, AttributeError):
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    return f"{where}: cannot write ({problem})"


@contextlib.contextmanager
def _one_line_warnings():
    """Warnings (a huge learning rate, a fallback) as ``symbprop: warning: <message>``, one
    line, instead of Python's ``file:line: UserWarning:`` and a line of symbprop's source; each
    text once (a rate checked where the run is set up and again where it starts is one
    warning; Python's own "once" filter forgets at every ``catch_warnings``, which Dask uses)."""
    import warnings

    original = warnings.formatwarning
    said: set[str] = set()

    def one_line(message, *_args, **_kwargs) -> str:
        if str(message) in said:
            return ""  # showwarning writes nothing
        said.add(str(message))
        return f"symbprop: warning: {message}\n"

    warnings.formatwarning = one_line
    try:
        yield
    finally:
        warnings.formatwarning = original


class Terminated(SystemExit):
    """SIGTERM, raised where the program is, so that ``with`` blocks and ``finally`` clauses
    run (temporary folders are removed) before the exit with status 143 (128 + SIGTERM)."""


@contextlib.contextmanager
def _sigterm_exits():
    """SIGTERM raises ``Terminated`` while the block runs (in the main thread; elsewhere
    nothing changes); the previous handler is restored after."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def terminate(signum, frame):
        print("symbprop: terminated", file=sys.stderr)
        raise Terminated(128 + signal.SIGTERM)

    previous = signal.signal(signal.SIGTERM, terminate)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _help_option_without_type(cls):
    """``cls`` whose ``--help`` has no type column (Typer 0.29 writes ``<bool>`` there)."""

    class WithHelp(cls):
        def get_help_option(self, ctx):
            option = super().get_help_option(ctx)
            if option is not None and option.metavar is None:
                option.metavar = ""
            return option

    WithHelp.__name__ = WithHelp.__qualname__ = cls.__name__
    return WithHelp


@_help_option_without_type
class Group(_Group):
    """The top-level group (see ``_Group``); its ``--help`` shows no ``<bool>``."""


@_help_option_without_type
class Command(TyperCommand):
    """Typer's command, with a required argument shown as ``SPEC`` in the usage line (Typer
    writes ``{SPEC}``) and in the help's argument table without a type column (Typer 0.29
    writes ``SPEC <str>`` although the argument has a metavar)."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        for param in self.params:
            if param.param_type_name == "argument":
                param.display_type_rich = _no_type  # the metavar already says what it takes

    def collect_usage_pieces(self, ctx) -> list[str]:
        pieces = super().collect_usage_pieces(ctx)
        return [p[1:-1] if p.startswith("{") and p.endswith("}") else p for p in pieces]


def _no_type(ctx) -> None:
    return None


app = typer.Typer(
    name="symbprop",
    help="Derive, explain and compile backpropagation.",
    cls=Group,
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode="rich",  # help text as written: no Markdown reading of * and _
    pretty_exceptions_enable=False,
)


def _print_version(value: bool) -> None:
    if value:
        from symbprop.version import __version__

        typer.echo(f"symbprop {__version__}")
        raise typer.Exit()


@app.callback()
def _options(
    version: Annotated[bool, typer.Option(
        "--version", callback=_print_version, is_eager=True, metavar="",
        help="Print the version stamped into generated modules, and exit.")] = False,
) -> None:
    """Derive, explain and compile backpropagation."""


def user_errors(function):
    """Report bad input as ``symbprop: error: <message>`` and exit 2."""

    @functools.wraps(function)
    def wrapper(*args, **kwargs):
        try:
            return function(*args, **kwargs)
        except SymbpropError as err:
            print(f"symbprop: error: {err}", file=sys.stderr)
            raise typer.Exit(2) from None
        except MemoryError:  # a size far beyond the machine: a message, not a traceback
            print("symbprop: error: not enough memory for this input (a size, --batch or "
                  "--epochs far too large?)", file=sys.stderr)
            raise typer.Exit(2) from None

    return wrapper


def _register() -> None:
    for name in COMMANDS:
        try:
            module = importlib.import_module(f"symbprop.cli.{name}")
        except ModuleNotFoundError as err:
            if err.name == f"symbprop.cli.{name}":
                continue  # a command not built yet
            raise
        app.command(name, cls=Command, help=module.command.__doc__,
                    short_help=SHORT_HELP[name])(user_errors(module.command))


_register()


def main() -> None:
    """The ``symbprop`` command (``python -m symbprop``): run it, then exit the process."""
    try:
        app()
    finally:
        _skip_the_last_collection()
