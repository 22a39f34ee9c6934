"""Loss functions per sample, written as a sum over output neurons of one element term.

C = scale · Σ_j ℓ(a_j, y_j) with a = a^L and y the target; ``scale`` is 1 except for ``mse``
(1/n_L).  The batch reduction (mean or sum over samples) is applied on top of C, never inside it.
A custom loss is a formula in ``a`` and ``y`` for one output neuron, summed over the neurons.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import symbprop.functions.registry as registry

if TYPE_CHECKING:
    import sympy


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
        return None if self.is_custom else registry.loss(self.name).output

    @property
    def targets_sum_to_one(self) -> bool:
        """softmax cross-entropy assumes Σ_j y_j = 1 (one-hot or probability targets)."""
        return not self.is_custom and registry.loss(self.name).targets_sum_to_one

    def element(self, a: sympy.Expr, y: sympy.Expr) -> sympy.Expr:
        """ℓ(a_j, y_j), the term for one output neuron."""
        if self.is_custom:
            a_symbol, y_symbol = variables()
            return self.expr.xreplace({a_symbol: a, y_symbol: y})
        return registry.loss(self.name).element(a, y)

    def scale(self, n_out: int) -> sympy.Expr:
        # Imported here: a process that only loads cached kernels needs no SymPy.
        import sympy

        if self.is_custom:
            return sympy.Integer(1)
        return sympy.sympify(registry.loss(self.name).scale(n_out))

    def index_form(self, a: sympy.IndexedBase, y: sympy.IndexedBase, j: sympy.Idx) -> sympy.Expr:
        """C = scale · Σ_j ℓ(a[j], y[j]) with the sum kept symbolic."""
        # Imported here: a process that only loads cached kernels needs no SymPy.
        from sympy import Sum

        n_out = int(j.upper) + 1
        return self.scale(n_out) * Sum(self.element(a[j], y[j]), (j, j.lower, j.upper))

    def to_spec(self) -> str | dict:
        return {"formula": self.formula} if self.is_custom else self.name


def builtin(name: str) -> Loss:
    """A registered loss by (alias-resolved) name."""
    return Loss(registry.canonical_loss(name))


def known() -> list[str]:
    """Every name a spec may use, for error messages."""
    return registry.loss_names()


def record(loss: Loss) -> registry.LossRecord | None:
    """The registry's record of ``loss`` (None for a custom loss)."""
    return None if loss.is_custom else registry.loss(loss.name)


@functools.cache
def variables() -> tuple[sympy.Symbol, sympy.Symbol]:
    """The symbols ``a`` and ``y`` a custom loss formula is written in."""
    # Imported here: a process that only loads cached kernels needs no SymPy.
    import sympy

    return sympy.Symbol("a"), sympy.Symbol("y")
