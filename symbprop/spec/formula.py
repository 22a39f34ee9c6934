"""The safe formula parser: user text such as ``"z/(1+exp(-z))"`` -> a SymPy expression.

``parse_formula(text, variables)`` reads the text with Python's ``ast`` parser and walks the tree
with a whitelist, building SymPy objects directly; it never evaluates user text and never hands it
to a string parser.  Each variable name becomes ``variables[name]``; ``pi`` and ``e`` always mean
the constants.  Allowed: int and float literals (exact: ``0.1`` is 1/10), names, ``+ - * / **``,
unary ``-``/``+`` and calls, with positional arguments only, to the functions in ``FUNCTIONS``;
every constant part must be a real number (``sqrt(-1)``, ``log(-2)`` and ``(-1)**0.5`` are not).
Anything else raises ``FormulaError`` with one line that quotes the formula, says what is wrong
and what is allowed.  ``formula_names(text)`` lists the free names, with the same checks.

Limits keep hostile input cheap and small; see the ``MAX_*`` constants: the length,
AST nodes and depth; literals up to 1e15; a numeric exponent up to 64 (with a numeric base, that
base up to 1e6); every number built, also intermediate ones, within 256 bits; at most 8 values in
one max/min; a constant (no variables) under a function must be a product of numbers, pi and e of
at most 2**64, which stops towers like ``exp(exp(exp(64)))`` that SymPy would evaluate numerically.

Limits on the cost of what SymPy does with the formula, checked before it is built: at most
``MAX_FUNCTION_DEPTH`` levels of functions applied inside one another (the documents of a
deeper nest, and SymPy's simplification of it, grow too fast to be worth writing out), and
``degree_bound`` of every product and power at most ``MAX_DEGREE`` (``((x+1)**64+1)**64`` would
expand to degree 4096).  ``tanh`` of a symbolic argument is built without SymPy's assumption
queries, with the same result (those queries cost three times more per level: tanh nested
11 deep took 95 s to build).
"""

from __future__ import annotations

import ast
import math
import operator
from collections.abc import Mapping
from decimal import Decimal
from typing import NoReturn

import sympy

from symbprop.errors import FormulaError
from symbprop.functions.registry import sympy_classes
from symbprop.spec.grammar import (
    CONSTANT_NAMES,
    FUNCTION_ARITY,
    MAX_BITS,
    MAX_CONSTANT_LOG2,
    MAX_DEGREE,
    MAX_DEPTH,
    MAX_EXPONENT,
    MAX_FUNCTION_DEPTH,
    MAX_LENGTH,
    MAX_LITERAL,
    MAX_NODES,
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
_LEAVES = (ast.expr_context, ast.operator, ast.unaryop, ast.cmpop, ast.boolop)
_BINARY = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul,
           ast.Div: operator.truediv, ast.Pow: operator.pow}
# fmt: off
_REFUSED = {
    ast.Subscript: "a subscript (x[...])", ast.Slice: "a slice", ast.Lambda: "a lambda",
    ast.ListComp: "a comprehension", ast.SetComp: "a comprehension",
    ast.DictComp: "a comprehension", ast.GeneratorExp: "a comprehension", ast.List: "a list",
    ast.Tuple: "a tuple", ast.Set: "a set", ast.Dict: "a dict",
    ast.Compare: "a comparison (<, ==, ...)", ast.BoolOp: "the boolean operator and/or",
    ast.IfExp: "a conditional expression (... if ... else ...)", ast.JoinedStr: "an f-string",
    ast.FormattedValue: "an f-string", ast.NamedExpr: "an assignment (:=)",
    ast.Starred: "a starred argument (*...)", ast.Await: "await", ast.Yield: "yield",
    ast.YieldFrom: "yield", ast.FloorDiv: "floor division (//)", ast.Mod: "the remainder (%)",
    ast.MatMult: "the matrix product (@)", ast.BitXor: "the operator ^ (write powers as **)",
    ast.BitAnd: "the bitwise operator &", ast.BitOr: "the bitwise operator |",
    ast.LShift: "the shift <<", ast.RShift: "the shift >>", ast.Not: "the operator not",
    ast.Invert: "the bitwise operator ~", str: "a text string", bytes: "a byte string",
    complex: "a complex number (1j)", bool: "True or False", type(None): "None",
    type(...): "the ellipsis (...)",
}
# fmt: on


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


def _shorten(text: str, limit: int) -> str:
    text = "".join(ch if ch.isprintable() else "?" for ch in " ".join(text.split()))
    return text if len(text) <= limit else text[: limit - 3] + "..."


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


def _tanh(arg: sympy.Expr) -> sympy.Expr:
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


