"""Rewrites of a graph's formulas into forms that floating point evaluates without overflow or
cancellation, for the compiled kernels only (PyTensor's "stabilize" rewrites, in small).

Documents and ``Derivation.evaluate`` keep the formula as the user typed it: ``log(1 + exp(x))``
is taught as three nodes.  The kernels are generated from ``stabilized(model)``, where

    log(sigmoid(u))        -> -softplus(-u)      log(1 - sigmoid(u)) -> -softplus(u)
    log(1 + exp(u))        -> softplus(u)        log(1 + u)          -> log1p(u)
    log(exp(u) + exp(v))   -> u + softplus(v - u)   (and so on for more terms, 1 = exp(0))
    exp(u)/(1 + exp(u))    -> sigmoid(u)         1/(1 + exp(-u))     -> sigmoid(u)
    u/(1 + exp(-u))        -> u·sigmoid(u)       exp(u) - 1          -> expm1(u)

Each is an identity for real u, so value and gradient are the same function (the tests check
every rewrite against the original at 50 digits); softplus, sigmoid, log1p and expm1 are printed
in their stable forms (``codegen.printer``).  An expression is rewritten whole and staged again;
a graph is rewritten node by node, so a pattern split across two of the user's nodes
(``q = exp(x)``, ``f = log(1 + q)``) is left as it is.
"""

from __future__ import annotations

import sympy
from sympy import exp, log
from sympy.codegen.cfunctions import expm1, log1p

from symbprop.functions.sympy_classes import sigmoid, softplus
from symbprop.model import Graph
from symbprop.spec.staging import stage


def stabilize(model: Graph) -> tuple[Graph, list[tuple[str, str]]]:
    """``model`` with stable formulas (``model`` itself when no rewrite applies), and (as typed,
    as compiled) for each formula that changed, for the generated module's header."""
    if "expression" in model.spec:
        composed = _composed(model)
        stable = stable_form(composed)
        if stable == composed:
            return model, []
        nodes = stage(stable, model.output, taken=set(model.params) | set(model.constants))
        changed = [(sympy.sstr(composed), sympy.sstr(stable))]
    else:
        nodes = tuple((name, stable_form(expr)) for name, expr in model.nodes)
        changed = [(f"{name} = {sympy.sstr(old)}", f"{name} = {sympy.sstr(new)}")
                   for (name, old), (_, new) in zip(model.nodes, nodes, strict=True) if new != old]
        if not changed:
            return model, []
    return Graph(model.name, model.params, nodes, model.output, model.spec, model.formulas,
                 model.constants), changed


def stabilized(model: Graph) -> Graph:
    """``model`` with stable formulas; ``model`` itself when no rewrite applies."""
    return stabilize(model)[0]


def rewrites(model: Graph) -> list[tuple[str, str]]:
    """(as typed, as compiled) for each formula ``stabilized`` changes."""
    return stabilize(model)[1]


def stable_form(expr: sympy.Expr) -> sympy.Expr:
    """``expr`` with every rewrite of the module docstring applied, innermost first."""
    if not expr.args or expr.is_Number:
        return expr
    args = tuple(stable_form(arg) for arg in expr.args)
    node = expr.func(*args) if args != expr.args else expr
    for rule in (_log_rule, _sigmoid_rule, _expm1_rule):
        rewritten = rule(node)
        if rewritten is not None:
            return rewritten
    return node


def _composed(model: Graph) -> sympy.Expr:
    """An expression model's formula: its staged nodes substituted back into the output."""
    values: dict[sympy.Symbol, sympy.Expr] = {}
    for name, expr in model.nodes:
        values[sympy.Symbol(name)] = expr.xreplace(values)
    return values[sympy.Symbol(model.output)]


def _log_rule(node: sympy.Expr) -> sympy.Expr | None:
    if not isinstance(node, log):
        return None
    inner = node.args[0]
    if isinstance(inner, sigmoid):
        return -softplus(-inner.args[0])
    exponents = _exponents(inner)
    if exponents is not None:
        return _log_sum_exp(exponents)
    rest = _one_plus(inner)
    if rest is None:
        return None
    if isinstance(-rest, sigmoid):
        return -softplus((-rest).args[0])
    return log1p(rest)


def _exponents(expr: sympy.Expr) -> list[sympy.Expr] | None:
    """[u, v, ...] where ``expr`` is exp(u) + exp(v) + ... (a term 1 is exp(0)), else None."""
    if not isinstance(expr, sympy.Add):
        return None
    exponents = []
    for term in expr.args:
        if isinstance(term, exp):
            exponents.append(term.args[0])
        elif term == sympy.S.One:
            exponents.append(sympy.S.Zero)
        else:
            return None
    return exponents


def _log_sum_exp(exponents: list[sympy.Expr]) -> sympy.Expr:
    """log(exp(u1) + ... + exp(un)), folded as L = u1, then L + softplus(u − L) for each next u:
    every softplus is of a difference, so nothing overflows, and its derivative is a sigmoid
    (the softmax weight), not exp(u)/Σ exp."""
    total = exponents[0]
    for u in exponents[1:]:
        total = total + softplus(u - total)
    return total


def _sigmoid_rule(node: sympy.Expr) -> sympy.Expr | None:
    """1/(1 + exp(-u)) -> sigmoid(u); then a factor exp(-u) beside sigmoid(u) is folded in:
    exp(-u)·sigmoid(u) = 1/(exp(u) + 1) = sigmoid(-u) (so exp(u)/(1 + exp(u)) -> sigmoid(u))."""
    if isinstance(node, sympy.Pow) and node.exp == -1:
        rest = _one_plus(node.base)
        if isinstance(rest, exp):
            return sigmoid(-rest.args[0])
    if isinstance(node, sympy.Mul):
        for factor in node.args:
            if isinstance(factor, sigmoid) and exp(-factor.args[0]) in node.args:
                return node / (factor * exp(-factor.args[0])) * sigmoid(-factor.args[0])
    return None


def _expm1_rule(node: sympy.Expr) -> sympy.Expr | None:
    """exp(u) - 1 (within a sum) -> expm1(u)."""
    if not isinstance(node, sympy.Add) or sympy.S.NegativeOne not in node.args:
        return None
    for term in node.args:
        if isinstance(term, exp):
            return node - term + 1 + expm1(term.args[0])
    return None


def _one_plus(expr: sympy.Expr) -> sympy.Expr | None:
    """r where ``expr`` is 1 + r, else None."""
    if isinstance(expr, sympy.Add) and sympy.S.One in expr.args:
        return expr - 1
    return None
