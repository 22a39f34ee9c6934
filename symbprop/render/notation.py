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

from symbprop.render.names import layer_name


class _Inert(sympy.Expr):
    """An expression that keeps its arguments exactly as given."""

    is_commutative = True

    def __new__(cls, *args):
        return sympy.Expr.__new__(cls, *(sympy.sympify(a) for a in args))

    def doit(self, **hints):
        return self


class Partial(_Inert):
    """∂``of``/∂``wrt`` as a fraction: ``Partial(C, W1[0, 1])``.  ``of`` is a name, or a graph
    node's operation for its local derivative (``Partial(q*r, q)`` prints ∂(q r)/∂q)."""

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


class Mean(_Inert):
    """(1/``count``) ``body``, the factor written out as the notes write a mean:
    ``Mean(n_L, Σ_j (a_j − y_j)²)``, ``Mean(2, Σ_x ∂C_x/∂w)`` (never folded into a fraction)."""

    @property
    def count(self) -> sympy.Expr:
        return self.args[0]

    @property
    def body(self) -> sympy.Expr:
        return self.args[1]


class Approx(_Inert):
    """A number that was rounded for printing: ``Approx(lhs)`` prints as ``lhs ≈``."""


class Elementwise(MatrixExpr):
    """``f(v)`` applied to every entry of a vector: σ(z^l), tanh'(z^l).

    ``name`` is an activation's name (``sigmoid``, ``relu``, ``softmax``, ``custom``), or that
    name with ``_prime`` for the activation's derivative (``tanh_prime``: tanh'); the printers
    decide how it looks."""

    def __new__(cls, name: str, vector: MatrixExpr):
        return MatrixExpr.__new__(cls, _name_symbol(name), vector)

    @property
    def name(self) -> str:
        return self.args[0].name

    @property
    def vector(self) -> MatrixExpr:
        return self.args[1]

    @property
    def shape(self):
        return self.args[1].shape


def _name_symbol(name) -> sympy.Symbol:
    """An activation's name as the Symbol argument; ``xreplace`` rebuilds with the Symbol."""
    return name if isinstance(name, sympy.Symbol) else sympy.Symbol(name)


class Slope(_Inert):
    """The derivative of activation ``name`` at a scalar: ``Slope("tanh", z)`` is tanh'(z)
    (σ'(z) for ``sigmoid``, f'(z) for ``custom``)."""

    def __new__(cls, name: str, arg):
        return sympy.Expr.__new__(cls, _name_symbol(name), sympy.sympify(arg))

    @property
    def name(self) -> str:
        return self.args[0].name


def slope(activation) -> str:
    """The ``Elementwise``/``Slope`` name of an activation (``custom`` for a formula)."""
    return "custom" if activation.is_custom else activation.name


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


def is_name(expr) -> bool:
    """Whether ``expr`` is a name (a symbol, an element, a vector or matrix) rather than an
    expression that needs parentheses after ∂."""
    return isinstance(expr, (sympy.Symbol, sympy.Indexed, sympy.IndexedBase,
                             sympy.MatrixSymbol))


def vector(name, size: int) -> sympy.MatrixSymbol:
    """The column vector ``name`` (a ``Var`` such as z1, a1, delta2, x, b1, or its name) of
    ``size`` rows."""
    return sympy.MatrixSymbol(str(name), size, 1)


def matrix(name, rows: int, cols: int) -> sympy.MatrixSymbol:
    """The matrix ``name`` (a ``Var`` such as W1, or its name) of shape rows × cols."""
    return sympy.MatrixSymbol(str(name), rows, cols)


class NotesTermOrder:
    """Printer mixin: sums and products in the forms the notes write, where SymPy's differ
    (printing only, the expression is never changed):

    * a sum's leading negative term goes behind the positive ones: ``y − a``, not ``−a + y``;
    * a positive integer or unit fraction common to every term of a sum is taken out:
      ``2(a − y)``, not ``2a − 2y``;
    * a product with an error δ puts it last and the weights just before it: ``x_k δ^1_j``,
      ``(1 − a) a w δ`` (BP4, BP2);
    * a product of symbols and function values puts the symbols first: ``y log a``;
    * a Σ whose terms are all negative is written ``−Σ`` with a positive body (``−Σ_j y_j log
      a_j``), and is parenthesized inside products and powers, subtracted inside sums.
    """

    def _as_ordered_terms(self, expr, order=None):
        terms = [negated_sum(t) or t for t in super()._as_ordered_terms(expr, order=order)]
        if not terms or not terms[0].could_extract_minus_sign():
            return terms
        positive = [t for t in terms if not t.could_extract_minus_sign()]
        negative = [t for t in terms if t.could_extract_minus_sign()]
        return positive + negative if positive else terms

    def _print_Add(self, expr, order=None):
        product = factored(expr)
        return self._print(product) if product is not None else super()._print_Add(expr, order)

    def parenthesize(self, item, level, *args, **kwargs):
        return super().parenthesize(negated_sum(item) or item, level, *args, **kwargs)


