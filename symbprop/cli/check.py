"""``symbprop check SPEC [--at VALUES] [--samples N] [--strategy] [--target] [--float32]``."""

from __future__ import annotations

from typing import Annotated

import typer

from symbprop.cli.console import out
from symbprop.cli.options import SEED, SPEC_HELP, at_least, load_spec
from symbprop.errors import SymbpropError


def command(
    spec: Annotated[str, typer.Argument(metavar="SPEC", help=SPEC_HELP)],
    at: Annotated[str | None, typer.Option(
        "--at", metavar="VALUES",
        help="A values file (or examples:NAME) to check at, besides the random points.")] = None,
    samples: Annotated[int, typer.Option(
        metavar="N", callback=at_least(0),
        help="Random points to check at (0 only with --at).")] = 5,
    strategy: Annotated[str, typer.Option(
        metavar="STRATEGY", help="auto (every lowering that applies), unrolled or looped.")
    ] = "auto",
    target: Annotated[str, typer.Option(
        metavar="TARGET", help="numba (compiled) or numpy (plain NumPy, no Numba).")] = "numba",
    float32: Annotated[bool, typer.Option(
        "--float32", help="Also check float32 kernels.", metavar="")] = False,
    seed: Annotated[int, typer.Option(
        metavar="N", callback=SEED, help="Seed of the random points.")] = 0,
) -> None:
    """Cross-check symbolic, compiled and finite-difference gradients; exit 1 on disagreement."""
    from symbprop.crosscheck.compare import check  # Numba: only when the command runs
    from symbprop.crosscheck.report import TOLERANCES

    if samples == 0 and at is None:
        raise SymbpropError("--samples 0 without --at: nothing to check; give --samples 1 or "
                            "more, or --at VALUES")
    model = load_spec(spec)
    dtypes = ("float64", "float32") if float32 else ("float64",)
    report = check(model, values=at, samples=samples, strategy=strategy, dtypes=dtypes, seed=seed,
                   target=target)
    out().print(report.table())
    tolerances = ", ".join(f"{k} atol {a:g} rtol {r:g}" for k, (a, r) in TOLERANCES.items())
    typer.echo(f"max abs err {report.max_abs_err:.3g}, max rel err {report.max_rel_err:.3g} "
               f"(tolerances, atol scaled by max(1, max |gradient|): {tolerances})")
    if not report.ok:
        failed = [row for row in report.rows if not row.ok]
        why = ("some values could not be compared (see the notes under the table)"
               if all(row.note for row in failed) else "the gradients disagree (rows marked FAIL)")
        typer.echo(f"symbprop check: {why}", err=True)
        raise typer.Exit(1)

