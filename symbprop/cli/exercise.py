"""``symbprop exercise SPEC [--seed N] [--count K] [--questions LIST] [--format F] -o DIR``.

Writes ``DIR/sheet-NN.<format>``, ``DIR/key-NN.<format>`` and ``DIR/values-NN.yaml`` for
NN = 01 … K (``symbprop.exercise``).  Every answer is checked before anything is written; a
disagreement is reported in one line and exits 1, with no file written.  What was written is
reported on stderr (``-q`` leaves it out).
"""

from __future__ import annotations

from typing import Annotated

import typer

from symbprop.cli.options import QUIET_HELP, SEED, SPEC_HELP, at_least, load_spec, output_folder
from symbprop.errors import SymbpropError


def command(
    spec: Annotated[str, typer.Argument(metavar="SPEC", help=SPEC_HELP)],
    out: Annotated[str | None, typer.Option(
        "-o", "--out", metavar="DIR", help="Output folder (created if missing); required.")
    ] = None,
    seed: Annotated[int, typer.Option(
        metavar="N", callback=SEED, help="Seed of the sheets' points (same seed, same files).")
    ] = 0,
    count: Annotated[int, typer.Option(
        metavar="K", callback=at_least(1, 99), help="How many sheets, each with its own point "
        "(1 to 99).")] = 1,
    questions: Annotated[str | None, typer.Option(
        metavar="LIST", help="Kinds of questions, comma-separated: forward, local, delta, "
        "chain, gradient, update, concept (default: all).")] = None,
    fmt: Annotated[str, typer.Option(
        "--format", "-f", metavar="FORMAT", help="pdf, tex or md (default: pdf).")] = "pdf",
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help=QUIET_HELP, metavar="")] = False,
) -> None:
    """Write exercise sheets for SPEC, a fresh point per sheet, with their answer keys (every
    answer checked against the compiled kernels and finite differences) and values files."""
    from symbprop.exercises import FORMATS, AnswerMismatch, exercise, kinds_of

    if out is None or not out.strip():
        raise SymbpropError("-o: missing; give the output folder, e.g. -o sheets/")
    name = fmt.lower()
    if name not in FORMATS:
        raise SymbpropError(f"--format: unknown format {fmt!r}; formats: {', '.join(FORMATS)}")
    try:
        kinds = kinds_of(questions)
    except SymbpropError as err:
        raise SymbpropError(f"--{err}") from None
    folder = output_folder(out, "-o", f"values-{count:02d}.yaml")
    model = load_spec(spec)
    try:
        result = exercise(model, seed=seed, count=count, questions=kinds, fmt=name, spec=spec)
    except AnswerMismatch as err:
        typer.echo(f"symbprop: error: {err}", err=True)
        raise typer.Exit(1) from None
    written = result.write(folder)
    if not quiet:
        typer.echo(f"wrote {len(written)} files to {folder}: sheet-NN.{name}, key-NN.{name}, "
                   f"values-NN.yaml for NN = 01 to {count:02d}", err=True)
