"""SymPy function classes for the activations, with the derivatives a textbook writes.

Each class is a real ``sympy.Function``: it prints in LaTeX under its usual name, it evaluates
numerically (``evalf``, floats), and its ``fdiff`` returns the textbook form of the derivative
(``σ' = σ(1 − σ)``, ``relu' = step`` with ``step(0) = 0``).  ``DEFINITIONS`` gives each one in
elementary functions (exp, log, Max, erf, Piecewise); the tests check every ``fdiff`` against
``sympy.diff`` of that definition, so the textbook forms are proved, not trusted.

``step`` is ``Heaviside(x, 0)``: the derivative of relu, 0 at the kink (stated in every document).
"""

from __future__ import annotations

import mpmath
import sympy
from sympy import Function, Heaviside, Piecewise, S, erf, exp, log, pi, sqrt


def step(x):
    """The unit step with step(0) = 0: relu'(x)."""
    return Heaviside(x, 0)


class ActivationBase(Function):
    """Common numeric behaviour: evaluate through the elementary definition."""


    def _eval_evalf(self, prec):
        return as_elementary(self)._eval_evalf(prec)

    def _latex(self, printer, exp=None):
        args = ", ".join(printer._print(a) for a in self.args)
        head = self.latex_name if exp is None else f"{self.latex_name}^{{{exp}}}"
        return rf"{head}\left({args}\right)"


class sigmoid(ActivationBase):
    """σ(x) = 1 / (1 + e^(−x)); σ'(x) = σ(x)(1 − σ(x))."""

    nargs = 1

    @classmethod
    def eval(cls, x):
        if x.is_zero:
            return S.Half
        if x.is_Float:
            return 1 / (1 + exp(-x))
        return None

    def fdiff(self, argindex=1):
        s = sigmoid(self.args[0])
        return s * (1 - s)


class relu(ActivationBase):
    """relu(x) = max(0, x); relu'(x) = step(x), with step(0) = 0."""

    nargs = 1

    @classmethod
    def eval(cls, x):
        if x.is_Number:
            return x if x > 0 else S.Zero
        return None

    def fdiff(self, argindex=1):
        return step(self.args[0])


class softplus(ActivationBase):
    """softplus(x) = log(1 + e^x); softplus'(x) = σ(x)."""

    nargs = 1

    @classmethod
    def eval(cls, x):
        if x.is_Float:
            return _softplus_float(x._mpf_, x._prec)
        return None

    def _eval_evalf(self, prec):
        x = self.args[0]._evalf(prec)  # prec in bits; an exact 0 stays the Integer 0
        if not x.is_Number:
            return None
        return _softplus_float(sympy.Float(x, precision=prec)._mpf_, prec)

    def fdiff(self, argindex=1):
        return sigmoid(self.args[0])


def _softplus_float(x, prec: int) -> sympy.Float:
    """softplus at the mpmath number ``x`` to ``prec`` bits, as max(x, 0) + log1p(e^(−|x|)):
    log(1 + e^x) in that order loses every digit for x < −prec·ln 2 (1 + e^x rounds to 1) and
    at x = −700 gives 0 instead of 9.9e-305."""
    with mpmath.workprec(prec + 10):
        value = mpmath.mpf(x)
        result = max(value, 0) + mpmath.log1p(mpmath.exp(-abs(value)))
    return sympy.Float._new(result._mpf_, prec)  # not mpf(result): that rounds to 53 bits


class leaky_relu(ActivationBase):
    """leaky_relu(x, α) = x for x > 0, αx otherwise; derivative 1 or α (α at 0)."""

    nargs = 2

    @classmethod
    def eval(cls, x, alpha):
        if x.is_Number and alpha.is_Number:
            return x if x > 0 else alpha * x
        return None

    def fdiff(self, argindex=1):
        x, alpha = self.args
        if argindex != 1:
            raise sympy.ArgumentIndexError(self, argindex)
        return Piecewise((S.One, x > 0), (alpha, True))


class elu(ActivationBase):
    """elu(x, α) = x for x > 0, α(e^x − 1) otherwise; derivative 1 or αe^x."""

    nargs = 2

    @classmethod
    def eval(cls, x, alpha):
        if x.is_Float and alpha.is_Number:
            return x if x > 0 else alpha * (exp(x) - 1)
        return None

    def fdiff(self, argindex=1):
        x, alpha = self.args
        if argindex != 1:
            raise sympy.ArgumentIndexError(self, argindex)
        return Piecewise((S.One, x > 0), (alpha * exp(x), True))


class swish(ActivationBase):
    """swish(x) = silu(x) = x σ(x); swish'(x) = σ(x) + x σ(x)(1 − σ(x))."""

    nargs = 1

    @classmethod
    def eval(cls, x):
        if x.is_zero:
            return S.Zero
        if x.is_Float:
            return x / (1 + exp(-x))
        return None

    def fdiff(self, argindex=1):
        x = self.args[0]
        s = sigmoid(x)
        return s + x * s * (1 - s)


class gelu(ActivationBase):
    """gelu(x) = x Φ(x) = (x/2)(1 + erf(x/√2)); gelu'(x) = Φ(x) + x φ(x)."""

    nargs = 1

    @classmethod
    def eval(cls, x):
        if x.is_zero:
            return S.Zero
        if x.is_Float:
            return x / 2 * (1 + erf(x / sympy.Float(2) ** S.Half))
        return None

    def fdiff(self, argindex=1):
        x = self.args[0]
        return (1 + erf(x / sqrt(2))) / 2 + x * exp(-(x**2) / 2) / sqrt(2 * pi)


class absolute(ActivationBase):
    """|x| for real x; derivative sign(x), 0 at the kink (a subgradient, as relu'(0) = 0).

    The formula parser's ``abs``: ``sympy.Abs`` assumes complex symbols, so it rewrites
    ``Abs(exp(y))`` to ``exp(re(y))`` and differentiates into re/im parts, which no rule and no
    kernel can use.  It prints as |x| in documents and ``abs(x)`` in code."""

    nargs = 1

    @classmethod
    def eval(cls, x):
        if x.is_Number:
            return abs(x)
        return None

    def fdiff(self, argindex=1):
        return sympy.sign(self.args[0])

    def _latex(self, printer, exp=None):
        tex = rf"\left\lvert {printer._print(self.args[0])} \right\rvert"  # no "|" (Markdown)
        return tex if exp is None else rf"{tex}^{{{exp}}}"

    def _symbprop_text(self, printer):
        return f"|{printer._print(self.args[0])}|"

    def _numbacode(self, printer):
        return f"abs({printer._print(self.args[0])})"

    def _sympystr(self, printer):
        return f"abs({printer._print(self.args[0])})"


#: Each class written with elementary functions only; the oracle for the ``fdiff`` tests.
DEFINITIONS = {
    sigmoid: lambda x: 1 / (1 + exp(-x)),
    relu: lambda x: sympy.Max(0, x),
    softplus: lambda x: log(1 + exp(x)),
    leaky_relu: lambda x, alpha: Piecewise((x, x > 0), (alpha * x, True)),
    elu: lambda x, alpha: Piecewise((x, x > 0), (alpha * (exp(x) - 1), True)),
    swish: lambda x: x / (1 + exp(-x)),
    gelu: lambda x: x / 2 * (1 + erf(x / sqrt(2))),
    absolute: sympy.Abs,
}


def as_elementary(expr: sympy.Expr) -> sympy.Expr:
    """``expr`` with every symbprop function replaced by its elementary definition."""
    for cls, definition in DEFINITIONS.items():
        expr = expr.replace(cls, definition)
    return expr
