"""Field-level validation shared by the spec readers: where a value came from, and the small
checks (names, numbers, choices, formulas) that every reader uses, each raising ``SpecError``
with ``<file>: <field path>: <problem>``.

A message quotes the offending value through ``shown``: at most ``MAX_SHOWN`` characters, built
in bounded time whatever the value (a YAML file of a few hundred bytes can alias a list of
millions of items, and ``repr`` of it would take minutes and print megabytes).
"""

from __future__ import annotations

import difflib
import fractions
import math
import numbers
import re
import reprlib
from typing import TYPE_CHECKING, Any

from symbprop.errors import FormulaError, SpecError
from symbprop.files.yamltext import number_hint
from symbprop.spec.grammar import CONSTANT_NAMES, FUNCTION_ARITY, MAX_LITERAL

if TYPE_CHECKING:
    import sympy

NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*\Z")  # \Z: "name\n" is not a name
MAX_NAME_LENGTH = 64  # names become file, folder and Python names in generated code
MAX_SHOWN = 60  # characters of an offending value quoted in a message


class _ShortRepr(reprlib.Repr):
    """``reprlib`` with "…" for what it leaves out, and no ``repr`` of huge integers (slow, and
    refused by Python beyond 4300 digits)."""

    def __init__(self) -> None:
        super().__init__()
        self.fillvalue, self.maxlevel = "…", 3
        self.maxlist = self.maxtuple = self.maxdict = self.maxset = self.maxfrozenset = 4
        self.maxstring, self.maxother, self.maxlong = MAX_SHOWN, MAX_SHOWN, 20

    def repr_int(self, x: int, level: int) -> str:
        if x.bit_length() > 128:
            return f"{'-' * (x < 0)}(an integer of about {int(x.bit_length() * 0.30103)} digits)"
        return super().repr_int(x, level)


_SHORT_REPR = _ShortRepr()


def shown(value: Any) -> str:
    """``repr(value)`` in at most ``MAX_SHOWN`` characters ("…" where cut), in bounded time."""
    text = _SHORT_REPR.repr(value)
    return text if len(text) <= MAX_SHOWN else text[: MAX_SHOWN - 1] + "…"


class Where:
    """Where a value came from: the source (file) and a field path, for error messages."""

    def __init__(self, source: str | None, path: str = "") -> None:
        self.source, self.path = source, path

    def __truediv__(self, part: str | int) -> Where:
        step = f"[{part}]" if isinstance(part, int) else (f".{part}" if self.path else part)
        return Where(self.source, self.path + step)

    def error(self, problem: str) -> SpecError:
        return SpecError.at(self.source, self.path or None, problem)


def formula_text(text: Any, where: Where) -> str:
    """The text of a formula given as text or as a number (finite, at most 1e15 in size)."""
    if isinstance(text, bool) or not isinstance(text, (str, int, float)):
        raise where.error("must be a formula (text) or a number")
    infinite = isinstance(text, float) and not math.isfinite(text)
    if not isinstance(text, str) and (infinite or abs(text) > MAX_LITERAL):
        raise where.error(f"must be a formula (text) or a finite number of at most 1e15 in "
                          f"size, got {shown(text)}")
    return str(text)


def parsed_formula(text: Any, variables: dict, where: Where, what: str) -> sympy.Expr:
    # Imported here: reading a spec without formulas (a network of named functions) needs no SymPy.
    from symbprop.spec.formula import parse_formula

    try:
        return parse_formula(formula_text(text, where), variables, what=what)
    except FormulaError as err:
        raise where.error(str(err)) from None


def used_names(text: str, where: Where) -> list[str]:
    # Imported here: reading a spec without formulas (a network of named functions) needs no SymPy.
    from symbprop.spec.formula import formula_names

    try:
        return formula_names(text)
    except FormulaError as err:
        raise where.error(str(err)) from None


def identifier(value: Any, where: Where, what: str = "name") -> str:
    """``value`` if it is an identifier of at most ``MAX_NAME_LENGTH`` characters, not starting
    with "__"; other than a model's name, it must not be a function or constant of formulas."""
    if not isinstance(value, str) or not NAME_RE.match(value) or value.startswith("__"):
        raise where.error(f"{what} {shown(value)} must be an identifier ([A-Za-z_][A-Za-z0-9_]*)")
    if len(value) > MAX_NAME_LENGTH:
        raise where.error(f"{what} {shown(value)} is {len(value)} characters long; "
                          f"at most {MAX_NAME_LENGTH} are allowed")
    if what != "name" and value in set(FUNCTION_ARITY) | set(CONSTANT_NAMES):
        raise where.error(f"{what} '{value}' is reserved (a function or constant)")
    return value


def positive_int(value: Any, where: Where) -> int:
    """A whole number >= 1 as a Python int: an int or a NumPy integer, not a bool or a float."""
    if value is None:
        raise where.error("missing; give a whole number >= 1")
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise where.error(f"must be a whole number >= 1, got {shown(value)}{number_hint(value)}")
    if value < 1:
        raise where.error(f"must be >= 1, got {shown(value)}")
    return int(value)


def number(value: Any, where: Where) -> fractions.Fraction:
    """The exact value of a finite real number (int, float or NumPy scalar, not a bool) of at
    most 1e15 in size, as formula literals are: ``0.1`` is 1/10 (a ``Fraction``, which SymPy
    takes as the same Rational)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise where.error(f"must be a number, got {shown(value)}{number_hint(value)}")
    if isinstance(value, numbers.Integral):
        exact = fractions.Fraction(int(value))
    else:
        if not math.isfinite(value):
            raise where.error(f"must be a finite number, got {shown(value)}")
        exact = fractions.Fraction(repr(float(value)))
    if abs(exact) > MAX_LITERAL:
        raise where.error(f"must be at most 1e15 in size, got {shown(value)}")
    return exact


def did_you_mean(value: Any, allowed) -> str:
    """`` (did you mean 'layers'?)`` when one of ``allowed`` is close to ``value`` (a string of
    at most ``MAX_SHOWN`` characters: difflib's time grows with the product of lengths)."""
    if not isinstance(value, str) or len(value) > MAX_SHOWN:
        return ""
    close = difflib.get_close_matches(value, [a for a in allowed if isinstance(a, str)], n=1)
    return f" (did you mean '{close[0]}'?)" if close else ""


def choice(value: Any, allowed: tuple[str, ...], where: Where) -> str:
    if not isinstance(value, str) or value not in allowed:
        raise where.error(f"{shown(value)} is not allowed{did_you_mean(value, allowed)}; "
                          f"allowed: {', '.join(allowed)}")
    return value


def check_keys(data: dict, allowed: tuple[str, ...], where: Where) -> None:
    unknown = [k for k in data if k not in allowed]
    if unknown:
        key = unknown[0]
        part = key if isinstance(key, str) and len(key) <= MAX_SHOWN else shown(key)
        raise (where / part).error(
            f"unknown field{did_you_mean(key, allowed)}; allowed: {', '.join(allowed)}")
