"""Loss functions per sample, written as a sum over output neurons of one element term.

C = scale · Σ_j ℓ(a_j, y_j) with a = a^L and y the target; ``scale`` is 1 except for ``mse``
(1/n_L).  The batch reduction (mean or sum over samples) is applied on top of C, never inside it.
A custom loss is a formula in ``a`` and ``y`` for one output neuron, summed over the neurons.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import sympy
from sympy import Rational, Sum, log

A = sympy.Symbol("a")
Y = sympy.Symbol("y")

#: name -> (element term ℓ(a, y), per-output scale given n_L, required output activation or None)
BUILTIN = {
    "half_sse": (lambda a, y: Rational(1, 2) * (y - a) ** 2, lambda n: 1, None),
    "sse": (lambda a, y: (a - y) ** 2, lambda n: 1, None),
    "mse": (lambda a, y: (a - y) ** 2, lambda n: Rational(1, n), None),
    "bce": (lambda a, y: -(y * log(a) + (1 - y) * log(1 - a)), lambda n: 1, "sigmoid"),
    "softmax_cross_entropy": (lambda a, y: -y * log(a), lambda n: 1, "softmax"),
}
ALIASES = {"quadratic": "half_sse", "cross_entropy": "softmax_cross_entropy"}
KNOWN = sorted([*BUILTIN, *ALIASES])


@dataclass(frozen=True)
class Loss:
    """A per-sample loss; ``formula``/``expr`` are set only for a custom loss."""

    name: str
    formula: str | None = None
    expr: sympy.Expr | None = field(default=None, compare=False)

    @property
    def is_custom(self) -> bool:
        return self.formula is not None

    @property
    def required_output(self) -> str | None:
        """The output activation this loss is defined with (bce: sigmoid, CE: softmax)."""
        return None if self.is_custom else BUILTIN[self.name][2]

    @property
    def targets_sum_to_one(self) -> bool:
        """softmax cross-entropy assumes Σ_j y_j = 1 (one-hot or probability targets)."""
        return self.name == "softmax_cross_entropy"

    def element(self, a: sympy.Expr, y: sympy.Expr) -> sympy.Expr:
        """ℓ(a_j, y_j), the term for one output neuron."""
        if self.is_custom:
            return self.expr.xreplace({A: a, Y: y})
        return BUILTIN[self.name][0](a, y)

    def scale(self, n_out: int) -> sympy.Expr:
        return sympy.Integer(1) if self.is_custom else sympy.sympify(BUILTIN[self.name][1](n_out))

    def index_form(self, a: sympy.IndexedBase, y: sympy.IndexedBase, j: sympy.Idx) -> sympy.Expr:
        """C = scale · Σ_j ℓ(a[j], y[j]) with the sum kept symbolic."""
        n_out = int(j.upper) + 1
        return self.scale(n_out) * Sum(self.element(a[j], y[j]), (j, j.lower, j.upper))

    def to_spec(self) -> str | dict:
        return {"formula": self.formula} if self.is_custom else self.name


def builtin(name: str) -> Loss:
    return Loss(ALIASES.get(name, name))
