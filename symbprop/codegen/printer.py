"""``NumbaPrinter``: SymPy expressions -> Python source that Numba compiles in nopython mode.

A ``PythonCodePrinter`` subclass with a handful of ``_print_X`` overrides, no string munging:

* functions map to ``math.*`` (``math.exp``, ``math.tanh``, ``math.erf``), which Numba supports;
* the activations print as their records say (``symbprop.functions.registry``): a numerically
  stable helper defined in the generated module (``_sigmoid`` branches on the sign), or an
  inline form; the helpers a module needs are collected in ``printer.helpers`` while printing;
* ``Heaviside(x, h0)`` prints as a conditional expression with the value ``h0`` at 0, so
  relu'(0) = step(0) = 0; ``Piecewise`` prints as nested conditional expressions, so exactly
  one branch is evaluated (no NaN from the branch not taken) and a missing default is NaN;
* the kinks (a kinked activation, sign, a step with h0 ≠ 0) test their argument and use it
  again: inline (``(x if x > 0.0 else 0.0)``) when it is a name or number, a call of a helper
  with the same conditional (``_relu(x + 1)``) when it is a larger expression, so that printed
  code stays linear in the expression (printing it twice doubled the text at every level:
  relu nested 18 deep made 17 MB);
* the terms of a sum print in natural order of their text (``W2_0_2*a1_2`` before
  ``W2_0_10*a1_10``), where SymPy's own order compares names as strings;
* ``Indexed`` elements (``z1[0]``, ``W1[j, k]``) print through the ``indexed`` setting, a
  function ``Indexed -> str`` chosen by the lowering (``z1_0`` when unrolled, ``Z1[j, i]`` when
  looped); ``symbols`` renames plain symbols (graph variables that shadow module names).

* in float32 (the ``dtype`` setting, by default the type of ``float_type.printing``), numbers
  print as ``np.float32(...)`` except integer exponents (``a**2`` stays float32), tanh and the
  activations as their float32 forms (``symbprop.functions.float32``), so that nothing
  promotes to float64; float64 prints as it always did.

``assignment(target, code)`` makes the line ``target = code``, wrapped at the sum's top-level
``+``/``-`` inside parentheses when it is longer than ``LINE_WIDTH``.
"""

from __future__ import annotations

import re

import sympy
from sympy.printing.precedence import precedence
from sympy.printing.pycode import PythonCodePrinter

from symbprop.codegen.float_type import current, real
from symbprop.errors import CodegenError
from symbprop.functions.float32 import float32_record
from symbprop.functions.registry import activation, record_of_function

#: Longest generated line of code before indentation (the templates indent by up to 8).
LINE_WIDTH = 90
_DIGITS = re.compile(r"(\d+)")


def _natural_key(text: str) -> tuple:
    """``"W2_0_10*a1_10"`` -> ``("W", 2, "_", 0, "_", 10, "*a", 1, "_", 10, "")``."""
    parts = _DIGITS.split(text)
    return tuple(int(p) if i % 2 else p for i, p in enumerate(parts))


def _default_indexed(expr: sympy.Indexed) -> str:
    return "_".join([expr.base.label.name, *(str(i) for i in expr.indices)])


