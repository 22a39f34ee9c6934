"""Graph and expression specs -> ``Graph`` models: node formulas, dependency order, parameters.

A graph is ``{node: formula}`` with an ``output`` and ``params``; an expression is one formula,
staged into one operation per node (``symbprop.staging``).  Cycles, undefined names, duplicate or
reserved names raise ``SpecError``; a parameter the output does not depend on is a warning.
"""

from __future__ import annotations

import warnings
from typing import Any

import sympy

from .model import Graph
from .specfields import Where, check_keys, formula_text, identifier, parsed_formula, used_names
from .staging import stage

GRAPH_KEYS = ("name", "graph", "output", "params")
EXPRESSION_KEYS = ("name", "expression", "params")


def graph_model(data: dict, where: Where) -> Graph:
    check_keys(data, GRAPH_KEYS, where)
    name = identifier(data.get("name", "graph"), where / "name")
    raw = data["graph"]
    if not isinstance(raw, dict) or not raw:
        raise (where / "graph").error("must be a non-empty mapping {node: formula}")
    texts = {}
    for node, text in raw.items():
        identifier(node, where / "graph", what="node name")
        texts[node] = formula_text(text, where / "graph" / str(node))
    deps = {node: used_names(text, where / "graph" / node) for node, text in texts.items()}
    params = _params(data.get("params"), texts, deps, where)
    order = _topological(texts, deps, params, where)
    output = data.get("output", order[-1])
    if output not in texts:
        raise (where / "output").error(f"'{output}' is not a node; nodes: {', '.join(texts)}")
    symbols = {p: sympy.Symbol(p) for p in params} | {n: sympy.Symbol(n) for n in texts}
    nodes = tuple(
        (node, parsed_formula(texts[node], symbols, where / "graph" / node, "formula"))
        for node in order
    )
    _warn_unused(params, nodes, output, where)
    spec = {"name": name, "graph": texts, "output": output, "params": list(params)}
    return Graph(name, params, nodes, output, spec, tuple(texts.items()))


def expression_model(data: dict, where: Where) -> Graph:
    check_keys(data, EXPRESSION_KEYS, where)
    name = identifier(data.get("name", "expression"), where / "name")
    text = formula_text(data["expression"], where / "expression")
    used = used_names(text, where / "expression")
    params = _params(data.get("params"), {}, {"": used}, where)
    symbols = {p: sympy.Symbol(p) for p in params}
    expr = parsed_formula(text, symbols, where / "expression", "expression")
    output = "f" if "f" not in params else "out"
    nodes = stage(expr, output, taken=set(params))
    _warn_unused(params, nodes, output, where)
    spec = {"name": name, "expression": text, "params": list(params)}
    return Graph(name, params, nodes, output, spec, ((output, text),))


def _params(raw: Any, nodes: dict, deps: dict, where: Where) -> tuple[str, ...]:
    if raw is None:  # infer: free names in order of first use
        inferred = []
        for names in deps.values():
            inferred += [n for n in names if n not in nodes and n not in inferred]
        return tuple(inferred)
    if not isinstance(raw, list) or not all(isinstance(p, str) for p in raw):
        raise (where / "params").error("must be a list of variable names")
    for i, param in enumerate(raw):
        identifier(param, where / "params" / i, what="parameter name")
        if param in nodes:
            raise (where / "params" / i).error(f"'{param}' is both a parameter and a node")
    if len(set(raw)) != len(raw):
        dupes = sorted({p for p in raw if raw.count(p) > 1})
        raise (where / "params").error(f"duplicate names: {', '.join(dupes)}")
    return tuple(raw)


def _topological(texts: dict, deps: dict, params: tuple, where: Where) -> list[str]:
    """Nodes in an order where each comes after what it uses (stable w.r.t. the spec order)."""
    known = set(params) | set(texts)
    for node, names in deps.items():
        undefined = [n for n in names if n not in known]
        if undefined:
            raise (where / "graph" / node).error(
                f"undefined name '{undefined[0]}'; known: {', '.join(sorted(known))}"
            )
    order: list[str] = []
    remaining = list(texts)
    while remaining:
        ready = [n for n in remaining if all(d in params or d in order for d in deps[n])]
        if not ready:
            raise (where / "graph").error(f"the nodes {', '.join(remaining)} form a cycle")
        order.append(ready[0])
        remaining.remove(ready[0])
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
