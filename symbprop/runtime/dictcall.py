"""The dict-of-arrays ``Kernels.loss_and_grad`` in one compiled call, when the inputs allow it.

``ArraysCall(kernels)`` wraps the generated ``_loss_and_grad_checked`` (the parameters, X, Y and
the gradient arrays as separate arguments; it tests shapes, NaN and softmax target rows itself
and returns ``(L, status)``) in two layers:

- a private Numba dispatcher of that function, compiled once for exactly the kernel dtype and
  C-contiguous writable arrays, with further compilation disabled: any other argument type
  (float32 into a float64 kernel, a list, a Fortran-ordered or read-only array) raises
  ``TypeError`` in Numba's C dispatcher at no cost to the common case;
- a Python function specialised to the network's parameter names and shapes, rendered from
  ``templates/dictcall.py.j2`` and compiled in memory (as ``collections.namedtuple`` and
  ``dataclasses`` do): it reads the dict entries, allocates the gradients and builds the
  result dict with literals instead of loops over names.  The rendered text is kept in the
  kernel cache (``<cache>/dictcall/<name>-<key>.py``, the key a hash of the template, the names,
  shapes and dtype; the file checksummed as kernel modules are), so that only the first process
  to need it on a machine imports Jinja2 (60–100 ms) for it; a damaged or unwritable file means
  a fresh rendering.

It returns ``None`` where ``Kernels`` must take its checking path, which converts what it can
and words the error for what it cannot.  ``Kernels`` builds it only when that pays
(``ArraysCall.due``): at once where it costs no compiling (this process has it, or Numba's
cache does), else once the checking path has spent ``BUDGET`` seconds beyond the kernel's own
time, about what compiling it costs.

Measured on the 2-2-1 net, batch 1 (2 cores): the whole dict call 1.5 µs (2.3 µs with generic
Python: ``dict(zip(...))`` alone took 0.3 µs; 0.97 µs with ``out=``), of which the compiled call
is 0.63 µs and allocating the four gradient arrays 0.5 µs; the flat ``loss_and_grad_into``
takes 0.22 µs.
"""

from __future__ import annotations

import hashlib
import json
import pickle
import weakref

import numpy as np

import symbprop.codegen.integrity as integrity
from symbprop.codegen.loader import cache_root
from symbprop.errors import SymbpropError
from symbprop.runtime.aligned import empty_aligned
from symbprop.templating import template_dir

TEMPLATE = "dictcall.py.j2"
FUNCTION = "loss_and_grad_dicts"
#: Seconds that one ``Kernels``' dict calls may spend on its checking path beyond the kernel's
#: own time, summed over the calls, before the one compiled call is built (``ArraysCall.due``):
#: about what building it costs (0.9 s at 4-16-3, 1.9 s at 64-32-10).
BUDGET = 1.0

#: generated module -> its private dispatcher (several ``Kernels`` may share one module).
_COMPILED: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


