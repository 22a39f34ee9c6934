"""``symbprop bench SPEC [--batch N ...] [--dtype ...] [--no-peers]``."""

from __future__ import annotations

from typing import Annotated

import typer

from symbprop.bench.timing import bench, roofline_gflops, table
from symbprop.cli.console import out
from symbprop.cli.options import SPEC_HELP, at_least, load_spec


def command(
    spec: Annotated[str, typer.Argument(metavar="SPEC", help=SPEC_HELP)],
    batch: Annotated[list[int] | None, typer.Option(
        metavar="N", callback=at_least(1),
        help="Batch sizes, at least 1 (repeat the option; default 1 and 64). Networks only: a "
        "graph has no batch.")] = None,
    dtype: Annotated[list[str] | None, typer.Option(
        metavar="DTYPE", help="float64 and/or float32.")] = None,
    peers: Annotated[bool, typer.Option(
        help="Also time NumPy, PyTorch and JAX (networks).", metavar="")] = True,
) -> None:
    """Time loss-and-gradient calls of the compiled kernels against NumPy (and PyTorch and JAX
    when installed), side by side; prints times per call and ratios.  For an expression or
    graph, times its kernels alone: the flat call and the dict call."""
    model = load_spec(spec)
    rows = bench(model, tuple(batch or (1, 64)), tuple(dtype or ("float64",)), with_peers=peers)
    roofline = roofline_gflops() if model.kind == "network" else None
    printer = out()
    printer.print(table(rows, roofline))
    if roofline:
        printer.print(f"machine matmul roofline (NumPy 1024² float64): {roofline:.1f} GFLOP/s")
    if model.kind == "graph":
        printer.print(f"{model.name} is a graph: each call evaluates it once at one point "
                      "(--batch does not apply); NumPy, PyTorch and JAX are timed for networks "
                      "only")
