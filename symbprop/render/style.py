"""How a document spells its pieces in one output format: math, numbers, names, prose marks.

A ``Style`` owns the printer of its format (``SymbpropLatexPrinter`` for ``tex`` and ``md``,
``SymbpropTextPrinter`` for ``txt``) and wraps printed math for prose: ``$...$`` in LaTeX and
Markdown, bare unicode in text.  The context builders write every formula through ``expr``/``m``
and every piece of fixed notation through ``note`` (a table with one spelling per format), so
the builders never contain format-specific strings.
"""

from __future__ import annotations

import copy
from string import Template

import sympy

from symbprop.render.latex import SymbpropLatexPrinter
from symbprop.render.measure import TEXT_WIDTH_PT, latex_width
from symbprop.render.names import display_names, layer_number, top_layer
from symbprop.render.text import SymbpropTextPrinter

FORMATS = ("tex", "md", "txt")
#: Room for a display line in text documents, in characters (the text is 100 columns).
TEXT_LINE = 72
#: What a display line of LaTeX keeps free besides its left-hand side: the relation or the
#: continuation's ``\qquad \cdot`` (about 30 pt), and 10% of the width for the estimate's error.
LATEX_RESERVE_PT = 30.0 + 0.1 * TEXT_WIDTH_PT

#: Fixed notation that is not an expression of the derivation: key -> (LaTeX, unicode text).
#: ``${L}`` stands for the document's loss symbol (``Style.loss``): L for a network, the output
#: of a graph (f, c).
NOTATION = {
    "approx": (r"\approx", "≈"),
    "arrow": (r"\leftarrow", "←"),
    "vdots": (r"\vdots", "⋮"),
    "times": (r"\times", "×"),
    "odot": (r"\odot", "⊙"),
    "ldots": (r"\ldots", "…"),
    "gd_step": (r"\theta \leftarrow \theta - \eta \nabla ${L}(\theta)", "θ ← θ - η∇${L}(θ)"),
    "stop_rule": (r"\alpha \lVert \nabla ${L}(\theta^{(k)}) \rVert > \epsilon",
                  "α‖∇${L}(θ⁽ᵏ⁾)‖ > ε"),
    "theta_new": (r"\theta - \eta \frac{\partial ${L}}{\partial \theta}", "θ - η·∂${L}/∂θ"),
    "step_size": (r"\alpha \lVert \nabla ${L} \rVert", "α‖∇${L}‖"),
    "grad_norm": (r"\lVert \nabla ${L} \rVert", "‖∇${L}‖"),
    "neg_grad": (r"-\nabla ${L}", "-∇${L}"),
    "gd_alpha": (r"\theta^{(k+1)} = \theta^{(k)} - \alpha \nabla ${L}(\theta^{(k)})",
                 "θ⁽ᵏ⁺¹⁾ = θ⁽ᵏ⁾ - α∇${L}(θ⁽ᵏ⁾)"),
    "gd_eta": (r"\theta^{(k+1)} = \theta^{(k)} - \eta \nabla ${L}(\theta^{(k)})",
               "θ⁽ᵏ⁺¹⁾ = θ⁽ᵏ⁾ - η∇${L}(θ⁽ᵏ⁾)"),
    "stop_eta": (r"\eta \lVert \nabla ${L}(\theta^{(k)}) \rVert > \epsilon",
                 "η‖∇${L}(θ⁽ᵏ⁾)‖ > ε"),
    "step_eta": (r"\eta \lVert \nabla ${L} \rVert", "η‖∇${L}‖"),
    "grad_at": (r"\nabla ${L}(\theta)", "∇${L}(θ)"),
    "mean": (r"L = \frac{1}{n} \sum_{x} C_{x}", "L = (1/n) Σₓ Cₓ"),
    "sum": (r"L = \sum_{n} C^{n}", "L = Σₙ Cⁿ"),
    "mean_grad": (r"\frac{\partial L}{\partial w} = \frac{1}{n} \sum_{x} \frac{\partial C_{x}}"
                  r"{\partial w}", "∂L/∂w = (1/n) Σₓ ∂Cₓ/∂w"),
    "sum_grad": (r"\frac{\partial L}{\partial w} = \sum_{n} \frac{\partial C^{n}}{\partial w}",
                 "∂L/∂w = Σₙ ∂Cⁿ/∂w"),
    "fd": (r"\frac{\partial ${L}}{\partial \theta_i} \approx \frac{${L}(\theta + h e_i) - "
           r"${L}(\theta - h e_i)}{2h}", "∂${L}/∂θᵢ ≈ (${L}(θ + h·eᵢ) - ${L}(θ - h·eᵢ))/(2h)"),
    "targets_sum": (r"\sum_{j} y_{j} = 1", "Σⱼ yⱼ = 1"),
    "relu_zero": (r"\operatorname{relu}'(0) = 0", "relu′(0) = 0"),
}


