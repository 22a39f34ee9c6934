"""The lowering of a computational graph (or staged expression): scalar code, one line per node.

Forward: one assignment per node in evaluation order (``q = x + y``, ``f = q*z``).  Backward: the
derivation's named adjoints in reverse order (``df_dq = z``), each under a comment naming the
forward equations it differentiates, then ∂f/∂θ for each parameter into ``grad``.  Graphs have
this one lowering, whatever the requested strategy; the parameter vector ``theta`` holds the
declared variables in order.  A graph name that would shadow a name of the module (``theta``,
``np``, ``max``, ...) gets a trailing underscore.
"""

from __future__ import annotations

import keyword

import sympy

from .printer import NumbaPrinter, assignment

RESERVED = {
    "theta", "grad", "lr", "epochs", "epoch", "history", "value", "new", "p", "np", "math",
    "njit", "max", "min", "abs", "range", "float", "int", "len", "first_epoch",
}


def _safe(name: str) -> str:
    if name in RESERVED or keyword.iskeyword(name) or name.startswith("_"):
        return name + "_"
    return name


def _uses(d, symbol: sympy.Symbol) -> list[str]:
    """The forward equations that use ``symbol``: ``f = q*z``."""
    eqns = d.program.eqns
    return [f"{e.out} = {sympy.sstr(e.expr)}" for e in eqns if symbol in e.expr.free_symbols]


def _comment(d, target: str, symbol: sympy.Symbol) -> str:
    return f"# ∂{d.program.output}/∂{target}  from  {',  '.join(_uses(d, symbol))}"


def graph_context(d) -> dict:
    """Template context of ``kernels_graph.py.j2`` (each value: lines of printed code)."""
    names = [str(s) for s in d.program.shapes] + [
        a.symbol.name for a in d.adjoints.values() if a.symbol is not None
    ]
    rename = {n: _safe(n) for n in names if _safe(n) != n}
    printer = NumbaPrinter({"symbols": rename})
    params = [sympy.Symbol(p) for p in d.params]
    forward = [assignment(printer.doprint(e.out), printer.doprint(e.expr)) for e in d.program.eqns]
    backward = []
    for adjoint in d.adjoints.values():
        if adjoint.symbol is None:
            continue
        backward.append(_comment(d, adjoint.variable.name, adjoint.variable))
        backward.append(assignment(printer.doprint(adjoint.symbol), printer.doprint(adjoint.expr)))
    for number, param in enumerate(params):
        backward.append(_comment(d, param.name, param))
        backward.append(assignment(f"grad[{number}]", printer.doprint(d.adjoints[param].expr)))
    return {
        "load_params": [f"{printer.doprint(p)} = theta[{n}]" for n, p in enumerate(params)],
        "forward": forward,
        "output": printer.doprint(d.program.output),
        "label": d.program.output.name,
        "backward": backward,
        "renamed": rename,
        "helpers": sorted(printer.helpers),
        "imports_math": bool(printer.helpers) or any("math." in line
                                                     for line in forward + backward),
        "without_runtime": True,  # scalar code: nothing allocates
    }
