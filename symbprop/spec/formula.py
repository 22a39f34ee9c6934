"""The safe formula parser: user text such as ``"z/(1+exp(-z))"`` -> a SymPy expression.

``parse_formula(text, variables)`` reads the text through ``formula_syntax.FormulaReader`` (the
whitelist of Python syntax, the limits on length, size and depth) and builds SymPy objects
directly from the checked tree; it never evaluates user text and never hands it to a string
parser.  Each variable name becomes ``variables[name]``; ``pi`` and ``e`` always mean the
constants; a call builds the SymPy function of ``FUNCTIONS``.  Every constant part must be a
real number (``sqrt(-1)``, ``log(-2)`` and ``(-1)**0.5`` are not), and int and float literals
are exact (``0.1`` is 1/10).  Anything else raises ``FormulaError`` with one line that quotes
the formula, says what is wrong and what is allowed.  ``formula_names(text)`` lists the free
names, with the same checks.

Limits on the values keep hostile input cheap and small; see the ``MAX_*`` constants of
``symbprop.spec.grammar``: literals up to 1e15; a numeric exponent up to 64 (with a numeric
base, that base up to 1e6); every number built, also intermediate ones, within 256 bits; at
most 8 values in one max/min; a constant (no variables) under a function must be a product of
numbers, pi and e of at most 2**64, which stops towers like ``exp(exp(exp(64)))`` that SymPy
would evaluate numerically.

Limits on the cost of what SymPy does with the formula, checked before it is built: at most
``MAX_FUNCTION_DEPTH`` levels of functions applied inside one another (the reader counts them:
the documents of a deeper nest, and SymPy's simplification of it, grow too fast to be worth
writing out), and ``degree_bound`` of every product and power at most ``MAX_DEGREE``
(``((x+1)**64+1)**64`` would expand to degree 4096).  ``tanh`` of a symbolic argument is built
without SymPy's assumption queries (``tanh_without_queries``), with the same result (those
queries cost three times more per level: tanh nested 11 deep took 95 s to build).
"""

from __future__ import annotations

import ast
import math
import operator
from collections.abc import Mapping
from decimal import Decimal

import sympy

from symbprop.functions.registry import sympy_classes
from symbprop.spec.formula_syntax import FormulaReader, shorten
from symbprop.spec.grammar import (
    CONSTANT_NAMES,
    FUNCTION_ARITY,
    MAX_BITS,
    MAX_CONSTANT_LOG2,
    MAX_DEGREE,
    MAX_EXPONENT,
    MAX_LITERAL,
    MAX_POWER_BASE,
)

_CLASSES = sympy_classes()  # through the registry: the classes print under their symbols
_CALLABLES = {"exp": sympy.exp, "log": sympy.log, "sqrt": sympy.sqrt, "sin": sympy.sin,
              "cos": sympy.cos, "tanh": sympy.tanh, "sigmoid": _CLASSES.sigmoid,
              "relu": _CLASSES.relu, "softplus": _CLASSES.softplus, "abs": _CLASSES.absolute,
              "erf": sympy.erf, "max": sympy.Max, "min": sympy.Min}
#: name -> (SymPy callable, number of arguments), in the order the docs list them.
FUNCTIONS = {name: (_CALLABLES[name], arity) for name, arity in FUNCTION_ARITY.items()}
_CONSTANT_VALUES = {"pi": sympy.pi, "e": sympy.E}
CONSTANTS = {name: _CONSTANT_VALUES[name] for name in CONSTANT_NAMES}

_UNDEFINED = {sympy.zoo, sympy.nan, sympy.oo, -sympy.oo}
_BINARY = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul,
           ast.Div: operator.truediv, ast.Pow: operator.pow}


def parse_formula(
    text: str, variables: Mapping[str, sympy.Expr], *, what: str = "formula"
) -> sympy.Expr:
    """The SymPy expression of ``text`` with each variable name replaced by ``variables[name]``."""
    return _Builder(text, variables, what).run()


def formula_names(text: str, *, what: str = "formula") -> list[str]:
    """The free variable names of ``text`` in order of first appearance (same checks as parsing)."""
    builder = _Builder(text, None, what)
    builder.run()
    return builder.names