class Style:
    """Printing for one format: ``tex`` (LaTeX document), ``md`` (Markdown), ``txt`` (text)."""

    def __init__(self, fmt: str, network: bool = True, graph_output: str | None = None,
                 digits: int = 6, names: dict | None = None,
                 top_layer: int | None = None) -> None:
        if fmt not in FORMATS:
            raise ValueError(f"unknown format {fmt!r}; formats: {', '.join(FORMATS)}")
        self.fmt = fmt
        self.latex = fmt != "txt"
        #: ``top_layer`` = L numbers layers from the output, (L), (L-1), … (seed 004).
        self._settings = {"digits": digits, "network": network, "graph_output": graph_output,
                          "top_layer": top_layer}
        self._printer_class = SymbpropLatexPrinter if self.latex else SymbpropTextPrinter
        self._printer = self._printer_class(self._settings)
        #: A lecture's names for scalars (``render.names.display_names``), put in at printing.
        self._names = dict(names or {})
        #: The symbol of the quantity minimised: L (a network's reduced loss) or a graph's output.
        self.loss = sympy.Symbol(graph_output if not network and graph_output else "L")

    @classmethod
    def of(cls, d, fmt: str, digits: int = 6) -> Style:
        """The style of derivation ``d``'s documents: network or graph (printed with its output's
        name), the spec's ``notation`` names and layer numbering."""
        network = d.model.kind == "network"
        return cls(fmt, network=network, graph_output=None if network else d.top.name,
                   digits=digits, names=display_names(d), top_layer=top_layer(d))

    def minimising(self, name: str) -> Style:
        """This style with ``name`` as the function minimised (``${L}`` notes read it)."""
        style = copy.copy(self)
        style.loss = sympy.Symbol(name)
        return style

    @property
    def network(self) -> bool:
        """Whether the document is a network's (else a graph's)."""
        return self._settings["network"]

    @property
    def digits(self) -> int:
        """Significant digits of the document's numbers."""
        return self._settings["digits"]

    @property
    def top_layer(self) -> int | None:
        """L if layers are numbered from the output (seed 004), else None."""
        return self._settings["top_layer"]

    def layer(self, layer: int) -> str:
        """Layer ``layer`` named in prose or a table: ``2``, or ``$L - 1$`` when layers are
        numbered from the output."""
        number = layer_number(layer, self.top_layer)
        return str(number) if self.top_layer is None else self.m(number)

    # ------------------------------------------------------------ math

    def expr(self, expr) -> str:
        """``expr`` printed, without math delimiters (for display math), in the spec's own
        names where it has a ``notation``."""
        if self._names and isinstance(expr, sympy.Basic):
            expr = expr.xreplace(self._names)
        return self._printer.doprint(expr)

    def width(self, expr) -> float:
        """An estimate of the printed width of ``expr``: characters of its one-line text form
        in ``txt``, points of its LaTeX (``measure.latex_width``) in ``tex`` and ``md``."""
        printed = self.expr(expr)
        return latex_width(printed) if self.latex else float(len(printed))

    def line_room(self, lhs) -> float:
        """The width (unit of ``width``) left for the right-hand side of a display line whose
        left-hand side is ``lhs``, continuation mark included."""
        if self.latex:
            return TEXT_WIDTH_PT - self.width(lhs) - LATEX_RESERVE_PT
        return float(TEXT_LINE)

    def separator_width(self) -> float:
        """The width of the `` · `` between two factors of a product (unit of ``width``)."""
        return latex_width(r"\cdot") if self.latex else 3.0

    def m(self, expr) -> str:
        """``expr`` as inline math in prose or a table cell."""
        return self.inline(self.expr(expr))

    def meq(self, lhs, rhs) -> str:
        """``lhs = rhs`` as one piece of inline math; a Python float ``rhs`` prints as a number."""
        if isinstance(rhs, float):
            rhs = sympy.Float(rhs)
        return self.inline(f"{self.expr(lhs)} = {self.expr(sympy.sympify(rhs))}")

    def inline(self, printed: str) -> str:
        return f"${printed}$" if self.latex else printed

    def num(self, value: float, digits: int | None = None) -> str:
        """A number as inline math (``$-0.3$``, ``1.5e-07``), with ``digits`` significant
        digits instead of the document's if given."""
        if digits is None or digits == self._settings["digits"]:
            return self.m(sympy.Float(value))
        printer = self._printer_class({**self._settings, "digits": digits})  # a number
        return self.inline(printer.doprint(sympy.Float(value)))

    def note(self, key: str) -> str:
        """Fixed notation from ``NOTATION``, without delimiters, with the document's loss
        symbol in place of ``${L}``."""
        latex, text = NOTATION[key]
        return Template(latex if self.latex else text).substitute(L=self.expr(self.loss))

    def mnote(self, key: str) -> str:
        """Fixed notation as inline math."""
        return self.inline(self.note(key))

    # ------------------------------------------------------------ prose marks

    def code(self, name: str) -> str:
        """A name from the spec (``two_two_one``, ``half_sse``) set as code."""
        if self.fmt == "tex":
            return r"\texttt{" + name.replace("_", r"\_") + "}"
        return f"`{name}`" if self.fmt == "md" else name

    def percent(self, value: float) -> str:
        """``value`` % with 3 significant digits (``50\\%`` in LaTeX, where % is a comment)."""
        return f"{value:.3g}" + (r"\%" if self.fmt == "tex" else "%")

    def emph(self, words: str) -> str:
        if self.fmt == "tex":
            return r"\emph{" + words + "}"
        return f"*{words}*" if self.fmt == "md" else words

    def strong(self, words: str) -> str:
        if self.fmt == "tex":
            return r"\textbf{" + words + "}"
        return f"**{words}**" if self.fmt == "md" else words
