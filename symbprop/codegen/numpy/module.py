"""The text of a NumPy-target module: the model's derivation through the NumPy printer and the
``numpy_*.py.j2`` templates, with the same header, checksum line and layout as a Numba module."""

from __future__ import annotations

import textwrap

import symbprop.codegen.emit as emit
import symbprop.codegen.numpy.network as network
import symbprop.functions.registry as registry
from symbprop.codegen.graphs import check_names, graph_context, safe_graph
from symbprop.codegen.numpy.printer import NumpyPrinter
from symbprop.codegen.plan import describe, formula_text, network_plan
from symbprop.symbolic.derivation import derive
from symbprop.symbolic.stabilize import stabilize


def source(model, dtype: str = "float64", derivation=None) -> str:
    """The text of the NumPy kernel module for ``model`` (deterministic)."""
    if model.kind == "graph":
        stable, rewritten = stabilize(model)
        safe, renamed = safe_graph(stable)
        if safe is not model or derivation is None:
            derivation = derive(safe)
        context = graph_context(derivation, renamed, NumpyPrinter())
        variables = context.pop("variables")
        title = f"{model.name}: value and gradient kernels (NumPy)."
        summary = "A computational graph: " + ", ".join(
            f"{n} = {formula_text(e)}" for n, e in model.nodes) + "."
        extra = {"param_list": ", ".join(model.params), "const_list": ", ".join(model.constants)}
        template = "numpy_graph.py.j2"
    else:
        d = derivation if derivation is not None else derive(model)
        context = network.context(d, network_plan(d))
        title = f"{model.name}: forward and backward kernels (NumPy)."
        summary = f"A {describe(model)}."
        extra = {"naming": network.NAMING, "sizes": repr(tuple(model.sizes)),
                 "reduction": model.reduction, "n_in": model.inputs, "n_out": model.sizes[-1]}
        template = "numpy_network.py.j2"
    helpers = context.pop("helpers")
    base = emit.base_context(model, "numpy", dtype, title, helpers)
    base["activation_helpers"] = [record.numpy_helper for record in registry.ACTIVATIONS.values()
                                  if record.name in helpers and record.numpy_helper]
    base["summary"] = textwrap.fill(summary, 96)
    body = {**base, **context, **extra}
    body["needs_scipy"] = "scipy." in "\n".join(
        [*base["activation_helpers"], *context.get("forward", []), *context.get("backward", []),
         *context.get("loss", [])])
    text = emit.checked(emit.render_module(template, body), f"{model.name}/kernels.py")
    if model.kind == "graph":
        check_names(text, variables)
    return text
