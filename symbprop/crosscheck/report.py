"""The report of ``symbprop.check``: one ``Row`` per parameter group and comparison (symbolic vs
compiled, vs finite differences), shown as a rich table (``__rich__``) or plain text (``str``).
``symbprop.crosscheck.compare`` computes the values; ``Tally`` turns the comparisons into rows with
the ``TOLERANCES``, and the report presents them."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

#: (atol, rtol) per comparison with the symbolic value (see ``symbprop.crosscheck.compare``).
TOLERANCES = {"float64": (1e-12, 1e-9), "float32": (1e-4, 2e-3), "fd": (1e-6, 1e-5)}


@dataclass(frozen=True)
class Row:
    """One parameter group (or ``loss``) compared with the symbolic value by one method."""

    group: str
    method: str  # "unrolled float64", "looped float32", "finite differences"
    entries: int
    max_abs_err: float
    max_rel_err: float
    atol: float
    rtol: float
    ok: bool
    #: Why the row could not be compared everywhere (a value that is not finite), or "".
    note: str = ""
    #: For a row that fails: the entry furthest beyond its tolerance ("W1[2,0] at random point
    #: 3"), or "" when the entries were not named.
    worst: str = ""


@dataclass(frozen=True)
class CheckReport:
    """The outcome of ``check``: ``ok``, the largest errors and one ``Row`` per comparison."""

    model: str
    points: int
    rows: tuple[Row, ...]

    @property
    def ok(self) -> bool:
        return all(row.ok for row in self.rows)

    @property
    def max_abs_err(self) -> float:
        return max((row.max_abs_err for row in self.rows), default=0.0)

    @property
    def max_rel_err(self) -> float:
        return max((row.max_rel_err for row in self.rows), default=0.0)

    def _cells(self, row: Row) -> list[str]:
        return [
            row.group,
            row.method,
            str(row.entries),
            f"{row.max_abs_err:.2e}",
            f"{row.max_rel_err:.2e}",
            f"{row.atol:.0e} / {row.rtol:.0e}",
            "ok" if row.ok else "FAIL",
        ]

    HEADER = (
        "group",
        "compared with symbolic",
        "entries",
        "max abs err",
        "max rel err",
        "atol / rtol",
        "",
    )

    def notes(self) -> list[str]:
        """One line per row with a note, "<group>, <method>: <note>", and one per failing row
        that names its entry furthest beyond tolerance, "<group>, <method>: worst: <entry>"."""
        lines = [f"{row.group}, {row.method}: {row.note}" for row in self.rows if row.note]
        return lines + [f"{row.group}, {row.method}: worst: {row.worst}"
                        for row in self.rows if row.worst and not row.note]

    def table(self):
        """A ``rich.table.Table`` of the rows (notes, if any, as its caption)."""
        # Imported here: rich loads only when a table is printed.
        from rich.table import Table

        table = Table(title=self._title(), caption="\n".join(self.notes()) or None,
                      caption_justify="left")
        for name in self.HEADER:
            table.add_column(name, justify="left" if name in self.HEADER[:2] else "right")
        for row in self.rows:
            cells = self._cells(row)
            cells[-1] = "[green]ok[/green]" if row.ok else "[bold red]FAIL[/bold red]"
            table.add_row(*cells)
        return table

    def __rich__(self):
        return self.table()

    def _title(self) -> str:
        failed = [row for row in self.rows if not row.ok]
        verdict = ("all agree" if not failed else "NOT CHECKABLE" if all(r.note for r in failed)
                   else "DISAGREEMENT")
        points = "1 point" if self.points == 1 else f"{self.points} points"
        return f"check {self.model}: {points}, {verdict}"

    def __str__(self) -> str:
        cells = [list(self.HEADER)] + [self._cells(row) for row in self.rows]
        widths = [max(len(r[i]) for r in cells) for i in range(len(self.HEADER))]
        lines = [self._title()]
        lines += [
            "  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in cells
        ]
        return "\n".join(lines + [f"note: {note}" for note in self.notes()])


#: Why a row could not be compared everywhere (``symbprop.crosscheck.compare``'s docstring).
NOT_FINITE = {
    "symbolic": "the symbolic value is not finite at some point (it overflows, or the point "
                "is outside the domain): nothing to compare there",
    "fd": "the loss is not finite at θ ± h, for every step tried, at some point: no finite "
          "difference there",
}


class Tally:
    """Largest errors per (group, method), with the pass/fail of every entry; a value that is
    not finite fails (with a note when there was nothing to compare)."""

    def __init__(self) -> None:
        self._rows: dict = {}

    def add(self, group: str, method: str, exact, other, kind: str,
            where: list[str] | None = None) -> None:
        """Compare ``other`` with ``exact`` (arrays of the same size) under ``TOLERANCES[kind]``;
        ``where`` names each entry, for the failing row's worst one."""
        exact = np.asarray(exact, dtype=np.float64)
        other = np.asarray(other, dtype=np.float64)
        atol, rtol = TOLERANCES[kind]
        finite = np.isfinite(exact)
        scale = max(1.0, float(np.max(np.abs(exact[finite]), initial=0.0)))
        with np.errstate(invalid="ignore"):
            error = np.abs(other - exact)
        error = np.where(np.isfinite(error) & finite, error, np.inf)
        ok = bool(finite.all() and np.all(error <= atol * scale + rtol * np.abs(exact)))
        relevant = finite & (np.abs(exact) > atol * scale)
        rel = float(np.max(error[relevant] / np.abs(exact[relevant]), initial=0.0))
        note = ("symbolic" if not finite.all()
                else "fd" if kind == "fd" and not np.isfinite(other).all() else "")
        with np.errstate(divide="ignore", invalid="ignore"):
            excess = np.nan_to_num(error / (atol * scale + rtol * np.abs(exact)), nan=np.inf)
        key = (group, method)
        n, abs_err, rel_err, ok_before, note_before, worst = self._rows.get(
            key, (0, 0.0, 0.0, True, "", (0.0, "")))
        if not ok and where is not None and exact.size and excess.max() > worst[0]:
            worst = (float(excess.max()), where[int(np.argmax(excess))])
        self._rows[key] = (
            n + exact.size,
            max(abs_err, float(np.max(error, initial=0.0))),
            max(rel_err, rel),
            ok_before and ok,
            note_before or note,
            worst,
        )

    def rows(self) -> tuple[Row, ...]:
        result = []
        groups = list(dict.fromkeys(group for group, _ in self._rows))
        methods = list(dict.fromkeys(method for _, method in self._rows))
        order = sorted(self._rows, key=lambda k: (groups.index(k[0]), methods.index(k[1])))
        for group, method in order:
            n, abs_err, rel_err, ok, note, (_, worst) = self._rows[group, method]
            kind = "fd" if method == "finite differences" else method.split()[-1]
            result.append(Row(group, method, n, abs_err, rel_err, *TOLERANCES[kind], ok,
                              NOT_FINITE.get(note, ""), worst))
        return tuple(result)
