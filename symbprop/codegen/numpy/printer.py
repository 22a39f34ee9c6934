"""``NumpyPrinter``: SymPy expressions -> NumPy expressions that work on whole arrays.

The Numba printer's rules (``symbprop.codegen.printer``), with the scalar constructs replaced
by their array forms: functions are NumPy's (``np.exp``; erf is ``scipy.special.erf``), a
``Piecewise``, a step or a kink is ``np.where``, ``Max``/``Min`` are ``np.maximum``/
``np.minimum``, and each activation prints as its record's ``numpy`` form
(``symbprop.functions.registry``), with helpers defined in the module when it names one.
"""

from __future__ import annotations

import functools

import sympy

from symbprop.codegen.printer import NumbaPrinter
from symbprop.errors import CodegenError
from symbprop.functions.registry import record_of_function

#: Functions whose NumPy name differs from ``math``'s, or that NumPy lacks.
RENAMED = {"math.erf": "scipy.special.erf", "math.erfc": "scipy.special.erfc",
           "math.gamma": "scipy.special.gamma", "math.lgamma": "scipy.special.gammaln",
           "math.pi": "np.pi", "math.e": "np.e", "math.inf": "np.inf", "math.nan": "np.nan"}


class NumpyPrinter(NumbaPrinter):
    """Print one expression as NumPy code over arrays (see the module docstring)."""

    printmethod = "_numpycode"

    def _module_format(self, fqn, register=True):
        if fqn in RENAMED:
            return RENAMED[fqn]
        if fqn.startswith("math."):
            return "np." + fqn[len("math."):]
        return super()._module_format(fqn, register)

    def _print_ActivationBase(self, expr) -> str:
        record = record_of_function(type(expr))
        if record is None or record.numpy is None:
            raise CodegenError(f"{type(expr).__name__}: no NumPy form is registered")
        return record.numpy(self, *expr.args)

    def kink(self, name: str, args: tuple, inline) -> str:
        """Always the inline ``np.where`` form: printed once per use, it needs no helper."""
        return inline(self._print(args[0]), *args[1:])

    def _print_Heaviside(self, expr: sympy.Heaviside) -> str:
        x = self._print(expr.args[0])
        h0 = expr.args[1] if len(expr.args) > 1 else sympy.S.Half
        if h0 == 0:
            return f"np.where({x} > 0.0, 1.0, 0.0)"
        at_zero = self._print(sympy.Float(h0))
        return f"np.where({x} > 0.0, 1.0, np.where({x} == 0.0, {at_zero}, 0.0))"

    def _print_sign(self, expr: sympy.sign) -> str:
        return f"np.sign({self._print(expr.args[0])})"

    def _print_Abs(self, expr) -> str:
        return f"np.abs({self._print(expr.args[0])})"

    def _print_absolute(self, expr) -> str:
        return f"np.abs({self._print(expr.args[0])})"

    def choice(self, condition: str, value: str, otherwise: str) -> str:
        """Elementwise: ``np.where`` (both branches are evaluated, under ``np.errstate``)."""
        return f"np.where({condition}, {value}, {otherwise})"

    def _print_Max(self, expr: sympy.Max) -> str:
        return functools.reduce(lambda a, b: f"np.maximum({a}, {b})",
                                (self._print(a) for a in expr.args))

    def _print_Min(self, expr: sympy.Min) -> str:
        return functools.reduce(lambda a, b: f"np.minimum({a}, {b})",
                                (self._print(a) for a in expr.args))

    def _print_And(self, expr) -> str:
        return functools.reduce(lambda a, b: f"np.logical_and({a}, {b})",
                                (self._print(a) for a in expr.args))

    def _print_Or(self, expr) -> str:
        return functools.reduce(lambda a, b: f"np.logical_or({a}, {b})",
                                (self._print(a) for a in expr.args))
