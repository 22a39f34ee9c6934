"""``symbprop train SPEC --data DATA --scheduler ADDRESS|local[:N]``: training on a Dask cluster.

``--data`` is a CSV/NPZ file or a bundled name (read here, split into training and held-out
parts as without ``--scheduler``, the training part sent as one partition per worker thread) or
a directory of CSV/NPZ files (one partition each, read by the workers, nothing held out).
``--sync-every N`` epochs between two averagings (local SGD); ``--full-batch``: gradient descent
with the exact gradient instead.  A constant ``--lr`` only (no ``--schedule``, no ``--tol``).
"""

from __future__ import annotations

import time
import warnings
from pathlib import Path

import numpy as np

import symbprop.distributed.remote as remote
from symbprop.api import compile as compile_model
from symbprop.distributed._dask import connect, parse_scheduler
from symbprop.distributed.partitions import on_cluster
from symbprop.distributed.training import fit
from symbprop.errors import SymbpropError
from symbprop.files.params import load_params, save_params
from symbprop.training.data import accuracy, load_data


def check_options(scheduler: str | None, sync_every: int, full_batch: bool, rates,
                  tol) -> None:
    """Refuse, before any work, options that need ``--scheduler`` or that it does not take."""
    if scheduler is None:
        for option, given in (("--sync-every", sync_every != 1), ("--full-batch", full_batch)):
            if given:
                raise SymbpropError(f"{option} is for training on a Dask cluster; add "
                                    "--scheduler ADDRESS or --scheduler local[:N]")
        return
    parse_scheduler(scheduler)
    if rates.kind != "constant" or tol is not None:
        raise SymbpropError("--scheduler trains with a constant --lr; --schedule and --tol "
                            "are for training in one process")
    if sync_every < 1:
        raise SymbpropError(f"--sync-every: expected a whole number of epochs >= 1, "
                            f"got {sync_every}")


def train_on_cluster(model, source, *, scheduler: str, features=None, target=None,
                     test_fraction=None, seed: int = 0, standardize: bool = False, lr: float,
                     epochs: int, batch_size: int, sync_every: int = 1,
                     full_batch: bool = False, init=None, strategy: str = "auto",
                     progress: bool = True, save=None, plot=None, console=None,
                     threads=None) -> None:
    """Train ``model`` on the cluster of ``scheduler``; print the summary; write --save and
    --plot as ``symbprop train`` does."""
    # Imported here: rich loads only for the command's output.
    from symbprop.cli.console import out
    console = console or out()
    folder = Path(str(source)).is_dir()
    if folder and (standardize or test_fraction):
        raise SymbpropError(f"{source}: a directory of partitions trains whole; --standardize "
                            "and --test-fraction need one file (or a bundled data set)")
    data = None if folder else _load(model, source, features, target, test_fraction, seed,
                                     standardize)
    kernels = compile_model(model, strategy=strategy, threads=threads)
    params = load_params(init, model) if init is not None else kernels.init_params(seed)
    with connect(scheduler) as client:
        started = time.perf_counter()
        with warnings.catch_warnings():  # "Sending large graph": the rows go to the workers
            warnings.simplefilter("ignore", UserWarning)
            parts = (on_cluster(kernels, client, str(source), None, features, target) if folder
                     else on_cluster(kernels, client, data.train.X, data.train.Y))
        history = fit(kernels, params, parts, lr=lr, epochs=epochs, batch_size=batch_size,
                      seed=seed, progress=progress, client=client,
                      mode="full_batch" if full_batch else "local_sgd", sync_every=sync_every)
        wall = time.perf_counter() - started
        task = data.task if data is not None else parts.task
        train_loss, train_acc = evaluate(parts, kernels.flatten(params), task)
        workers = len(client.scheduler_info().get("workers", {}))
    method = (f"full-batch gradient descent, η = {lr:g}" if full_batch else
              f"local SGD, batch {batch_size}, η = {lr:g}, averaged every {sync_every} epoch(s)")
    console.print(f"[bold]{model.name}[/bold] on {source}: {parts.total} training samples in "
                  f"{len(parts)} partitions on {workers} Dask workers; {method}")
    rows = [("train loss", f"{train_loss:.6g}")]
    if train_acc is not None:
        rows.append(("train accuracy", f"{train_acc:.2%}"))
    if data is not None and data.test is not None:
        rows += _held_out(kernels, params, data)
    rows += [("epochs run", str(len(history))), ("wall time", f"{wall:.3f} s on the cluster")]
    for name, value in rows:
        console.print(f"  {name:<16}{value}")
    if save is not None:
        extra = {} if data is None or data.mean is None else {"mean": data.mean,
                                                               "scale": data.scale}
        console.print(f"parameters saved to {save_params(save, params, model, extra)}")
    if plot is not None:
        title = f"{model.name} on {Path(str(source)).name}: local SGD on Dask"
        console.print(f"plot written to {history.plot(plot, title=title)}")


def _load(model, source, features, target, test_fraction, seed, standardize):
    return load_data(model, source, features, target, test_fraction, seed, standardize)


def evaluate(parts, theta: np.ndarray, task: str | None) -> tuple[float, float | None]:
    """(L, accuracy or None) of θ over all the partitions, computed where they live."""
    client = parts.client
    results = client.gather([client.submit(remote.evaluate, parts.ref, theta, part, task,
                                           pure=False) for part in parts.futures])
    value = sum(r[0] for r in results)
    if parts.ref.model.reduction == "mean":
        value /= parts.total
    correct = None if results[0][1] is None else sum(r[1] for r in results) / parts.total
    return float(value), correct


def _held_out(kernels, params, data) -> list[tuple[str, str]]:
    test = data.test
    rows = [("test loss", f"{kernels.loss(params, test.X, test.Y):.6g}")]
    if test.labels is not None:
        share = accuracy(kernels.forward(params, test.X), test.labels, data.task)
        rows.append(("test accuracy", f"{share:.2%}"))
    return rows
