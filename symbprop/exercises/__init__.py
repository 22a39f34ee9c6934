"""Exercise sheets with answer keys, a fresh point per sheet (``symbprop exercise``).

In: a model (at most ``MAX_PARAMS`` parameters), a seed, a count and the kinds of questions.
Out: per sheet, the sheet, its verified key and the point (``values-NN.yaml``), as bytes and,
with ``out_dir``, files.

    import symbprop as sp
    result = sp.exercise("examples:two_two_one", seed=7, count=3, fmt="pdf", out_dir="hw")
    result.files            # {"sheet-01.pdf": bytes, "key-01.pdf": ..., "values-01.yaml": ...}
    result.sheets[0].values # the point of sheet 1 (what ``symbprop derive --at`` reads)

Sheet k (1 ≤ k ≤ ``MAX_COUNT``) draws its point from ``numpy.random.default_rng([seed, k])``
(``points.draw``: short decimals, no saturated unit, never on a kink), asks the ``questions``
kinds (``questions.KINDS``, default all) and is rendered as ``sheet-NN``, ``key-NN`` (tex, md or
pdf) and ``values-NN.yaml`` (``sheet.documents``).  No two sheets of one call share a point
(where the model has that many: after 20 more draws a repeat is kept; ``quadratic`` has 36).

Every answer of every key is checked (``verify``: compiled kernels, central finite
differences, an exact forward pass) before any file is written; a disagreement raises
``AnswerMismatch`` and nothing is written.  Then the files are written, each atomically.  The
same arguments give byte-identical files.  Models of more than ``MAX_PARAMS`` parameters are
refused: a sheet is worked by hand.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from symbprop.errors import SymbpropError
from symbprop.exercises.points import draw
from symbprop.exercises.questions import KINDS
from symbprop.exercises.questions import questions as make_questions
from symbprop.exercises.sheet import documents
from symbprop.exercises.verify import AnswerMismatch
from symbprop.exercises.verify import verify as check_answers
from symbprop.files.atomic import write_bytes
from symbprop.render.numbers import point
from symbprop.spec.loader import as_model
from symbprop.symbolic.derivation import derive

FORMATS = ("pdf", "tex", "md")
MAX_COUNT = 99
MAX_PARAMS = 40
MAX_SEED = 2**63 - 1


@dataclass(frozen=True)
class Sheet:
    """One sheet: its number (from 1), the seed, its point (a values mapping) and questions."""

    number: int
    seed: int
    values: dict
    questions: tuple
    spec: str | None = None  # how the model was named (a spec file, examples:NAME), if known


@dataclass(frozen=True)
class Exercises:
    """The sheets of one call and their files ({file name: bytes}, in writing order)."""

    sheets: tuple[Sheet, ...]
    files: dict

    def write(self, out_dir: str | Path) -> list[Path]:
        """Write every file into ``out_dir`` (created if missing), each atomically."""
        return [write_bytes(Path(out_dir) / name, data) for name, data in self.files.items()]


def kinds_of(questions) -> tuple[str, ...]:
    """The question kinds of ``questions``: None (all), "forward,delta" or a sequence of names,
    checked against ``KINDS``; ``SymbpropError`` naming ``questions`` otherwise."""
    if questions is None:
        return KINDS
    names = questions.split(",") if isinstance(questions, str) else list(questions)
    names = [str(n).strip().lower() for n in names if str(n).strip()]
    unknown = [n for n in names if n not in KINDS]
    if unknown or not names:
        what = f"unknown kind {unknown[0]!r}" if unknown else "no kind given"
        raise SymbpropError(f"questions: {what}; kinds: {', '.join(KINDS)} (comma-separated)")
    return tuple(k for k in KINDS if k in names)


def _check(seed, count, fmt) -> None:
    for option, value, low, high in (("seed", seed, 0, MAX_SEED), ("count", count, 1, MAX_COUNT)):
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise SymbpropError(f"{option}: must be an integer from {low} to {high}, got "
                                f"{value!r}")
    if fmt not in FORMATS:
        raise SymbpropError(f"format: unknown format {fmt!r}; formats: {', '.join(FORMATS)}")


def exercise(model, seed: int = 0, count: int = 1, questions=None, fmt: str = "pdf",
             out_dir: str | Path | None = None, spec: str | None = None) -> Exercises:
    """``count`` exercise sheets of ``model`` (a model, or what ``sp.load`` takes) with their
    verified keys and values files, written to ``out_dir`` if given (module docstring).
    ``spec`` names the model in the values files' ``symbprop derive`` line (default: ``model``
    when it is a string)."""
    spec = spec if spec is not None else model if isinstance(model, str) else None
    kinds = kinds_of(questions)
    _check(seed, count, fmt)
    model = as_model(model)
    if model.param_count > MAX_PARAMS:
        raise SymbpropError(f"{model.name}: {model.param_count} parameters; exercise sheets are "
                            f"worked by hand, for models of at most {MAX_PARAMS}")
    d = derive(model)
    sheets, files, seen = [], {}, []
    for number in range(1, count + 1):
        rng = np.random.default_rng([seed, number])
        values = draw(d, rng)
        for _ in range(20):  # another sheet's point: draw again
            if values not in seen:
                break
            values = draw(d, rng)
        seen.append(values)
        asked = tuple(make_questions(d, point(d, values), kinds, rng))
        verify(d, values, asked, where=f"sheet {number:02d}: ")
        sheet = Sheet(number, seed, values, asked, spec)
        sheets.append(sheet)
        files |= documents(d, sheet, fmt)
    result = Exercises(tuple(sheets), files)
    if out_dir is not None:
        result.write(out_dir)
    return result


def verify(d, values, asked, where: str = "") -> int:
    """Check every answer (``verify.verify``); a module-level name so that tests can see it."""
    return check_answers(d, values, asked, where)


__all__ = ["FORMATS", "KINDS", "MAX_COUNT", "MAX_PARAMS", "AnswerMismatch", "Exercises",
           "Sheet", "exercise", "kinds_of"]
