"""``SymbpropTextPrinter``: one-line unicode math for the terminal, in the lecture notes' notation.

The same conventions as ``SymbpropLatexPrinter``, written with unicode super- and subscripts:
``W1[0, 1]`` -> ``w¹₀₁``, ``z1[j]`` -> ``z¹ⱼ``, ``delta2[k]`` -> ``δ²ₖ``, ``x[k]`` -> ``xₖ``,
``Σ`` -> ``Σₖ``, ``sigmoid`` -> ``σ``, products with ``·``, ∂f/∂q as ``∂f/∂q``, boxed factors
as ``[…]``, relu' as ``step(z)`` (step(0) = 0).  An index that has no unicode subscript falls
back to brackets (``w¹[10,3]``).  Every rule is a ``_print_X`` override of ``StrPrinter``.
"""

from __future__ import annotations

import sympy
from sympy.printing.conventions import split_super_sub
from sympy.printing.precedence import PRECEDENCE
from sympy.printing.pretty.pretty_symbology import pretty_symbol
from sympy.printing.str import StrPrinter

from symbprop.functions.registry import record_of_function, symbol
from symbprop.render.latex import format_float
from symbprop.render.names import adjoint_name, layer_mark, layer_name
from symbprop.render.notation import (
    NotesTermOrder,
    Terms,
    factored,
    is_name,
    negated_sum,
    notes_product,
)
from symbprop.spec.variables import ACT, Var, layer_var

SUPERSCRIPT = dict(zip("0123456789+-=()ijklmnLT", "⁰¹²³⁴⁵⁶⁷⁸⁹⁺⁻⁼⁽⁾ⁱʲᵏˡᵐⁿᴸᵀ", strict=True))
SUBSCRIPT = dict(
    zip("0123456789+-=()aehijklmnoprstuvx", "₀₁₂₃₄₅₆₇₈₉₊₋₌₍₎ₐₑₕᵢⱼₖₗₘₙₒₚᵣₛₜᵤᵥₓ", strict=True)
)
HEADS = {"W": "w", "b": "b", "z": "z", "a": "a", "delta": "δ"}
MATRIX_HEADS = {"W": "W", "b": "b", "z": "z", "a": "a", "delta": "δ"}


def sup(text: str) -> str | None:
    """``text`` in superscript characters, or None if one has no superscript form."""
    return "".join(SUPERSCRIPT[c] for c in text) if all(c in SUPERSCRIPT for c in text) else None


def sub(text: str) -> str | None:
    """``text`` in subscript characters, or None if one has no subscript form."""
    return "".join(SUBSCRIPT[c] for c in text) if all(c in SUBSCRIPT for c in text) else None


