"""The code generator: a model's derivation -> the text of its kernel module, and the file.

In: a model and its ``Derivation``.  Out: the text of a standalone kernel module (NumPy and
Numba only), written atomically or imported from the cache folder (``loader``).

    path = generate(model, "generated", strategy="auto", dtype="float64")
    is_stale(model, "generated")            # True if the file differs from what would be written

Pipeline: ``derive(model)`` -> a lowering builds the template context with printed code
(``unrolled``: straight-line scalar code per sample; ``looped``: per-layer BLAS products and
element loops; graphs: scalar code per node) -> ``emit.render_module`` (strict Jinja2,
templates/) -> ``integrity.checked`` -> atomic write.  Same spec and symbprop version give
byte-identical files.

The lowering, target and dtype are checked and resolved by ``symbprop.codegen.options``.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import symbprop.codegen.emit as emit
import symbprop.codegen.integrity as integrity
import symbprop.codegen.looped as looped
import symbprop.codegen.numpy.network as numpy_network
import symbprop.codegen.unrolled as unrolled
from symbprop.codegen.float_type import printing
from symbprop.codegen.graphs import check_names, graph_context, safe_graph
from symbprop.codegen.numpy.printer import NumpyPrinter
from symbprop.codegen.options import check_dtype, check_target, resolve_strategy
from symbprop.codegen.plan import describe, formula_text, network_plan
from symbprop.symbolic.derivation import derive
from symbprop.symbolic.stabilize import stabilize


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
                 "targets_sum_to_one": model.loss.targets_sum_to_one,
                 "permutation": emit.printed_functions("shuffle.py"), **emit.packing(model)}
        template = "numpy_network.py.j2" if numpy else f"kernels_{strategy}.py.j2"
    base = emit.base_context(model, strategy, dtype, title, context.pop("helpers"), target)
    base["summary"] = textwrap.fill(summary, 96)
    body = {**base, **context, **extra}
    body["needs_scipy"] = numpy and "scipy." in "\n".join(
        [*base["activation_helpers"], *context.get("forward", []),
         *context.get("backward", []), *context.get("loss", [])])
    text = integrity.checked(emit.render_module(template, body), f"{model.name}/kernels.py")
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
    return integrity.write(module_path(model, out_dir), text)


def is_stale(model, out_dir: str | Path = "generated", strategy: str = "auto",
             dtype: str = "float64", target: str = "numba") -> bool:
    """True if ``<out_dir>/<name>/kernels.py`` is missing or differs from a fresh generation."""
    path = module_path(model, out_dir)
    try:
        current = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return True
    return current != source(model, strategy, dtype, target=target)