class NumbaPrinter(PythonCodePrinter):
    """Print one expression as a Python expression for ``@njit`` code (see module docstring)."""

    printmethod = "_numbacode"
    _default_settings = dict(
        PythonCodePrinter._default_settings,
        indexed=_default_indexed,
        symbols={},
        strict=True,
        dtype=None,
    )

    def __init__(self, settings: dict | None = None) -> None:
        super().__init__(settings or {})
        self.dtype = self._settings["dtype"] or current()
        self.helpers: set[str] = set()
        self._printed: dict = {}

    def doprint(self, expr, assign_to=None) -> str:
        """The code of ``expr``; ``CodegenError`` if it is complex (``real_only``)."""
        real_only(expr)
        return super().doprint(expr, assign_to)

    def _print(self, expr, **kwargs) -> str:
        """Each subexpression printed once (the sum's ordering prints its terms for their keys,
        which doubled the work at every level of a nested expression)."""
        if kwargs or not isinstance(expr, sympy.Basic):
            return super()._print(expr, **kwargs)
        text = self._printed.get(expr)
        if text is None:
            text = self._printed[expr] = super()._print(expr)
        return text

    def _as_ordered_terms(self, expr, order=None):
        if not isinstance(expr, sympy.Add):
            return super()._as_ordered_terms(expr, order)
        return sorted(expr.args, key=self._term_key)

    def _term_key(self, term: sympy.Expr) -> tuple:
        """Added terms before subtracted ones (``1 - a``, ``x - 5``, ``a - y``), numbers last
        within each, then the natural order of the text."""
        text = self._print(term)
        return text.startswith("-"), bool(term.is_Number), _natural_key(text.lstrip("-"))

    # ---------------------------------------------------------------- names

    def _print_Indexed(self, expr: sympy.Indexed) -> str:
        return self._settings["indexed"](expr)

    def _print_Symbol(self, expr: sympy.Symbol) -> str:
        return self._settings["symbols"].get(expr.name, expr.name)

    # ---------------------------------------------------------------- activations

    def helper(self, name: str, *args: sympy.Expr) -> str:
        """A call of the module's helper ``_name`` (recorded in ``helpers``)."""
        self.helpers.add(name)
        return f"_{name}({', '.join(self._print(a) for a in args)})"

    def kink(self, name: str, args: tuple, inline) -> str:
        """``inline(x, *rest)`` for an atomic first argument, else the helper ``_name(...)``."""
        if args[0].is_Atom or isinstance(args[0], sympy.Indexed):
            return inline(self._print(args[0]), *args[1:])
        return self.helper(name, *args)

    def times(self, alpha: sympy.Expr, text: str) -> str:
        """``alpha*text``, or ``text`` when α = 1."""
        if alpha == 1:
            return text
        return f"{self.parenthesize(alpha, precedence(sympy.Mul(2, 3, evaluate=False)))}*{text}"

    def _print_ActivationBase(self, expr) -> str:
        """An activation's SymPy class prints as its record says (``functions.registry``).  SymPy
        dispatches a Function subclass to its base class's method only when the base's name
        ends in "Base", hence the name."""
        record = record_of_function(type(expr))
        if record is not None and self.dtype == "float32":
            record = float32_record(record)
        if record is None or record.numba is None:
            raise CodegenError(f"{type(expr).__name__}: no Numba form is registered")
        return record.numba(self, *expr.args)

    # ---------------------------------------------------------------- float32

    def real(self, text: str) -> str:
        """The literal ``text`` as a number of the printer's dtype."""
        return real(text, self.dtype)

    def _print_Integer(self, expr) -> str:
        return self.real(super()._print_Integer(expr)) if self.dtype == "float32" else \
            super()._print_Integer(expr)

    def _print_Float(self, expr) -> str:
        return self.real(super()._print_Float(expr)) if self.dtype == "float32" else \
            super()._print_Float(expr)

    def _print_Rational(self, expr) -> str:
        return self.real(super()._print_Rational(expr)) if self.dtype == "float32" else \
            super()._print_Rational(expr)

    _print_Half = _print_Rational

    def _print_NumberSymbol(self, expr) -> str:
        """π, e, ∞ and NaN: ``math.pi`` and so on, as float32 in a float32 kernel."""
        return self.real(getattr(PythonCodePrinter, f"_print_{type(expr).__name__}")(self, expr))

    _print_Pi = _print_Exp1 = _print_Infinity = _print_NaN = _print_NegativeInfinity = \
        _print_NumberSymbol

    def _print_Zero(self, expr) -> str:
        return self.real(super()._print_Zero(expr))

    def _print_Pow(self, expr, rational=False) -> str:
        """An integer exponent stays an integer in float32 (``a**2``: float32 in Numba, a
        multiplication; ``a**np.float32(2)`` would call powf)."""
        if self.dtype == "float32" and expr.exp.is_Integer and expr.exp != -1:
            base = self.parenthesize(expr.base, precedence(expr), strict=False)
            exponent = int(expr.exp)
            return f"{base}**{exponent}" if exponent > 0 else f"{base}**({exponent})"
        return super()._print_Pow(expr, rational)

    def _print_tanh(self, expr) -> str:
        if self.dtype == "float32":
            return float32_record(activation("tanh")).numba(self, *expr.args)
        return PythonCodePrinter._print_tanh(self, expr)

    # ---------------------------------------------------------------- kinks and branches

    def _print_Heaviside(self, expr: sympy.Heaviside) -> str:
        h0 = expr.args[1] if len(expr.args) > 1 else sympy.S.Half
        one, zero = self.real("1.0"), self.real("0.0")
        if h0 == 0:
            return f"({one} if {self._print(expr.args[0])} > 0.0 else {zero})"
        h0 = sympy.Float(h0)
        return self.kink("step", (expr.args[0], h0), lambda x, h:
                          f"({one} if {x} > 0.0 else ({self._print(h)} if {x} == 0.0 else {zero}))")

    def _print_sign(self, expr: sympy.sign) -> str:
        one, minus, zero = self.real("1.0"), self.real("-1.0"), self.real("0.0")
        return self.kink("sign", expr.args,
                          lambda x: f"({one} if {x} > 0.0 else ({minus} if {x} < 0.0 else {zero}))")

    def _print_Piecewise(self, expr: sympy.Piecewise) -> str:
        *branches, (last, condition) = expr.args
        tail = self._print(last) if condition == sympy.true else \
            self.real(self._module_format("math.nan"))
        if condition != sympy.true:
            branches = [*branches, (last, condition)]
        for value, cond in reversed(branches):
            tail = self.choice(self._print(cond), self._print(value), tail)
        return tail

    def choice(self, condition: str, value: str, otherwise: str) -> str:
        """``value`` where ``condition`` holds, else ``otherwise`` (one branch is evaluated)."""
        return f"({value} if {condition} else {otherwise})"

    def _print_ylogsoftmax(self, expr: ylogsoftmax) -> str:
        return self.helper("ylogsoftmax", *expr.args)

    def _print_Max(self, expr: sympy.Max) -> str:
        return f"max({', '.join(self._print(a) for a in expr.args)})"

    def _print_Min(self, expr: sympy.Min) -> str:
        return f"min({', '.join(self._print(a) for a in expr.args)})"


