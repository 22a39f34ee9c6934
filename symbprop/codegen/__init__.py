"""Code generation: a model's derivation -> ``<out_dir>/<name>/kernels.py`` (NumPy + Numba only).

In: a model and its ``Derivation``.  Out: the text of a standalone kernel module (NumPy and
Numba only), written atomically or imported from the cache folder (``loader``).

    path = generate(model, "generated", strategy="auto", dtype="float64")
    is_stale(model, "generated")            # True if the file differs from what would be written

Pipeline: ``derive(model)`` -> a lowering builds the template context with printed code
(``unrolled``: straight-line scalar code per sample; ``looped``: per-layer BLAS products and
element loops; graphs: scalar code per node) -> ``emit.render`` (strict Jinja2, templates/) ->
atomic write.  Same spec and symbprop version give byte-identical files.

``auto`` picks ``unrolled`` for networks of at most ``AUTO_UNROLL_MAX`` scalar parameters and
``looped`` above (measured crossover: see the constant).  ``unrolled`` refuses networks above
``UNROLL_LIMIT`` parameters (code size and compile time grow with the weights).  Graphs have a
single scalar lowering, reported as ``unrolled``.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import numpy as np

import symbprop.codegen.emit as emit
import symbprop.codegen.looped as looped
import symbprop.codegen.numpy.network as numpy_network
import symbprop.codegen.unrolled as unrolled
from symbprop.codegen.float_type import printing
from symbprop.codegen.graphs import check_names, graph_context, safe_graph
from symbprop.codegen.numpy.printer import NumpyPrinter
from symbprop.codegen.plan import describe, formula_text, network_plan
from symbprop.errors import CodegenError  # defined there, re-exported here (codegen.CodegenError)
from symbprop.symbolic.derivation import derive
from symbprop.symbolic.stabilize import stabilize

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


def source(model, strategy: str = "auto", dtype: str = "float64", derivation=None,
           target: str = "numba") -> str:
    """The text of the kernel module for ``model`` (deterministic).  ``target`` picks the
    printer, the network lowering and the templates; the NumPy target has no ``strategy``.
    A float32 Numba module prints float32 literals and forms (``codegen.float_type``)."""
    target, dtype = check_target(target), check_dtype(dtype)
    with printing(dtype if target == "numba" else "float64"):
        return _source(model, strategy, dtype, derivation, target)


def _source(model, strategy: str, dtype: str, derivation, target: str) -> str:
    numpy = target == "numpy"
    strategy = "numpy" if numpy else resolve_strategy(model, strategy)
    in_numpy = " (NumPy)" if numpy else ""
    if model.kind == "graph":
        stable, rewritten = stabilize(model)
        safe, renamed = safe_graph(stable)
        if safe is not model or derivation is None:
            derivation = derive(safe)
        context = graph_context(derivation, renamed, NumpyPrinter() if numpy else None)
        variables = context.pop("variables")
        title = f"{model.name}: value and gradient kernels{in_numpy}."
        summary = "A computational graph: " + ", ".join(
            f"{n} = {formula_text(e)}" for n, e in model.nodes) + "."
        extra = {"param_list": ", ".join(model.params), "renamed": context["renamed"],
                 "const_list": ", ".join(model.constants),
                 "rewritten": rewritten}
        template = "numpy_graph.py.j2" if numpy else "kernels_graph.py.j2"
    else:
        d = derivation if derivation is not None else derive(model)
        lowering = {"numpy": numpy_network, "unrolled": unrolled}.get(strategy, looped)
        context = lowering.context(d, network_plan(d))
        title = f"{model.name}: forward and backward kernels{in_numpy}."
        summary = f"A {describe(model)}."
        naming = context.pop("naming", lowering.NAMING)  # looped: more lines for runs of layers
        extra = {"imports_math": True, "naming": naming, "sizes": repr(tuple(model.sizes)),
                 "reduction": model.reduction, "n_in": model.inputs, "n_out": model.sizes[-1],
                 "targets_sum_to_one": model.loss.targets_sum_to_one, **emit.packing(model)}
        template = "numpy_network.py.j2" if numpy else f"kernels_{strategy}.py.j2"
    base = emit.base_context(model, strategy, dtype, title, context.pop("helpers"), target)
    base["summary"] = textwrap.fill(summary, 96)
    body = {**base, **context, **extra}
    body["needs_scipy"] = numpy and "scipy." in "\n".join(
        [*base["activation_helpers"], *context.get("forward", []),
         *context.get("backward", []), *context.get("loss", [])])
    text = emit.checked(emit.render_module(template, body), f"{model.name}/kernels.py")
    if model.kind == "graph":
        check_names(text, variables)
    return text


def module_path(model, out_dir: str | Path) -> Path:
    """``<out_dir>/<model name>/kernels.py``."""
    return Path(out_dir) / model.name / "kernels.py"


def generate(model, out_dir: str | Path = "generated", strategy: str = "auto",
             dtype: str = "float64", target: str = "numba") -> Path:
    """Write the kernel module of ``model`` under ``out_dir``; returns its path."""
    text = source(model, strategy, dtype, target=target)
    return emit.write(module_path(model, out_dir), text)


def is_stale(model, out_dir: str | Path = "generated", strategy: str = "auto",
             dtype: str = "float64", target: str = "numba") -> bool:
    """True if ``<out_dir>/<name>/kernels.py`` is missing or differs from a fresh generation."""
    path = module_path(model, out_dir)
    try:
        current = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return True
    return current != source(model, strategy, dtype, target=target)
