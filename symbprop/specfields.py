"""Field-level validation shared by the spec readers: where a value came from, and the small
checks (names, numbers, choices, formulas) that every reader uses, each raising ``SpecError``
with ``<file>: <field path>: <problem>``."""

from __future__ import annotations

import re
from typing import Any

import sympy

from .errors import FormulaError, SpecError
from .formula import CONSTANTS, FUNCTIONS, formula_names, parse_formula

NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


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
    if isinstance(text, bool) or not isinstance(text, (str, int, float)):
        raise where.error("must be a formula (text) or a number")
    return str(text)


def parsed_formula(text: Any, variables: dict, where: Where, what: str) -> sympy.Expr:
    try:
        return parse_formula(formula_text(text, where), variables, what=what)
    except FormulaError as err:
        raise where.error(str(err)) from None


def used_names(text: str, where: Where) -> list[str]:
    try:
        return formula_names(text)
    except FormulaError as err:
        raise where.error(str(err)) from None


def identifier(value: Any, where: Where, what: str = "name") -> str:
    reserved = set(FUNCTIONS) | set(CONSTANTS)
    if not isinstance(value, str) or not NAME_RE.match(value) or value.startswith("__"):
        raise where.error(f"{what} {value!r} must be an identifier ([A-Za-z_][A-Za-z0-9_]*)")
    if what != "name" and value in reserved:
        raise where.error(f"{what} '{value}' is reserved (a function or constant)")
    return value


def positive_int(value: Any, where: Where) -> int:
    if value is None:
        raise where.error("missing; give a whole number >= 1")
    if isinstance(value, bool) or not isinstance(value, int):
        raise where.error(f"must be a whole number >= 1, got {value!r}")
    if value < 1:
        raise where.error(f"must be >= 1, got {value}")
    return value


def number(value: Any, where: Where) -> sympy.Rational:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise where.error(f"must be a number, got {value!r}")
    return sympy.Rational(repr(value)) if isinstance(value, float) else sympy.Integer(value)


def choice(value: Any, allowed: tuple[str, ...], where: Where) -> str:
    if value not in allowed:
        raise where.error(f"{value!r} is not allowed; allowed: {', '.join(allowed)}")
    return value


def check_keys(data: dict, allowed: tuple[str, ...], where: Where) -> None:
    unknown = [k for k in data if k not in allowed]
    if unknown:
        raise (where / str(unknown[0])).error(f"unknown field; allowed: {', '.join(allowed)}")