class _Builder:
    def __init__(self, text: str, variables: Mapping[str, sympy.Expr] | None, what: str):
        self.text, self.variables, self.what = text, variables, what
        self.names: list[str] = []  # free names in order of first use, when variables is None

    def fail(self, problem: str, allowed: str | None = None) -> NoReturn:
        if allowed is None:
            if self.variables is None:
                names = "variables, "
            else:
                names = ", ".join(sorted(set(self.variables) - set(FUNCTIONS) - set(CONSTANTS)))
                names = f"the variables {names}, " if names else ""
            allowed = (f"a formula may use numbers, {names}the constants pi and e, + - * / ** "
                       f"and the functions {', '.join(FUNCTIONS)}")
        raise FormulaError(f'{self.what} "{_shorten(str(self.text), 60)}": {problem}; {allowed}')

    def run(self) -> sympy.Expr:
        text = self.text
        if not isinstance(text, str):
            self.fail(f"is not text but {type(text).__name__}", "a formula is text")
        if len(text) > MAX_LENGTH:
            self.fail(f"is {len(text)} characters long", f"the limit is {MAX_LENGTH} characters")
        if not text.strip():
            self.fail("is empty")
        try:
            tree = ast.parse(text.strip(), mode="eval")
        except (SyntaxError, ValueError) as err:  # ValueError: null bytes, on Python < 3.12
            self.fail(f"is not a valid formula ({getattr(err, 'msg', err)})")
        except (RecursionError, MemoryError):  # the parser's own limits on pathological input
            self.fail("is nested too deeply", f"the limit is {MAX_DEPTH} levels")
        self.check_size(tree.body)
        return self.build(tree.body)

    def check_size(self, root: ast.AST) -> None:
        stack, count = [(root, 1, 0)], 0
        while stack:
            node, depth, calls = stack.pop()
            count += 1
            calls += isinstance(node, ast.Call)
            if calls > MAX_FUNCTION_DEPTH:
                self.fail("nests functions too deeply", f"the limit is {MAX_FUNCTION_DEPTH} "
                          "levels of functions inside one another, such as "
                          "exp(tanh(tanh(sin(cos(x)))))")
            if count > MAX_NODES:
                self.fail(f"has more than {MAX_NODES} parts",
                          "parts are numbers, names, operators and calls")
            if depth > MAX_DEPTH:
                self.fail("is nested too deeply", f"the limit is {MAX_DEPTH} levels")
            children = ast.iter_child_nodes(node)
            stack += [(child, depth + 1, calls) for child in children
                      if not isinstance(child, _LEAVES)]

    def build(self, node: ast.AST) -> sympy.Expr:
        visit = getattr(self, "visit_" + type(node).__name__, None)
        if visit is None:
            self.refuse(type(node))
        value = visit(node)
        if value.is_number and not _is_real(value):
            self.fail(f"has a part that is not a real number ({_shorten(str(value), 40)})",
                      "a constant part must be real: no sqrt or log of a negative number, "
                      "no fractional power of a negative one")
        for atom in value.atoms():
            if atom in _UNDEFINED:
                self.fail("is undefined (it divides by zero or takes log(0))")
            if atom.is_Rational and max(abs(atom.p), atom.q).bit_length() > MAX_BITS:
                self.fail(f"makes a number of more than {MAX_BITS} bits",
                          f"numbers, also intermediate ones, must stay below 2**{MAX_BITS}")
        return value

    def refuse(self, kind: type) -> NoReturn:
        self.fail(f"{_REFUSED.get(kind, f'a {kind.__name__} expression')} is not allowed")

    def visit_Attribute(self, node: ast.Attribute) -> NoReturn:
        self.fail(f'attribute access (".{_shorten(node.attr, 20)}") is not allowed')

    def visit_Constant(self, node: ast.Constant) -> sympy.Expr:
        value = node.value
        if isinstance(value, bool) or not isinstance(value, int | float):
            self.refuse(type(value))
        if (isinstance(value, float) and not math.isfinite(value)) or abs(value) > MAX_LITERAL:
            self.fail(f"the number {_shorten(str(value), 20)} is too large", "the limit is 1e15")
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

    def check_name(self, name: str) -> str:
        # an ASCII identifier is exactly [A-Za-z_][A-Za-z0-9_]*
        if not (name.isascii() and name.isidentifier()) or name.startswith("__"):
            allowed = 'names use A-Z, a-z, 0-9 and _ and do not start with "__"'
            self.fail(f'the name "{_shorten(name, 20)}" is not allowed', allowed)
        return name

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
                self.fail(f"the exponent {_shorten(str(exponent), 20)} is too large",
                          f"a numeric exponent may be at most {MAX_EXPONENT} in size")
            if base.is_Rational and abs(base) > MAX_POWER_BASE:
                self.fail(f"the power {_shorten(str(base), 20)}**{exponent} is too large",
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
        name = self.check_callee(node.func)
        for keyword in node.keywords:
            shown = f"{keyword.arg}=..." if keyword.arg else "**..."
            self.fail(f"a keyword argument ({shown}) is not allowed")
        if any(isinstance(arg, ast.Starred) for arg in node.args):
            self.refuse(ast.Starred)
        function, arity = FUNCTIONS[name]
        function = _tanh if function is sympy.tanh else function
        low, _, high = arity.partition(" to ")
        low, high = int(low), int(high or low)
        if not low <= len(node.args) <= high:
            self.fail(f"{name} takes {arity} argument{'s' * (high > 1)}, not {len(node.args)}",
                      f"call it like {name}({', '.join('xy'[:low])}{', ...' * (high > low)})")
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
            self.fail(f"{name}(...) cannot be built ({_shorten(str(err), 60)})")

    def check_callee(self, func: ast.expr) -> str:
        if isinstance(func, ast.Attribute):
            self.visit_Attribute(func)
        if not isinstance(func, ast.Name):
            self.fail("only the listed functions can be called")
        name = self.check_name(func.id)
        if name not in FUNCTIONS:
            known = name in CONSTANTS or name in (self.variables or ())
            self.fail(f'"{name}" is not a function' if known else f'unknown function "{name}"')
        return name
