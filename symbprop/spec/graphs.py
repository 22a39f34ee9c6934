"""Graph and expression specs -> ``Graph`` models: node formulas, dependency order, parameters.

A graph is ``{node: formula}`` with an ``output`` and ``params``; an expression is one formula,
staged into one operation per node (``symbprop.spec.staging``).  Cycles, undefined names, duplicate
or reserved names, and a graph without variables raise ``SpecError``; a parameter the output does
not depend on is a warning.  ``lr`` and ``upstream`` are not variable names: a values file uses
them for the learning rate and the gradient arriving from beyond the graph.  Nor is any name of
the form ``d<output>_d<name>``: the derivation names the adjoint ∂f/∂q of node q ``df_dq``
(``symbprop.symbolic.sweep.adjoint_symbol``) and documents read such names back as ∂f/∂q
(``symbprop.render.names``), so a variable or node so named would be that adjoint.  A graph has
at most ``MAX_NODES`` nodes; their order is found in linear time.
"""

from __future__ import annotations

import heapq
import itertools
import warnings
from typing import Any

import sympy

from symbprop.model import Graph
from symbprop.spec.fields import (
    Where,
    check_keys,
    did_you_mean,
    formula_text,
    identifier,
    parsed_formula,
    shown,
    used_names,
)
from symbprop.spec.grammar import RESERVED_VARIABLES
from symbprop.spec.staging import stage
from symbprop.spec.variables import parse_adjoint

GRAPH_KEYS = ("name", "graph", "output", "params", "constants")
EXPRESSION_KEYS = ("name", "expression", "params", "constants")
#: Keys of a graph's values file besides its variables (``symbprop.spec.values``).
#: The name of an expression's output node: the first of these not used by the expression.
OUTPUT_NAMES = ("f", "out", "output")
#: The most nodes a graph may have: every node becomes an equation, an adjoint and lines of
#: kernel code, and SymPy's work grows faster than the node count.
MAX_NODES = 10_000


def graph_model(data: dict, where: Where) -> Graph:
    check_keys(data, GRAPH_KEYS, where)
    name = identifier(data.get("name", "graph"), where / "name")
    raw = data["graph"]
    if not isinstance(raw, dict) or not raw:
        raise (where / "graph").error("must be a non-empty mapping {node: formula}")
    if len(raw) > MAX_NODES:
        raise (where / "graph").error(
            f"has {len(raw):,} nodes; at most {MAX_NODES:,} are supported")
    texts = {}
    for node, text in raw.items():
        identifier(node, where / "graph", what="node name")
        texts[node] = formula_text(text, where / "graph" / str(node))
    deps = {node: used_names(text, where / "graph" / node) for node, text in texts.items()}
    uses = [(where / "graph" / node, names) for node, names in deps.items()]
    constants = _constants(data.get("constants"), texts, where)
    params = _params(data.get("params"), texts, uses, where, constants)
    order = _topological(texts, deps, (*params, *constants), where)
    _check_has_variables(params, where / "graph")
    output = data.get("output", order[-1])
    if not isinstance(output, str) or output not in texts:
        raise (where / "output").error(
            f"{shown(output)} is not a node{did_you_mean(output, texts)}; "
            f"nodes: {', '.join(texts)}")
    _check_adjoint_forms(output, params, texts, data.get("params"), uses, where)
    symbols = {p: sympy.Symbol(p) for p in (*params, *constants)} | {
        n: sympy.Symbol(n) for n in texts}
    nodes = tuple(
        (node, parsed_formula(texts[node], symbols, where / "graph" / node, "formula"))
        for node in order
    )
    _warn_unused(params, nodes, output, where)
    spec = {"name": name, "graph": texts, "output": output, "params": list(params)}
    if constants:  # absent otherwise: the spec hash of a graph without constants is unchanged
        spec["constants"] = list(constants)
    return Graph(name, params, nodes, output, spec, tuple(texts.items()), constants)


def expression_model(data: dict, where: Where) -> Graph:
    check_keys(data, EXPRESSION_KEYS, where)
    name = identifier(data.get("name", "expression"), where / "name")
    text = formula_text(data["expression"], where / "expression")
    used = used_names(text, where / "expression")
    constants = _constants(data.get("constants"), {}, where)
    params = _params(data.get("params"), {}, [(where / "expression", used)], where, constants)
    symbols = {p: sympy.Symbol(p) for p in (*params, *constants)}
    expr = parsed_formula(text, symbols, where / "expression", "expression")
    _check_has_variables(params, where / "expression")
    output = _output_name((*params, *constants))
    _check_adjoint_forms(output, params, (), data.get("params"),
                         [(where / "expression", used)], where)
    nodes = stage(expr, output, taken=set(params) | set(constants))
    _warn_unused(params, nodes, output, where)
    spec = {"name": name, "expression": text, "params": list(params)}
    if constants:
        spec["constants"] = list(constants)
    return Graph(name, params, nodes, output, spec, ((output, text),), constants)


def _output_name(params: tuple[str, ...]) -> str:
    """The first of ``OUTPUT_NAMES`` (f, out, output), then f1, f2, ..., that is not a variable
    (the staged nodes ``t1, t2, ...`` avoid the variables and the output themselves)."""
    candidates = itertools.chain(OUTPUT_NAMES, (f"f{i}" for i in itertools.count(1)))
    return next(name for name in candidates if name not in params)


