"""Activation functions: names, parameters, and how each applies to a pre-activation ``z``.

An ``Activation`` is data (name, alpha, custom formula); ``apply(z)`` builds the SymPy expression
for one neuron from the activation's record (``registry``).  softmax is the one activation that is
not elementwise; the IR handles it and only an output layer may use it.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from numbers import Rational
from typing import TYPE_CHECKING

import symbprop.functions.registry as registry

if TYPE_CHECKING:
    import sympy


@dataclass(frozen=True)
class Activation:
    """One layer's activation. ``formula``/``expr`` are set only for a custom activation."""

    name: str
    alpha: Rational | None = None
    formula: str | None = None
    expr: sympy.Expr | None = field(default=None, compare=False)

    @property
    def is_softmax(self) -> bool:
        return self.name == "softmax"

    @property
    def is_custom(self) -> bool:
        return self.formula is not None

    @property
    def init(self) -> str:
        """How the weights into a layer with this activation start: "he" or "glorot" (the
        record's choice; custom activations and softmax: "glorot")."""
        record = None if self.is_custom else registry.activation(self.name)
        return record.init if record else "glorot"

    def apply(self, z: sympy.Expr) -> sympy.Expr:
        """σ(z) for one neuron (not for softmax, which couples the neurons of a layer)."""
        if self.is_custom:
            return self.expr.xreplace({variable(): z})
        if self.is_softmax:
            raise ValueError("softmax is not elementwise; the IR builds it per layer")
        return registry.activation(self.name).apply(z, self.alpha)

    def to_spec(self) -> str | dict:
        """The canonical spec form (used for hashing and printing)."""
        if self.is_custom:
            return {"name": self.name, "formula": self.formula}
        if self.alpha is not None:
            return {"name": self.name, "alpha": _number(self.alpha)}
        return self.name


def _number(value: Rational) -> int | float:
    return int(value) if value == int(value) else float(value)


def builtin(name: str, alpha: Rational | None = None) -> Activation:
    """A registered activation by (alias-resolved) name; ``alpha`` defaults where it applies."""
    if name == "softmax":
        return Activation("softmax")
    record = registry.activation(name)
    if record.alpha is None:
        return Activation(record.name)
    return Activation(record.name, alpha if alpha is not None else record.alpha)


def known() -> list[str]:
    """Every name a spec may use, for error messages."""
    return registry.activation_names()


@functools.cache
def variable() -> sympy.Symbol:
    """The symbol ``z`` a custom activation formula is written in."""
    # Imported here: a process that only loads cached kernels needs no SymPy.
    import sympy

    return sympy.Symbol("z")
