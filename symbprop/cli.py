"""The ``symbprop`` command line: a thin layer over the Python API (DESIGN.md §1).

Each command lives in ``symbprop/commands/<name>.py`` as a function ``command`` with Typer
annotations; this module registers them.  Every error in the input comes out as one line on
stderr, ``symbprop: error: <message>``, with exit status 2 and no traceback:

* a ``SymbpropError`` raised by a command (bad spec, values, data, output path), and
* a usage error found while parsing the command line (unknown command or option, a value of
  the wrong type or out of range): ``--batch: must be at least 1, got -3 (see 'symbprop bench
  --help')``, naming the option, instead of Typer's boxed multi-line report.
"""

from __future__ import annotations

import functools
import importlib
import sys
from typing import Annotated

import typer
from typer.core import TyperCommand, TyperGroup

from .errors import SymbpropError

COMMANDS = ("derive", "generate", "check", "train", "bench", "examples")

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


class Group(TyperGroup):
    """Typer's group, with usage errors reported by ``usage_message`` (see the docstring)."""

    def main(self, *args, standalone_mode: bool = True, **kwargs):
        if not standalone_mode:
            return super().main(*args, standalone_mode=False, **kwargs)
        try:
            status = super().main(*args, standalone_mode=False, **kwargs)
        except _CLICK_ERROR as err:
            if type(err).__name__ == "NoArgsIsHelpError":  # the help is the message
                if err.format_message().strip():  # (Typer has printed it already)
                    print(err.format_message(), file=sys.stderr)
                raise SystemExit(err.exit_code) from None
            fail(usage_message(err), err.exit_code)
        except typer.Abort:
            fail("aborted", 1)
        raise SystemExit(status if isinstance(status, int) else 0)


class Command(TyperCommand):
    """Typer's command, with a required argument shown as ``SPEC`` in the usage line (Typer
    writes ``{SPEC}``)."""

    def collect_usage_pieces(self, ctx) -> list[str]:
        pieces = super().collect_usage_pieces(ctx)
        return [p[1:-1] if p.startswith("{") and p.endswith("}") else p for p in pieces]


app = typer.Typer(
    name="symbprop",
    help="Derive, explain and compile backpropagation.",
    cls=Group,
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _print_version(value: bool) -> None:
    if value:
        from . import __version__

        typer.echo(f"symbprop {__version__}")
        raise typer.Exit()


@app.callback()
def _options(
    version: Annotated[bool, typer.Option(
        "--version", callback=_print_version, is_eager=True, metavar="",
        help="Print the version (the one stamped into generated modules) and exit.")] = False,
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
            module = importlib.import_module(f".commands.{name}", __package__)
        except ModuleNotFoundError as err:
            if err.name and err.name.startswith(f"{__package__}.commands"):
                continue  # a command not built yet
            raise
        app.command(name, cls=Command, help=module.command.__doc__)(user_errors(module.command))


_register()


def main() -> None:
    app()
