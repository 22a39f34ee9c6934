"""Definitions and their composition: a derivation's named intermediates written out.

``Composer(program, adjoints)`` answers, for a scalar element of a named intermediate (z, a, δ,
a graph node, ∂f/∂q), its right-hand side (``definition``), and writes an expression out as a
function of the parameters and the data only (``compose``), refusing past
``MAX_COMPOSED_SIZE`` parts, a size it counts without composing (``composed_size``).  Every
answer is memoised: a composer belongs to one ``Derivation``, which delegates to it.
"""

from __future__ import annotations

import sympy
from sympy import Idx, Indexed

from symbprop.errors import SymbpropError
from symbprop.spec.formula import tanh_without_queries
from symbprop.symbolic.indexing import instantiate
from symbprop.symbolic.ir import Program
from symbprop.symbolic.sweep import Adjoint

#: ``compose`` refuses to write out more parts than this.
MAX_COMPOSED_SIZE = 20_000


class _PastLimit(Exception):
    """``composed_size`` counted past its limit."""


class Composer:
    """The definitions of ``program``'s variables and of the named ``adjoints`` (see the module
    docstring)."""

    def __init__(self, program: Program, adjoints: dict[sympy.Basic, Adjoint]) -> None:
        self.program, self.adjoints = program, adjoints
        self._definitions: dict = {}  # scalar element -> right-hand side
        self._composed: dict = {}  # scalar element -> composed definition
        self._sizes: dict = {}  # expression -> composed size

    def definition(self, element: sympy.Expr) -> sympy.Expr | None:
        """The right-hand side of a named scalar intermediate (z, a, δ, node, ∂f/∂q), or None."""
        if element not in self._definitions:
            self._definitions[element] = self._definition(element)
        return self._definitions[element]

    def _definition(self, element: sympy.Expr) -> sympy.Expr | None:
        base = element.base if isinstance(element, Indexed) else element
        indices = int_indices(element)
        eqn = self.program.defining(base)
        if eqn is not None:
            return instantiate(eqn.expr, dict(zip(eqn.indices, indices, strict=True)))
        for adjoint in self.adjoints.values():
            if adjoint.symbol == base:
                return instantiate(adjoint.expr, dict(zip(adjoint.indices, indices, strict=True)))
        return None

    def compose(self, expr: sympy.Expr) -> sympy.Expr:
        """``expr`` with every named intermediate replaced by its definition, recursively; a
        ``SymbpropError`` past ``MAX_COMPOSED_SIZE`` parts (``Derivation.compose``)."""
        if (size := self.composed_size(expr)) > MAX_COMPOSED_SIZE:
            raise SymbpropError(
                f"compose: the expression would have {size:,} parts written out, more than "
                f"MAX_COMPOSED_SIZE = {MAX_COMPOSED_SIZE:,}; use the named intermediates "
                "(d.gradient, d.evaluate) instead")
        return self._compose(expr)

    def composed_size(self, expr: sympy.Expr, limit: int | None = None) -> int:
        """How many parts ``compose(expr)`` would have written out, counted without composing;
        with ``limit``, the count stops as soon as it passes ``limit`` and ``limit + 1`` is
        returned (64-32-10's loss has 3.4 million parts: 2.5 s to count them all, for a "no")."""
        sizes = self._sizes

        def size(e) -> int:
            if e in sizes:
                return sizes[e]
            if isinstance(e, Indexed) or (isinstance(e, sympy.Symbol) and not isinstance(e, Idx)):
                definition = self.definition(e)
                if definition is not None:
                    sizes[e] = size(definition)
                    return sizes[e]
            total = 1
            for arg in e.args:
                total += size(arg)
                if limit is not None and total > limit:
                    raise _PastLimit
            return total

        try:
            return size(expr)
        except _PastLimit:
            return limit + 1

    def _compose(self, expr):
        replacements = {}
        for atom in _named_atoms(expr):
            if atom not in self._composed:
                definition = self.definition(atom)
                self._composed[atom] = None if definition is None else self._compose(definition)
            if self._composed[atom] is not None:
                replacements[atom] = self._composed[atom]
        return _substitute(expr, replacements, {}) if replacements else expr


def int_indices(element: sympy.Expr) -> tuple[int, ...]:
    """The integer indices of a scalar element (``W1[0, 1]`` -> (0, 1); a Symbol -> ())."""
    return tuple(int(i) for i in element.indices) if isinstance(element, Indexed) else ()


def _substitute(expr: sympy.Basic, rule: dict, memo: dict) -> sympy.Basic:
    """``expr.xreplace(rule)``, each shared part rebuilt once, and ``tanh`` rebuilt without
    SymPy's assumption queries (``formula.tanh_without_queries``: they cost three times more
    per nested tanh, and composing a graph nests its nodes)."""
    if expr in rule:
        return rule[expr]
    if not expr.args:
        return expr
    if expr not in memo:
        args = [_substitute(arg, rule, memo) for arg in expr.args]
        if all(new is old for new, old in zip(args, expr.args, strict=True)):
            memo[expr] = expr
        elif expr.func is sympy.tanh:
            memo[expr] = tanh_without_queries(args[0])
        else:
            memo[expr] = expr.func(*args)
    return memo[expr]


def _named_atoms(expr: sympy.Expr) -> list[sympy.Expr]:
    atoms = list(expr.atoms(Indexed)) + [
        s for s in expr.free_symbols if isinstance(s, sympy.Symbol) and not isinstance(s, Idx)
    ]
    return sorted(atoms, key=sympy.default_sort_key)
