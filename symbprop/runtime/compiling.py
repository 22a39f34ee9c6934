"""Kernels from a model or a spec: ``compile_model`` and ``compile_spec``.

``compile_model`` generates the kernel module of a model (or reuses it from the cache,
``symbprop.codegen.loader``), imports it and wraps it: ``Kernels`` for a network, ``GraphKernels``
for a graph or expression.  ``compile_spec`` does the same for a spec file or ``examples:NAME``;
a graph compiled before from the same text is found by the text (``symbprop.runtime.source_index``)
without parsing its formulas, so a second process does not import SymPy.
"""

from __future__ import annotations

import numpy as np

from symbprop.codegen.loader import cached_module, module_at
from symbprop.codegen.options import (
    GRAPH_FUNCTIONS,
    STRATEGIES,
    check_dtype,
    check_target,
    resolve_strategy,
)
from symbprop.errors import SymbpropError
from symbprop.runtime import first_compile, source_index
from symbprop.runtime.graph_kernels import GraphKernels
from symbprop.runtime.kernels import Kernels
from symbprop.runtime.threads import auto_threads, checked_threads
from symbprop.spec.loader import load_text, read_spec


def compile_model(model, strategy: str = "auto", dtype: str = "float64",
                  target: str = "numba", threads: int | None = None):
    """Generate (or reuse from the cache), import and wrap the kernels of ``model``; ``target``
    "numpy" is plain NumPy (no Numba; ``strategy`` does not apply).  ``threads``: the BLAS
    thread count of the kernels' products, set now for the whole process (None: one thread for
    small nets, BLAS's default for wide ones; see ``symbprop.runtime.threads``)."""
    threads = checked_threads(threads)
    if check_target(target) == "numpy":
        strategy, dtype = "numpy", check_dtype(dtype)
    else:
        strategy, dtype = resolve_strategy(model, strategy), check_dtype(dtype)
    # a machine's first looped net: its shared functions compile in a second process meanwhile
    second = first_compile.start(dtype) if strategy == "looped" else None
    module = cached_module(model, strategy, dtype, target)
    if second is not None:
        first_compile.finish(second)
    cls = GraphKernels if model.kind == "graph" else Kernels
    kernels = cls(model, module, dtype)
    if threads is not None:
        return kernels.ask_threads(threads)
    # auto leaves BLAS alone for code that calls none: graphs and unrolled networks
    if model.kind == "network" and strategy != "unrolled":
        return kernels.ask_threads(auto_threads(model))
    return kernels


def compile_spec(spec, strategy: str = "auto", dtype: str = "float64", target: str = "numba",
                 threads: int | None = None):
    """``compile_model(load(spec), ...)`` for a spec file or ``examples:NAME``, with the same
    results and errors; but the kernels of a graph compiled before from the same text (and the
    same options, symbprop and generator) come from the cache without the spec being parsed.
    Their ``model`` is then parsed from that text when first asked for."""
    text = read_spec(spec)
    options = _checked(strategy, dtype, target, threads)
    entry = source_index.key(text.text, text.default_name, *options) if options else None
    if entry is not None:
        kernels = _indexed(entry, text, options[1], threads)
        if kernels is not None:
            return kernels
    model = load_text(text)
    kernels = compile_model(model, strategy, dtype, target, threads)
    if entry is not None and model.kind == "graph":
        source_index.record(entry, kernels.path)
    return kernels


def _checked(strategy, dtype, target, threads) -> tuple[str, str, str] | None:
    """(strategy, dtype name, target) if every option is allowed, else None (then
    ``compile_model`` raises its error, after the spec's own errors, as it always did)."""
    try:
        checked_threads(threads)
        dtype, target = check_dtype(dtype), check_target(target)
    except SymbpropError:
        return None
    return (strategy, dtype, target) if strategy in STRATEGIES else None


def _indexed(entry: str, text, dtype: str, threads: int | None) -> GraphKernels | None:
    """The graph kernels the index entry names, if they are intact and of this dtype."""
    path = source_index.lookup(entry)
    module = module_at(path, GRAPH_FUNCTIONS) if path is not None else None
    if module is None or hasattr(module, "SIZES") or np.dtype(module.DTYPE) != np.dtype(dtype):
        return None  # a network's module (SIZES), or another dtype: written by something else
    kernels = GraphKernels(lambda: load_text(text), module, dtype)
    return kernels if threads is None else kernels.ask_threads(checked_threads(threads))
