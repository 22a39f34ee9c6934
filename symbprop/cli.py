"""The ``symbprop`` command line: a thin layer over the Python API (DESIGN.md §1).

Each command lives in ``symbprop/commands/<name>.py`` as a function ``command`` with Typer
annotations; this module registers them and turns every ``SymbpropError`` into one message on
stderr and exit status 2 (no traceback).
"""

from __future__ import annotations

import functools
import importlib
import sys

import typer

from .errors import SymbpropError

COMMANDS = ("derive", "generate", "check", "train", "bench", "examples")

app = typer.Typer(
    name="symbprop",
    help="Derive, explain and compile backpropagation.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def user_errors(function):
    """Report bad input as ``symbprop: error: <message>`` and exit 2."""

    @functools.wraps(function)
    def wrapper(*args, **kwargs):
        try:
            return function(*args, **kwargs)
        except SymbpropError as err:
            print(f"symbprop: error: {err}", file=sys.stderr)
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
        app.command(name, help=module.command.__doc__)(user_errors(module.command))


_register()


def main() -> None:
    app()
