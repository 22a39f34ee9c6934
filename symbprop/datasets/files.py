"""Reading a user's data file (CSV with a header row, or NPZ) into a ``Table`` of numbers.

Used by ``symbprop.data.load_data``; every problem raises ``DataError`` naming the file, the row
(CSV: data row and line number; NPZ: array and index) and the column.

A CSV number is written in ASCII as ``[+-]digits[.digits][e[+-]digits]`` (``nan`` and ``inf``
are recognised, then refused as not finite); Python's ``float`` would also take ``1_000`` and
non-ASCII digits, which a CSV file does not mean as numbers.  NPZ arrays hold real numbers
(bool, int, unsigned, float); complex arrays are refused, not cut to their real part.
"""

from __future__ import annotations

import csv
import math
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import DataError
from ..npz import read_npz

#: A number in a CSV cell (after stripping spaces); see the module docstring.
NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?|[+-]?(?:inf|infinity|nan)",
                    re.ASCII | re.IGNORECASE)
#: Separators that a file meant as CSV may use instead of commas.
OTHER_SEPARATORS = {";": "semicolon", "\t": "tab", "|": "vertical bar"}


@dataclass(frozen=True)
class Table:
    """Features ``X`` (n, f); targets as numbers ``Y`` (n, t) or as text ``raw_labels``."""

    source: str
    X: np.ndarray
    Y: np.ndarray | None
    raw_labels: list[str] | None
    feature_names: tuple[str, ...]
    target_names: tuple[str, ...]
    class_names: tuple[str, ...] | None = None
    lines: tuple[int, ...] | None = None  # CSV: the file line of each data row
    target_array: str = "y"

    def where(self, row: int, column: str | None = None) -> str:
        """'row 7 (line 8), column 'x2'' for a CSV; 'y[6]' for an array."""
        if self.lines is None:
            return f"{column or self.target_array}[{row}]"
        place = f"row {row + 1} (line {self.lines[row]})"
        return f"{place}, column '{column}'" if column else place


def read_csv_table(path: Path, features: list[str] | None, target: list[str] | None,
                   n_in: int, n_out: int) -> Table:
    source = str(path)
    header, rows, lines = _csv_rows(path)
    columns = {name: i for i, name in enumerate(header)}
    _check_distinct(source, features, "features (--features)")
    _check_distinct(source, target, "target (--target)")
    target = target or _default_target(header, n_in, n_out)
    features = features or [name for name in header if name not in target]
    for name in (*features, *target):
        if name not in columns:
            raise DataError(f"{source}: no column '{name}'; columns: {', '.join(header)}")
    X = np.empty((len(rows), len(features)))
    for j, name in enumerate(features):
        X[:, j] = _numbers(rows, lines, columns[name], name, source)
    first = rows[0][columns[target[0]]].strip() if rows else ""
    if len(target) == 1 and not _looks_numeric(first):
        labels = [row[columns[target[0]]].strip() for row in rows]
        empty = next((i for i, v in enumerate(labels) if not v), None)
        if empty is not None:
            raise DataError(f"{source}: row {empty + 1} (line {lines[empty]}), column "
                            f"'{target[0]}': empty cell")
        return Table(source, X, None, labels, tuple(features), tuple(target), lines=lines)
    Y = np.empty((len(rows), len(target)))
    for j, name in enumerate(target):
        Y[:, j] = _numbers(rows, lines, columns[name], name, source)
    return Table(source, X, Y, None, tuple(features), tuple(target), lines=lines)


def _check_distinct(source: str, names: list[str] | None, what: str) -> None:
    repeated = next((n for i, n in enumerate(names or ()) if n in names[:i]), None)
    if repeated is not None:
        raise DataError(f"{source}: the {what} name column '{repeated}' twice; name each "
                        "column once")


def _csv_rows(path: Path) -> tuple[list[str], list[list[str]], tuple[int, ...]]:
    source = str(path)
    delimiter = "\t" if path.suffix.lower() == ".tsv" else ","
    try:
        with open(path, encoding="utf-8-sig", newline="") as stream:
            reader = csv.reader(stream, delimiter=delimiter)
            records = [(reader.line_num, row) for row in reader if any(c.strip() for c in row)]
    except (OSError, UnicodeDecodeError, csv.Error) as err:
        raise DataError(f"{source}: cannot read as CSV ({err})") from None
    if not records:
        raise DataError(f"{source}: empty file (expected a header row and data rows)")
    header = [cell.strip() for cell in records[0][1]]
    if len(header) == 1:
        _one_column(source, records[0], delimiter)
    if len(set(header)) != len(header) or not all(header):
        raise DataError(f"{source}: line {records[0][0]}: the header row needs distinct, "
                        f"non-empty column names, got {', '.join(map(repr, header))}")
    if all(_is_number(name) for name in header):
        raise DataError(f"{source}: line 1 looks like numbers; the first row must name the "
                        "columns (a header row)")
    rows, lines = [], []
    for number, (line, row) in enumerate(records[1:], 1):
        if len(row) != len(header):
            raise DataError(f"{source}: row {number} (line {line}): {len(row)} cells but the "
                            f"header has {len(header)} columns")
        rows.append(row)
        lines.append(line)
    if not rows:
        raise DataError(f"{source}: no data rows (only a header)")
    return header, rows, tuple(lines)


