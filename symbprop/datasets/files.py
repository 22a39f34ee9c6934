"""Reading a user's data file (CSV with a header row, or NPZ) into a ``Table`` of numbers.

Used by ``symbprop.training.data.load_data``; every problem raises ``DataError`` naming the file,
the row (CSV: data row and line number; NPZ: array and index) and the column.

A CSV file is read ``CHUNK_ROWS`` rows at a time, each column of a chunk converted at once, so a
million rows take seconds; it holds at most ``MAX_CSV_ROWS`` data rows and ``MAX_CSV_CELLS``
cells in at most ``MAX_CSV_BYTES`` bytes, and past them the message names NPZ, the format for big
data.

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

from symbprop.errors import DataError
from symbprop.files.npz import read_npz

#: A number in a CSV cell (after stripping spaces); see the module docstring.
NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?|[+-]?(?:inf|infinity|nan)",
                    re.ASCII | re.IGNORECASE)
#: The most data rows of a CSV file, and the most cells (rows × columns): past them, NPZ.
MAX_CSV_ROWS = 1_000_000
MAX_CSV_CELLS = 20_000_000
#: The largest CSV file, checked before reading (a line of it is read whole).
MAX_CSV_BYTES = 200_000_000
#: Rows of a CSV file converted at a time.
CHUNK_ROWS = 50_000
BIG_DATA = "give big data as an NPZ file (arrays X and y)"
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
    lines: np.ndarray | None = None  # CSV: the file line of each data row
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
    _check_distinct(source, features, "features (--features)")
    _check_distinct(source, target, "target (--target)")
    _check_size(path)
    delimiter = "\t" if path.suffix.lower() == ".tsv" else ","
    try:
        with open(path, encoding="utf-8-sig", newline="") as stream:
            reader = csv.reader(stream, delimiter=delimiter)
            header = _header(reader, source, delimiter)
            columns = {name: i for i, name in enumerate(header)}
            target = target or _default_target(header, n_in, n_out)
            features = features or [name for name in header if name not in target]
            for name in (*features, *target):
                if name not in columns:
                    raise DataError(f"{source}: no column '{name}'; columns: {', '.join(header)}")
            return _read_rows(reader, source, header, [columns[n] for n in features],
                              [columns[n] for n in target], features, target)
    except (OSError, UnicodeDecodeError, csv.Error) as err:
        raise DataError(f"{source}: cannot read as CSV ({err})") from None


def _check_size(path: Path) -> None:
    size = path.stat().st_size
    if size > MAX_CSV_BYTES:
        raise DataError(f"{path}: the file is {size:,} bytes; a CSV file is at most "
                        f"{MAX_CSV_BYTES:,} bytes; {BIG_DATA}")


def _read_rows(reader, source: str, header: list[str], x_columns: list[int],
               y_columns: list[int], features: list[str], target: list[str]) -> Table:
    """The data rows after the header, read ``CHUNK_ROWS`` at a time: each column of a chunk is
    converted at once (``_numbers``), so memory holds one chunk of text and the numbers."""
    x_parts, y_parts, labels, lines = [], [], None, []
    for rows, chunk_lines in _chunks(reader, source, len(header)):
        if not lines:  # the first row decides: numeric targets or class names
            first = rows[0][y_columns[0]].strip()
            labels = [] if len(target) == 1 and not _looks_numeric(first) else None
        start = len(lines)
        lines += chunk_lines
        x_parts.append(_columns(rows, lines, start, x_columns, features, source))
        if labels is not None:
            labels += _labels(rows, lines, start, y_columns[0], target[0], source)
        else:
            y_parts.append(_columns(rows, lines, start, y_columns, target, source))
    if not lines:
        raise DataError(f"{source}: no data rows (only a header)")
    X = np.concatenate(x_parts)
    table_lines = np.asarray(lines, dtype=np.int64)
    if labels is not None:
        return Table(source, X, None, labels, tuple(features), tuple(target), lines=table_lines)
    return Table(source, X, np.concatenate(y_parts), None, tuple(features), tuple(target),
                 lines=table_lines)


def _chunks(reader, source: str, width: int):
    """Lists of (rows, their file lines) of at most ``CHUNK_ROWS``; blank lines are skipped; a
    row with the wrong number of cells, or more rows than the limits allow, is a DataError."""
    limit = min(MAX_CSV_ROWS, MAX_CSV_CELLS // width)
    rows, lines, count = [], [], 0
    for row in reader:
        first = row[0] if row else ""
        if len(row) != width or not first or first.isspace():  # only then can it be blank
            if not "".join(row).strip():
                continue
            if len(row) != width:
                raise DataError(f"{source}: row {count + 1} (line {reader.line_num}): "
                                f"{len(row)} cells but the header has {width} columns")
        count += 1
        rows.append(row)
        lines.append(reader.line_num)
        if len(rows) == CHUNK_ROWS:
            if count > limit:
                break
            yield rows, lines
            rows, lines = [], []
    if count > limit:
        raise DataError(f"{source}: more than {limit:,} data rows; a CSV file holds at "
                        f"most {limit:,} (at most {MAX_CSV_CELLS:,} cells); {BIG_DATA}")
    if rows:
        yield rows, lines


def _header(reader, source: str, delimiter: str) -> list[str]:
    record = next(((reader.line_num, row) for row in reader if "".join(row).strip()), None)
    if record is None:
        raise DataError(f"{source}: empty file (expected a header row and data rows)")
    header = [cell.strip() for cell in record[1]]
    if len(header) == 1:
        _one_column(source, record, delimiter)
    if len(set(header)) != len(header) or not all(header):
        raise DataError(f"{source}: line {record[0]}: the header row needs distinct, "
                        f"non-empty column names, got {', '.join(map(repr, header))}")
    if all(_is_number(name) for name in header):
        raise DataError(f"{source}: line 1 looks like numbers; the first row must name the "
                        "columns (a header row)")
    return header


def _check_distinct(source: str, names: list[str] | None, what: str) -> None:
    repeated = next((n for i, n in enumerate(names or ()) if n in names[:i]), None)
    if repeated is not None:
        raise DataError(f"{source}: the {what} name column '{repeated}' twice; name each "
                        "column once")


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


def _columns(rows, lines, start, columns, names, source) -> np.ndarray:
    """The numbers of ``columns`` of a chunk of rows (``lines[start:]``), (rows, columns)."""
    out = np.empty((len(rows), len(columns)))
    for j, (column, name) in enumerate(zip(columns, names, strict=True)):
        out[:, j] = _numbers(rows, lines, start, column, name, source)
    return out


def _numbers(rows, lines, start, column: int, name: str, source: str) -> np.ndarray:
    cells = [row[column] for row in rows]
    text = "\n".join(cells)
    if text.isascii() and "_" not in text:  # then float() reads exactly the NUMBER forms
        try:
            values = np.array(cells, dtype=np.float64)
        except ValueError:
            pass  # a cell that is no number: found below
        else:
            if np.isfinite(values).all():
                return values
    values = np.empty(len(cells))
    for i, raw in enumerate(cells):
        cell = raw.strip()
        where = f"{source}: row {start + i + 1} (line {lines[start + i]}), column '{name}'"
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


def _labels(rows, lines, start, column: int, name: str, source: str) -> list[str]:
    labels = [row[column].strip() for row in rows]
    if not all(labels):
        empty = labels.index("")
        raise DataError(f"{source}: row {start + empty + 1} (line {lines[start + empty]}), "
                        f"column '{name}': empty cell")
    return labels


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
