"""One expression's exact value at a point, as ``symbprop.symbolic.evaluate`` takes it.

``number(expr, numbers)`` substitutes SymPy Floats and evaluates with ``evalf`` at the working
precision (``symbprop.symbolic.precision.DIGITS``); where there is no finite real value in the
float range it raises the ``DomainError`` (or ``FloatRangeError``) that says which, at which
inputs.  ``compiled(expr)`` is the same expression compiled once with mpmath
(``sympy.lambdify``, every symbprop function in its elementary form), for the many points of a
descent lesson or an exercise sheet: about fifty times faster per point, with ``number``
behind it wherever the compiled form has no finite real value, raises, or could not be built,
so a point outside a domain gets the same error.
"""

from __future__ import annotations

from typing import NamedTuple

import mpmath
import sympy

from symbprop.errors import DomainError, FloatRangeError
from symbprop.functions.sympy_classes import as_elementary
from symbprop.spec.variables import looks_like_adjoint
from symbprop.symbolic.precision import DIGITS

#: The largest magnitude a float64 holds; a derivation value beyond it is a DomainError.
FLOAT_MAX = sympy.Float(1.7976931348623157e308)
_FLOAT_MAX_MPF = mpmath.mpf(FLOAT_MAX)


def number(expr: sympy.Expr, numbers: dict, what: str | None = None) -> sympy.Float:
    """``expr`` at ``numbers`` (symbol -> SymPy Float), at the working precision; ``what``
    names it in an error (default: ``expr``)."""
    value = expr.xreplace(numbers).evalf(DIGITS.get())
    if value.is_Number and value.is_finite and abs(value) <= FLOAT_MAX:
        return value
    inputs = sorted(expr.free_symbols & numbers.keys(), key=str)
    at = ", ".join(f"{s} = {float(numbers[s]):g}" for s in inputs if not _is_internal(s))
    if value.is_Number and value.is_finite:
        raise FloatRangeError(f"{what or expr} overflows the float range at {at or 'this point'}")
    kind = "is infinite" if value.has(sympy.zoo, sympy.oo, -sympy.oo) else "is not real"
    raise DomainError(f"{what or expr} {kind} at {at or 'this point'}; choose values inside "
                      "the domains of its functions")


def _is_internal(symbol) -> bool:
    """An adjoint's name (df_dq): not a value the user gave or can look up."""
    return isinstance(symbol, sympy.Symbol) and looks_like_adjoint(symbol.name)


class Compiled(NamedTuple):
    """``expr`` compiled with mpmath (``function``, None where it could not be)."""

    expr: sympy.Expr
    what: str | None
    args: tuple
    function: object

    def value(self, numbers: dict) -> mpmath.mpf:
        """``expr`` at ``numbers`` (symbol -> mpmath number), inside ``mpmath.workdps`` of the
        working precision; ``number``'s value or error where the compiled form has none."""
        if self.function is not None:
            try:
                value = self.function(*(numbers[a] for a in self.args))
            except Exception:  # noqa: BLE001 -- 1/0, a form mpmath lacks: SymPy says what it is
                value = None
            if isinstance(value, int | float):  # a constant: ∂f/∂f = 1
                value = mpmath.mpf(value)
            if isinstance(value, mpmath.mpf) and mpmath.isfinite(value) \
                    and abs(value) <= _FLOAT_MAX_MPF:
                return value
        digits = DIGITS.get()
        exact = {k: sympy.Float(v, digits) for k, v in numbers.items()}
        return mpmath.mpf(number(self.expr, exact, self.what))


def compiled(expr: sympy.Expr, what: str | None = None) -> Compiled:
    """``expr`` compiled once (see the module docstring); ``what`` names it in an error."""
    args = tuple(sorted(expr.free_symbols, key=str))
    try:
        function = sympy.lambdify(args, as_elementary(expr), modules="mpmath")
    except Exception:  # noqa: BLE001 -- a form the printer does not know: SymPy evaluates it
        function = None
    return Compiled(expr, what, args, function)