class ArraysCall:
    """``function()`` is ``call(params, X, Y, out=None) -> (L, grads) | None`` for one
    ``Kernels``."""

    def __init__(self, kernels) -> None:
        self.names = kernels.names
        self.shapes = [kernels.shapes[n] for n in self.names]
        self.dtype = kernels.dtype
        self.io = (kernels.model.inputs, kernels.model.sizes[-1])
        self.model_name = kernels.model.name
        self._per_sample = kernels.module.WORK_PER_SAMPLE
        self._fixed = 2 * kernels.size  # the packed parameters and their gradient
        self._scratch = empty_aligned(self._fixed, self.dtype)
        self._module = kernels.module
        self._function = None
        self.dispatcher = None  # the private dispatcher, once built
        self._cached = None  # whether Numba's cache holds it (ready), once looked at
        self.overhead = None  # seconds of checking path beyond the kernel (charge)

    def function(self):
        """The specialised function (built, and the dispatcher compiled, on first use)."""
        return self._function or self._build()

    def compiled(self) -> bool:
        """Whether the private dispatcher exists already (for this or another ``Kernels`` of
        the same module), so that ``function()`` costs no compilation."""
        return self._function is not None or self._module in _COMPILED

    def charge(self, seconds: float) -> None:
        """Count ``seconds`` that one call on the checking path spent beyond the kernel's time.
        The first call is not counted: its checks may load or compile the input check, a cost
        that is not paid again."""
        self.overhead = 0.0 if self.overhead is None else self.overhead + seconds

    def due(self) -> bool:
        """Whether the dict calls should build and take the one compiled call now: it costs
        no compiling (``ready``), or the checking path has spent ``BUDGET`` beyond the kernel.
        A script of a few calls never waits for the build, and a loop of many calls then
        gains 4–18 µs a call (2-2-1: 1.5 µs instead of 5–20).  As with renting until the rent
        paid reaches the price and then buying, the calls never cost much more than twice what
        the better choice in hindsight would have."""
        return (self.overhead or 0.0) >= BUDGET or self.ready()

    def ready(self) -> bool:
        """Whether ``function()`` would compile nothing: ``compiled()``, or Numba's cache holds
        a compiled form of the generated function for this machine, which another process
        compiled (loading it takes milliseconds).  The cache is looked at once."""
        if self.compiled():
            return True
        if self._cached is None:
            self._cached = in_numba_cache(self._module._loss_and_grad_checked)
        return self._cached

    def source(self) -> str:
        """The Python text of the specialised function: the kept rendering if it is intact,
        else a fresh one, kept for the next process (see the module docstring)."""
        template = (template_dir() / TEMPLATE).read_bytes()
        key = json.dumps([hashlib.sha256(template).hexdigest(), self.names,
                          [list(shape) for shape in self.shapes], self.dtype.name])
        path = (cache_root() / "dictcall"
                / f"{self.model_name}-{hashlib.sha256(key.encode()).hexdigest()[:16]}.py")
        try:
            kept = path.read_bytes()
            if integrity.damage(kept, (FUNCTION,)) is None:
                return kept.decode("utf-8")
        except OSError:
            pass
        head = f"# the dict call of {self.model_name} ({self.dtype.name}), from {TEMPLATE}\n"
        body = self._rendered()
        text = head + integrity.checksum_line(head + body, FUNCTION) + body
        try:
            integrity.write(path, text)
        except SymbpropError:  # an unwritable cache: the next process renders it again
            pass
        return text

    def _rendered(self) -> str:
        """The template rendered for this network and dtype."""
        # Imported here: Jinja2 loads only where no kept rendering exists.
        from symbprop.templating import render

        params = [{"name": name, "shape": shape, "scalar": not shape, "arg": f"p{index}",
                   "grad": f"g{index}"}
                  for index, (name, shape) in enumerate(zip(self.names, self.shapes, strict=True))]
        dtype_argument = "" if self.dtype == np.float64 else ", DTYPE"
        return render("dictcall.py.j2", params=params, dtype_argument=dtype_argument)

    def _build(self):
        """Compile the specialised function over the private dispatcher, on first use."""
        self.dispatcher = _COMPILED.get(self._module) or self._compile()
        namespace = {"compiled": self.dispatcher,
                     "scratch": self._work, "empty": np.empty, "ndarray": np.ndarray,
                     "DTYPE": self.dtype}
        code = compile(self.source(), f"<symbprop dict call: {self.model_name}>", "exec")
        exec(code, namespace)  # noqa: S102 (our template; spec names only as string literals)
        self._function = namespace[FUNCTION]
        return self._function

    def _compile(self):
        """The private dispatcher, compiled (or loaded from Numba's cache)."""
        # Imported here: Numba compiles the dispatcher on first call only.
        from numba import njit

        generated = self._module._loss_and_grad_checked
        # the options of the module's own dispatcher: both read and write one Numba cache entry
        options = {k: generated.targetoptions[k] for k in ("_nrt", "error_model")
                   if k in generated.targetoptions}
        dispatcher = njit(cache=True, **options)(generated.py_func)
        scalar = self.dtype.type
        zeros = [np.zeros(s, self.dtype) if s else scalar(0) for s in self.shapes]
        n_in, n_out = self.io
        X, Y = np.zeros((1, n_in), self.dtype), np.zeros((1, n_out), self.dtype)
        grads = [np.zeros(s, self.dtype) for s in self.shapes]
        dispatcher(*zeros, X, Y, *grads, self._work(1))
        dispatcher.disable_compile()
        _COMPILED[self._module] = dispatcher
        return dispatcher

    def _work(self, n: int) -> np.ndarray:
        """Scratch space for ``n`` samples, kept between calls (the generated function takes any
        buffer at least as long as it needs, so a longer one is passed whole, not sliced)."""
        if self._scratch.size < self._fixed + self._per_sample * n:
            self._scratch = empty_aligned(self._fixed + self._per_sample * n, self.dtype)
        return self._scratch


def in_numba_cache(dispatcher) -> bool:
    """Whether Numba's cache index of ``dispatcher`` lists a compiled form for this machine and
    the function's current source.  Reads the index through Numba's own cache objects, which
    are not public: where they differ (another Numba), the answer is False, and the caller
    compiles when it would have anyway."""
    try:
        index = dispatcher._cache._cache_file._load_index()
        machine = dispatcher.targetctx.codegen().magic_tuple()
        return any(key[1] == machine for key in index)
    except (AttributeError, IndexError, TypeError, OSError, EOFError, pickle.UnpicklingError):
        return False