def _log2_bounds(value: sympy.Expr) -> tuple[float, float] | None:
    """Bounds on log2|value| for a product of numbers, pi, e and rational powers; else None."""
    if value.is_Rational:
        if value == 0:
            return -math.inf, -math.inf
        p, q = abs(value.p).bit_length(), value.q.bit_length()
        return p - 1 - q, p - q + 1
    if value in (sympy.pi, sympy.E):
        return 1.0, 2.0
    if value.is_Pow and value.exp.is_Rational and (bounds := _log2_bounds(value.base)):
        low, high = (float(value.exp) * bound for bound in bounds)
        return (low, high) if value.exp > 0 else (high, low)
    parts = [_log2_bounds(arg) for arg in value.args] if value.is_Mul else [None]
    if None in parts:
        return None
    return sum(part[0] for part in parts), sum(part[1] for part in parts)


def degree_bound(expr: sympy.Basic) -> int:
    """An upper bound on the total degree that expanding ``expr`` (numerator and denominator)
    could produce: degrees add over a product, multiply by |n| in a power, take the maximum over
    a sum and over a function's arguments (a function counts at least 1)."""
    if expr.is_Atom:
        return 0 if expr.is_number else 1
    if expr.is_Pow and expr.exp.is_Rational:
        return degree_bound(expr.base) * math.ceil(abs(expr.exp))
    degrees = [degree_bound(arg) for arg in expr.args]
    if expr.is_Mul:
        return sum(degrees)
    if expr.is_Add:
        return max(degrees)
    return max([1, *degrees])


def tanh_without_queries(arg: sympy.Expr) -> sympy.Expr:
    """``sympy.tanh(arg)``.  For a symbolic argument, SymPy's ``eval`` asks whether it is zero,
    and that question costs about three times more per nested tanh (it expands real and
    imaginary parts); of ``eval``'s rules only the sign extraction applies to a formula (the
    others need I, asinh, ..., or a provably zero argument, which SymPy has already made 0)."""
    if arg.is_number:
        return sympy.tanh(arg)
    if arg.could_extract_minus_sign():
        return -sympy.tanh(-arg, evaluate=False)
    return sympy.tanh(arg, evaluate=False)


def _is_real(value: sympy.Expr) -> bool:
    """Whether a constant is real: by SymPy's assumptions, else numerically (30 digits)."""
    known = value.is_extended_real
    return bool(value.evalf(30, chop=True).is_extended_real) if known is None else known


