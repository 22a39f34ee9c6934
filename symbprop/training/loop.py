"""Training a network with its generated kernels: epochs, schedules, a stopping rule, history.

``train(kernels, params, X, Y, ...)`` runs mini-batch SGD (seed 002) one epoch at a time: each
epoch runs inside the generated Numba code; between epochs, Python evaluates the loss (and the
accuracy of a classifier) on the full training set, updates a rich progress bar, applies the
learning-rate schedule and the stopping rule of seed 003, stop when η‖∇L‖ ≤ ε.  Ctrl-C stops
cleanly between epochs and keeps the parameters of the last completed epoch.  It returns a
``History`` that plots itself.

The pieces around the loop have their own modules: schedules in ``symbprop.training.schedules``, the
progress bar in ``symbprop.training.progress``, plots in ``symbprop.render.plots``, and
``save_params``/ ``load_params`` (NPZ) in ``symbprop.files.params``; their public names are
importable from here too.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable

import numpy as np

import symbprop.training.schedules as schedules
from symbprop.codegen.loader import written_here
from symbprop.errors import DataError, SymbpropError
from symbprop.files.params import load_params, save_params
from symbprop.render.plots import pyplot, save_figure
from symbprop.runtime import first_compile, training_loop
from symbprop.runtime.input_checks import checked_count, checked_seed, real_array
from symbprop.spec.values import warn_large_rate
from symbprop.training.data import predicted_labels
from symbprop.training.history import STOP_REASONS, History
from symbprop.training.progress import EpochProgress
from symbprop.training.schedules import SCHEDULES, Schedule, schedule

__all__ = [  # with names that moved out of this module, kept importable from here
    "BLOCK", "SCHEDULES", "STOP_REASONS", "History", "Schedule", "load_params", "pyplot",
    "save_figure", "save_params", "schedule", "train", "train_on",
]

BLOCK = 128  # rows per kernel call when evaluating a whole data set

# ---------------------------------------------------------------- the loop


def train(kernels, params: dict, X, Y, *, lr: float = 0.1, epochs: int = 30,
          batch_size: int = 32, seed: int = 0, schedule: str | Callable = "constant",
          tol: float | None = None, task: str | None = None, labels=None,
          test: tuple | None = None, progress: bool = True,
          callback: Callable | None = None, console=None) -> History:
    """Mini-batch SGD with ``kernels`` (from ``symbprop.compile``) for up to ``epochs`` epochs.

    ``params`` ({W1: array, ...}) is updated in place and is also ``History.params``.
    ``schedule``: a name (with ``lr``), a ``Schedule`` or any callable epoch -> rate; a first
    rate above ``symbprop.spec.values.LARGE_LR`` (1e6) warns.
    ``tol``: stop when rate·‖∇L‖ ≤ tol, ∇L on the full training set after each epoch.
    ``task``: "multiclass" | "binary" | "regression" (default: guessed from ``Y``); classifiers
    get accuracies.  ``test``: held-out ``(X, Y)`` or ``(X, Y, labels)``.
    ``callback(epoch, history, params)`` runs after every epoch; returning True stops.
    Ctrl-C (KeyboardInterrupt) stops between epochs, keeping the last completed epoch.
    ``params`` are updated as by ``Kernels.fit`` (integer arrays refused, float arrays in
    place); ``epochs`` ≥ 0, ``batch_size`` ≥ 1, 0 ≤ ``seed`` < 2**63; X and Y as for
    ``Kernels.loss`` (a masked array with masked entries is refused).
    """
    if kernels.model.kind == "graph":
        raise SymbpropError(f"{kernels.model.name}: an expression or graph has no data to train "
                            "on; minimise it with symbprop.training.descent.descend")
    rates = schedules.schedule(schedule, lr)
    warn_large_rate(rates(0), stacklevel=2)  # the first epoch's: a schedule may be any function
    epochs, seed = checked_count(epochs, "epochs", 0), checked_seed(seed)
    batch_size = checked_count(batch_size, "batch_size", 1)
    if tol is not None:
        schedules.check_tol(tol)
    train_set = _Split(X, Y, labels, task)
    test_set = None if test is None else _Split(*test, task=train_set.task)
    loop = _Loop(kernels, params, train_set, test_set, rates, tol, callback)
    loop.warm_up()  # Numba JIT or cache load, before the clock and the bar start
    kernels.use_threads()  # the kernels' BLAS thread count, set once for the run (process-wide)
    with EpochProgress(progress, epochs, console) as bar:
        loop.run(epochs, batch_size, seed, bar)
    return loop.history


def train_on(kernels, params: dict, data, **options) -> History:
    """``train`` on a ``symbprop.training.data.TrainingData`` (its training part; the held-out
    part as test)."""
    test = None if data.test is None else (data.test.X, data.test.Y, data.test.labels)
    return train(kernels, params, data.train.X, data.train.Y, task=data.task,
                 labels=data.train.labels, test=test, **options)


class _Split:
    """Samples as float64 C arrays, with integer labels when the task is a classification."""

    def __init__(self, X, Y, labels=None, task: str | None = None) -> None:
        X, Y = (real_array(a, what, np.float64, DataError) for a, what in ((X, "X"), (Y, "Y")))
        self.X = np.ascontiguousarray(np.asarray(X, dtype=np.float64).reshape(len(X), -1))
        self.Y = np.ascontiguousarray(np.asarray(Y, dtype=np.float64).reshape(len(Y), -1))
        if len(self.X) != len(self.Y) or len(self.X) == 0:
            raise SymbpropError(f"X has {len(self.X)} samples and Y {len(self.Y)}; need the "
                                "same number, at least 1")
        self.task = task or _guess_task(self.Y)
        if labels is None and self.task != "regression":
            labels = predicted_labels(self.Y, self.task)
        self.labels = None if labels is None else np.asarray(labels)


def _guess_task(Y: np.ndarray) -> str:
    if Y.shape[1] > 1:
        one_hot = np.all((Y == 0) | (Y == 1)) and np.all(Y.sum(axis=1) == 1)
        return "multiclass" if one_hot else "regression"
    return "binary" if np.all((Y == 0) | (Y == 1)) else "regression"


class _Loop:
    """One run on the flat parameter vector θ of the generated module: each epoch is one call
    of its fused ``train`` (the shuffle of epoch e depends only on (seed, e), so the run is the
    same as one long call); θ of the last completed epoch is kept for Ctrl-C and divergence."""

    def __init__(self, kernels, params, train_set, test_set, rates, tol, callback) -> None:
        self.kernels, self.module, self.params = kernels, kernels.module, params
        self.rates, self.tol, self.callback = rates, tol, callback
        self.train_set, self.test_set = train_set, test_set
        for split in filter(None, (train_set, test_set)):
            # the wrapper's checks (shapes, NaN, one-hot), and the arrays in the kernel dtype
            split.X, split.Y = kernels.check_data(split.X, split.Y)
        self.theta = self.good = kernels.flatten(params).copy()
        kernels.check_updatable(params)
        self.history = History(params=params)

    def warm_up(self) -> None:
        """Compile (or load from Numba's cache) what the loop calls, outside the timing.  For
        a module this process wrote, a second process compiles the evaluation's functions
        (``loss``, ``forward``) meanwhile (``symbprop.runtime.first_compile``)."""
        X, Y, module = self.train_set.X[:1], self.train_set.Y[:1], self.module
        evaluation = ["loss"] + (["forward"] if self.train_set.labels is not None else [])
        other = (first_compile.start_functions((module, name) for name in evaluation)
                 if written_here(self.kernels.path) else None)
        training_loop.train(self.kernels, self.theta, X, Y, 0.0, 0, 1, 0, 0)
        if other is not None:
            first_compile.finish(other)
        module.loss(self.theta, X, Y)
        if self.train_set.labels is not None:
            module.forward(self.theta, X)
        if self.tol is not None:
            module.loss_and_grad(self.theta, X, Y)

    def run(self, epochs: int, batch_size: int, seed: int, bar) -> None:
        started = time.perf_counter()
        loss, accuracy, norm = self._measure(self.train_set, self.tol is not None)
        self.history.initial_loss, self.history.initial_accuracy = loss, accuracy
        if self.test_set is not None:
            test = self._measure(self.test_set, False)
            self.history.initial_test_loss, self.history.initial_test_accuracy = test[:2]
        if self.tol is not None and self.rates(0) * norm <= self.tol:
            self.history.stopped_because = "tol"
            epochs = 0
        for epoch in range(epochs):
            try:
                reason = self._epoch(epoch, batch_size, seed, bar)
            except KeyboardInterrupt:
                self.theta = self.good
                reason = "interrupted"
            if reason is not None:
                self.history.stopped_because = reason
                break
        self._publish()
        self.history.wall_time = time.perf_counter() - started

    def _epoch(self, epoch: int, batch_size: int, seed: int, bar) -> str | None:
        rate = float(self.rates(epoch))
        data = self.train_set
        self.theta, _ = training_loop.train(self.kernels, self.theta, data.X, data.Y, rate, 1,
                                            batch_size, seed, epoch)
        loss, accuracy, norm = self._measure(data, self.tol is not None)
        if not (math.isfinite(loss) and np.isfinite(self.theta).all()):
            self.theta = self.good
            return "diverged"
        self._record(rate, loss, accuracy, norm)
        self.good = self.theta  # train returns a new vector; θ is never changed in place
        bar.update(self.history)
        if self.callback is not None:
            self._publish()
            if self.callback(epoch, self.history, self.params):
                return "callback"
        if self.tol is not None and self.rates(epoch + 1) * norm <= self.tol:
            return "tol"
        return None

    def _record(self, rate, loss, accuracy, norm) -> None:
        history = self.history
        history.learning_rates.append(rate)
        history.losses.append(loss)
        if accuracy is not None:
            history.accuracies.append(accuracy)
        if self.tol is not None:
            history.grad_norms.append(norm)
        if self.test_set is not None:
            test_loss, test_accuracy, _ = self._measure(self.test_set, False)
            history.test_losses.append(test_loss)
            if test_accuracy is not None:
                history.test_accuracies.append(test_accuracy)

    def _measure(self, split: _Split, gradient: bool):
        """(loss, accuracy or None, ‖∇L‖ or nan) on a whole split, in blocks of ``BLOCK`` rows
        (small products stay in cache and do not wake BLAS threads, which on a busy machine
        made one 1 438-row product 100× slower than the same rows in blocks)."""
        module, n = self.module, len(split.X)
        loss, grad, correct = 0.0, 0.0, 0
        for start in range(0, n, BLOCK):
            X, Y = split.X[start:start + BLOCK], split.Y[start:start + BLOCK]
            weight = len(X) / n if self.kernels.model.reduction == "mean" else 1.0
            if gradient:
                value, block_grad = module.loss_and_grad(self.theta, X, Y)
                grad = grad + weight * block_grad
            else:
                value = module.loss(self.theta, X, Y)
            loss += weight * float(value)
            if split.labels is not None:
                labels = predicted_labels(module.forward(self.theta, X), split.task)
                correct += int(np.sum(labels == split.labels[start:start + BLOCK]))
        norm = float(np.sqrt(np.dot(grad, grad))) if gradient else math.nan
        return loss, (correct / n if split.labels is not None else None), norm

    def _publish(self) -> None:
        """Write θ into the caller's parameter arrays (``Kernels.write_back``)."""
        self.kernels.write_back(self.params, self.theta)
