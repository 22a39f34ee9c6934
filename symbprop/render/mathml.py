"""``SymbpropMathMLPrinter``: SymPy's MathML presentation printer in the lecture notes' notation.

The same conventions as ``SymbpropLatexPrinter`` (``symbprop.render.latex``), printed as MathML
Core for the HTML page: ``W1[0, 1]`` -> w¹₀₁ (``<msubsup>``), ``z1[j]`` -> z¹ⱼ, ``a0`` -> x,
``delta1[j]`` -> δ¹ⱼ, a graph's adjoint ``df_dq`` -> ∂f/∂q as a fraction, ``Σ`` with its index
under it, σ for sigmoid, relu' as the indicator 1[z > 0], floats with ``digits`` significant
digits (``1.5 × 10⁻⁷``), and the notation classes of ``symbprop.render.notation`` (their rules
are ``mathml_notation.NotationMathML``'s, the elements' helpers ``mathml_markup``'s).

Every rule is a ``_print_X`` override returning a DOM element; ``mathml(expr)`` wraps the result
in ``<math>``.  The output is ASCII (non-ASCII characters as character references) and depends
only on the expression, so pages are byte-stable.
"""

from __future__ import annotations

import sympy
from sympy.printing.mathml import MathMLPresentationPrinter
from sympy.printing.precedence import PRECEDENCE

from symbprop.functions.registry import record_of_function
from symbprop.render.latex import format_float
from symbprop.render.mathml_markup import join
from symbprop.render.mathml_notation import NotationMathML
from symbprop.render.names import adjoint_name, layer_mark, layer_name
from symbprop.render.notation import NotesTermOrder, factored, negated_sum, notes_product

HEADS = {"W": "w", "b": "b", "z": "z", "a": "a", "delta": "\u03b4"}
MATRIX_HEADS = {"W": "W", "b": "b", "z": "z", "a": "a", "delta": "\u03b4"}
MINUS = "\u2212"
#: The indicator's 1 (MathML Core has no bold ``mathvariant``): MATHEMATICAL BOLD DIGIT ONE.
BOLD_ONE = "\U0001d7cf"


