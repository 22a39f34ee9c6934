"""``symbprop bench SPEC [--batch N ...] [--dtype ...] [--threads N|auto ...] [--repeat N]
[--no-peers]``."""

from __future__ import annotations

from typing import Annotated

import typer

from symbprop.bench.tables import table
from symbprop.bench.timing import MIN_REPEAT, REPEAT, bench, roofline_gflops
from symbprop.cli.console import out
from symbprop.cli.options import SPEC_HELP, THREADS_HELP, at_least, load_spec, threads_option


def command(
    spec: Annotated[str, typer.Argument(metavar="SPEC", help=SPEC_HELP)],
    batch: Annotated[list[int] | None, typer.Option(
        metavar="N", callback=at_least(1),
        help="Batch sizes, at least 1 (repeat the option; default 1 and 64). Networks only: a "
        "graph has no batch.")] = None,
    dtype: Annotated[list[str] | None, typer.Option(
        metavar="DTYPE", help="float64 and/or float32.")] = None,
    threads: Annotated[list[str] | None, typer.Option(
        metavar="N|auto", callback=threads_option,
        help=THREADS_HELP + " Repeat the option for one table per count (--threads 1 "
        "--threads 2); the peers run with the same count.")] = None,
    peers: Annotated[bool, typer.Option(
        help="Also time NumPy, PyTorch and JAX (networks).", metavar="")] = True,
    repeat: Annotated[int, typer.Option(
        metavar="N", callback=at_least(MIN_REPEAT),
        help=f"Measurements per implementation, interleaved (at least {MIN_REPEAT}); fewer "
        "run sooner, with a rougher percentile.")] = REPEAT,
) -> None:
    """Time loss-and-gradient calls of the compiled kernels against NumPy (and PyTorch and JAX
    when installed), side by side; prints times per call and ratios, under a description of
    the machine (CPU, SIMD flags, BLAS libraries and their threads, load).  For an expression
    or graph, times its kernels alone: the flat call and the dict call."""
    # Imported here: threadpoolctl and SciPy's BLAS load when the timing starts, not for --help.
    from symbprop.bench.machine import machine_lines

    model = load_spec(spec)
    printer = out()
    for number, count in enumerate(threads or [None]):
        rows = bench(model, tuple(batch or (1, 64)), tuple(dtype or ("float64",)),
                     with_peers=peers, threads=count, repeat=repeat)
        if number == 0:  # after the first run: an error is then the only line printed
            for line in machine_lines():
                printer.print(line, markup=False, highlight=False, soft_wrap=True)
        used = rows[0].threads if rows else count
        roofline = roofline_gflops(threads=used) if model.kind == "network" else None
        printer.print(table(rows, roofline))
        if roofline:
            printer.print(f"matmul roofline (the kernels' BLAS, 1024² float64, "
                          f"{used or 'default'} thread{'' if used == 1 else 's'}): "
                          f"{roofline:.1f} GFLOP/s")
    if model.kind == "graph":
        printer.print(f"{model.name} is a graph: each call evaluates it once at one point "
                      "(--batch does not apply); NumPy, PyTorch and JAX are timed for networks "
                      "only")
