"""symbprop: derive, explain and compile backpropagation.

    import symbprop as sp
    model = sp.load("examples:two_two_one")       # or sp.mlp([2, 2, 1]), sp.expression("(x+y)*z")
    d = sp.derive(model)                          # every ∂C/∂θ by the chain rule
    d.gradient("W1[0,1]"), d.chain("W1[0,1]"), d.evaluate(values), d.to_latex(values)
    k = sp.compile(model)                         # Numba kernels from a generated module
    sp.check(model)                               # symbolic vs compiled vs finite differences

The public contract (CLI, API, generated modules, conventions) is described in the README.
"""

from __future__ import annotations

from symbprop.api import check, compile, exercise, generate
from symbprop.errors import DataError, FormulaError, SpecError, SymbpropError, ValuesError
from symbprop.model import Graph, Network
from symbprop.spec.builders import expression, graph, mlp
from symbprop.spec.loader import as_model, load
from symbprop.symbolic.derivation import Derivation, derive
from symbprop.symbolic.paths import Factor
from symbprop.version import __version__

__all__ = [
    "DataError",
    "Derivation",
    "Factor",
    "FormulaError",
    "Graph",
    "Network",
    "SpecError",
    "SymbpropError",
    "ValuesError",
    "__version__",
    "as_model",
    "check",
    "compile",
    "derive",
    "exercise",
    "expression",
    "generate",
    "graph",
    "load",
    "mlp",
]
