"""``symbprop bench SPEC [--batch N ...] [--dtype ...] [--no-peers]``."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console

from ..bench import bench, roofline_gflops, table
from ..spec import load


def command(
    spec: Annotated[str, typer.Argument(help="A spec file, or examples:NAME.")],
    batch: Annotated[
        list[int] | None, typer.Option(help="Batch sizes (repeat the option).")
    ] = None,
    dtype: Annotated[list[str] | None, typer.Option(help="float64 and/or float32.")] = None,
    peers: Annotated[bool, typer.Option(help="Also time NumPy, PyTorch and JAX.")] = True,
) -> None:
    """Time loss-and-gradient calls of the compiled kernels against NumPy (and PyTorch and JAX
    when installed), side by side; prints times per call and ratios."""
    model = load(spec)
    rows = bench(model, tuple(batch or (1, 64)), tuple(dtype or ("float64",)), with_peers=peers)
    roofline = roofline_gflops() if model.kind == "network" else None
    console = Console(width=110)
    console.print(table(rows, roofline))
    if roofline:
        console.print(f"machine matmul roofline (NumPy 1024² float64): {roofline:.1f} GFLOP/s")