class SymbpropMathMLPrinter(NotesTermOrder, NotationMathML):
    """MathML presentation markup.  Settings beyond SymPy's: ``digits``, ``network``,
    ``graph_output``, ``top_layer`` as for ``SymbpropLatexPrinter``; products are written with a
    centred dot where the notes write one (between numbers), juxtaposed otherwise."""

    printmethod = "_symbprop_mathml"  # the activations' own printing is for LaTeX only
    _default_settings = {**MathMLPresentationPrinter._default_settings, "digits": 6,
                         "network": True, "graph_output": None, "top_layer": None}

    # ------------------------------------------------------------ names

    def _layer(self, name: str, heads: dict):
        parts = layer_name(name)
        if parts is None:
            return self._mi("x") if name == "x" else None
        head, layer = parts
        if head == "a" and layer == 0:
            return self._mi("x")
        return self._el("msup", self._mi(heads[head]), self._layer_mark(layer))

    def _layer_mark(self, layer: int):
        """A layer's superscript: ``<mn>2</mn>``, or (L-1) from ``names.layer_mark``."""
        mark = layer_mark(layer, self._settings["top_layer"])
        if mark.isdigit():
            return self._el("mn", text=mark)
        inner = [self._mi("L")]
        if mark != "(L)":
            inner += [self._mo(MINUS), self._el("mn", text=mark[3:-1])]
        return self._fenced(self._row(*inner))

    def _print_IndexedBase(self, expr):
        return self._layer(expr.label.name, MATRIX_HEADS) or self._print(expr.label)

    def _print_Indexed(self, expr):
        indices = [self._print(i) for i in expr.indices]
        glue = all(len(str(i)) == 1 for i in expr.indices)
        sub = self._row(*join(indices, None if glue else self._mo(",")))
        parts = layer_name(expr.base.label.name)
        if parts is not None and not (parts[0] == "a" and parts[1] == 0):
            return self._el("msubsup", self._mi(HEADS[parts[0]]), sub,
                            self._layer_mark(parts[1]))
        base = self._layer(expr.base.label.name, HEADS) or self._print(expr.base.label)
        return self._el("msub", base, sub)

    def _print_Idx(self, expr):
        return self._print(expr.label)

    def _print_MatrixSymbol(self, expr):
        return self._layer(expr.name, MATRIX_HEADS) or self._print_Symbol(sympy.Symbol(expr.name))

    def _print_Symbol(self, expr, style="plain"):
        if self._settings["network"]:
            shown = self._layer(expr.name, MATRIX_HEADS)
            if shown is not None:
                return shown
        else:
            parts = adjoint_name(expr.name, self._settings["graph_output"])
            if parts is not None:
                of, wrt = (self._print(sympy.Symbol(p)) for p in parts)
                return self._fraction(of, wrt)
        if expr.name == "eta":
            return self._mi("\u03b7")
        return super()._print_Symbol(expr, style=style)

    # ------------------------------------------------------------ operations

    def _print_Sum(self, expr):
        negated = negated_sum(expr)
        if negated is not None:
            return self._print(negated)
        row = self._row()
        for limit in expr.limits:
            row.appendChild(self._el("munder", self._mo("\u2211"), self._print(limit[0])))
        body = expr.function
        row.appendChild(self._fenced(self._print(body)) if isinstance(body, sympy.Add)
                        else self._print(body))
        return row

    def _print_Add(self, expr, order=None):
        product = factored(expr)
        if product is not None:
            return self._print(product)
        terms = self._as_ordered_terms(expr, order=order)
        row = self._row(self._print(terms[0]))
        for term in terms[1:]:
            negative = term.could_extract_minus_sign()
            row.appendChild(self._mo(MINUS if negative else "+"))
            row.appendChild(self._print(-term if negative else term))
        return row

    def _print_Mul(self, expr):
        product = notes_product(expr)
        if product is None:
            if expr.could_extract_minus_sign():
                return self._row(self._mo(MINUS), self._print(-expr))
            return super()._print_Mul(expr)
        negative, factors = product
        row = self._row(self._mo(MINUS)) if negative else self._row()
        for n, factor in enumerate(factors):
            if n:
                row.appendChild(self._mo("\u2062"))  # invisible times
            row.appendChild(self.parenthesize(factor, PRECEDENCE["Mul"]))
        return row

    def _print_Function(self, expr, exp=None):
        record = record_of_function(type(expr))
        head = self._mi(record.symbol if record else type(expr).__name__)
        args = join([self._print(a) for a in expr.args], None, self._mo(","))
        return self._row(head, self._fenced(self._row(*args)))

    def _print_exp(self, expr):
        return self._print_Function(expr)

    def _print_Abs(self, expr, exp=None):
        return self._row(self._mo("|"), self._print(expr.args[0]), self._mo("|"))

    def _print_Heaviside(self, expr, exp=None):
        return self._row(self._el("mn", text=BOLD_ONE), self._mo("["),
                         self._print(expr.args[0]), self._mo(">"), self._el("mn", text="0"),
                         self._mo("]"))

    def _print_KroneckerDelta(self, expr, exp=None):
        left, right = (self._print(a) for a in expr.args)
        return self._row(self._el("mn", text=BOLD_ONE), self._mo("["), left,
                         self._mo("="), right, self._mo("]"))

    def _print_Pow(self, expr):
        base, exponent = expr.args
        if exponent.is_Integer and exponent > 0 and (base.is_Indexed or (
                base.is_Symbol and adjoint_name(base.name, self._settings["graph_output"]))):
            return self._el("msup", self._fenced(self._print(base)), self._print(exponent))
        return super()._print_Pow(expr)

    def _print_Float(self, expr):
        mantissa, exponent = format_float(expr, self._settings["digits"])
        if exponent is None:
            return self._number(mantissa)
        ten = self._el("msup", self._el("mn", text="10"), self._number(exponent))
        return self._row(self._number(mantissa), self._mo("\u00d7"), ten)

    def _number(self, text: str):
        if text.startswith("-"):
            return self._row(self._mo(MINUS), self._el("mn", text=text[1:]))
        return self._el("mn", text=text)

    def _print_Tuple(self, expr):  # parentheses that grow around fractions
        items = join([self._print(a) for a in expr.args], None, self._mo(","))
        return self._row(self._mo("("), self._row(*items), self._mo(")"))


def mathml(expr, **settings) -> str:
    """``expr`` printed by ``SymbpropMathMLPrinter`` (no ``<math>`` wrapper)."""
    return SymbpropMathMLPrinter(settings).doprint(expr)
