"""``Kernels``: a network's generated module behind a dict-of-arrays interface.

    k = symbprop.compile(model, strategy="auto", dtype="float64")
    params = k.init_params(seed=0)               # {"W1": (n1, n0), "b1": (n1,), ...}
    loss, grads = k.loss_and_grad(params, X, Y)  # grads: same names and shapes as params
    history = k.fit(params, X, Y, lr=0.1, epochs=100, batch_size=32)   # updates params in place

``symbprop.runtime.compiling`` makes them: the module is generated into the cache directory
(``symbprop.codegen.loader``) and imported from its file; ``k.module`` is it, ``k.path`` its
file.  Every check happens in the wrapper, before the compiled code runs: parameter names and
shapes, real-number dtypes (cast to the kernel's dtype), NaN and infinity in parameters
(``symbprop.runtime.base``) and data, the batch shape of X and Y, softmax cross-entropy targets
that do not sum to 1.  Each raises a ``SymbpropError`` subclass naming the array and what was
expected.

Graph and expression models get a ``GraphKernels`` (``symbprop.runtime.graph_kernels``):
``k.loss_and_grad({"x": 1.0, ...})`` -> (value, {name: gradient}).
"""

from __future__ import annotations

import math
from time import perf_counter

import numpy as np

from symbprop.errors import DataError
from symbprop.runtime import training_loop
from symbprop.runtime.aligned import empty_aligned, zeros_aligned
from symbprop.runtime.base import VIEW_MIN, KernelsBase
from symbprop.runtime.dictcall import ArraysCall
from symbprop.runtime.fitting import LossHistory, in_chunks
from symbprop.runtime.input_checks import (
    ParamsError,
    all_finite,
    batch_problem,
    cast,
    checked_count,
    checked_epochs,
    checked_number,
    checked_rate,
    checked_seed,
    copy_out,
    is_dask_array,
    real_array,
    row_sum_error,
)
from symbprop.spec.variables import WEIGHT, Var


