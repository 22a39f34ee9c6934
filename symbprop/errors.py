"""The one family of user-facing errors.

Every problem with user input (a spec, a formula, a values file, data, an output path) raises a
``SymbpropError`` whose message names where (file), what (field path) and what is allowed.  The
CLI prints that message and exits with status 2, without a traceback.
"""

from __future__ import annotations

from numbers import Integral


class SymbpropError(Exception):
    """Bad user input; ``str(err)`` is the complete message for the user."""

    @classmethod
    def at(cls, source: str | None, field: str | None, problem: str) -> SymbpropError:
        """Build ``"<source>: <field>: <problem>"``, leaving out the parts that are unknown."""
        where = ": ".join(part for part in (source, field) if part)
        return cls(f"{where}: {problem}" if where else problem)


class SpecError(SymbpropError):
    """A network or graph specification is invalid (raised by ``symbprop.load`` and builders)."""


class FormulaError(SpecError):
    """A user formula is refused by the safe parser (syntax, unknown name, forbidden construct)."""


class ValuesError(SymbpropError):
    """A values file or dict (``--at``) does not fit the model."""


class DataError(SymbpropError):
    """A training data set does not fit the model (shape, non-numbers, NaN, labels)."""


class DomainError(ValuesError, ArithmeticError):
    """The values lie outside a function's domain (``log(x)`` at x ≤ 0, ``1/x`` at 0): the
    derivation has no real number there.  An ``ArithmeticError`` too, for callers that probe
    points and skip those without a value."""


class FloatRangeError(DomainError):
    """A value of the derivation at these values is beyond the range of float64 (|v| > 1.8e308):
    real, but no kernel could compute it."""


class CodegenError(SymbpropError):
    """A code-generation request that cannot be met (unknown strategy or dtype, too large, a
    formula with no real-valued code), or generated code that fails its checks."""


def require_count(name: str, value, minimum: int) -> None:
    """Raise ``SymbpropError`` ("<name>: must be an integer ≥ <minimum>, got <value>") unless
    ``value`` is an integer (Python's or NumPy's, not a bool) of at least ``minimum``."""
    if isinstance(value, bool) or not isinstance(value, Integral) or value < minimum:
        raise SymbpropError(f"{name}: must be an integer ≥ {minimum}, got {value!r}")
