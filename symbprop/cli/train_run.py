"""The runs of ``symbprop train`` and what they print: a network trained on data with its
kernels (``train_network``: a summary table, --save, --plot, exit status 130 after Ctrl-C),
and gradient descent on an expression or graph (``descend``: iterates, rates side by side, a
diagnosis per run).  The options arrive checked by ``symbprop.cli.train``; as in every command
module, the pipeline is imported inside the functions.
"""

from __future__ import annotations

import time
from pathlib import Path

import typer
from rich.table import Table

from symbprop.cli.console import out

#: Exit status after Ctrl-C (128 + SIGINT), once the summary, --save and --plot are done.
INTERRUPTED = 130


# ---------------------------------------------------------------- networks


def train_network(model, source, features, target, test_fraction, seed, standardize, rates,
                  epochs, batch_size, tol, plot, save, init, strategy, progress,
                  threads=None) -> None:
    """Train ``model`` on ``source`` with its kernels (options as ``symbprop train``'s) and
    print the summary; exit with ``INTERRUPTED`` after Ctrl-C, once --save and --plot are done."""
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


def descend(model, spec, lrs, steps, tol, at, plot) -> None:
    """Gradient descent on an expression or graph from its start point, at each rate of
    ``lrs``; print the iterates (one rate), the runs side by side and what each shows."""
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
