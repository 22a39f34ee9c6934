"""``SymbpropLatexPrinter``: SymPy's ``LatexPrinter`` in the notation of the lecture notes.

Seed 002's names: ``W1[j, k]`` -> ``w^{1}_{jk}`` (the matrix ``W1`` -> ``W^{1}``), ``z1[j]`` ->
``z^{1}_{j}``, ``a1[j]`` -> ``a^{1}_{j}`` (``a0`` is the input ``x``), ``delta1[j]`` ->
``\\delta^{1}_{j}``, ``x[k]`` -> ``x_{k}``, a shared bias ``b1`` -> ``b^{1}``; a graph's adjoint
symbol ``df_dq`` -> ``\\frac{\\partial f}{\\partial q}``.  ``Σ`` prints as ``\\sum_{k}`` (the
range is implied by the layer), σ as ``\\sigma``, relu's derivative ``Heaviside(z, 0)`` as the
indicator ``\\mathbf{1}[z > 0]`` (so relu'(0) = 0), a Kronecker delta as ``\\mathbf{1}[i = p]``
(δ is taken by the error δ^l_j), floats with ``digits`` significant digits.  The classes of
``symbprop.render.notation`` (∂-fractions, boxed factors, ordered chains) print here too.

Every rule is a ``_print_X`` override; nothing edits printed strings.  The activations of
``symbprop.functions.sympy_classes`` print themselves (their ``_latex``: ``\\sigma``,
``\\operatorname{relu}``), calling back into this printer for their arguments.
"""

from __future__ import annotations

import sympy
from sympy.printing.latex import LatexPrinter
from sympy.printing.precedence import PRECEDENCE

from symbprop.functions.registry import latex_symbol
from symbprop.render.names import adjoint_name, layer_mark, layer_name
from symbprop.render.notation import (
    NotesTermOrder,
    Terms,
    factored,
    is_name,
    negated_sum,
    notes_product,
)

HEADS = {"W": "w", "b": "b", "z": "z", "a": "a", "delta": r"\delta"}
MATRIX_HEADS = {"W": "W", "b": "b", "z": "z", "a": "a", "delta": r"\delta"}


def format_float(value: float, digits: int) -> tuple[str, str | None]:
    """(mantissa, exponent or None) of ``value`` rounded to ``digits`` significant digits."""
    text = f"{float(value):.{digits}g}"
    if text in ("-0", "-0.0"):
        text = "0"
    if "e" not in text:
        return text, None
    mantissa, exponent = text.split("e")
    return mantissa, str(int(exponent))


