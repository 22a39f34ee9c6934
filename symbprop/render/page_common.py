"""What the steps of the HTML page are made of (``symbprop.render.html``): a ``PageStyle`` that
prints math as MathML (``SymbpropMathMLPrinter``) and labels of the drawing as unicode text
(``SymbpropTextPrinter``), and the step record.

A step is ``{"phase", "title", "text", "lines", "table", "focus"}``: ``text`` is prose with inline
``<math>``, ``lines`` display equations ``{"lhs", "rel", "rhs"}`` (MathML without ``<math>``, rel
``=``, ``+`` or ``·``), ``table`` None or ``{"header", "rows"}`` of printed cells, ``focus`` the ids
of the drawing's elements the step is about.  The drawing's labels carry the number of the step
from which they are shown (``data-from``), so the page needs nothing else to step.
"""

from __future__ import annotations

import html

import sympy

from symbprop.render.latex import format_float
from symbprop.render.mathml import SymbpropMathMLPrinter
from symbprop.render.names import layer_number
from symbprop.render.notation import Partial
from symbprop.render.text import SymbpropTextPrinter

#: Significant digits of the numbers written in the drawing (the equations have ``digits``).
LABEL_DIGITS = 4
#: Room for a display line of the side panel, in characters of the one-line text form.
LINE_CHARS = 72

PHASES = ("The point", "Forward pass", "Backward pass", "Gradient descent")


class PageStyle:
    """Printing for the page: MathML for the panel, unicode text for the drawing.  Also the
    interface ``gradients.gradient_lines`` prints through (``expr``, ``width``, ``line_room``,
    ``separator_width``, ``loss``)."""

    def __init__(self, network: bool, graph_output: str | None, digits: int = 6,
                 top_layer: int | None = None) -> None:
        self.settings = {"digits": digits, "network": network, "graph_output": graph_output,
                         "top_layer": top_layer}
        self.network = network
        self.digits = digits
        self._text = SymbpropTextPrinter(self.settings)
        self.loss = sympy.Symbol(graph_output if not network and graph_output else "L")

    def expr(self, expr) -> str:
        """``expr`` as MathML markup, without ``<math>``."""
        return SymbpropMathMLPrinter(self.settings).doprint(sympy.sympify(expr))

    def m(self, expr) -> str:
        """``expr`` as inline math."""
        return f"<math>{self.expr(expr)}</math>"

    def meq(self, lhs, rhs) -> str:
        """``lhs = rhs`` as inline math (a float ``rhs`` as a number)."""
        rhs = sympy.Float(rhs) if isinstance(rhs, float) else sympy.sympify(rhs)
        return f"<math>{self.expr(lhs)}<mo>=</mo>{self.expr(rhs)}</math>"

    def num(self, value: float) -> str:
        return self.m(sympy.Float(value))

    def layer(self, layer: int) -> str:
        """Layer ``layer`` named in a title or prose: ``2``, or ``L − 1`` (unicode text) when
        layers are numbered from the output (seed 004)."""
        top = self.settings["top_layer"]
        number = layer_number(layer, top)
        return str(number) if top is None else self.text(number)

    def text(self, expr) -> str:
        """``expr`` as unicode text for the drawing, HTML-escaped."""
        return html.escape(self._text.doprint(sympy.sympify(expr)), quote=False)

    def label(self, value: float) -> str:
        """A number for the drawing, with ``LABEL_DIGITS`` significant digits."""
        mantissa, exponent = format_float(value, LABEL_DIGITS)
        text = mantissa if exponent is None else f"{mantissa}e{exponent}"
        return text.replace("-", "\u2212")

    def factor(self, value: float) -> str:
        """A number as a factor of a product in the drawing: negative ones in parentheses."""
        text = self.label(value)
        return f"({text})" if text.startswith("\u2212") else text

    # ------------------------------------------------------------ gradient_lines' interface

    def width(self, expr) -> float:
        return float(len(self._text.doprint(sympy.sympify(expr))))

    def line_room(self, lhs) -> float:
        return float(LINE_CHARS)

    def separator_width(self) -> float:
        return 3.0


def eq(lhs: str, rhs: str, rel: str = "=") -> dict:
    """A display line of printed MathML."""
    return {"lhs": lhs, "rel": {"cdot": "\u00b7"}.get(rel, rel), "rhs": rhs}


def chain_lines(s: PageStyle, lhs, *forms) -> list[dict]:
    """``lhs = forms[0] = forms[1] ...``, one line each, a form equal in print to the line
    before it left out."""
    lines: list[dict] = []
    for form in forms:
        printed = s.expr(form)
        if not lines or printed != lines[-1]["rhs"]:
            lines.append(eq(s.expr(lhs) if not lines else "", printed))
    return lines


def step(phase: str, title: str, text: str, lines=(), focus=(), table=None) -> dict:
    """One step of the page (see the module docstring)."""
    return {"phase": phase, "title": title, "text": text, "lines": list(lines),
            "focus": " ".join(focus), "table": table}


def join_names(items: list[str]) -> str:
    """``a``, ``a and b``, ``a, b and c``."""
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def descent_table(s: PageStyle, rows: list[tuple], loss) -> dict:
    """The table of one gradient-descent step: parameter, θ, ∂loss/∂θ, θ − η ∂loss/∂θ."""
    theta, eta = sympy.Symbol("theta"), sympy.Symbol("eta")
    header = ["parameter", s.m(theta), s.m(Partial(loss, theta)),
              s.m(theta - eta * Partial(loss, theta))]
    return {"header": header, "rows": [[s.m(element), s.num(old), s.num(grad), s.num(new)]
                                       for element, old, grad, new in rows]}


def after_step(s: PageStyle, loss, before: float, after: float | None) -> str:
    """The sentence comparing the loss after the step with the loss before it."""
    if after is None:
        return (f"After the step {s.m(loss)} has no finite real value: the step leaves the "
                f"domain of the function ({s.meq(loss, before)} before).")
    change = "lower" if after < before else "not lower"
    return f"After the step {s.meq(loss, after)}, {change} than {s.num(before)} before."