class ylogsoftmax(sympy.Function):  # noqa: N801 (a SymPy function, named as printed)
    """y·log softmax(z)_j = y·(z_j − lse) for the loss value of a softmax output, printed as
    the helper ``_ylogsoftmax``: at |z| near 1e308, z_j − lse overflows to −inf, and y = 0
    times that was NaN where the loss is finite (``symbprop.codegen.plan.stable_loss``)."""

    nargs = 3


def real_only(expr) -> None:
    """Refuse an expression with the imaginary unit: a kernel computes with real floats.  It
    arises from a negative number to a variable power, ``(-2)**x``, real only at whole x (and
    differentiated into ``(-2)**x*log(-2)``, with log(-2) = log 2 + iπ)."""
    if not isinstance(expr, sympy.Basic) or not expr.has(sympy.I):
        return
    powers = sorted((sympy.sstr(p) for p in expr.atoms(sympy.Pow) if p.base.is_number
                     and p.base.is_extended_negative and not p.exp.is_number), key=len)
    if powers:
        raise CodegenError(f"{powers[0]}: a negative number to a variable power is not a real "
                           f"number for most values (its derivative is complex), so no kernel "
                           f"computes it; write the power with a positive base, e.g. "
                           f"2**x*cos(pi*x) for the real part of (-2)**x")
    raise CodegenError(f"{sympy.sstr(expr)[:80]}: complex, and the kernels compute with real "
                       f"numbers only")


def numba_code(expr: sympy.Expr, printer: NumbaPrinter | None = None, **settings) -> str:
    """``expr`` printed by ``printer`` (or a fresh ``NumbaPrinter(settings)``)."""
    return (printer or NumbaPrinter(settings)).doprint(expr)


def assignment(target: str, code: str, op: str = "=", width: int = LINE_WIDTH) -> str:
    """``target op code``; above ``width`` characters, the sum is wrapped in parentheses and
    broken before a top-level ``+`` or ``-``, continuation lines aligned after the ``(``."""
    line = f"{target} {op} {code}"
    terms = _top_level_terms(code)
    if len(line) <= width or len(terms) < 2:
        return line
    head = f"{target} {op} ("
    pad = " " * len(head)
    lines, current = [], head + terms[0]
    for term in terms[1:]:
        if len(current) + len(term) > width:
            lines.append(current)
            current = pad + term.lstrip()
        else:
            current += term
    return "\n".join([*lines, current + ")"])


def _top_level_terms(code: str) -> list[str]:
    """``code`` cut before each `` + `` and `` - `` outside parentheses and brackets (the cut
    keeps its leading space, so the pieces join back to ``code``)."""
    pieces, depth, start = [], 0, 0
    for position, char in enumerate(code):
        if char in "([":
            depth += 1
        elif char in ")]":
            depth -= 1
        elif depth == 0 and code.startswith((" + ", " - "), position):
            pieces.append(code[start:position])
            start = position
    return [*pieces, code[start:]]
