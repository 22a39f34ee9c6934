"""Gradients and training on a Dask cluster (``pip install -e ".[dask]"``; Dask is imported
only when a Dask array, a client or a scheduler is given).

In: ``Kernels``, parameters and data (Dask arrays, NumPy arrays or files) and a client.
Out: the exact gradient summed over partitions, or trained parameters and a history.

    import symbprop.distributed as spd
    loss, grads = spd.loss_and_grad(k, params, X, Y)       # X, Y: Dask arrays; exact
    history = spd.fit(k, params, X, Y, lr=0.1, epochs=30, client=client,
                      mode="local_sgd", sync_every=1)        # or mode="full_batch"
    with spd.connect("local:2") as client: ...              # --scheduler ADDRESS|local[:N]

Modules: ``gradient`` (the exact data-parallel gradient, a tree reduction of per-partition
sums), ``training`` (local SGD / model averaging and full-batch descent), ``partitions`` (Dask
arrays, NumPy arrays or CSV/NPZ files as checked partitions on the workers), ``remote`` (what
runs on a worker), ``_dask`` (the lazy import); ``symbprop train --scheduler`` is
``symbprop.cli.distributed``.
"""

from __future__ import annotations

from symbprop.distributed._dask import connect, local_cluster, parse_scheduler, require
from symbprop.distributed.gradient import loss_and_grad
from symbprop.distributed.partitions import Partitions, file_list, on_cluster
from symbprop.distributed.training import MODES, fit, partition_seed
from symbprop.runtime.input_checks import is_dask_array

__all__ = [
    "MODES", "Partitions", "connect", "file_list", "fit", "is_dask_array", "local_cluster",
    "loss_and_grad", "on_cluster", "parse_scheduler", "partition_seed", "require",
]
