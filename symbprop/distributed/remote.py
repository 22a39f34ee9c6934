"""What runs on a Dask worker: the kernels rebuilt from their spec, partitions checked where they
live, and the per-partition work (a summed gradient, local SGD, an evaluation).

Only ``KernelRef`` (the model, lowering, dtype and BLAS thread count) and parameter vectors
travel to a worker, never compiled code: a worker compiles from the spec through the on-disk
cache once per process (``kernels_of``), and sets the thread count the caller's kernels set
(``compile``'s ``threads``; the Nanny starts a worker's BLAS with one).  Every check raises
the ``SymbpropError`` subclass the local call raises, with the same message, and Dask carries
that exception to the caller unchanged.
"""

from __future__ import annotations

import threading

import numpy as np

from symbprop.errors import DataError
from symbprop.runtime import training_loop
from symbprop.runtime.base import rebuild
from symbprop.training.data import load_data, predicted_labels

_compiled: dict = {}
_lock = threading.Lock()
_local = threading.local()


class KernelRef:
    """What a task receives instead of ``Kernels``: pickles as (model, strategy, dtype, BLAS
    threads); on the worker, ``kernels_of(ref)`` compiles (or reuses) them once per process."""

    def __init__(self, kernels) -> None:
        self.cls, self.model = type(kernels), kernels.model
        self.strategy, self.dtype = kernels.strategy, kernels.dtype.name
        self.target = kernels.target
        #: the count the caller's kernels set (``compile``'s ``threads``, or auto's 1); None:
        #: the worker's BLAS is left as it is (one thread: the Nanny sets it for Dask workers)
        self.threads = kernels.threads if kernels.sets_threads else None
        self.key = (self.model.name, self.model.sha256, self.strategy, self.dtype, self.target,
                    self.threads)

    def __dask_tokenize__(self):
        return self.key


def kernels_of(ref: KernelRef):
    """The ``Kernels`` of ``ref`` in this process (compiled through the cache on first use),
    with the BLAS thread count of ``ref`` in force: set per task, as a count is process-wide
    and kernels of another count may have run in this worker since (a few µs when it is
    already in force)."""
    with _lock:
        kernels = _compiled.get(ref.key)
        if kernels is None:
            kernels = _compiled[ref.key] = rebuild(ref.cls, ref.model, ref.strategy, ref.dtype,
                                                   ref.target, ref.threads)
        else:
            kernels.use_threads()
        return kernels


class Partition:
    """Checked samples on a worker: ``X`` (n, n_0), ``Y`` (n, n_L) in the kernel dtype; ``task``
    and ``class_names`` as ``symbprop.training.data`` found them (files), else None."""

    def __init__(self, X, Y, source: str, task=None, class_names=None) -> None:
        self.X, self.Y, self.source = X, Y, source
        self.task, self.class_names = task, class_names

    def __len__(self) -> int:
        return int(self.X.shape[0])


def make_partition(ref: KernelRef, X, Y, first_row: int = 0) -> Partition:
    """Rows ``first_row``… of the caller's X and Y, checked as ``Kernels.loss_and_grad`` checks
    them; a NaN is reported at its row in the whole array, as the local call would."""
    kernels = kernels_of(ref)
    X, Y = np.asarray(X), np.asarray(Y)
    for array, what in ((X, "X"), (Y, "Y")):
        if array.dtype.kind in "fc" and array.size and not np.isfinite(array).all():
            row = int(np.argwhere(~np.isfinite(array.reshape(len(array), -1)))[0][0])
            raise DataError(f"{what}: row {first_row + row} contains NaN or infinity")
    X, Y = aligned(*kernels._batch(X, Y))
    return Partition(X, Y, f"rows {first_row}..{first_row + len(X) - 1}")


def read_partition(ref: KernelRef, path: str, features=None, target=None) -> Partition:
    """One CSV or NPZ file read where the task runs (``symbprop.training.data.load_data``,
    nothing held out): its errors name the file, row and column."""
    kernels = kernels_of(ref)
    data = load_data(kernels.model, path, features, target, test_fraction=0.0)
    X, Y = kernels._batch(data.train.X, data.train.Y)
    return Partition(X, Y, str(path), data.task, data.class_names)


def describe(part: Partition) -> tuple[int, str, str | None, tuple | None]:
    """(rows, source, task, class names): what the caller learns without the data."""
    return len(part), part.source, part.task, part.class_names


def scratch(kernels, n: int) -> np.ndarray:
    """The ``work`` argument for ``n`` rows, kept per thread between tasks: a fresh allocation
    of tens of megabytes each time costs page faults (a Dask worker hands freed memory back to
    the system at once: MALLOC_TRIM_THRESHOLD_), and threads of one process may run tasks at
    the same time, so ``Kernels.work``'s single buffer cannot be shared."""
    size = kernels.module.WORK_PER_SAMPLE * n
    spaces = _local.__dict__.setdefault("spaces", {})
    space = spaces.get(id(kernels))
    if space is None or space.size < size:
        space = spaces[id(kernels)] = np.empty(size, kernels.dtype)
    return space[:size]


def aligned(*arrays):
    """The arrays C-contiguous and aligned, copied only if not: an array deserialized from a
    message may be unaligned, and Numba would compile (minutes on a busy machine) a variant for
    it instead of loading the cached one."""
    return [np.require(a, requirements=("C", "A")) for a in arrays]


def summed(ref: KernelRef, theta: np.ndarray, part: Partition):
    """(Σ_n C^n, Σ_n ∂C^n/∂θ, n) on one partition: the kernel's mean times n for a ``mean``
    reduction (a product by n, exact to rounding), its result as it is for ``sum``."""
    kernels = kernels_of(ref)
    n = len(part)
    grad = np.empty(kernels.size, kernels.dtype)
    theta, X, Y = aligned(theta, part.X, part.Y)
    value = kernels.module.loss_and_grad_into(theta, X, Y, grad, scratch(kernels, n))
    if kernels.model.reduction == "mean":
        value, grad = value * n, grad * n
    return float(value), grad, n


def summed_chunk(ref: KernelRef, theta: np.ndarray, X, Y, first_row: int):
    """``summed`` on a chunk of a Dask array, checked first (``make_partition``)."""
    return summed(ref, theta, make_partition(ref, X, Y, first_row))


def add(a, b):
    """Two ``summed`` results added: the step of the tree reduction."""
    return a[0] + b[0], a[1] + b[1], a[2] + b[2]


def local_train(ref: KernelRef, theta, part: Partition, lr: float, epochs: int,
                batch_size: int, seed: int, first_epoch: int):
    """The generated fused ``train``'s loop on one partition (``runtime.training_loop``):
    (new θ, loss of each epoch)."""
    kernels = kernels_of(ref)
    theta, X, Y = aligned(np.asarray(theta, dtype=kernels.dtype), part.X, part.Y)
    return training_loop.train(kernels, theta, X, Y, lr, epochs, batch_size, seed, first_epoch)


def evaluate(ref: KernelRef, theta, part: Partition, task: str | None):
    """(Σ cost, correct predictions or None, n) on one partition."""
    kernels = kernels_of(ref)
    n = len(part)
    theta, X, Y = aligned(theta, part.X, part.Y)
    value = float(kernels.module.loss(theta, X, Y))
    value = value * n if kernels.model.reduction == "mean" else value
    if task not in ("multiclass", "binary"):
        return value, None, n
    outputs = kernels.module.forward(theta, X)
    correct = predicted_labels(outputs, task) == predicted_labels(part.Y, task)
    return value, int(np.sum(correct)), n
