"""``symbprop train SPEC --data DATA ...`` and, for an expression, gradient descent on itself:
the command's options, their checks, and the choice of run (``train_run`` runs it and reports;
``distributed`` trains on a Dask cluster)."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Annotated

import typer

from symbprop.cli.options import (
    SEED,
    SPEC_HELP,
    THREADS_HELP,
    at_least,
    load_spec,
    output_file,
    positive,
    threads_option,
)
from symbprop.cli.train_run import descend, train_network
from symbprop.errors import SymbpropError

DATA_HELP = "CSV (header row) or NPZ file, or a bundled data set: xor, iris, digits."
LR_HELP = ("Learning rate η (default 0.1, or the values file's lr); for an expression give it "
           "several times to compare rates side by side.")


def command(
    ctx: typer.Context,
    spec: Annotated[str, typer.Argument(metavar="SPEC", help=SPEC_HELP)],
    data: Annotated[str | None, typer.Option(metavar="DATA", help=DATA_HELP)] = None,
    features: Annotated[str | None, typer.Option(
        metavar="COLUMNS",
        help="Feature columns, comma-separated (CSV; default: all but the target), or the "
             "features array (NPZ; default X).")] = None,
    target: Annotated[str | None, typer.Option(
        metavar="COLUMNS",
        help="Target column(s) (CSV; default: the last column) or array (NPZ; default y).")] = None,
    epochs: Annotated[int, typer.Option(
        metavar="N", callback=at_least(0), help="Epochs (passes over the data).")] = 30,
    lr: Annotated[list[float] | None, typer.Option("--lr", metavar="RATE", help=LR_HELP)] = None,
    batch_size: Annotated[int, typer.Option(
        metavar="N", callback=at_least(1), help="Mini-batch size.")] = 32,
    seed: Annotated[int, typer.Option(
        metavar="N", callback=SEED,
        help="Seed for the initial weights, shuffling and the held-out split.")] = 0,
    schedule: Annotated[str, typer.Option(
        metavar="NAME",
        help="constant | step (η·γ^⌊e/s⌋) | inverse (η/(1+k·e)) | exponential (η·e^(−k·e)).")
    ] = "constant",
    gamma: Annotated[float, typer.Option(metavar="FLOAT", help="step schedule: factor γ.")] = 0.5,
    step_size: Annotated[int, typer.Option(
        metavar="N", callback=at_least(1), help="step schedule: epochs per step s.")] = 10,
    decay: Annotated[float, typer.Option(
        metavar="FLOAT", help="inverse/exponential schedule: k.")] = 0.05,
    tol: Annotated[float | None, typer.Option(
        metavar="FLOAT",
        help="Stop when η‖∇L‖ ≤ tol (full training set, each epoch / step). Expressions: "
             "default 1e-6.")] = None,
    test_fraction: Annotated[float | None, typer.Option(
        metavar="FLOAT",
        help="Held-out share (default 0.2; 0 for data sets under 20 samples).")] = None,
    standardize: Annotated[bool, typer.Option(
        help="Scale features to mean 0, std 1 (statistics of the training part).",
        metavar="")] = False,
    plot: Annotated[str | None, typer.Option(
        metavar="FILE",
        help="Write the loss curve (or the descent plot) to a .png, .pdf or .svg file.")] = None,
    save: Annotated[str | None, typer.Option(
        metavar="FILE", help="Write the trained parameters (NPZ, a .npz file).")] = None,
    init: Annotated[Path | None, typer.Option(
        metavar="FILE", help="Start from saved parameters (NPZ).")] = None,
    steps: Annotated[int | None, typer.Option(
        metavar="N", callback=at_least(0),
        help="Expression: at most this many gradient-descent steps (default 100).")] = None,
    at: Annotated[str | None, typer.Option(
        metavar="VALUES",
        help="Expression: start point (values YAML or examples:NAME; default: the bundled "
             "values of an example, else 0).")] = None,
    strategy: Annotated[str, typer.Option(
        metavar="STRATEGY", help="Kernel strategy: auto | unrolled | looped.")] = "auto",
    threads: Annotated[str | None, typer.Option(
        metavar="N|auto", callback=threads_option, help=THREADS_HELP)] = None,
    progress: Annotated[bool, typer.Option(help="Show the progress bar.", metavar="")] = True,
    scheduler: Annotated[str | None, typer.Option(
        metavar="ADDRESS|local[:N]",
        help="Train on a Dask cluster (pip install -e \".[dask]\"): a scheduler address "
             "(tcp://host:8786) or local[:N] worker processes; --data may then be a directory "
             "of CSV/NPZ files, one partition each.")] = None,
    sync_every: Annotated[int, typer.Option(
        metavar="N", callback=at_least(1),
        help="--scheduler: epochs of local SGD between two averagings of the parameters.")] = 1,
    full_batch: Annotated[bool, typer.Option(
        help="--scheduler: gradient descent with the exact gradient over all the data instead "
             "of local SGD.", metavar="")] = False,
) -> None:
    """Train a network on data with its generated kernels (mini-batch SGD, progress bar, plots);
    for an expression or graph, run gradient descent on it from a start point."""
    for rate in lr or ():
        positive("--lr", rate)
    _check_schedule_options(gamma, decay, tol)
    plot, save = _plot_path(plot), output_file(save, "--save", "params.npz", (".npz",))
    model = load_spec(spec)
    if model.kind == "graph":
        if data is not None:
            raise SymbpropError(f"{spec}: an expression or graph is minimised on itself; "
                                "--data is for networks")
        _refuse_network_options(ctx)
        descend(model, spec, lr, steps, tol, at, plot)
        return
    if data is None:
        raise SymbpropError(f"{spec}: --data is required to train a network "
                            "(a CSV or NPZ file, or xor, iris, digits)")
    for option, value in (("--at", at), ("--steps", steps)):
        if value is not None:
            raise SymbpropError(f"{option} is for gradient descent on an expression; a network "
                                "trains on --data for --epochs (start from saved parameters "
                                "with --init)")
    if lr is not None and len(lr) > 1:
        raise SymbpropError("--lr: give one learning rate to train a network (several are for "
                            "comparing rates on an expression)")
    from symbprop.training.schedules import Schedule

    rates = Schedule(schedule, lr[0] if lr else 0.1, gamma, step_size, decay)
    from symbprop.cli.distributed import check_options, train_on_cluster

    check_options(scheduler, sync_every, full_batch, rates, tol)
    if scheduler is not None:
        train_on_cluster(model, data, scheduler=scheduler, features=features, target=target,
                         test_fraction=test_fraction, seed=seed, standardize=standardize,
                         lr=rates.lr, epochs=epochs, batch_size=batch_size,
                         sync_every=sync_every, full_batch=full_batch, init=init,
                         strategy=strategy, progress=progress, save=save, plot=plot,
                         threads=threads)
        return
    train_network(model, data, features, target, test_fraction, seed, standardize, rates,
                  epochs, batch_size, tol, plot, save, init, strategy, progress, threads)


#: The options of gradient descent on an expression or graph (besides SPEC and --progress); the
#: others train networks.
DESCENT_OPTIONS = ("lr", "steps", "tol", "at", "plot")


def _refuse_network_options(ctx: typer.Context) -> None:
    """A network-only option given for an expression is an error, not silently ignored."""
    for param in ctx.command.params:
        source = ctx.get_parameter_source(param.name)  # by name: Typer may vendor Click's enum
        if (param.name not in ("spec", "progress", *DESCENT_OPTIONS)
                and getattr(source, "name", None) == "COMMANDLINE"):
            raise SymbpropError(
                f"{param.opts[0]} is for training a network on --data; gradient descent on an "
                f"expression takes {', '.join('--' + o for o in DESCENT_OPTIONS)}")


def _check_schedule_options(gamma: float, decay: float, tol: float | None) -> None:
    """The checks of ``schedules.Schedule`` and ``check_tol``, with messages naming the option."""
    if not 0 < gamma <= 1:
        raise SymbpropError(f"--gamma: must be in (0, 1], got {gamma}")
    for option, value in (("--decay", decay), ("--tol", tol)):
        if value is not None and not (math.isfinite(value) and value >= 0):
            raise SymbpropError(f"{option}: must be a finite number ≥ 0, got {value}")


def _plot_path(raw: str | None) -> Path | None:
    """The checked --plot path (a .png, .pdf or .svg file), with matplotlib importable."""
    from symbprop.render.plots import PLOT_SUFFIXES, pyplot

    path = output_file(raw, "--plot", "loss.png", PLOT_SUFFIXES)
    if path is not None:
        pyplot()  # without matplotlib, say so now rather than after training
    return path
