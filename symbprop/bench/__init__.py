"""Timing the compiled kernels against NumPy, PyTorch and JAX, side by side in one run.

In: a network spec and batch sizes.  Out: a table of times and ratios, with the machine's CPU,
SIMD flags, BLAS kernels, threads and load printed beside it.

- ``timing``: the runs and the table.
- ``peers``: "loss and every gradient" written by hand in each peer, for comparison.
"""
