"""Textbook notation as SymPy objects, so that every formula of a document goes through a printer.

SymPy has no object for "∂C/∂w written as a fraction, never evaluated", for a boxed local factor
(seed 001), for a product or a sum whose factors must keep the order of the chain rule, or for
σ'(z^l) applied elementwise to a vector.  These small classes are that notation; each printer
(``SymbpropLatexPrinter``, ``SymbpropTextPrinter``) has one ``_print_X`` method per class.  They
are inert: they never evaluate, simplify or reorder their arguments.
"""

from __future__ import annotations

import sympy
from sympy.matrices.expressions import MatrixExpr


class _Inert(sympy.Expr):
    """An expression that keeps its arguments exactly as given."""

    is_commutative = True

    def __new__(cls, *args):
        return sympy.Expr.__new__(cls, *(sympy.sympify(a) for a in args))

    def doit(self, **hints):
        return self


class Partial(_Inert):
    """∂``of``/∂``wrt`` as a fraction: ``Partial(C, W1[0, 1])``."""

    @property
    def of(self) -> sympy.Expr:
        return self.args[0]

    @property
    def wrt(self) -> sympy.Expr:
        return self.args[1]


class Boxed(_Inert):
    """A boxed local factor of the chain rule (seed 001)."""


class Chain(_Inert):
    """A product whose factors stay in chain-rule order, loss first."""


class Terms(_Inert):
    """A sum whose terms stay in the given order (one term per chain-rule path)."""


class More(_Inert):
    """"… and N more" inside a sum or a list: ``More(97, "paths")``."""

    def __new__(cls, count: int, what: str):
        return sympy.Expr.__new__(cls, sympy.Integer(count), sympy.Symbol(what))


class Approx(_Inert):
    """A number that was rounded for printing: ``Approx(lhs)`` prints as ``lhs ≈``."""


class Elementwise(MatrixExpr):
    """``f(v)`` applied to every entry of a vector: σ(z^l), σ'(z^l).

    ``name`` is an activation's name (``sigmoid``, ``relu``, ``softmax``, ``custom``) or
    ``sigma_prime`` (the slope of the layer's activation); the printers decide how it looks."""

    def __new__(cls, name: str, vector: MatrixExpr):
        return MatrixExpr.__new__(cls, sympy.Symbol(name), vector)

    @property
    def name(self) -> str:
        return self.args[0].name

    @property
    def vector(self) -> MatrixExpr:
        return self.args[1]

    @property
    def shape(self):
        return self.args[1].shape


class Gradient(MatrixExpr):
    """∇_v C: the vector of ∂C/∂v_j for a vector ``v`` (seed 002's ∇_a C)."""

    def __new__(cls, of: sympy.Expr, vector: MatrixExpr):
        return MatrixExpr.__new__(cls, of, vector)

    @property
    def shape(self):
        return self.args[1].shape


class SoftmaxJacobian(MatrixExpr):
    """∂a^L/∂z^L for a softmax layer: diag(a) − a aᵀ, dense (not elementwise)."""

    def __new__(cls, vector: MatrixExpr):
        return MatrixExpr.__new__(cls, vector)

    @property
    def shape(self):
        n = self.args[0].shape[0]
        return (n, n)


def vector(name: str, size: int) -> sympy.MatrixSymbol:
    """The column vector ``name`` (``z1``, ``a1``, ``delta2``, ``x``, ``b1``) of ``size`` rows."""
    return sympy.MatrixSymbol(name, size, 1)


def matrix(name: str, rows: int, cols: int) -> sympy.MatrixSymbol:
    """The matrix ``name`` (``W1``) of shape rows × cols."""
    return sympy.MatrixSymbol(name, rows, cols)


class NotesTermOrder:
    """Printer mixin: a sum's leading negative term goes behind the positive ones, as the notes
    write them: ``y − a`` rather than SymPy's ``−a + y``.  Otherwise SymPy's order."""

    def _as_ordered_terms(self, expr, order=None):
        terms = super()._as_ordered_terms(expr, order=order)
        if not terms or not terms[0].could_extract_minus_sign():
            return terms
        positive = [t for t in terms if not t.could_extract_minus_sign()]
        negative = [t for t in terms if t.could_extract_minus_sign()]
        return positive + negative if positive else terms
