"""``KernelsBase``: a generated module's parameter layout and the checked move between a dict of
arrays and the one flat parameter vector the compiled functions take.

``flatten`` is where every parameter check happens (names, shapes, real dtypes cast to the
kernel's dtype without overflow, no masked entries, NaN and infinity), so the compiled code
never sees a bad parameter; large models whose dicts are views of one vector (``init_params``,
``unflatten``) pass that vector through without a copy (``symbprop.runtime.views``).  Training
writes its result back with ``write_back``, after ``check_updatable`` has refused integer arrays.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from symbprop.codegen.loader import cached_module
from symbprop.runtime import scipy_blas
from symbprop.runtime.aligned import empty_aligned
from symbprop.runtime.input_checks import ParamsError, all_finite, cast, real_array
from symbprop.runtime.threads import set_threads
from symbprop.runtime.views import VectorViews

#: From this many parameters on, ``flatten`` first looks for views of one vector (no copy).
VIEW_MIN = 4096


class KernelsBase:
    """What both kinds of kernels share: the parameter layout, ``flatten`` (every check on
    parameters) and ``unflatten`` (views into one vector)."""

    #: The BLAS thread count these kernels asked for (``compile``'s ``threads``, resolved;
    #: None: BLAS's default); ``use_threads`` sets it, process-wide, when ``sets_threads``
    #: (False for "auto" on code that calls no BLAS: graphs and unrolled networks).
    threads: int | None = None
    sets_threads: bool = False

    def __init__(self, model, module, dtype: str) -> None:
        """``model``: the model of ``module``, or a function of no arguments that returns it
        (called when ``model`` is first asked for: ``compile_spec`` found the module without
        parsing the spec)."""
        scipy_blas.load()  # before the first compiled call, which makes Numba import it
        self._model, self.module = model, module
        self.path = Path(module.__file__)  # a Path, like sp.generate's result
        self.dtype = np.dtype(dtype)
        self.strategy = module.STRATEGY
        self.target = getattr(module, "TARGET", "numba")
        self.names = tuple(module.PARAM_NAMES)
        self.shapes = dict(module.PARAM_SHAPES)
        self.size = module.N_PARAMS
        self._slices = [(n, module.PARAM_OFFSETS[n], int(np.prod(self.shapes[n], dtype=int)),
                         self.shapes[n]) for n in self.names]
        self._shape_list = [self.shapes[n] for n in self.names]
        self._views = [(n, start, start + size, shape if len(shape) != 1 else None)
                       for n, start, size, shape in self._slices]
        self._vectors = VectorViews(self.size, self.dtype, [o for _, o, _, _ in self._slices],
                                    self._shape_list)

    @property
    def model(self):
        """The model these kernels were generated from (a ``Network`` or a ``Graph``)."""
        if callable(self._model):
            self._model = self._model()
        return self._model

    def __reduce__(self):
        """Pickled as (model, lowering, dtype, threads): unpickling compiles again, which in
        another process reuses the generated file and Numba's cache (for multiprocessing,
        joblib), and sets the BLAS thread count there."""
        return rebuild, (type(self), self.model, self.strategy, self.dtype.name, self.target,
                         self.threads)

    def __repr__(self) -> str:
        return (f"<Kernels {self.module.SPEC_NAME} ({self.strategy}, {self.dtype.name}, "
                f"{self.size} parameters) from {self.path}>")

    def use_threads(self) -> int | None:
        """Set the kernels' BLAS to ``self.threads`` threads, for the whole process
        (``symbprop.runtime.threads``); returns the count in force.  ``compile`` does it, and so
        do ``fit`` and ``training.train`` when they start; per call, nothing is set.  Kernels
        that call no BLAS and were given no count leave it alone (None)."""
        return set_threads(self.threads, self.target) if self.sets_threads else None

    def ask_threads(self, threads: int | None) -> KernelsBase:
        """From now on, run the BLAS with ``threads`` threads (None: BLAS's default), set now
        and whenever ``use_threads`` is called; returns these kernels."""
        self.threads, self.sets_threads = threads, True
        self.use_threads()
        return self

    def flatten(self, params: dict) -> np.ndarray:
        """One parameter vector (the kernel dtype) from ``params``; checks names, shapes, NaN.
        When ``params`` are the views of one vector (``init_params``, ``unflatten``) and the model
        has at least ``VIEW_MIN`` parameters, that vector itself is returned, not a copy."""
        theta = self._vector(params)
        self._check_finite(theta)
        return theta

    def _vector(self, params: dict) -> np.ndarray:
        """``flatten`` without the test for NaN and infinity (``_check_finite``), for callers
        that test them together with the data in one compiled call."""
        try:
            arrays = [params[name] for name in self.names]
        except (KeyError, TypeError, IndexError, ValueError):  # IndexError: a flat vector
            self._name_error(params)
        if len(params) != len(arrays):
            self._name_error(params)
        dtype = self.dtype
        for a, shape in zip(arrays, self._shape_list):  # noqa: B905 (same length, checked)
            if type(a) is not np.ndarray or a.dtype is not dtype or a.shape != shape:
                arrays = [self._convert(n, a) for n, a in zip(self.names, arrays, strict=True)]
                break
        theta = self._vectors.vector_of(arrays) if self.size >= VIEW_MIN else None
        if theta is None:
            theta = np.concatenate(arrays, axis=None, out=empty_aligned(self.size, dtype))
        return theta

    def _check_finite(self, theta: np.ndarray) -> None:
        """``ParamsError`` naming the first parameter array with a NaN or ±inf in ``theta``."""
        if not all_finite(theta):
            self._non_finite(theta)

    def _non_finite(self, theta: np.ndarray):
        bad = next(n for n, start, size, _ in self._slices
                   if not np.isfinite(theta[start:start + size]).all())
        raise ParamsError(f"params[{bad!r}]: contains NaN or infinity")

    def _convert(self, name: str, value) -> np.ndarray:
        array = real_array(value, f"params[{name!r}]", self.dtype)
        if array.shape != self.shapes[name]:
            raise ParamsError(f"params[{name!r}]: shape {array.shape}, expected "
                              f"{self.shapes[name]}")
        return cast(array, self.dtype, f"params[{name!r}]")

    def _name_error(self, params):
        if not isinstance(params, dict):
            hint = ("; a flat parameter vector goes to the generated functions, k.module"
                    if isinstance(params, np.ndarray) else "")
            raise ParamsError(f"params: expected a dict of {', '.join(self.names)}, got "
                              f"{type(params).__name__}{hint}")
        missing = [n for n in self.names if n not in params]
        unknown = [str(n) for n in params if n not in self.shapes]
        problem = f"missing {', '.join(missing)}" if missing else f"unknown {', '.join(unknown)}"
        raise ParamsError(f"params: {problem}; expected {', '.join(self.names)}")

    def unflatten(self, vector: np.ndarray) -> dict:
        """``{name: array}`` views into ``vector`` (length N_PARAMS)."""
        vector = np.asarray(vector)
        if vector.shape != (self.size,):
            raise ParamsError(f"vector: shape {vector.shape}, expected ({self.size},)")
        views = [vector[start:stop] if shape is None else vector[start:stop].reshape(shape)
                 for _, start, stop, shape in self._views]
        self._vectors.remember(vector, views)
        return dict(zip(self.names, views))  # noqa: B905 (one view per name)

    def check_updatable(self, params: dict) -> None:
        """Refuse, before training, parameters that cannot take the trained values in place:
        an array of an integer or boolean dtype (NumPy, too, refuses ``W -= lr * g`` for an
        integer ``W`` rather than truncate).  Call after ``flatten`` (names checked)."""
        for name in self.names:
            value = params[name]
            if isinstance(value, np.ndarray) and value.dtype.kind != "f":
                raise ParamsError(
                    f"params[{name!r}]: dtype {value.dtype} cannot hold the trained values "
                    f"(training updates params in place); pass float arrays, e.g. "
                    f"params[{name!r}].astype(float)")

    def write_back(self, params: dict, theta: np.ndarray) -> None:
        """Put the values of ``theta`` into ``params``: into each writable array of the right
        shape, in place (a float32 array stays float32, as with NumPy's ``a[...] = b``); any
        other value (a list, a number, a read-only array) is replaced by a new array of the
        kernel dtype.  ``check_updatable`` has refused integer arrays."""
        for name, value in self.unflatten(theta).items():
            old = params[name]
            if isinstance(old, np.ndarray) and old.shape == value.shape and old.flags.writeable:
                old[...] = value
            else:
                params[name] = value.copy()


def rebuild(cls, model, strategy: str, dtype: str, target: str = "numba",
            threads: int | None = None):
    """Kernels of class ``cls`` for ``model`` from the cached generated module (generated if
    needed): how a pickled ``Kernels`` comes back, and how a Dask worker builds its own.  A
    ``threads`` count is set in this process (``KernelsBase.use_threads``)."""
    kernels = cls(model, cached_module(model, strategy, dtype, target), dtype)
    return kernels if threads is None else kernels.ask_threads(threads)
