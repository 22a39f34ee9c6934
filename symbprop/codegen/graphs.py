"""The lowering of a computational graph (or staged expression): scalar code, one line per node.

Forward: one assignment per node in evaluation order (``q = x + y``, ``f = q*z``).  Backward: the
derivation's named adjoints in reverse order (``df_dq = z``), each under a comment naming the
forward equations it differentiates, then ∂f/∂θ for each parameter into ``grad``.  Graphs have
this one lowering, whatever the requested strategy; the parameter vector ``theta`` holds the
declared variables in order.  A graph with ``constants`` (data, never differentiated) takes them
in a second vector ``const`` (order ``CONST_NAMES``) after ``theta`` in every function, as a
network's kernels take X and Y; a graph without constants has no such argument.

Names: ``safe_graph(model)`` renames, before the derivation, every graph variable whose name
(or whose adjoint's name, ``d<output>_d<name>``) would be a name the module uses itself (``theta``,
``np``, ``_sigmoid``, ``forward``, a builtin, a keyword), or the name of another variable's
adjoint: it appends ``_`` until the name is free, so the renaming is injective (``np`` beside a
user's ``np_`` becomes ``np__``) and ``q = x + y`` stays as typed.  ``check_names`` is the
second wall: no variable of the rendered module is one of its top-level names.
"""

from __future__ import annotations

import ast
import builtins
import keyword

import sympy

import symbprop.codegen.integrity as integrity
from symbprop.codegen.printer import NumbaPrinter, assignment
from symbprop.model import Graph
from symbprop.spec.variables import adjoint_name

#: Names the graph template and its base bind or read besides the variables (module level,
#: locals of the kernels); builtins, keywords and every ``_name`` (helpers) are taken too.
MODULE_NAMES = frozenset({
    "theta", "grad", "lr", "epochs", "epoch", "history", "value", "new", "p", "np", "math",
    "sys", "njit", "first_epoch", "forward", "loss", "loss_and_grad_into", "loss_and_grad",
    "sgd_step", "train", "SYMBPROP_VERSION", "SPEC_NAME", "SPEC_SHA256", "STRATEGY", "DTYPE",
    "PARAM_NAMES", "PARAM_SHAPES", "PARAM_OFFSETS", "N_PARAMS", "const", "CONST_NAMES",
    "N_CONSTS",
})


def _taken(name: str) -> bool:
    return (name in MODULE_NAMES or name.startswith("_") or keyword.iskeyword(name)
            or keyword.issoftkeyword(name) or hasattr(builtins, name))


def _adjoint_name(output: str, variable: str) -> str:
    return adjoint_name(output, variable)  # as symbprop.symbolic.sweep.adjoint_symbol names it


def safe_names(variables: list[str], output: str) -> dict[str, str]:
    """``{old: new}`` for the variables that must be renamed (see the module docstring);
    injective, and no new name, nor the adjoint name of one, is taken or clashes."""
    rename: dict[str, str] = {}
    while True:
        final = {v: rename.get(v, v) for v in variables}
        adjoints = {_adjoint_name(final[output], final[v]): v for v in variables if v != output}
        bad = next((v for v in variables if _taken(final[v]) or final[v] in adjoints), None)
        if bad is None:
            bad = next((v for a, v in adjoints.items() if _taken(a)), None)
        if bad is None:
            return rename
        used = set(final.values()) | set(adjoints)
        candidate = final[bad] if not final[bad].startswith("_") else "v" + final[bad]
        candidate += "_"
        while candidate in used or _taken(candidate):
            candidate += "_"
        rename[bad] = candidate


def safe_graph(model: Graph) -> tuple[Graph, dict[str, str]]:
    """``model`` with its variables renamed by ``safe_names`` (``model`` itself if none is)."""
    variables = list(dict.fromkeys([*model.params, *model.constants,
                                    *(n for n, _ in model.nodes)]))
    rename = safe_names(variables, model.output)
    if not rename:
        return model, {}
    symbols = {sympy.Symbol(old): sympy.Symbol(new) for old, new in rename.items()}

    def renamed(expr: sympy.Expr) -> sympy.Expr:
        return expr.xreplace({s: symbols[sympy.Symbol(s.name)] for s in expr.free_symbols
                              if sympy.Symbol(s.name) in symbols})

    new = Graph(model.name, tuple(rename.get(p, p) for p in model.params),
                tuple((rename.get(n, n), renamed(e)) for n, e in model.nodes),
                rename.get(model.output, model.output), model.spec, model.formulas,
                tuple(rename.get(c, c) for c in model.constants))
    return new, rename


def check_names(text: str, variables) -> None:
    """Refuse (internal error) a rendered module where a variable is a top-level name."""
    top = set()
    for node in ast.parse(text).body:
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            top.add(node.name)
        elif isinstance(node, ast.Assign):
            top |= {t.id for t in node.targets if isinstance(t, ast.Name)}
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            top |= {(a.asname or a.name).split(".")[0] for a in node.names}
    clash = sorted(top & set(variables))
    if clash:
        raise integrity.internal_error("kernels.py", f"uses {', '.join(clash)} for two things")


def _uses(d, symbol: sympy.Symbol) -> list[str]:
    """The forward equations that use ``symbol``: ``f = q*z``."""
    eqns = d.program.eqns
    return [f"{e.out} = {sympy.sstr(e.expr)}" for e in eqns if symbol in e.expr.free_symbols]


def _comment(d, target: str, symbol: sympy.Symbol) -> str:
    return f"# ∂{d.program.output}/∂{target}  from  {',  '.join(_uses(d, symbol))}"


def graph_context(d, rename: dict[str, str] | None = None, printer=None) -> dict:
    """Template context of ``kernels_graph.py.j2`` (each value: lines of printed code); ``d``
    derives a ``safe_graph``, ``rename`` is what that renamed (for the docstring); ``printer``
    the code target's printer (a ``NumbaPrinter`` by default)."""
    printer = printer or NumbaPrinter()
    params = [sympy.Symbol(p) for p in d.params]
    constants = [sympy.Symbol(c) for c in d.model.constants]
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
        "load_consts": [f"{printer.doprint(c)} = const[{n}]" for n, c in enumerate(constants)],
        "args": "theta, const" if constants else "theta",
        "const_names": repr(tuple(c.name for c in constants)),
        "n_consts": len(constants),
        "forward": forward,
        "output": printer.doprint(d.program.output),
        "label": d.program.output.name,
        "backward": backward,
        "renamed": dict(rename or {}),
        "variables": [str(s) for s in d.program.shapes] + [
            a.symbol.name for a in d.adjoints.values() if a.symbol is not None],
        "helpers": sorted(printer.helpers),
        "imports_math": bool(printer.helpers) or any("math." in line
                                                     for line in forward + backward),
        "without_runtime": True,  # scalar code: nothing allocates
    }
