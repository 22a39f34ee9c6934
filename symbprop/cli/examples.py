"""``symbprop examples [NAME]``."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

import symbprop.examples as examples
from symbprop.cli.console import out


def command(
    name: Annotated[str | None, typer.Argument(
        metavar="NAME", help="An example to print (its YAML spec).")] = None,
) -> None:
    """List the bundled example specs, or print one (use it as examples:NAME)."""
    if name is not None:
        path = examples.example_path(name)
        typer.echo(path.read_text(encoding="utf-8"), nl=False)
        return
    table = Table(title="Bundled examples (use as examples:NAME)", show_lines=False)
    table.add_column("name", style="bold")
    table.add_column("values", justify="center")
    table.add_column("description")
    for example in examples.names():
        has_values = "yes" if examples.has_values(example) else ""
        table.add_row(example, has_values, examples.describe(example))
    out().print(table)

