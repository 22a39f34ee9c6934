"""``symbprop generate SPEC [-o DIR] [--strategy] [--dtype] [--target] [--check]``."""

from __future__ import annotations

import shlex
from typing import Annotated

import typer

from symbprop.cli.options import QUIET_HELP, SPEC_HELP, load_spec, output_folder
from symbprop.errors import SymbpropError


def command(
    spec: Annotated[str, typer.Argument(metavar="SPEC", help=SPEC_HELP)],
    out: Annotated[str, typer.Option(
        "-o", "--out", metavar="DIR", help="Output folder.")] = "generated",
    strategy: Annotated[str, typer.Option(
        metavar="STRATEGY", help="auto, unrolled or looped.")] = "auto",
    dtype: Annotated[str, typer.Option(metavar="DTYPE", help="float64 or float32.")] = "float64",
    target: Annotated[str, typer.Option(
        metavar="TARGET", help="numba (compiled) or numpy (plain NumPy, no Numba).")] = "numba",
    check: Annotated[bool, typer.Option(
        "--check", help="Only report whether the file on disk is stale (exit 1 if it is); write "
        "nothing.", metavar="")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help=QUIET_HELP, metavar="")] = False,
) -> None:
    """Write the kernel module OUT/<name>/kernels.py for SPEC (Numba, or plain NumPy)."""
    if not out.strip():  # e.g. -o "$OUT" with OUT unset: not the current folder by accident
        raise SymbpropError("-o: empty; give an output folder (default: generated)")
    model = load_spec(spec)
    # Imported here, not at the top: every command is registered at start-up, and the generator
    # brings SymPy (0.3 s), which `symbprop --help`, `examples` and a refused spec never need.
    import symbprop.codegen.generator as generator
    from symbprop.codegen.options import check_dtype, check_target, resolve_strategy

    folder = output_folder(out, "-o", f"{model.name}/kernels.py", write=not check)
    resolve_strategy(model, strategy)  # bad options are errors (exit 2), not "stale"
    check_dtype(dtype)
    check_target(target)
    path = generator.module_path(model, folder)
    if check:
        if generator.is_stale(model, folder, strategy, dtype, target):
            reason = "missing" if not path.exists() else "differs from a fresh generation"
            defaults = {"strategy": "auto", "dtype": "float64", "target": "numba"}
            options = "".join(f" --{k} {v}" for k, v in (("strategy", strategy), ("dtype", dtype),
                                                          ("target", target)) if v != defaults[k])
            typer.echo(f"stale: {path} ({reason}); run: symbprop generate {shlex.quote(spec)} "
                       f"-o {shlex.quote(out)}{options}", err=True)
            raise typer.Exit(1)
        typer.echo(f"up to date: {path}")
        return
    written = generator.generate(model, folder, strategy=strategy, dtype=dtype, target=target)
    resolved = "numpy" if target == "numpy" else resolve_strategy(model, strategy)
    if not quiet:
        typer.echo(f"wrote {written} ({resolved}, {dtype}, {model.param_count} parameters)",
                   err=True)
