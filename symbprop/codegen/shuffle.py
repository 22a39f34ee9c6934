"""The seeded shuffle of the training loop, as every network module defines it.

``symbprop.codegen.generator`` prints this file's function (the text from its ``@njit``) into
each generated network module, so that a module stands alone, and
``symbprop.runtime.training_loop`` imports it: both loops draw the same order of samples for
(seed, epoch), so their results agree bit for bit.  This module needs NumPy and Numba only.
"""

import numpy as np
from numba import njit


@njit(cache=True, error_model="numpy")
def _permutation(order, seed, epoch):
    """order = a Fisher–Yates shuffle of 0..n−1 drawn from splitmix64 seeded by (seed, epoch)."""
    n = order.shape[0]
    for p in range(n):
        order[p] = p
    golden = np.uint64(0x9E3779B97F4A7C15)
    state = np.uint64(seed) * golden ^ np.uint64(epoch) * np.uint64(0xD1B54A32D192ED03)
    for p in range(n - 1, 0, -1):
        state += golden
        z = state
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        z = z ^ (z >> np.uint64(31))
        q = np.int64(z % np.uint64(p + 1))
        order[p], order[q] = order[q], order[p]
