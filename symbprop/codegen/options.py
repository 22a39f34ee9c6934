"""The choices a kernel module is generated with, and their checks (no SymPy, no Jinja2).

``auto`` picks ``unrolled`` for networks of at most ``AUTO_UNROLL_MAX`` scalar parameters and
``looped`` above (measured crossover: see the constant).  ``unrolled`` refuses networks above
``UNROLL_LIMIT`` parameters (code size and compile time grow with the weights).  Graphs have a
single scalar lowering, reported as ``unrolled``.

``STRATEGIES`` (the lowering), ``TARGETS`` (the code target), ``DTYPES``; ``resolve_strategy``
turns ``auto`` into a lowering for a model; ``required_functions`` is what a module of a model
must define (``integrity.damage`` checks a cached file against it).  Bad values raise
``CodegenError`` naming the field and what is allowed.
"""

from __future__ import annotations

import numpy as np

from symbprop.errors import CodegenError

STRATEGIES = ("auto", "unrolled", "looped")
#: Code targets: Numba (the default) and plain NumPy (``codegen.numpy``; no Numba needed).
TARGETS = ("numba", "numpy")
DTYPES = ("float64", "float32")
#: ``auto`` unrolls networks up to this many parameters.  Unrolled code is 3× faster per call at
#: batch 1 at every size, level with looped at batch 64 up to about 130 parameters and slower
#: above 200; its first compile grows with the weights (first process, derive to first call,
#: 2 cores: 4.4 s at 131 and 156 parameters, 6.7 s at 256, against 3.5 s looped at 256).
#: Measured by benchmarks/crossover.py and benchmarks/compile_growth.py.
AUTO_UNROLL_MAX = 160
#: The largest network ``unrolled`` accepts.
UNROLL_LIMIT = 1000
#: The functions a kernel module defines (the wrappers in symbprop.runtime.kernels and
#: symbprop.runtime.graph_kernels call them; a cached module without one of them is damaged).
GRAPH_FUNCTIONS = ("forward", "loss", "loss_and_grad_into", "loss_and_grad", "sgd_step", "train")
NETWORK_FUNCTIONS = (*GRAPH_FUNCTIONS, "_loss_and_grad_checked")


def required_functions(model, target: str = "numba") -> tuple[str, ...]:
    """The functions the kernel module of ``model`` must define."""
    if model.kind == "graph":
        return GRAPH_FUNCTIONS
    return NETWORK_FUNCTIONS if target == "numba" else NETWORK_FUNCTIONS[:-1]


def check_target(target: str) -> str:
    if target not in TARGETS:
        raise CodegenError(f"target: unknown {target!r}; allowed: {', '.join(TARGETS)}")
    return target


def resolve_strategy(model, strategy: str = "auto") -> str:
    """The lowering used for ``model``: ``unrolled`` or ``looped``."""
    if strategy not in STRATEGIES:
        raise CodegenError(f"strategy: unknown {strategy!r}; allowed: {', '.join(STRATEGIES)}")
    if model.kind == "graph":
        return "unrolled"
    if strategy == "auto":
        return "unrolled" if model.param_count <= AUTO_UNROLL_MAX else "looped"
    if strategy == "unrolled" and model.param_count > UNROLL_LIMIT:
        raise CodegenError(
            f"strategy: {model.name} has {model.param_count} parameters, more than unrolled "
            f"code allows ({UNROLL_LIMIT}); use strategy looped or auto"
        )
    return strategy


def check_dtype(dtype) -> str:
    """The name ("float64" or "float32") of ``dtype``: that name, or a NumPy type or dtype."""
    if dtype is not None and not isinstance(dtype, str):
        try:
            dtype = np.dtype(dtype).name
        except TypeError:
            pass
    if dtype not in DTYPES:
        raise CodegenError(f"dtype: unknown {dtype!r}; allowed: {', '.join(DTYPES)}")
    return dtype
