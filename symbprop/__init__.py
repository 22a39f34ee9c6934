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

from symbprop.spec.builders import expression, graph, mlp
from symbprop.symbolic.derivation import Derivation, Factor, derive
from symbprop.errors import DataError, FormulaError, SpecError, SymbpropError, ValuesError
from symbprop.model import Graph, Network
from symbprop.spec.loader import as_model, load

__version__ = "0.1.0"


def compile(model, strategy: str = "auto", dtype: str = "float64"):  # noqa: A001 - public name
    """Kernels for ``model`` (a model, or what ``load`` takes), generated into the cache
    directory and imported (see codegen)."""
    from symbprop.runtime.kernels import compile_model

    return compile_model(as_model(model), strategy=strategy, dtype=dtype)


def generate(model, out_dir="generated", strategy: str = "auto", dtype: str = "float64"):
    """Write ``<out_dir>/<name>/kernels.py`` for ``model``; returns its path."""
    from symbprop.codegen import generate as _generate

    return _generate(as_model(model), out_dir, strategy=strategy, dtype=dtype)


def check(model, values=None, samples: int = 5, strategy: str = "auto", **options):
    """Cross-check symbolic, compiled and finite-difference gradients -> ``CheckReport``
    (options: ``dtypes=("float64", "float32")``, ``seed``; see ``symbprop.crosscheck.compare``)."""
    from symbprop.crosscheck.compare import check as _check

    return _check(as_model(model), values=values, samples=samples, strategy=strategy,
                  **options)


def exercise(model, seed: int = 0, count: int = 1, questions=None, fmt: str = "pdf",
             out_dir=None):
    """Exercise sheets of ``model`` with verified answer keys and values files, a fresh point
    per sheet -> ``Exercises`` (``.files``, ``.sheets``); written to ``out_dir`` if given
    (see ``symbprop.exercises``)."""
    from symbprop.exercises import exercise as _exercise

    return _exercise(as_model(model), seed=seed, count=count, questions=questions, fmt=fmt,
                     out_dir=out_dir, spec=model if isinstance(model, str) else None)


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
