"""The dict-of-arrays ``Kernels.loss_and_grad`` in one compiled call, when the inputs allow it.

``ArraysCall(kernels)`` wraps the generated ``loss_and_grad_arrays`` (the parameters, X, Y and
the gradient arrays as separate arguments; it tests shapes, NaN and softmax target rows itself
and returns ``(L, status)``).  The wrapper is a private Numba dispatcher of that function,
compiled once for exactly the kernel dtype and C-contiguous writable arrays, with further
compilation disabled: any other argument type (float32 into a float64 kernel, a list, a
Fortran-ordered or read-only array) raises ``TypeError`` in Numba's C dispatcher at no cost to
the common case.  ``__call__`` then returns ``None`` and ``Kernels`` takes its checking path,
which converts what it can and words the error for what it cannot.

The generated function takes the packed parameters and their gradient from ``work`` too, so
for the unrolled lowering it allocates nothing and is compiled without Numba's runtime (see the
generated module), which halves the cost of unboxing the 11 arrays.  Measured on the 2-2-1
net, batch 1 (2 cores): the whole dict call 2.4 µs (1.3 µs with ``out=``; 2.8 and 1.8 µs with
the runtime), of which the compiled call is 0.63 µs and allocating the four gradient arrays
0.6 µs; the flat ``loss_and_grad_into`` takes 0.22 µs.
"""

from __future__ import annotations

import operator
import weakref

import numpy as np

#: generated module -> its private dispatcher (several ``Kernels`` may share one module).
_COMPILED: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


class ArraysCall:
    """``call(params, X, Y, out=None) -> (L, grads) | None`` for one ``Kernels``."""

    def __init__(self, kernels) -> None:
        self.names = kernels.names
        self.shapes = [kernels.shapes[n] for n in self.names]
        self.dtype = kernels.dtype
        self.io = (kernels.model.inputs, kernels.model.sizes[-1])
        self._per_sample = kernels.module.WORK_PER_SAMPLE
        self._fixed = 2 * kernels.size  # the packed parameters and their gradient
        self._scratch = np.empty(self._fixed, self.dtype)
        self._take = operator.itemgetter(*self.names) if len(self.names) > 1 else (
            lambda params: (params[self.names[0]],))
        self._dtypes = [self.dtype] * len(self.names)
        # a scalar parameter (shared bias) is a number for the kernel; 0-d arrays (as
        # init_params gives it) are unwrapped on the way in
        self._scalars = [i for i, shape in enumerate(self.shapes) if not shape]
        self._module = kernels.module
        self._dispatcher = _COMPILED.get(kernels.module)

    def _compile(self):
        """The private dispatcher, compiled (or loaded from Numba's cache) on first use."""
        from numba import njit

        generated = self._module.loss_and_grad_arrays
        # the options of the module's own dispatcher: both read and write one Numba cache entry
        runtime = generated.targetoptions.get("_nrt", True)
        dispatcher = njit(cache=True, _nrt=runtime)(generated.py_func)
        scalar = self.dtype.type
        zeros = [np.zeros(s, self.dtype) if s else scalar(0) for s in self.shapes]
        n_in, n_out = self.io
        X, Y = np.zeros((1, n_in), self.dtype), np.zeros((1, n_out), self.dtype)
        dispatcher(*zeros, X, Y, *map(np.zeros, self.shapes, self._dtypes), self._work(1))
        dispatcher.disable_compile()
        self._dispatcher = _COMPILED[self._module] = dispatcher
        return dispatcher

    def _work(self, n: int) -> np.ndarray:
        """Scratch space for ``n`` samples, kept between calls (the generated function takes any
        buffer at least as long as it needs, so a longer one is passed whole, not sliced)."""
        if self._scratch.size < self._fixed + self._per_sample * n:
            self._scratch = np.empty(self._fixed + self._per_sample * n, self.dtype)
        return self._scratch

    def __call__(self, params, X, Y, out=None):
        compiled = self._dispatcher or self._compile()
        if type(params) is not dict or len(params) != len(self.names):
            return None
        try:
            arrays = self._take(params)
            if self._scalars:
                arrays = [a[()] if i in self._scalars and type(a) is np.ndarray else a
                          for i, a in enumerate(arrays)]
            grads = [*map(np.empty, self.shapes, self._dtypes)] if out is None else self._take(out)
            value, status = compiled(*arrays, X, Y, *grads, self._work(X.shape[0]))
        except (KeyError, TypeError, AttributeError, IndexError):
            return None
        if status:
            return None
        return float(value), (dict(zip(self.names, grads)) if out is None else out)  # noqa: B905
