"""The products and sums of the looped lowering, as every looped module defines them.

``symbprop.codegen.looped`` prints this file's functions (the text from the first ``@njit`` to
the end) into each generated module, so that a module stands alone.  ``sp.compile`` then rebinds
a module's copies to the functions here (``symbprop.codegen.loader.adopt``) before anything is
compiled: Numba compiles each of them once per process and type signature, and caches them
beside this file, instead of once per module and dtype (their ``np.dot`` calls were about half
of a looped module's first call).  This module needs NumPy and Numba only.

Each helper keeps few ``np.dot`` forms and no ``np.ascontiguousarray``: every form takes Numba
0.1-0.3 s to compile once per machine, and its code is linked into every looped module and
optimized again there (a 1-2-2 net's looped kernel spent 1.1 s in LLVM, 0.55 s of it on the
helpers; one sample now goes through a one-column gemm, as fast as gemv with the OpenBLAS of
SciPy 1.10 to 1.17, instead of a gemv form of its own, and a plain loop copies X transposed).
"""

import numpy as np
from numba import njit


@njit(cache=True, error_model="numpy")
def _times_input(W, X, out):
    """out = W Xᵀ for X with one row per sample, by gemm (for one sample too: as fast as
    gemv).  A small X of several rows is copied transposed first: gemm without a transposed
    operand is faster there."""
    if 1 < X.shape[0] and X.size <= 16384:
        columns = np.empty((X.shape[1], X.shape[0]), X.dtype)
        for i in range(X.shape[0]):
            for k in range(X.shape[1]):
                columns[k, i] = X[i, k]
        np.dot(W, columns, out)
    else:
        np.dot(W, X.T, out)


@njit(cache=True, error_model="numpy")
def _times(W, A, out):
    """out = W A for A with one column per sample, by gemm."""
    np.dot(W, A, out)


@njit(cache=True, error_model="numpy")
def _times_transposed(W, D, out):
    """out = Wᵀ D for D with one column per sample, by gemm."""
    np.dot(W.T, D, out)


@njit(cache=True, error_model="numpy")
def _outer_sample(d, v, out):
    """out[j, k] = d[j] v[k] for one sample."""
    for j in range(out.shape[0]):
        for k in range(out.shape[1]):
            out[j, k] = d[j] * v[k]


@njit(cache=True, error_model="numpy")
def _outer_input(D, X, out):
    """out = D X = Σ_i δ_i x_iᵀ: gemm, or an outer product for one sample."""
    if D.shape[1] == 1:
        _outer_sample(D.reshape(D.shape[0]), X.reshape(X.shape[1]), out)
    else:
        np.dot(D, X, out)


@njit(cache=True, error_model="numpy")
def _outer(D, A, out):
    """out = D Aᵀ = Σ_i δ_i a_iᵀ: gemm, or an outer product for one sample."""
    if D.shape[1] == 1:
        _outer_sample(D.reshape(D.shape[0]), A.reshape(A.shape[0]), out)
    else:
        np.dot(D, A.T, out)


@njit(cache=True, error_model="numpy", fastmath={"reassoc"})
def _row_sums(D, out):
    """out[j] = Σ_i D[j, i] (∂C/∂b = δ summed over the batch), added up in whatever order
    vectorizes: rounding may differ from a left-to-right sum, NaN and ±inf still propagate."""
    for j in range(D.shape[0]):
        acc = 0.0
        for i in range(D.shape[1]):
            acc += D[j, i]
        out[j] = acc