def _one_column(source: str, record: tuple[int, list[str]], delimiter: str) -> None:
    """A header of one column: a net needs features and a target, so the file is most likely
    separated by something other than ``delimiter``; say so."""
    line, (cell,) = record
    kind = "tab" if delimiter == "\t" else "comma"
    found = [f"{name}-separated, {char!r}" for char, name in OTHER_SEPARATORS.items()
             if char in cell and char != delimiter]
    guess = f" (it looks {found[0]})" if found else ""
    raise DataError(f"{source}: line {line}: the header row {cell!r} is one column: the file is "
                    f"not {kind}-separated{guess}; a data file needs feature columns and a "
                    f"target column, separated by {kind}s")


def _default_target(header: list[str], n_in: int, n_out: int) -> list[str]:
    if n_out > 1 and len(header) == n_in + n_out:
        return header[-n_out:]
    return header[-1:]


def _is_number(text: str) -> bool:
    """``text`` (stripped) is a CSV number (``NUMBER``)."""
    return NUMBER.fullmatch(text) is not None


def _looks_numeric(text: str) -> bool:
    """``float`` takes ``text``: a number, or a near miss (``1_000``) that ``_numbers`` then
    refuses by name, rather than a class label."""
    try:
        float(text)
    except ValueError:
        return False
    return True


def _numbers(rows, lines, column: int, name: str, source: str) -> np.ndarray:
    values = np.empty(len(rows))
    for i, row in enumerate(rows):
        cell = row[column].strip()
        where = f"{source}: row {i + 1} (line {lines[i]}), column '{name}'"
        if not cell:
            raise DataError(f"{where}: empty cell (missing value)")
        if not _is_number(cell):
            hint = " (digits only: no _ or other separators)" if "_" in cell else ""
            raise DataError(f"{where}: {cell!r} is not a number{hint}")
        value = float(cell)
        if not math.isfinite(value):
            raise DataError(f"{where}: {cell} is not allowed (values must be finite)")
        values[i] = value
    return values


def read_npz_table(path: Path, features: list[str], target: list[str]) -> Table:
    source = str(path)
    if len(features) != 1 or len(target) != 1:
        raise DataError(f"{source}: name one array for the features and one for the targets "
                        f"(defaults X and y), got {features} and {target}")
    arrays = read_npz(path, DataError)
    X = _array(arrays, features[0], source, dims=(2,))
    y = _array(arrays, target[0], source, dims=(1, 2))
    if X.shape[0] == 0:
        raise DataError(f"{source}: array '{features[0]}' has no rows (empty)")
    if y.shape[0] != X.shape[0]:
        raise DataError(f"{source}: '{target[0]}' has {y.shape[0]} rows but '{features[0]}' "
                        f"has {X.shape[0]}")
    Y = y[:, None] if y.ndim == 1 else y
    names = tuple(f"{features[0]}[:, {j}]" for j in range(X.shape[1]))
    targets = (target[0],) if y.ndim == 1 else tuple(f"{target[0]}[:, {j}]"
                                                     for j in range(Y.shape[1]))
    return Table(source, X, Y, None, names, targets, target_array=target[0])


def _array(arrays: dict, name: str, source: str, dims: tuple[int, ...]) -> np.ndarray:
    if name not in arrays:
        raise DataError(f"{source}: no array '{name}'; arrays: {', '.join(arrays) or 'none'}")
    array = arrays[name]
    if array.ndim not in dims:
        raise DataError(f"{source}: array '{name}' has shape {array.shape}; expected "
                        f"{' or '.join(f'{d}-D' for d in dims)}")
    if array.dtype.kind == "c":
        raise DataError(f"{source}: array '{name}' holds complex numbers ({array.dtype}); "
                        "the data must be real numbers")
    if array.dtype.kind not in "biuf":
        raise DataError(f"{source}: array '{name}' holds {array.dtype} values, not numbers")
    array = array.astype(np.float64)
    bad = np.argwhere(~np.isfinite(array))
    if bad.size:
        index = ", ".join(str(int(i)) for i in bad[0])
        raise DataError(f"{source}: {name}[{index}] is {array[tuple(bad[0])]} (sample "
                        f"{int(bad[0][0])}); values must be finite")
    return array