class _Builder(FormulaReader):
    """The SymPy expression of a formula, built as the reader's checked tree is visited."""

    def __init__(self, text: str, variables: Mapping[str, sympy.Expr] | None, what: str):
        super().__init__(text, variables, what)
        self.names: list[str] = []  # free names in order of first use, when variables is None

    def run(self) -> sympy.Expr:
        return self.build(self.parse())

    def build(self, node: ast.AST) -> sympy.Expr:
        visit = getattr(self, "visit_" + type(node).__name__, None)
        if visit is None:
            self.refuse(type(node))
        value = visit(node)
        if value.is_number and not _is_real(value):
            self.fail(f"has a part that is not a real number ({shorten(str(value), 40)})",
                      "a constant part must be real: no sqrt or log of a negative number, "
                      "no fractional power of a negative one")
        for atom in value.atoms():
            if atom in _UNDEFINED:
                self.fail("is undefined (it divides by zero or takes log(0))")
            if atom.is_Rational and max(abs(atom.p), atom.q).bit_length() > MAX_BITS:
                self.fail(f"makes a number of more than {MAX_BITS} bits",
                          f"numbers, also intermediate ones, must stay below 2**{MAX_BITS}")
        return value

    def visit_Constant(self, node: ast.Constant) -> sympy.Expr:
        value = node.value
        if isinstance(value, bool) or not isinstance(value, int | float):
            self.refuse(type(value))
        if (isinstance(value, float) and not math.isfinite(value)) or abs(value) > MAX_LITERAL:
            self.fail(f"the number {shorten(str(value), 20)} is too large", "the limit is 1e15")
        if isinstance(value, int):
            return sympy.Integer(value)
        # repr is the shortest text that reads back as this float: 0.1 -> 1/10, not 2**-55 * ...
        return sympy.Rational(*Decimal(repr(value)).as_integer_ratio())

    def visit_Name(self, node: ast.Name) -> sympy.Expr:
        name = self.check_name(node.id)
        if name in CONSTANTS:
            return CONSTANTS[name]
        if name in FUNCTIONS:
            self.fail(f'"{name}" is a function, call it like {name}(...)')
        if self.variables is None:
            self.names += [name] * (name not in self.names)
            return sympy.Symbol(name)
        if name not in self.variables:
            self.fail(f'unknown name "{name}"')
        value = self.variables[name]
        if not isinstance(value, sympy.Basic):  # the caller's mistake, not the user's
            raise TypeError(f"variables[{name!r}] is {value!r}, not a SymPy expression")
        return value

    def visit_UnaryOp(self, node: ast.UnaryOp) -> sympy.Expr:
        if not isinstance(node.op, ast.USub | ast.UAdd):
            self.refuse(type(node.op))
        operand = self.build(node.operand)
        return -operand if isinstance(node.op, ast.USub) else operand

    def visit_BinOp(self, node: ast.BinOp) -> sympy.Expr:
        if type(node.op) not in _BINARY:
            self.refuse(type(node.op))
        left, right = self.build(node.left), self.build(node.right)
        if isinstance(node.op, ast.Div) and right == 0:
            self.fail("divides by zero", "the divisor must not be 0")
        if isinstance(node.op, ast.Pow):
            value = self.power(left, right)
        else:
            value = _BINARY[type(node.op)](left, right)
        if isinstance(node.op, ast.Pow | ast.Mult | ast.Div) and degree_bound(value) > MAX_DEGREE:
            self.fail(f"could expand to a polynomial of degree {degree_bound(value)}",
                      f"the limit is {MAX_DEGREE} (degrees multiply in powers and add in products)")
        return value

    def power(self, base: sympy.Expr, exponent: sympy.Expr) -> sympy.Expr:
        # SymPy computes powers of numbers eagerly: check their size before building them.
        if exponent.is_Rational:
            if abs(exponent) > MAX_EXPONENT:
                self.fail(f"the exponent {shorten(str(exponent), 20)} is too large",
                          f"a numeric exponent may be at most {MAX_EXPONENT} in size")
            if base.is_Rational and abs(base) > MAX_POWER_BASE:
                self.fail(f"the power {shorten(str(base), 20)}**{exponent} is too large",
                          "a number raised to a numeric power may be at most 1e6 in size")
            if base == 0 and exponent < 0:
                self.fail("raises 0 to a negative power", "the base must not be 0")
        elif exponent.is_number and base.is_number:
            self.check_constant("**", base)
            self.check_constant("**", exponent)
        return base**exponent

    def check_constant(self, name: str, value: sympy.Expr) -> None:
        # SymPy evaluates functions of constants, numerically if need be: exp(k*log(2)) becomes
        # 2**k, abs(exp(exp(exp(64))) - 1) never ends.  Small plain products keep that cheap.
        bounds = _log2_bounds(value) if value.is_number else (0, 0)
        if bounds is None or bounds[1] > MAX_CONSTANT_LOG2:
            self.fail(f'"{name}" is applied to a constant that is too large or complicated',
                      "a constant under a function or a non-numeric power must be a product of "
                      f"numbers, pi and e, at most 2**{MAX_CONSTANT_LOG2} in size")

    def visit_Call(self, node: ast.Call) -> sympy.Expr:
        name, high = self.check_call(node)
        function = FUNCTIONS[name][0]
        function = tanh_without_queries if function is sympy.tanh else function
        args = [self.build(arg) for arg in node.args]
        for arg in args:
            self.check_constant(name, arg)
        if high > 1 and any(arg.is_number and not arg.is_extended_real for arg in args):
            self.fail(f"{name} is given a complex number", f"{name} compares real values")
        try:
            if high > 1 and not all(arg.is_number for arg in args):
                # SymPy would compare the arguments pairwise, which is slow for big ones.
                return function(*args, evaluate=False)
            return function(*args)
        except (ValueError, TypeError, ArithmeticError) as err:  # not expected; a clean message
            self.fail(f"{name}(...) cannot be built ({shorten(str(err), 60)})")
