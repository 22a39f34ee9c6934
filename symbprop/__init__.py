"""symbprop: derive, explain and compile backpropagation.

    import symbprop as sp
    model = sp.load("examples:two_two_one")       # or sp.mlp([2, 2, 1]), sp.expression("(x+y)*z")
    d = sp.derive(model)                          # every ∂C/∂θ by the chain rule
    d.gradient("W1[0,1]"), d.chain("W1[0,1]"), d.evaluate(values), d.to_latex(values)
    k = sp.compile(model)                         # Numba kernels from a generated module
    sp.check(model)                               # symbolic vs compiled vs finite differences

The public contract (CLI, API, generated modules, conventions) is described in the README.
``derive``, ``Derivation`` and ``Factor`` load SymPy's side of the package on first use, so that
a process that only runs cached kernels (``sp.compile`` of a spec compiled before) never does.
"""

from __future__ import annotations

from symbprop.api import check, compile, exercise, generate
from symbprop.errors import DataError, FormulaError, SpecError, SymbpropError, ValuesError
from symbprop.model import Graph, Network
from symbprop.spec.builders import expression, graph, mlp
from symbprop.spec.loader import as_model, load
from symbprop.version import __version__

#: Public names that load on first use: name -> the module that defines it.
_LAZY = {"derive": "symbprop.symbolic.derivation", "Derivation": "symbprop.symbolic.derivation",
         "Factor": "symbprop.symbolic.paths"}


def __getattr__(name: str):
    """``sp.derive``, ``sp.Derivation``, ``sp.Factor``: imported when first asked for."""
    if name not in _LAZY:
        raise AttributeError(f"module 'symbprop' has no attribute {name!r}")
    # Imported here: SymPy's side loads on first use (see the module docstring).
    import importlib

    value = getattr(importlib.import_module(_LAZY[name]), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_LAZY})

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