def _check_adjoint_forms(output: str, params: tuple, nodes: Any, declared: Any, uses: list,
                         where: Where) -> None:
    """No variable or node is named ``d<output>_d<name>``, the form of an adjoint's name.

    ``declared``: the spec's ``params`` (or None); ``uses``: [(where, names used there)], which
    locate an inferred variable (the first formula using it).
    """
    name = next((n for n in (*params, *nodes) if parse_adjoint(n, output)), None)
    if name is None:
        return
    if name in nodes:
        place = where / "graph" / name
    elif isinstance(declared, list):
        place = where / "params" / declared.index(name)
    else:
        place = next(w for w, used in uses if name in used)
    raise place.error(
        f"'{name}' has the form d<output>_d<name> that the derivation uses for the adjoint "
        f"∂{output}/∂{parse_adjoint(name, output)[1]} of the output '{output}'; rename it (such "
        "names are reserved)")


def _check_has_variables(params: tuple[str, ...], where: Where) -> None:
    """A constant has no gradient: derive, check, compile and train need a variable."""
    if not params:
        raise where.error("has no variables; a function of at least one variable is needed "
                          "(its gradient is what symbprop derives)")


def _variable(name: Any, where: Where) -> str:
    """A variable name: an identifier, neither a function nor a key of values files."""
    identifier(name, where, what="parameter name")
    if name in RESERVED_VARIABLES:
        raise where.error(f"'{name}' cannot name a variable: values files use it for "
                          f"{RESERVED_VARIABLES[name]}; reserved: {', '.join(RESERVED_VARIABLES)}")
    return name


def _constants(raw: Any, nodes: dict, where: Where) -> tuple[str, ...]:
    """The declared ``constants`` (data given in the values, never differentiated nor
    updated): a list of distinct variable names that are not nodes; () if absent."""
    if raw is None:
        return ()
    if not isinstance(raw, list) or not all(isinstance(c, str) for c in raw):
        raise (where / "constants").error("must be a list of variable names")
    for i, constant in enumerate(raw):
        _variable(constant, where / "constants" / i)
        if constant in nodes:
            raise (where / "constants" / i).error(f"'{constant}' is both a constant and a node")
    if len(set(raw)) != len(raw):
        dupes = sorted({c for c in raw if raw.count(c) > 1})
        raise (where / "constants").error(f"duplicate names: {', '.join(dupes)}")
    return tuple(raw)


def _params(raw: Any, nodes: dict, uses: list, where: Where,
            constants: tuple[str, ...] = ()) -> tuple[str, ...]:
    """The declared ``params``, or else the names in ``uses`` ([(where, names used there)]) that
    are neither ``nodes`` nor ``constants``, in order of first use; either way each is a valid
    variable name, and none is a constant."""
    if raw is None:  # infer: free names in order of first use
        inferred: list[str] = []
        for place, names in uses:
            inferred += [_variable(n, place) for n in names
                         if n not in nodes and n not in constants and n not in inferred]
        return tuple(inferred)
    if not isinstance(raw, list) or not all(isinstance(p, str) for p in raw):
        raise (where / "params").error("must be a list of variable names")
    for i, param in enumerate(raw):
        _variable(param, where / "params" / i)
        if param in nodes:
            raise (where / "params" / i).error(f"'{param}' is both a parameter and a node")
        if param in constants:
            raise (where / "constants" / constants.index(param)).error(
                f"'{param}' is both a parameter (params[{i}]) and a constant; a constant is "
                "given in the values and never differentiated nor updated")
    if len(set(raw)) != len(raw):
        dupes = sorted({p for p in raw if raw.count(p) > 1})
        raise (where / "params").error(f"duplicate names: {', '.join(dupes)}")
    return tuple(raw)


def _topological(texts: dict, deps: dict, params: tuple, where: Where) -> list[str]:
    """Nodes in an order where each comes after what it uses: each time, the first node in spec
    order whose dependencies are all placed (Kahn's algorithm with a heap of spec positions:
    O((nodes + uses) log nodes))."""
    known = set(params) | set(texts)
    for node, names in deps.items():
        undefined = [n for n in names if n not in known]
        if undefined:
            raise (where / "graph" / node).error(
                f"undefined name '{undefined[0]}'; known: {', '.join(sorted(known))}"
            )
    nodes = list(texts)
    position = {node: i for i, node in enumerate(nodes)}
    users: dict[str, list[str]] = {node: [] for node in nodes}
    waiting = {}
    for node in nodes:
        used_nodes = {name for name in deps[node] if name in position}
        waiting[node] = len(used_nodes)
        for used in used_nodes:
            users[used].append(node)
    ready = [position[node] for node in nodes if waiting[node] == 0]
    heapq.heapify(ready)
    order: list[str] = []
    while ready:
        node = nodes[heapq.heappop(ready)]
        order.append(node)
        for user in users[node]:
            waiting[user] -= 1
            if waiting[user] == 0:
                heapq.heappush(ready, position[user])
    if len(order) < len(nodes):
        placed = set(order)
        remaining = [node for node in nodes if node not in placed]
        raise (where / "graph").error(f"the nodes {', '.join(remaining)} form a cycle")
    return order


def _warn_unused(params: tuple, nodes: tuple, output: str, where: Where) -> None:
    exprs = dict(nodes)
    needed, stack = set(), [output]
    while stack:
        name = stack.pop()
        if name in exprs and name not in needed:
            needed.add(name)
            stack += [s.name for s in exprs[name].free_symbols]
        needed.add(name)
    unused = [p for p in params if p not in needed]
    if unused:
        message = f"the output '{output}' does not depend on {', '.join(unused)}"
        warnings.warn(str(where.error(message)), UserWarning, stacklevel=4)