def factored(expr) -> sympy.Expr | None:
    """A sum whose terms share a positive integer or unit-fraction factor, as the unevaluated
    product ``content · (primitive sum)``; None for any other expression."""
    if not isinstance(expr, sympy.Add):
        return None
    content, rest = expr.as_content_primitive()
    if rest.is_Add and content > 0 and (content.is_Integer and content > 1
                                        or content.p == 1 and content.q > 1):
        return sympy.Mul(content, rest, evaluate=False)
    return None


def negated_sum(expr) -> sympy.Expr | None:
    """``−Σ(−body)`` as an unevaluated product if ``expr`` is a Σ of a negative product or
    sum (it then prints as ``−Σ …``, with the precedence of a sum), else None."""
    if not isinstance(expr, sympy.Sum):
        return None
    body = expr.function
    if not isinstance(body, (sympy.Mul, sympy.Add)) or not body.could_extract_minus_sign():
        return None
    return sympy.Mul(-1, sympy.Sum(-body, *expr.limits), evaluate=False)


def notes_product(expr) -> tuple[bool, list] | None:
    """(negative, factors in printing order) where a product needs the notes' form, else None:
    a −Σ factor (``negated_sum``), sums with a common integer factor (taken out front:
    ``2 (1 − a) (a − y) a``), or symbols and function values (symbols first: ``y log a``).
    Products with a denominator keep SymPy's form."""
    negative = isinstance(expr, sympy.Mul) and expr.could_extract_minus_sign()
    positive = -expr if negative else expr
    if not isinstance(positive, sympy.Mul):
        return None
    factors = positive.as_ordered_factors()
    if any(f.is_Rational and not f.is_Integer or f.is_Pow and f.exp.is_negative
           for f in factors):
        return None
    if any(negated_sum(f) for f in factors):
        return negative, factors
    errors_last = _errors_last(factors)
    if errors_last is not None:
        return negative, errors_last
    pulled = _content_first(factors)
    if pulled is not None:
        return negative, pulled
    functions = [f for f in factors if isinstance(f, sympy.Function)]
    plain = [f for f in factors if not isinstance(f, sympy.Function)]
    if not functions or not plain or not all(
            f.is_Symbol or f.is_Indexed or (f.is_Integer and f > 0) for f in plain):
        return None
    if factors.index(functions[0]) > factors.index(plain[-1]):
        return None  # already in this order
    return negative, [*plain, *functions]


def _errors_last(factors: list) -> list | None:
    """``factors`` with the errors δ last and the weights just before them, every other factor
    (an input, an activation, the slope of an activation) first in its own order, as the notes
    write BP4 and BP2: x_k δ^1_j, (1 − a^1_0) a^1_0 w^2_00 δ^2_0.  None without a δ factor."""
    ranks = [_rank(f) for f in factors]
    if 2 not in ranks:
        return None
    return [f for _, f in sorted(zip(ranks, factors, strict=True), key=lambda pair: pair[0])]


def _rank(factor) -> int:
    """2 for an error δ^l_j, 1 for a weight w^l_jk, 0 for anything else."""
    if not isinstance(factor, sympy.Indexed):
        return 0
    parts = layer_name(factor.base.label.name)
    return {"delta": 2, "W": 1}.get(parts[0], 0) if parts else 0


def _content_first(factors: list) -> list | None:
    """``factors`` with the common integer factor of every sum among them taken out and put in
    front (with the product's own number), or None if no sum has one."""
    coefficient, rest, pulled = sympy.S.One, [], False
    for factor in factors:
        content, primitive = factor.as_content_primitive() if factor.is_Add else (1, factor)
        if factor.is_Number:
            coefficient *= factor
        elif content != 1 and content.is_Integer and primitive.is_Add:
            coefficient, pulled = coefficient * content, True
            rest.append(primitive)
        else:
            rest.append(factor)
    return [coefficient, *rest] if pulled else None
