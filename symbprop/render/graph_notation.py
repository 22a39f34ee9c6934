"""Notation of graph documents that must not be read two ways.

A graph document writes ∂f/∂q for the whole derivative of the output f with respect to q (the
adjoint: summed over every path from q to f, what the backward pass computes; seed 003's
"upstream" gradient).  A local derivative ∂t/∂v of node t with respect to its input v is the
same number only when v reaches t along that one edge alone; where v also reaches t through
other nodes (q = x y, r = q + x, f = q r: q reaches f directly and through r), the document
writes the local derivative with the node's operation instead, ∂(q r)/∂q = r, so that ∂f/∂q
keeps one meaning, −9 at the point and not r = −3.

``local_symbol`` gives the symbol of a local derivative; ``indirect_edges`` the edges where the
operation is named; ``free_letter`` a generic letter that is none of the graph's names.
"""

from __future__ import annotations

import sympy

from symbprop.render.graph_tikz import graph_edges
from symbprop.render.notation import Partial


def indirect_edges(d) -> list[tuple[sympy.Symbol, sympy.Symbol, list[sympy.Symbol]]]:
    """(v, t, [other consumers of v that reach t]) for every edge v -> t of the graph where v
    also reaches t through other nodes, in evaluation order; [] for a network."""
    if d.model.kind != "graph":
        return []
    if "_indirect_edges" not in d.__dict__:  # asked once per line of a document: found once
        d.__dict__["_indirect_edges"] = _indirect_edges(d)
    return list(d.__dict__["_indirect_edges"])


def _indirect_edges(d) -> list:
    edges = graph_edges(d)
    consumers: dict = {}
    for source, target, _ in edges:
        consumers.setdefault(source, []).append(target)
    downstream: dict = {}  # node -> every node it reaches, itself included (memoized: a DAG)

    def reaches(node) -> set:
        if node not in downstream:
            downstream[node] = {node}.union(*(reaches(c) for c in consumers.get(node, [])))
        return downstream[node]

    found = []
    for source, target, _ in edges:
        via = [c for c in consumers[source] if c != target and target in reaches(c)]
        if via:
            found.append((source, target, via))
    return found


def local_symbol(d, node, variable, indirect=None) -> Partial:
    """The symbol of the local derivative of ``node`` with respect to its input ``variable``:
    ∂node/∂variable, or ∂(operation of node)/∂variable where ``variable`` also reaches ``node``
    through other nodes (``indirect``: ``indirect_edges(d)``, if the caller has it)."""
    edges = indirect_edges(d) if indirect is None else indirect
    if any(v == variable and t == node for v, t, _ in edges):
        return Partial(d.program.defining(node).expr, variable)
    return Partial(node, variable)


def free_letter(d, candidates: tuple[str, ...] = ("v", "s", "t", "p", "n", "m")) -> sympy.Symbol:
    """The first of ``candidates`` that names no variable or node of the graph (for a generic
    "∂f/∂v for every variable v")."""
    taken = set(d.model.params) | {e.out.name for e in d.program.eqns}
    return sympy.Symbol(next((c for c in candidates if c not in taken), "nu"))