class SymbpropLatexPrinter(NotesTermOrder, LatexPrinter):
    """LaTeX in the lecture notes' notation.  Settings beyond ``LatexPrinter``'s:

    ``digits`` (significant digits of floats, 6), ``network`` (True: ``b1`` is a shared bias
    b^{1}; False: a graph, whose Symbols print as SymPy prints them), ``graph_output`` (the
    graph's output name, for reading adjoint symbols ``d<out>_d<node>`` exactly), ``top_layer``
    (None, or L: layers numbered from the output, ``w^{(L-1)}``, as ``names.layer_mark``)."""

    _default_settings = {
        **LatexPrinter._default_settings,
        "digits": 6,
        "network": True,
        "graph_output": None,
        "top_layer": None,
    }

    # ------------------------------------------------------------ names

    def _layer_tex(self, name: str, heads: dict) -> str | None:
        parts = layer_name(name)
        if parts is None:
            return "x" if name == "x" else None
        head, layer = parts
        if head == "a" and layer == 0:
            return "x"
        return f"{heads[head]}^{{{layer_mark(layer, self._settings['top_layer'])}}}"

    def _print_IndexedBase(self, expr) -> str:
        name = expr.label.name
        return self._layer_tex(name, MATRIX_HEADS) or self._print(expr.label)

    def _print_Indexed(self, expr) -> str:
        name = expr.base.label.name
        base = self._layer_tex(name, HEADS) or self._print(expr.base.label)
        indices = [self._print(i) for i in expr.indices]
        glue = "" if all(len(i) == 1 for i in indices) else ","
        return f"{base}_{{{glue.join(indices)}}}"

    def _print_Idx(self, expr) -> str:
        return self._print(expr.label)

    def _print_MatrixSymbol(self, expr) -> str:
        return self._layer_tex(expr.name, MATRIX_HEADS) or super()._print_MatrixSymbol(expr)

    def _print_Symbol(self, expr, style="plain") -> str:
        if self._settings["network"]:
            tex = self._layer_tex(expr.name, MATRIX_HEADS)
            if tex is not None:
                return tex
        else:
            parts = adjoint_name(expr.name, self._settings["graph_output"])
            if parts is not None:
                of, wrt = (self._print(sympy.Symbol(p)) for p in parts)
                return rf"\frac{{\partial {of}}}{{\partial {wrt}}}"
        return super()._print_Symbol(expr, style=style)

    # ------------------------------------------------------------ operations

    def _print_Sum(self, expr) -> str:
        negated = negated_sum(expr)
        if negated is not None:
            return self._print(negated)
        heads = "".join(rf"\sum_{{{self._print(limit[0])}}} " for limit in expr.limits)
        body = expr.function
        if isinstance(body, sympy.Add):
            return rf"{heads}\left({self._print(body)}\right)"
        return heads + self._print(body)

    def _print_Mul(self, expr) -> str:
        product = notes_product(expr)
        if product is None:
            return super()._print_Mul(expr)
        negative, factors = product
        return ("- " if negative else "") + " ".join(
            self.parenthesize(f, PRECEDENCE["Mul"]) for f in factors)

    def _print_Abs(self, expr, exp=None) -> str:
        tex = rf"\left\lvert {self._print(expr.args[0])} \right\rvert"  # no "|": Markdown tables
        return tex if exp is None else rf"{tex}^{{{exp}}}"

    def _print_Heaviside(self, expr, exp=None) -> str:
        tex = rf"\mathbf{{1}}\left[{self._print(expr.args[0])} > 0\right]"
        return tex if exp is None else rf"\left({tex}\right)^{{{exp}}}"

    def _print_KroneckerDelta(self, expr, exp=None) -> str:
        left, right = (self._print(a) for a in expr.args)
        tex = rf"\mathbf{{1}}\left[{left} = {right}\right]"
        return tex if exp is None else rf"\left({tex}\right)^{{{exp}}}"

    def _print_Pow(self, expr) -> str:
        base, exponent = expr.args
        if exponent.is_Integer and exponent > 0 and (base.is_Symbol or base.is_Indexed):
            shown = self._print(base)
            if "^" in shown or r"\frac" in shown:  # a^{1}_{j} squared: no double superscript
                return rf"\left({shown}\right)^{{{self._print(exponent)}}}"
        return super()._print_Pow(expr)

    def _print_Float(self, expr) -> str:
        mantissa, exponent = format_float(expr, self._settings["digits"])
        if exponent is None:
            return mantissa
        return rf"{mantissa} \times 10^{{{exponent}}}"

    # ------------------------------------------------------------ textbook notation

    def _print_Partial(self, expr) -> str:
        of = self._print(expr.of)
        if not is_name(expr.of):  # a node's operation: ∂(q r)/∂q
            of = rf"\left({of}\right)"
        return rf"\frac{{\partial {of}}}{{\partial {self._print(expr.wrt)}}}"

    def _print_Boxed(self, expr) -> str:
        return rf"\boxed{{{self._print(expr.args[0])}}}"

    def _print_Chain(self, expr) -> str:
        return r" \cdot ".join(self._factor(f) for f in expr.args)

    def _factor(self, factor) -> str:
        if factor.is_Number and factor.is_negative:
            return rf"\left({self._print(factor)}\right)"
        if factored(factor) is not None:
            return self._print(factor)  # 2 (a - y), a product already
        if isinstance(factor, (sympy.Add, sympy.Sum, Terms)):
            return rf"\left({self._print(factor)}\right)"
        return self.parenthesize(factor, PRECEDENCE["Mul"])

    def _print_Terms(self, expr) -> str:
        return " + ".join(self._term(t) for t in expr.args)

    def _term(self, term) -> str:
        if term.is_Number and term.is_negative:
            return rf"\left({self._print(term)}\right)"
        return self._print(term)

    def _print_More(self, expr) -> str:
        count, what = expr.args
        return rf"\cdots \text{{ ({count} more {what.name})}}"

    def _print_Mean(self, expr) -> str:
        body = self._print(expr.body)
        if isinstance(expr.body, sympy.Add):
            body = rf"\left({body}\right)"
        return rf"\frac{{1}}{{{self._print(expr.count)}}} {body}"

    def _print_Approx(self, expr) -> str:
        return rf"{self._print(expr.args[0])} \approx"

    # ------------------------------------------------------------ vectors and matrices

    def _print_Transpose(self, expr) -> str:
        inner = self._print(expr.arg)
        if isinstance(expr.arg, sympy.MatrixSymbol) and "^" not in inner:
            return rf"{inner}^{{\mathsf{{T}}}}"
        return rf"\left({inner}\right)^{{\mathsf{{T}}}}"

    def _print_HadamardProduct(self, expr) -> str:
        return r" \odot ".join(self._matrix_factor(a) for a in expr.args)

    def _print_MatMul(self, expr) -> str:
        return " ".join(self._matrix_factor(a) for a in expr.args)

    def _matrix_factor(self, arg) -> str:
        if isinstance(arg, (sympy.MatAdd, sympy.MatMul, sympy.HadamardProduct)):
            return rf"\left({self._print(arg)}\right)"
        return self._print(arg)

    def _print_Elementwise(self, expr) -> str:
        name, prime = expr.name.removesuffix("_prime"), expr.name.endswith("_prime")
        head = latex_symbol(name) + ("'" if prime else "")  # <name>_prime adds a '
        return rf"{head}\left({self._print(expr.vector)}\right)"

    def _print_Slope(self, expr) -> str:
        head = latex_symbol(expr.name)
        return rf"{head}'\left({self._print(expr.args[1])}\right)"

    def _print_Gradient(self, expr) -> str:
        of, vector = expr.args
        return rf"\nabla_{{{self._print(vector)}}} {self._print(of)}"

    def _print_SoftmaxJacobian(self, expr) -> str:
        vector = expr.args[0]
        return rf"\frac{{\partial a^{{{_layer(vector)}}}}}{{\partial {self._print(vector)}}}"


def _layer(vector) -> str:
    parts = layer_name(vector.name)
    return str(parts[1]) if parts else "L"


def latex(expr, **settings) -> str:
    """``expr`` printed by ``SymbpropLatexPrinter`` with ``settings``."""
    return SymbpropLatexPrinter(settings).doprint(expr)
