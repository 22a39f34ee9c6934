"""``symbprop train SPEC --data DATA ...`` and, for an expression, gradient descent on itself."""

from __future__ import annotations

import math
import time
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from symbprop.cli.console import out
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
from symbprop.errors import SymbpropError

DATA_HELP = "CSV (header row) or NPZ file, or a bundled data set: xor, iris, digits."
LR_HELP = ("Learning rate η (default 0.1, or the values file's lr); for an expression give it "
           "several times to compare rates side by side.")


#: Exit status after Ctrl-C (128 + SIGINT), once the summary, --save and --plot are done.
INTERRUPTED = 130


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
        _descend(model, spec, lr, steps, tol, at, plot)
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
    _train_network(model, data, features, target, test_fraction, seed, standardize, rates,
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


# ---------------------------------------------------------------- networks


def _train_network(model, source, features, target, test_fraction, seed, standardize, rates,
                   epochs, batch_size, tol, plot, save, init, strategy, progress,
                   threads=None) -> None:
    from symbprop.api import compile as compile_model
    from symbprop.files.params import load_params, save_params
    from symbprop.training.data import load_data
    from symbprop.training.loop import train_on

    console = out()
    data = load_data(model, source, features, target, test_fraction, seed, standardize)
    params = load_params(init, model) if init is not None else None
    started = time.perf_counter()
    kernels = compile_model(model, strategy=strategy, threads=threads)
    if params is None:
        params = kernels.init_params(seed)
    history = train_on(kernels, params, data, schedule=rates, epochs=epochs,
                       batch_size=batch_size, seed=seed, tol=tol, progress=progress)
    compiled = time.perf_counter() - started - history.wall_time  # generate, import, JIT
    _network_summary(console, model, data, rates, batch_size, history, compiled)
    if save is not None:
        extra = {} if data.mean is None else {"mean": data.mean, "scale": data.scale}
        console.print(f"parameters saved to {save_params(save, history.params, model, extra)}")
    if plot is not None:
        title = f"{model.name} on {Path(str(source)).name}: {rates.describe()}"
        console.print(f"plot written to {history.plot(plot, title=title)}")
    if history.stopped_because == "interrupted":
        raise typer.Exit(INTERRUPTED)  # the shell's code for SIGINT: a script sees it stopped


def _network_summary(console, model, data, rates, batch_size, history, compiled) -> None:
    test = f" / {len(data.test)} held out" if data.test is not None else ""
    console.print(f"[bold]{model.name}[/bold] on {data.source}: {len(data.train)} training "
                  f"samples{test}; batch {batch_size}; {rates.describe()}")
    table = Table(show_header=False, box=None, padding=(0, 2))
    table.add_row("train loss", f"{history.final_loss:.6g}")
    if history.accuracies:
        table.add_row("train accuracy", f"{history.accuracies[-1]:.2%}")
    if history.test_losses:
        table.add_row("test loss", f"{history.test_losses[-1]:.6g}")
    if history.test_accuracies:
        table.add_row("test accuracy", f"{history.test_accuracies[-1]:.2%}")
    table.add_row("epochs run", str(history.epochs))
    table.add_row("wall time", f"{history.wall_time:.3f} s training "
                               f"(+ {compiled:.2f} s to build and load the kernels)")
    table.add_row("stopped", history.reason)
    console.print(table)


# ---------------------------------------------------------------- expressions


def _descend(model, spec, lrs, steps, tol, at, plot) -> None:
    import symbprop.training.descent as gd

    start, default_lr, values = _start(model, spec, at)
    objective = gd.Objective(model, constants=values.constants if values else None,
                             upstream=values.upstream if values else None)
    rates = list(lrs) if lrs else [default_lr]
    steps = gd.DEFAULT_STEPS if steps is None else steps
    tol = gd.DEFAULT_TOL if tol is None else tol
    runs = gd.compare(objective, start, rates, steps, tol)
    console = out()
    f = objective.function  # the documents' name for the function, as in seed 003
    console.print(f"gradient descent on [bold]{f} = {objective.loss_expr}[/bold] from "
                  + ", ".join(f"{n} = {start[n]:g}" for n in objective.names)
                  + _held(objective, values)
                  + f"; at most {steps} steps; stop when α‖∇{f}‖ ≤ ε = {tol:g}")
    if len(runs) == 1:
        console.print(_iterates_table(runs[0], f))
    console.print(_runs_table(runs, f))
    for run in runs:  # what each trajectory shows (symbprop.render.diagnosis), not a guess
        console.print(f"α = {run.lr:g}: {run.diagnosis.text}.")
    if plot is not None:
        console.print(f"plot written to {gd.plot(runs, plot, objective)}")


def _start(model, spec: str, at: str | None) -> tuple[dict, float]:
    from symbprop.errors import ValuesError
    from symbprop.examples import example_values_path
    from symbprop.spec.values import DEFAULT_LR, load_values

    if at is None and spec.startswith("examples:"):
        try:
            example_values_path(spec[len("examples:"):])
            at = spec
        except ValuesError:
            pass
    if at is None:
        if model.constants:
            raise ValuesError(f"{spec}: the constants {', '.join(model.constants)} need values: "
                              "give them with --at VALUES")
        return {name: 0.0 for name in model.params}, DEFAULT_LR, None
    values = load_values(model, at)
    return dict(values.params), values.lr, values


def _held(objective, values) -> str:
    """'; constants x = 2, y = 4 held fixed; L = 2·c (upstream ∂L/∂c = 2)', as they apply."""
    text = ""
    if objective.constants:
        text += "; constants " + ", ".join(f"{c} = {v:g}" for c, v in
                                           objective.constants.items()) + " held fixed"
    if values is not None and values.upstream is not None:
        c = objective.model.output
        text += (f"; L = {values.upstream:g}·{c}, the loss to first order (upstream "
                 f"∂L/∂{c} = {values.upstream:g})")
    return text


def _iterates_table(run, f: str, head: int = 8, tail: int = 3) -> Table:
    table = Table(title=f"iterates θ⁽ᵏ⁾, α = {run.lr:g}", title_justify="left")
    table.add_column("k", justify="right")
    for name in run.names:
        table.add_column(name, justify="right")
    table.add_column(f, justify="right")
    table.add_column(f"α‖∇{f}‖", justify="right")
    count = len(run.values)
    shown = list(range(count)) if count <= head + tail + 1 else \
        [*range(head), None, *range(count - tail, count)]
    for k in shown:
        if k is None:
            table.add_row("⋮", *["⋮"] * (len(run.names) + 2))
            continue
        alpha = run.rates[k] if k < run.steps else run.lr
        table.add_row(str(k + 1), *(f"{v:.6g}" for v in run.iterates[k]), f"{run.values[k]:.6g}",
                      f"{alpha * run.grad_norms[k]:.3g}")  # k + 1: x⁽¹⁾ is the start (seed 003)
    return table


def _runs_table(runs, f: str) -> Table:
    table = Table(title="learning rates", title_justify="left")
    for column in ("α", "steps", "final point", f, f"α‖∇{f}‖", "verdict"):
        table.add_column(column, justify="left" if column in ("final point", "verdict")
                         else "right")
    for run in runs:
        table.add_row(f"{run.lr:g}", str(run.steps), run.final_point, f"{run.values[-1]:.6g}",
                      f"{run.final_step:.2g}", run.label)
    return table
