"""The products, sums and matrix views of the looped lowering, as every looped module defines
them.

``symbprop.codegen.looped`` prints this file's functions (the text from the first ``@njit`` to
the end) into each generated module, so that a module stands alone.  ``sp.compile`` then rebinds
a module's copies of the ``njit`` functions to the ones here (``symbprop.codegen.loader.adopt``)
before anything is compiled: Numba compiles each of them once per process and type signature,
and caches them beside this file, instead of once per module and dtype (their ``np.dot`` calls
were about half of a looped module's first call).  This module needs NumPy and Numba only.

Each helper keeps few ``np.dot`` forms and no ``np.ascontiguousarray``: every form takes Numba
0.1-0.3 s to compile once per machine, and its code is linked into every looped module and
optimized again there (a 1-2-2 net's looped kernel spent 1.1 s in LLVM, 0.55 s of it on the
helpers; one sample now goes through a one-column gemm, as fast as gemv with the OpenBLAS of
SciPy 1.10 to 1.17, instead of a gemv form of its own, and a plain loop copies X transposed).
``_matrix``, the views, is an intrinsic: Numba emits it inline at each call, so there is
nothing to share.
"""

import numpy as np
from numba import njit, types
from numba.core.imputils import impl_ret_borrowed
from numba.extending import intrinsic
from numba.np.arrayobj import make_array, populate_array


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


@intrinsic
def _matrix(typingctx, vector, start, rows, cols):
    """vector[start:start + rows * cols] as a (rows, cols) matrix, row by row: a view (it keeps
    vector's memory alive, as a slice does), for a C-contiguous vector; nothing is checked, as
    everywhere in the kernels.  Every 2-D view of theta, grad and work is this call.  Written as
    an intrinsic, it is a few machine instructions at each call, and lowering it costs Numba
    almost nothing: the same view written ``vector[start:stop].reshape((rows, cols))`` took
    about 20 ms to lower at each place it was written (a looped 3-2-3-2 net has 22) and called
    a C function at run time, and an ``njit`` or ``register_jitable`` helper was either compiled
    again for every literal shape or left a call that LLVM did not inline (0.25 µs of a 2 µs
    call at 64-32-10, batch 1)."""
    if not (isinstance(vector, types.Array) and vector.ndim == 1 and vector.layout == "C"):
        return None
    matrix = vector.copy(ndim=2, layout="C")

    def codegen(context, builder, signature, args):
        source = make_array(vector)(context, builder, args[0])
        view = make_array(matrix)(context, builder)
        row = builder.mul(args[3], source.itemsize)
        populate_array(view, data=builder.gep(source.data, [args[1]]), shape=[args[2], args[3]],
                       strides=[row, source.itemsize], itemsize=source.itemsize,
                       meminfo=source.meminfo, parent=source.parent)
        return impl_ret_borrowed(context, builder, matrix, view._getvalue())

    return matrix(vector, types.intp, types.intp, types.intp), codegen
