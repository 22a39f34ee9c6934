"""Data-parallel training on a Dask cluster, ``fit(kernels, params, X, Y, ..., client=)``.

``mode="local_sgd"`` (model averaging): each partition runs the generated fused ``train`` loop
for ``sync_every`` epochs from the same θ, on its own rows (where they live); θ becomes the
average of the partitions' results weighted by their sizes, and the next round starts from it.
Partition i shuffles with seed ``partition_seed(seed, i)`` (partition 0: ``seed`` itself, so
one partition reproduces ``Kernels.fit``).  ``mode="full_batch"``: each epoch is one step of
gradient descent with the exact gradient over all the data (``symbprop.distributed.gradient``).

Only θ travels (as a task argument, so a lost task is recomputed; tasks are submitted as impure,
so a run never reuses the results of an earlier identical one); the averaging happens on the
caller in partition order, so the result does not depend on which worker ran what.
"""

from __future__ import annotations

import numpy as np

import symbprop.distributed.remote as remote
from symbprop.distributed._dask import client_for
from symbprop.distributed.gradient import summed_on
from symbprop.distributed.partitions import Partitions, on_cluster
from symbprop.runtime.fitting import LossHistory, in_chunks
from symbprop.runtime.input_checks import (
    ParamsError,
    checked_count,
    checked_epochs,
    checked_rate,
    checked_seed,
)

MODES = ("local_sgd", "full_batch")
SEED_LIMIT = 2**63


def fit(kernels, params: dict, X, Y=None, lr: float = 0.1, epochs: int = 100,
        batch_size: int = 32, seed: int = 0, progress: bool = True, *, client=None,
        mode: str = "local_sgd", sync_every: int = 1, features=None,
        target=None) -> LossHistory:
    """``Kernels.fit`` on a Dask cluster: updates ``params`` in place (as ``Kernels.fit``) and
    returns the loss of each epoch, the partitions' epoch losses averaged by size (local SGD)
    or the loss over all the data before each step (full batch), as a ``LossHistory``.

    ``X``, ``Y``: see ``symbprop.distributed.partitions`` (Dask or NumPy arrays, a directory
    or list of CSV/NPZ files with ``features``/``target`` as ``load_data``, or ``Partitions``).
    ``client``: a ``distributed.Client`` (default: the current one).  ``sync_every``: epochs
    between two averagings (local SGD), an integer ≥ 1."""
    theta = kernels.flatten(params)
    kernels.check_updatable(params)
    lr, epochs, seed = checked_rate(lr), checked_epochs(epochs), checked_seed(seed)
    batch_size = checked_count(batch_size, "batch_size", 1)
    sync_every = checked_count(sync_every, "sync_every", 1)
    if mode not in MODES:
        raise ParamsError(f"mode: unknown {mode!r}; allowed: {', '.join(MODES)}")
    parts = on_cluster(kernels, client_for(client), X, Y, features, target)
    if mode == "local_sgd":
        step, period = _local_sgd(kernels, parts, lr, batch_size, seed), sync_every
    else:
        step, period = _full_batch(kernels, parts, lr), 1
    theta, history = _rounds(step, theta, epochs, period, progress)
    kernels.write_back(params, theta)
    return history.view(LossHistory)


def partition_seed(seed: int, index: int) -> int:
    """The shuffling seed of partition ``index`` (``seed`` itself for partition 0)."""
    return (seed + index * 0x9E3779B97F4A7C15) % SEED_LIMIT


def _local_sgd(kernels, parts: Partitions, lr, batch_size, seed):
    client, ref = parts.client, parts.ref
    weights = parts.sizes / parts.total

    def step(theta, first, count):
        futures = [client.submit(remote.local_train, ref, theta, part, lr, count, batch_size,
                                 partition_seed(seed, i), first, pure=False)
                   for i, part in enumerate(parts.futures)]
        results = client.gather(futures)
        theta = np.zeros_like(theta)
        losses = np.zeros(count)
        for weight, (part_theta, part_losses) in zip(weights, results, strict=True):
            theta += weight * part_theta
            losses += weight * part_losses
        return theta, losses

    return step


def _full_batch(kernels, parts: Partitions, lr):
    mean = kernels.model.reduction == "mean"

    def step(theta, first, count):
        losses = np.empty(count)
        for e in range(count):
            value, grad, n = summed_on(parts, theta)
            losses[e] = value / n if mean else value
            theta = theta - (lr / n if mean else lr) * grad
        return theta, losses

    return step


def _rounds(step, theta, epochs: int, period: int, progress: bool):
    """``step(theta, first_epoch, count)`` over rounds of ``period`` epochs, with the progress
    bar of ``Kernels.fit`` (epochs done, loss, time left) when ``progress``."""
    done, histories = 0, []

    def run(theta, first, count):  # in_chunks' chunks, cut at round boundaries only
        nonlocal done
        target = first + count
        while done < target:
            size = min(period, epochs - done)
            theta, losses = step(theta, done, size)
            histories.append(losses)
            done += size
        return theta, np.concatenate(histories[-1:])

    theta, _ = in_chunks(run, theta, epochs, progress)
    return theta, (np.concatenate(histories) if histories else np.empty(0))