class Kernels(KernelsBase):
    """Kernels of a dense network (DESIGN.md §1); see the module docstring."""

    def __init__(self, model, module, dtype: str) -> None:
        super().__init__(model, module, dtype)
        self._scratch = np.empty(0, self.dtype)
        self._arrays_call = ArraysCall(self)

    def init_params(self, seed: int | None = 0) -> dict:
        """He (normal, σ = √(2/n_in)) for relu-family layers, Glorot uniform otherwise; b = 0.
        ``seed``: an integer 0 ≤ seed < 2**63, or None for fresh entropy from the OS (as
        ``numpy.random.default_rng``); anything else raises ``ParamsError``."""
        rng = np.random.default_rng(None if seed is None else checked_seed(seed))
        theta = zeros_aligned(self.size, self.dtype)
        params = self.unflatten(theta)  # views of one vector: flatten() then needs no copy
        for number, layer in enumerate(self.model.layers, 1):
            n_out, n_in = self.shapes[Var(WEIGHT, number).name]
            if layer.activation.init == "he":
                weights = rng.normal(0.0, math.sqrt(2.0 / n_in), (n_out, n_in))
            else:
                limit = math.sqrt(6.0 / (n_in + n_out))
                weights = rng.uniform(-limit, limit, (n_out, n_in))
            params[Var(WEIGHT, number).name][...] = weights
        return params

    def _batch(self, X, Y):
        """X and Y checked and converted (see ``_data``); Y is required (None is refused)."""
        X = self._data(X, "X", self.model.inputs)
        Y = self._data(Y, "Y", self.model.sizes[-1])
        if Y.shape[0] != X.shape[0]:
            raise DataError(f"Y: {Y.shape[0]} samples, but X has {X.shape[0]}")
        if self.model.loss.targets_sum_to_one:
            error = row_sum_error(Y)
            if error > self.module.TARGET_SUM_TOLERANCE:
                raise DataError("Y: targets of softmax_cross_entropy must sum to 1 per sample "
                                f"(one-hot or probabilities); off by up to {error:.3g}")
        return X, Y

    def _checked(self, params: dict, X, Y):
        """``(theta, X, Y)`` checked as ``flatten`` and ``_batch`` check them, with the same
        errors in the same order (parameters, then X, then Y), but NaN, infinity and softmax
        target sums tested in one compiled call (``batch_problem``)."""
        theta = self._vector(params)
        try:
            X = self._shaped(X, "X", self.model.inputs)
        except DataError:
            self._check_finite(theta)
            raise
        try:
            Y = self._shaped(Y, "Y", self.model.sizes[-1])
            if Y.shape[0] != X.shape[0]:
                raise DataError(f"Y: {Y.shape[0]} samples, but X has {X.shape[0]}")
        except DataError:
            self._check_finite(theta)
            self._finite(X, "X")
            raise
        tolerance = (self.module.TARGET_SUM_TOLERANCE if self.model.loss.targets_sum_to_one
                     else -1.0)
        problem = batch_problem(theta, X, Y, tolerance)
        if problem == 1:
            self._non_finite(theta)
        if problem:
            self._batch(X, Y)  # raises the error the separate checks word
        return theta, X, Y

    def _data(self, array, what: str, width: int) -> np.ndarray:
        return self._finite(self._shaped(array, what, width), what)

    def _shaped(self, array, what: str, width: int) -> np.ndarray:
        """``array`` as a C-contiguous (batch, width) array of the kernel dtype, batch ≥ 1."""
        if not (type(array) is np.ndarray and array.dtype is self.dtype and array.ndim == 2
                and array.shape[1] == width and array.shape[0] and array.flags.c_contiguous):
            array = self._convert_data(array, what, width)
        return array

    def _finite(self, array: np.ndarray, what: str) -> np.ndarray:
        if not all_finite(array):
            row = int(np.argwhere(~np.isfinite(array))[0][0])
            raise DataError(f"{what}: row {row} contains NaN or infinity")
        return array

    def _convert_data(self, array, what: str, width: int) -> np.ndarray:
        if array is None:
            raise DataError(f"{what}: got None; expected an array of shape (batch, {width})")
        array = real_array(array, what, self.dtype, DataError)
        if array.ndim == 1 and width == 1 and what == "Y":
            array = array.reshape(-1, 1)
        if array.ndim != 2 or array.shape[1] != width or array.shape[0] == 0:
            hint = f"; for one sample use {what}.reshape(1, -1)" if array.ndim == 1 else ""
            raise DataError(f"{what}: shape {array.shape}, expected (batch, {width}) with "
                            f"batch >= 1{hint}")
        return cast(array, self.dtype, what, DataError)

    def check_data(self, X, Y) -> tuple[np.ndarray, np.ndarray]:
        """``(X, Y)`` as the generated functions take them (C-contiguous, the kernel dtype), or
        the ``DataError`` that ``loss`` would raise (shapes, real numbers, NaN and infinity,
        softmax targets); calls no kernel."""
        return self._batch(X, Y)

    def forward(self, params: dict, X) -> np.ndarray:
        """a^L for every sample: (batch, n_L)."""
        X = self._data(X, "X", self.model.inputs)
        return self.module.forward(self.flatten(params), X)

    def loss(self, params: dict, X, Y) -> float:
        """L: the mean (or sum, per the spec) of the per-sample cost over the batch."""
        X, Y = self._batch(X, Y)
        return float(self.module.loss(self.flatten(params), X, Y))

    def loss_and_grad(self, params: dict, X, Y, out: dict | None = None) -> tuple[float, dict]:
        """(L, {name: ∂L/∂name}) with the shapes of ``params``.  With ``out`` (a dict of arrays
        of those names, shapes and the kernel dtype, e.g. the gradients of an earlier call) the
        gradients are written into it and it is returned: no allocation in a hot loop.
        With Dask arrays X, Y (chunked along the batch) the gradient is computed where the
        chunks live and reduced exactly (``symbprop.distributed.loss_and_grad``)."""
        if type(X) is not np.ndarray and (is_dask_array(X) or is_dask_array(Y)):
            # Imported here: Dask arrays go to symbprop.distributed (an optional extra), which
            # is built on this module.
            from symbprop.distributed import loss_and_grad

            return loss_and_grad(self, params, X, Y, out)
        if self._has_dict_call:
            fast = self._dict_call(params, X, Y, out)
            if fast is not None:
                return fast
        started = perf_counter()
        theta, X, Y = self._checked(params, X, Y)
        target = self._vectors.writable_vector(out, self.names) if out is not None else None
        grad = target if target is not None and target is not theta else empty_aligned(
            self.size, self.dtype)
        work = self._work(X.shape[0])
        kernel_started = perf_counter()
        value = self.module.loss_and_grad_into(theta, X, Y, grad, work)
        kernel = perf_counter() - kernel_started
        if grad is target:
            result = float(value), out
        else:
            grads = self.unflatten(grad)
            result = float(value), grads if out is None else copy_out(grads, out, self.dtype)
        self._arrays_call.charge(perf_counter() - started - kernel)
        return result

    def _dict_call(self, params, X, Y, out):
        """The one-compiled-call path (``symbprop.runtime.dictcall``): ``(L, grads)`` or
        ``None`` for the checking path, which runs until building the path has paid for
        itself (``ArraysCall.due``)."""
        if not self._arrays_call.due():
            return None
        return self.compile_dict_call()(params, X, Y, out)

    @property
    def _has_dict_call(self) -> bool:
        """Numba kernels of fewer than ``VIEW_MIN`` parameters have the one compiled dict
        call; on larger nets the checking path costs little against the kernel."""
        return self.size < VIEW_MIN and self.target == "numba"

    def compile_dict_call(self):
        """Build now the one compiled call that ``loss_and_grad`` otherwise builds when the
        checking path has cost about as much (``dictcall.BUDGET``): before a loop of many
        dict calls, or to time them.  Returns it (``call(params, X, Y, out)``, ``None`` for
        inputs it leaves to the checking path), or ``None`` for a net without one
        (``_has_dict_call``)."""
        if not self._has_dict_call:
            return None
        # the instance attribute shadows the method _dict_call from now on (one call less)
        self._dict_call = self._arrays_call.function()
        return self._dict_call

    def work(self, n: int) -> np.ndarray:
        """The ``work`` argument of the generated ``loss_and_grad_into`` for ``n`` samples (an
        integer ≥ 0): space kept between calls (a fresh multi-megabyte allocation per call costs
        page faults: 1 ms of 4.8 at 784-128-10, batch 1024, in a fresh process)."""
        n = checked_count(n, "n", 0)
        try:
            return self._work(n)
        except MemoryError:
            raise ParamsError(f"n: scratch space for {n} samples "
                              f"({self.module.WORK_PER_SAMPLE * n} numbers) cannot be "
                              "allocated") from None

    def _work(self, n: int) -> np.ndarray:
        """``work(n)`` for a batch the wrapper has checked."""
        size = self.module.WORK_PER_SAMPLE * n
        if self._scratch.size == size:
            return self._scratch
        if self._scratch.size < size:
            self._scratch = empty_aligned(size, self.dtype)
        return self._scratch[:size]

    def empty_vector(self) -> np.ndarray:
        """An uninitialised vector of N_PARAMS numbers of the kernel dtype, 64-byte aligned like
        every vector the wrapper allocates (``symbprop.runtime.aligned``): the ``grad`` argument of
        the generated functions."""
        return empty_aligned(self.size, self.dtype)

    def sgd_step(self, params: dict, X, Y, lr: float) -> dict:
        """New parameters θ − lr ∂L/∂θ (``params`` is not changed).  The step is NumPy's, on
        the gradient of ``loss_and_grad_into``: the module's own ``sgd_step`` would be one more
        compilation of the whole kernel (about a second) for one subtraction."""
        X, Y = self._batch(X, Y)
        lr = checked_number(lr, "lr")
        theta = self.flatten(params)
        grad = empty_aligned(self.size, self.dtype)
        self.module.loss_and_grad_into(theta, X, Y, grad, self._work(X.shape[0]))
        return self.unflatten(theta - self.dtype.type(lr) * grad)

    def fit(self, params: dict, X, Y, lr: float = 0.1, epochs: int = 100, batch_size: int = 32,
            seed: int = 0, progress: bool = True, client=None, mode: str = "local_sgd",
            sync_every: int = 1) -> np.ndarray:
        """Minibatch SGD, the loop of the generated ``train`` (run by ``runtime.training_loop``,
        compiled once per machine); updates ``params`` in place and returns the loss of each
        epoch (accumulated over its batches, before each step) as a ``LossHistory`` (an array
        with ``.plot(path)``).

        In place: float arrays keep their dtype (float32 arrays take the float64 results
        rounded, as with NumPy's ``a[...] = b``); lists, numbers and read-only arrays are
        replaced in ``params`` by new arrays; integer or boolean arrays are refused
        (``ParamsError``) before training, as NumPy refuses ``W -= lr * g`` for them.
        ``epochs``: 0 to ``MAX_EPOCHS`` (10**8); ``seed``: 0 ≤ seed < 2**63.

        With ``client`` (a ``dask.distributed.Client``) or Dask arrays X, Y: data-parallel on
        the cluster, ``mode`` "local_sgd" (averaged every ``sync_every`` epochs) or
        "full_batch" (``symbprop.distributed.fit``)."""
        if (client is not None or is_dask_array(X) or is_dask_array(Y) or mode != "local_sgd"
                or sync_every != 1):
            # Imported here: Dask arrays go to symbprop.distributed (an optional extra), which
            # is built on this module.
            from symbprop.distributed import fit

            return fit(self, params, X, Y, lr, epochs, batch_size, seed, progress,
                       client=client, mode=mode, sync_every=sync_every)
        theta = self.flatten(params)
        self.check_updatable(params)
        X, Y = self._batch(X, Y)
        self.use_threads()  # the count these kernels asked for, once for the whole run
        lr = checked_rate(lr)
        epochs, seed = checked_epochs(epochs), checked_seed(seed)
        batch_size = checked_count(batch_size, "batch_size", 1)

        def run(theta, first, count):
            return training_loop.train(self, theta, X, Y, lr, count, batch_size, seed, first)

        theta, history = in_chunks(run, theta, epochs, progress)
        self.write_back(params, theta)
        return history.view(LossHistory)

