"""``symbprop derive SPEC [--at VALUES] [--format tex|pdf|md|txt] [-o FILE] [--max-params N]``."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from ..errors import SymbpropError

SUFFIXES = {".tex": "tex", ".pdf": "pdf", ".md": "md", ".markdown": "md", ".txt": "txt"}


def command(
    spec: Annotated[str, typer.Argument(help="A spec file (YAML) or examples:NAME.")],
    at: Annotated[str | None, typer.Option(
        "--at", help="Values for a worked example: a YAML file or examples:NAME.")] = None,
    fmt: Annotated[str | None, typer.Option(
        "--format", "-f", help="tex, pdf, md or txt (default: from the -o suffix, else tex).",
    )] = None,
    output: Annotated[Path | None, typer.Option(
        "--output", "-o", help="Write here (atomically) instead of to stdout; pdf needs it.",
    )] = None,
    max_params: Annotated[int, typer.Option(
        "--max-params", min=1, help="Parameters worked out one by one before '... and N more'.",
    )] = 20,
    lr: Annotated[float | None, typer.Option(
        "--lr", help="Learning rate for the worked example (overrides the values file's lr).",
    )] = None,
    kernels: Annotated[bool, typer.Option(
        "--kernels", help="Add the compiled kernels' gradients to the verification table.",
    )] = False,
) -> None:
    """Print the derivation of SPEC: forward pass, local derivatives, backward pass (BP1-BP4),
    every gradient as a chain-rule product; with --at, a worked example, one gradient-descent
    step and a check against finite differences."""
    from .. import derive, load, render
    from ..values import load_values

    fmt = _format(fmt, output)
    model = load(spec)
    values = None
    if at is not None:
        values = load_values(model, at)
        if lr is not None:
            values = _with_lr(values, lr)
    elif lr is not None:
        raise SymbpropError("--lr needs --at VALUES (the point to start from)")
    if kernels and values is None:
        raise SymbpropError("--kernels needs --at VALUES (the point to compare at)")
    options = {"kernel_gradients": kernel_gradients} if kernels else {}
    document = render.render(derive(model), values, fmt, max_params=max_params, **options)
    _emit(document, output)


def kernel_gradients(d, values) -> dict[str, float]:
    """∂L/∂θ from the compiled kernels (float64) at validated ``values``, by scalar name."""
    import numpy as np

    from ..kernels import compile_model

    k = compile_model(d.model)
    if d.model.kind == "graph":
        return dict(k.loss_and_grad(values.params)[1])
    params = {name: np.asarray(array, dtype=float) for name, array in values.params.items()}
    _, grads = k.loss_and_grad(params, np.asarray(values.X), np.asarray(values.Y))
    return {name: float(grads[name.split("[")[0]][_index(name)]) for name in d.params}


def _index(name: str) -> tuple[int, ...]:
    return tuple(int(i) for i in name[name.index("[") + 1 : -1].split(",")) if "[" in name else ()


def _format(fmt: str | None, output: Path | None) -> str:
    if fmt is None:
        fmt = SUFFIXES.get(output.suffix.lower(), "tex") if output is not None else "tex"
    if fmt not in SUFFIXES.values():
        raise SymbpropError(f"--format: unknown format {fmt!r}; formats: tex, pdf, md, txt")
    if fmt == "pdf" and output is None:
        raise SymbpropError("--format pdf writes a binary file: give -o FILE.pdf")
    return fmt


def _with_lr(values, lr: float):
    import dataclasses
    import math

    if not math.isfinite(lr) or lr <= 0:
        raise SymbpropError(f"--lr: must be a positive number, got {lr}")
    return dataclasses.replace(values, lr=lr)


def _emit(document: str | bytes, output: Path | None) -> None:
    from ..atomic import write_bytes, write_text

    if output is None:
        sys.stdout.write(document)
        sys.stdout.flush()
    elif isinstance(document, bytes):
        write_bytes(output, document)
    else:
        write_text(output, document)
