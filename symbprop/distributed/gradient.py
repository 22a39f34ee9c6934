"""The exact data-parallel gradient: each partition sums its cost and gradient where it lives
(the compiled kernel on that chunk), a pairwise tree in a fixed order adds the sums, and a
``mean`` reduction divides once by the number of samples.  The order of the additions does not
depend on scheduling, so a retried task (a worker lost) gives the same bits."""

from __future__ import annotations

import numpy as np

import symbprop.distributed.remote as remote
from symbprop.distributed._dask import require
from symbprop.distributed.partitions import aligned
from symbprop.runtime.input_checks import copy_out


def tree_sum(items: list, add):
    """((a+b)+(c+d))+…: ``add`` applied pairwise, level by level, in list order."""
    while len(items) > 1:
        items = [add(items[i], items[i + 1]) if i + 1 < len(items) else items[i]
                 for i in range(0, len(items), 2)]
    return items[0]


def loss_and_grad(kernels, params: dict, X, Y, out: dict | None = None) -> tuple[float, dict]:
    """``Kernels.loss_and_grad`` for Dask arrays ``X``, ``Y`` chunked along the batch: the same
    (L, {name: ∂L/∂name}), within rounding (1e-12 relative in float64), computed by the
    current Dask scheduler (a ``distributed.Client`` if one is active).  ``out`` as locally."""
    require("a Dask array")
    # Imported here: Dask is optional (the [dask] extra).
    import dask
    from dask import delayed

    theta = kernels.flatten(params)
    X, Y, offsets = aligned(kernels, X, Y)
    ref, theta_task = remote.KernelRef(kernels), delayed(theta)
    chunk = delayed(remote.summed_chunk, pure=True)
    sums = [chunk(ref, theta_task, x, y, first)
            for x, y, first in zip(X.to_delayed()[:, 0], Y.to_delayed()[:, 0], offsets,
                                   strict=True)]
    (total,) = dask.compute(tree_sum(sums, delayed(remote.add, pure=True)))
    return finish(kernels, total, out)


def summed_on(parts, theta: np.ndarray):
    """(Σ cost, Σ gradient, n) over ``Partitions`` on their cluster, with futures."""
    client, ref = parts.client, parts.ref
    sums = [client.submit(remote.summed, ref, theta, part, pure=False) for part in parts.futures]
    return tree_sum(sums, lambda a, b: client.submit(remote.add, a, b, pure=False)).result()


def finish(kernels, total, out: dict | None = None) -> tuple[float, dict]:
    """(L, grads) from the summed (value, gradient, n): divided by n for ``mean``."""
    value, grad, n = total
    if kernels.model.reduction == "mean":
        value, grad = value / n, grad / n
    vector = kernels.empty_vector()
    vector[...] = grad
    grads = kernels.unflatten(vector)
    return float(value), grads if out is None else copy_out(grads, out, kernels.dtype)
