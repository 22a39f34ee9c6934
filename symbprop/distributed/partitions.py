"""Data on the cluster: Dask arrays, NumPy arrays or files become checked ``Partition``s held by
the workers (``on_cluster``), and the caller keeps their futures and sizes (``Partitions``).

Inputs (``X``, ``Y``):

* Dask arrays chunked along the batch (axis 0): one partition per chunk; the columns are one
  block (rechunked if not) and ``Y`` takes the row chunks of ``X``.
* NumPy arrays (anything ``numpy.asarray`` takes): split into one partition per worker thread.
* A directory, or a list of CSV/NPZ files, with ``Y`` None: one partition per file, read on the
  worker (the workers must see the paths), with ``symbprop.training.data.load_data``'s checks.

Partitions are built from a task graph, never scattered, so a partition lost with its worker is
recomputed by Dask.  Bad data raise, on the caller, the ``DataError`` the local call raises.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

import symbprop.distributed.remote as remote
from symbprop.distributed._dask import require
from symbprop.errors import DataError
from symbprop.runtime.input_checks import is_dask_array

FILE_SUFFIXES = (".csv", ".npz")


class Partitions:
    """Checked partitions on a cluster: ``futures`` (one ``Partition`` each), their ``sizes``,
    ``sources``, and the ``task`` and ``class_names`` they share (files; else None)."""

    def __init__(self, client, ref, futures, infos) -> None:
        self.client, self.ref, self.futures = client, ref, futures
        self.sizes = np.array([info[0] for info in infos], dtype=np.int64)
        self.sources = [info[1] for info in infos]
        self.task, self.class_names = _shared(infos)

    @property
    def total(self) -> int:
        return int(self.sizes.sum())

    def __len__(self) -> int:
        return len(self.futures)


def on_cluster(kernels, client, X, Y=None, features=None, target=None) -> Partitions:
    """``X``, ``Y`` (see the module docstring) as ``Partitions`` on ``client``'s workers."""
    if isinstance(X, Partitions):
        return X
    ref = remote.KernelRef(kernels)
    if Y is None and _is_file_list(X):
        paths = file_list(X)
        futures = [client.submit(remote.read_partition, ref, path, features, target)
                   for path in paths]
    else:
        if not is_dask_array(X) and not is_dask_array(Y):
            parts = max(1, sum(client.nthreads().values()))
            X = _as_dask(X, "X", parts)
            Y = _as_dask(Y, "Y", parts, X)
        # Imported here: Dask is optional (the [dask] extra).
        from dask import delayed

        X, Y, offsets = aligned(kernels, X, Y)
        make = delayed(remote.make_partition, pure=True)
        tasks = [make(ref, x, y, first) for x, y, first in zip(X.to_delayed()[:, 0],
                                                                Y.to_delayed()[:, 0], offsets,
                                                                strict=True)]
        futures = client.compute(tasks)
    infos = client.gather(client.map(remote.describe, futures))
    return Partitions(client, ref, futures, infos)


def aligned(kernels, X, Y):
    """(X, Y, first row of each chunk): Dask arrays of 2 dimensions with the columns in one
    block and the same row chunks, empty chunks dropped; shapes checked as locally."""
    require("a Dask array")
    # Imported here: Dask is optional (the [dask] extra).
    import dask.array as da

    if Y is None:
        raise DataError(f"Y: got None; expected an array of shape (batch, "
                        f"{kernels.model.sizes[-1]})")
    X = X if is_dask_array(X) else da.from_array(np.asarray(X))
    Y = Y if is_dask_array(Y) else da.from_array(np.asarray(Y))
    width_x, width_y = kernels.model.inputs, kernels.model.sizes[-1]
    if Y.ndim == 1 and width_y == 1:
        Y = Y[:, None]
    for array, what, width in ((X, "X", width_x), (Y, "Y", width_y)):
        if any(math.isnan(c) for c in array.chunks[0]):
            raise DataError(f"{what}: unknown chunk sizes; call {what}.compute_chunk_sizes() "
                            "first")
        if array.ndim != 2 or array.shape[1] != width or array.shape[0] == 0:
            raise DataError(f"{what}: shape {array.shape}, expected (batch, {width}) with "
                            "batch >= 1")
    if Y.shape[0] != X.shape[0]:
        raise DataError(f"Y: {Y.shape[0]} samples, but X has {X.shape[0]}")
    rows = tuple(c for c in X.chunks[0] if c > 0)
    X = X.rechunk((rows, -1))
    Y = Y.rechunk((rows, -1))
    return X, Y, np.concatenate([[0], np.cumsum(rows)[:-1]]).tolist()


def _as_dask(array, what: str, parts: int, like=None):
    # Imported here: Dask is optional (the [dask] extra).
    import dask.array as da

    if array is None:
        return None
    array = np.asarray(array)
    if like is not None and array.shape[:1] == like.shape[:1]:
        return da.from_array(array, chunks=(like.chunks[0],) + array.shape[1:])
    rows = max(1, math.ceil(len(array) / parts)) if array.ndim else 1
    return da.from_array(array, chunks=(rows,) + array.shape[1:])


def _is_file_list(value) -> bool:
    if isinstance(value, str | Path):
        return True
    return isinstance(value, list | tuple) and bool(value) and all(
        isinstance(v, str | Path) for v in value)


def file_list(source) -> list[str]:
    """The files of ``source``: a directory (its CSV and NPZ files, sorted by name) or a list
    of paths, in order."""
    if isinstance(source, str | Path):
        folder = Path(source)
        if not folder.is_dir():
            raise DataError(f"{source}: not a directory; give a directory of CSV/NPZ files, a "
                            "list of them, or Dask arrays X and Y")
        paths = sorted(p for p in folder.iterdir()
                       if p.is_file() and p.suffix.lower() in FILE_SUFFIXES)
        if not paths:
            raise DataError(f"{source}: no .csv or .npz files in this directory")
        return [str(p) for p in paths]
    return [str(p) for p in source]


def _shared(infos):
    """(task, class names) shared by the partitions (files); differing text labels refused."""
    tasks = {info[2] for info in infos}
    if tasks == {None}:
        return None, None
    names = {info[3] for info in infos}
    if len(names) > 1 and any(n is not None for n in names):
        shown = "; ".join(f"{info[1]}: {', '.join(info[3] or ('numbers',))}" for info in infos)
        raise DataError(f"partitions name different classes ({shown}); give every file all "
                        "the class names, or numeric labels 0..K-1")
    task = "regression" if "regression" in tasks else tasks.pop()
    return task, names.pop()
