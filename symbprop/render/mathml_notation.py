"""``NotationMathML``: the notes' own notation classes and the matrix forms, in MathML.

How ``SymbpropMathMLPrinter`` (``symbprop.render.mathml``) prints the inert classes of
``symbprop.render.notation``: ∂-fractions (``Partial``), boxed factors as ``<mrow
class="boxed">`` (MathML Core has no ``menclose``; the page's stylesheet draws the box), chains
in chain-rule order joined by a centred dot, sums of terms, "⋯ (n more)", ≈, means, and the
vector forms (∇, transposes, ⊙, matrix products, elementwise σ(·) and σ'(·)).  Names, numbers
and SymPy's own operations are ``mathml``'s.
"""

from __future__ import annotations

import sympy
from sympy.printing.precedence import PRECEDENCE

from symbprop.functions.registry import symbol
from symbprop.render.mathml_markup import MathMLMarkup, join
from symbprop.render.notation import Terms, factored, is_name

DOT = "\u00b7"


class NotationMathML(MathMLMarkup):
    """The printing rules of the notation classes (see the module docstring)."""

    def _print_Partial(self, expr):
        of = self._print(expr.of)
        if not is_name(expr.of):  # a node's operation: ∂(q r)/∂q
            of = self._fenced(of)
        return self._fraction(of, self._print(expr.wrt))

    def _print_Boxed(self, expr):
        return self._el("mrow", self._print(expr.args[0]), **{"class": "boxed"})

    def _print_Chain(self, expr):
        return self._row(*join([self._factor(f) for f in expr.args], None, self._mo(DOT)))

    def _factor(self, factor):
        if factor.is_Number and factor.is_negative:
            return self._fenced(self._print(factor))
        if factored(factor) is not None:
            return self._print(factor)
        if isinstance(factor, (sympy.Add, sympy.Sum, Terms)):
            return self._fenced(self._print(factor))
        return self.parenthesize(factor, PRECEDENCE["Mul"])

    def _print_Terms(self, expr):
        terms = [self._fenced(self._print(t)) if t.is_Number and t.is_negative
                 else self._print(t) for t in expr.args]
        return self._row(*join(terms, None, self._mo("+")))

    def _print_More(self, expr):
        count, what = expr.args
        return self._row(self._mo("\u22ef"), self._el("mtext", text=f" ({count} more {what})"))

    def _print_Approx(self, expr):
        return self._row(self._print(expr.args[0]), self._mo("\u2248"))

    def _print_Mean(self, expr):
        body = self._print(expr.body)
        if isinstance(expr.body, sympy.Add):
            body = self._fenced(body)
        one = self._el("mfrac", self._el("mn", text="1"), self._print(expr.count))
        return self._row(one, body)

    # ------------------------------------------------------------ vectors and matrices

    def _print_Gradient(self, expr):
        of, vector = expr.args
        return self._row(self._el("msub", self._mo("\u2207"), self._print(vector)),
                         self._print(of))

    def _print_Transpose(self, expr):
        inner = self._print(expr.arg)
        if not isinstance(expr.arg, sympy.MatrixSymbol) or inner.tagName != "mi":
            inner = self._fenced(inner)
        return self._el("msup", inner, self._mi("T"))

    def _print_HadamardProduct(self, expr):
        return self._row(*join([self._matrix_factor(a) for a in expr.args], None,
                                self._mo("\u2299")))

    def _print_MatMul(self, expr):
        return self._row(*join([self._matrix_factor(a) for a in expr.args], None,
                                self._mo("\u2062")))

    def _print_MatAdd(self, expr):
        return self._row(*join([self._print(a) for a in expr.args], None, self._mo("+")))

    def _matrix_factor(self, arg):
        if isinstance(arg, (sympy.MatAdd, sympy.MatMul, sympy.HadamardProduct)):
            return self._fenced(self._print(arg))
        return self._print(arg)

    def _print_Elementwise(self, expr):
        name, prime = expr.name.removesuffix("_prime"), expr.name.endswith("_prime")
        head = symbol(name) + ("\u2032" if prime else "")
        return self._row(self._mi(head), self._fenced(self._print(expr.vector)))

    def _print_Slope(self, expr):
        head = symbol(expr.name) + "\u2032"
        return self._row(self._mi(head), self._fenced(self._print(expr.args[1])))
