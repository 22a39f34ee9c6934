"""The report of ``symbprop.check``: one ``Row`` per parameter group and comparison (symbolic vs
compiled, vs finite differences), shown as a rich table (``__rich__``) or plain text (``str``).
``symbprop.crosscheck`` computes the rows; this module only presents them."""

from __future__ import annotations

from dataclasses import dataclass


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

    def table(self):
        """A ``rich.table.Table`` of the rows."""
        from rich.table import Table

        table = Table(title=self._title())
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
        verdict = "all agree" if self.ok else "DISAGREEMENT"
        points = "1 point" if self.points == 1 else f"{self.points} points"
        return f"check {self.model}: {points}, {verdict}"

    def __str__(self) -> str:
        cells = [list(self.HEADER)] + [self._cells(row) for row in self.rows]
        widths = [max(len(r[i]) for r in cells) for i in range(len(self.HEADER))]
        lines = [self._title()]
        lines += [
            "  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in cells
        ]
        return "\n".join(lines)