class SymbpropTextPrinter(NotesTermOrder, StrPrinter):
    """Unicode one-line math.  Settings: ``digits``, ``network``, ``graph_output``,
    ``top_layer`` as for ``SymbpropLatexPrinter`` (``w⁽ᴸ⁻¹⁾``)."""

    printmethod = "_symbprop_text"  # not "_sympystr": Indexed would print itself as W1[j, k]
    _default_settings = {**StrPrinter._default_settings, "digits": 6, "network": True,
                         "graph_output": None, "top_layer": None}

    # ------------------------------------------------------------ names

    def _layer_text(self, name: str, heads: dict) -> str | None:
        parts = layer_name(name)
        if parts is None:
            return "x" if name == "x" else None
        head, layer = parts
        if head == "a" and layer == 0:
            return "x"
        mark = layer_mark(layer, self._settings["top_layer"])
        return heads[head] + (sup(mark) or f"^{mark}")

    def _print_IndexedBase(self, expr) -> str:
        return self._layer_text(expr.label.name, MATRIX_HEADS) or self._print(expr.label)

    def _print_Indexed(self, expr) -> str:
        base = self._layer_text(expr.base.label.name, HEADS) or self._print(expr.base.label)
        indices = [self._print(i) for i in expr.indices]
        lowered = sub("".join(indices)) if all(len(i) == 1 for i in indices) else None
        return base + (lowered if lowered is not None else f"[{','.join(indices)}]")

    def _print_Idx(self, expr) -> str:
        return self._print(expr.label)

    def _print_MatrixSymbol(self, expr) -> str:
        return self._layer_text(expr.name, MATRIX_HEADS) or pretty_name(expr.name)

    def _print_Symbol(self, expr) -> str:
        if self._settings["network"]:
            text = self._layer_text(expr.name, MATRIX_HEADS)
            if text is not None:
                return text
        else:
            parts = adjoint_name(expr.name, self._settings["graph_output"])
            if parts is not None:
                of, wrt = (self._print(sympy.Symbol(p)) for p in parts)
                return f"∂{of}/∂{wrt}"
        return pretty_name(expr.name)

    # ------------------------------------------------------------ operations

    def _print_Sum(self, expr) -> str:
        negated = negated_sum(expr)
        if negated is not None:
            return self._print(negated)
        heads = "".join("Σ" + (sub(self._print(limit[0])) or f"_{limit[0]}") + " "
                        for limit in expr.limits)
        body = expr.function
        if isinstance(body, sympy.Add):
            return f"{heads}({self._print(body)})"
        return heads + self._print(body)

    def _print_Mul(self, expr) -> str:
        if expr.could_extract_minus_sign():
            return "-" + self._print(-expr)
        product = notes_product(expr)
        if product is not None:
            return "·".join(self._mul_factor(f, True) for f in product[1])
        numerator, denominator = [], []
        for factor in expr.as_ordered_factors():
            if factor.is_Rational and factor.q != 1:
                numerator.append(sympy.Integer(factor.p))
                denominator.append(sympy.Integer(factor.q))
            elif factor.is_Pow and factor.exp.is_Number and factor.exp.is_negative:
                denominator.append(sympy.Pow(factor.base, -factor.exp))
            else:
                numerator.append(factor)
        numerator = [f for f in numerator if f != 1] or [sympy.S.One]
        crowded = len(numerator) > 1 or bool(denominator)
        top = "·".join(self._mul_factor(f, crowded) for f in numerator)
        if not denominator:
            return top
        bottom = "·".join(self._mul_factor(f, True) for f in denominator)
        if len(numerator) > 1:
            top = f"({top})"
        return f"{top}/({bottom})" if len(denominator) > 1 else f"{top}/{bottom}"

    def _mul_factor(self, factor, crowded: bool) -> str:
        """A factor of a product; a fraction among other factors gets parentheses."""
        shown = self.parenthesize(factor, PRECEDENCE["Mul"])
        return f"({shown})" if "/" in shown and crowded else shown

    def _print_Pow(self, expr, rational=False) -> str:
        base, exponent = expr.args
        if exponent == sympy.S.Half:
            return f"√({self._print(base)})"
        if exponent.is_Number and exponent.is_negative:
            return f"1/{self.parenthesize(sympy.Pow(base, -exponent), PRECEDENCE['Mul'])}"
        shown = self.parenthesize(base, PRECEDENCE["Pow"], strict=True)
        if isinstance(base, sympy.Indexed):
            shown = f"({shown})"
        raised = sup(self._print(exponent)) if exponent.is_Integer else None
        return shown + (raised or f"^{self.parenthesize(exponent, PRECEDENCE['Pow'])}")

    def _print_Rational(self, expr) -> str:
        return f"{expr.p}/{expr.q}"

    def _print_Float(self, expr) -> str:
        mantissa, exponent = format_float(expr, self._settings["digits"])
        return mantissa if exponent is None else f"{mantissa}e{exponent}"

    def _print_Function(self, expr) -> str:
        record = record_of_function(type(expr))
        name = record.symbol if record else type(expr).__name__
        return f"{name}({', '.join(self._print(a) for a in expr.args)})"

    def _print_Pi(self, expr) -> str:
        return "π"

    def _print_Exp1(self, expr) -> str:
        return "e"

    def _print_Infinity(self, expr) -> str:
        return "∞"

    def _print_exp(self, expr) -> str:
        return f"exp({self._print(expr.args[0])})"

    def _print_Abs(self, expr) -> str:
        return f"|{self._print(expr.args[0])}|"

    def _print_Heaviside(self, expr) -> str:
        return f"step({self._print(expr.args[0])})"

    def _print_KroneckerDelta(self, expr) -> str:
        left, right = (self._print(a) for a in expr.args)
        return f"[{left} = {right}]"

    def _print_Piecewise(self, expr) -> str:
        pieces = [
            f"{self._print(value)} otherwise" if condition == sympy.true
            else f"{self._print(value)} if {self._print(condition)}"
            for value, condition in expr.args
        ]
        return "{" + "; ".join(pieces) + "}"

    # ------------------------------------------------------------ textbook notation

    def _print_Partial(self, expr) -> str:
        of, wrt = (self._print(a) for a in expr.args)
        return f"∂{of if is_name(expr.of) else f'({of})'}/∂{wrt}"

    def _print_Boxed(self, expr) -> str:
        return f"[{self._print(expr.args[0])}]"

    def _print_Chain(self, expr) -> str:
        return " · ".join(self._factor(f) for f in expr.args)

    def _factor(self, factor) -> str:
        if factored(factor) is not None:
            return self._print(factor)  # 2·(a - y), a product already
        if (factor.is_Number and factor.is_negative) or isinstance(
                factor, (sympy.Add, sympy.Sum, Terms)):
            return f"({self._print(factor)})"
        return self.parenthesize(factor, PRECEDENCE["Mul"])

    def _print_Terms(self, expr) -> str:
        return " + ".join(
            f"({self._print(t)})" if t.is_Number and t.is_negative else self._print(t)
            for t in expr.args
        )

    def _print_More(self, expr) -> str:
        count, what = expr.args
        return f"… ({count} more {what.name})"

    def _print_Mean(self, expr) -> str:
        body = self._print(expr.body)
        if isinstance(expr.body, sympy.Add):
            body = f"({body})"
        return f"(1/{self._print(expr.count)}) {body}"

    def _print_Approx(self, expr) -> str:
        return f"{self._print(expr.args[0])} ≈"

    # ------------------------------------------------------------ vectors and matrices

    def _print_Transpose(self, expr) -> str:
        inner = self._print(expr.arg)
        if isinstance(expr.arg, sympy.MatrixSymbol) and inner.isalpha():
            return inner + "ᵀ"
        return f"({inner})ᵀ"

    def _print_HadamardProduct(self, expr) -> str:
        return " ⊙ ".join(self._matrix_factor(a) for a in expr.args)

    def _print_MatMul(self, expr) -> str:
        return "·".join(self._matrix_factor(a) for a in expr.args)

    def _print_MatAdd(self, expr) -> str:
        return " + ".join(self._print(a) for a in expr.args)

    def _matrix_factor(self, arg) -> str:
        if isinstance(arg, (sympy.MatAdd, sympy.MatMul, sympy.HadamardProduct)):
            return f"({self._print(arg)})"
        return self._print(arg)

    def _print_Elementwise(self, expr) -> str:
        name, prime = expr.name.removesuffix("_prime"), expr.name.endswith("_prime")
        head = symbol(name) + ("′" if prime else "")
        return f"{head}({self._print(expr.vector)})"

    def _print_Slope(self, expr) -> str:
        return f"{symbol(expr.name)}′({self._print(expr.args[1])})"

    def _print_Gradient(self, expr) -> str:
        of, vector = (self._print(a) for a in expr.args)
        return f"∂{of}/∂{vector}"

    def _print_SoftmaxJacobian(self, expr) -> str:
        vector = expr.args[0]  # z^l: the Jacobian is ∂a^l/∂z^l
        active = sympy.MatrixSymbol(Var(ACT, layer_var(vector.name).layer).name, *vector.shape)
        return f"∂{self._print(active)}/∂{self._print(vector)}"


def pretty_name(name: str) -> str:
    """``delta^l+1`` -> ``δˡ⁺¹``, ``t1`` -> ``t₁``: SymPy's super/subscript split, in unicode;
    a part without unicode scripts keeps its mark (``n_L``, ``x_(in)``)."""
    head, supers, subs = split_super_sub(name)
    shown = pretty_symbol(head)
    for group, convert, mark in ((supers, sup, "^"), (subs, sub, "_")):
        for part in group:
            shown += convert(part) or (f"{mark}{part}" if len(part) == 1 else f"{mark}({part})")
    return shown


def text(expr, **settings) -> str:
    """``expr`` printed by ``SymbpropTextPrinter`` with ``settings``."""
    return SymbpropTextPrinter(settings).doprint(expr)


