"""Training data for a network spec: CSV, NPZ or a bundled data set, validated and split.

``load_data(model, source, ...)`` reads ``source`` — a CSV file with a header row, an ``.npz``
archive, or a bundled name (``xor``, ``iris``, ``digits``; see ``symbprop.datasets``) — checks it
against the network, and returns ``TrainingData`` with float64 ``X`` (n, n_0) and ``Y`` (n, n_L),
split deterministically into a training and a held-out part.

Targets: when the net has several outputs and the data give one label per sample (a number
0..K-1 or a class name), the labels become one-hot rows (a classifier: accuracy = argmax).  With
one output the target is a float (a binary classifier when every target is 0 or 1: accuracy at
the 0.5 threshold).  Several target columns are used as they are.

Every problem raises ``DataError`` naming the file, the row (CSV: data row and line number) and
the column: wrong number of columns for the spec, non-numeric cells, NaN/inf, an empty file,
labels out of range.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

import symbprop.datasets as datasets
from symbprop.datasets.files import Table, read_csv_table, read_npz_table
from symbprop.errors import DataError
from symbprop.files.npz import file_kind
from symbprop.model import Network

AUTO_TEST_FRACTION = 0.2
MIN_SAMPLES_FOR_SPLIT = 20


@dataclass(frozen=True)
class Samples:
    """``X`` (n, n_0), ``Y`` (n, n_L) float64; ``labels`` (n,) int64 for classifiers, else None."""

    X: np.ndarray
    Y: np.ndarray
    labels: np.ndarray | None = None

    def __len__(self) -> int:
        return int(self.X.shape[0])

    def take(self, rows: np.ndarray) -> Samples:
        labels = None if self.labels is None else self.labels[rows]
        return Samples(np.ascontiguousarray(self.X[rows]), np.ascontiguousarray(self.Y[rows]),
                       labels)


@dataclass(frozen=True)
class TrainingData:
    """A validated data set for one network: ``train``, optional ``test``, and what they are."""

    source: str
    train: Samples
    test: Samples | None
    task: str  # "multiclass" | "binary" | "regression"
    feature_names: tuple[str, ...]
    class_names: tuple[str, ...] | None = None
    mean: np.ndarray | None = None  # standardization (from the training part), if asked
    scale: np.ndarray | None = None

    @property
    def is_classifier(self) -> bool:
        return self.task != "regression"

    def transform(self, X: np.ndarray) -> np.ndarray:
        """Apply this data's standardization (if any) to new features."""
        X = np.asarray(X, dtype=np.float64)
        return X if self.mean is None else (X - self.mean) / self.scale


def load_data(model: Network, source: str | Path, features: list[str] | str | None = None,
              target: list[str] | str | None = None, test_fraction: float | None = None,
              seed: int = 0, standardize: bool = False) -> TrainingData:
    """Read, validate and split training data for ``model`` (see the module docstring).

    ``features``/``target``: CSV column names (or NPZ array names, default ``X`` and ``y``);
    by default a CSV's last column is the target (the last n_L columns for a net with several
    outputs and numeric targets, when the file has exactly n_0 + n_L columns).
    ``test_fraction``: the held-out share; None = 0.2, or 0 for fewer than 20 samples.
    """
    if not isinstance(model, Network):
        raise DataError(f"{model.name}: training data are for networks; an expression or graph "
                        "is minimised by gradient descent on itself (no --data)")
    name = str(source)
    table = _read(model, source, _names(features), _names(target))
    X = _check_features(model, table, name)
    Y, labels, task, classes = _targets(model, table, name)
    samples = Samples(X, Y, labels)
    train, test = split(samples, test_fraction, seed, name)
    data = TrainingData(name, train, test, task, table.feature_names, classes)
    return standardized(data) if standardize else data


def split(samples: Samples, test_fraction: float | None, seed: int,
          source: str = "data") -> tuple[Samples, Samples | None]:
    """A deterministic shuffle (``seed``: 0 ≤ seed < 2**63) and split into (train, held-out
    or None)."""
    # Numba: imported only when data are split
    from symbprop.runtime.input_checks import checked_seed

    seed = checked_seed(seed)
    n = len(samples)
    if test_fraction is None:
        test_fraction = AUTO_TEST_FRACTION if n >= MIN_SAMPLES_FOR_SPLIT else 0.0
    if not 0.0 <= test_fraction < 1.0:
        raise DataError(f"{source}: test fraction must be in [0, 1), got {test_fraction}")
    n_test = int(round(n * test_fraction))
    if test_fraction > 0 and not 1 <= n_test <= n - 1:
        raise DataError(f"{source}: {n} samples are too few to hold out {test_fraction:g} of them")
    if n_test == 0:
        return samples, None
    order = np.random.default_rng(seed).permutation(n)
    return samples.take(np.sort(order[n_test:])), samples.take(np.sort(order[:n_test]))


def standardized(data: TrainingData) -> TrainingData:
    """Features shifted and scaled to mean 0, std 1 on the training part (constant columns: 1)."""
    mean = data.train.X.mean(axis=0)
    scale = data.train.X.std(axis=0)
    scale[scale == 0] = 1.0
    train = replace(data.train, X=(data.train.X - mean) / scale)
    test = None if data.test is None else replace(data.test, X=(data.test.X - mean) / scale)
    return replace(data, train=train, test=test, mean=mean, scale=scale)


def predicted_labels(outputs: np.ndarray, task: str) -> np.ndarray:
    """Class labels from network outputs: argmax (multiclass) or output ≥ 0.5 (binary)."""
    outputs = np.asarray(outputs)
    if task == "multiclass":
        return np.argmax(outputs, axis=1)
    return (outputs[:, 0] >= 0.5).astype(np.int64)


def accuracy(outputs: np.ndarray, labels: np.ndarray, task: str) -> float:
    return float(np.mean(predicted_labels(outputs, task) == labels)) if len(labels) else 0.0


# ---------------------------------------------------------------- reading


def _names(value: list[str] | str | None) -> list[str] | None:
    if value is None:
        return None
    if isinstance(value, str):
        value = value.split(",")
    names = [str(v).strip() for v in value if str(v).strip()]
    return names or None


def _read(model: Network, source, features, target):
    """The table in ``source``: ``datasets:NAME`` is a bundled data set; otherwise a file if
    one of that name exists, else a bundled name (a folder of that name does not hide it)."""
    path = Path(source)
    name = str(source).removeprefix("datasets:")
    if path.is_file() and name == str(source):
        try:
            binary = file_kind(path) is not None or path.suffix.lower() in (".npz", ".npy")
        except OSError as err:
            raise DataError(f"{source}: cannot read ({err.strerror or err})") from None
        if binary:
            return read_npz_table(path, features or ["X"], target or ["y"])
        return read_csv_table(path, features, target, model.inputs, model.sizes[-1])
    if name in datasets.BUNDLED:
        if features or target:
            raise DataError(f"{source}: --features/--target apply to CSV and NPZ files, "
                            "not to a bundled data set")
        ds = datasets.load_dataset(name)
        return Table(str(source), ds.X, ds.y_labels.astype(np.float64)[:, None], None,
                     ds.feature_names, ("label",), ds.class_names)
    if path.exists():
        raise DataError(f"{source}: not a file")
    raise DataError(f"{source}: no such file; bundled data sets: {', '.join(datasets.BUNDLED)}")


def _check_features(model: Network, table, source: str) -> np.ndarray:
    X = table.X
    if X.shape[0] == 0:
        raise DataError(f"{source}: no data rows (empty file)")
    if X.shape[1] != model.inputs:
        shown = ", ".join(table.feature_names[:8]) + (", ..." if X.shape[1] > 8 else "")
        hint = ("; choose the columns with --features (and --target)" if Path(source).is_file()
                else f"; it fits a spec with {X.shape[1]} inputs")
        raise DataError(f"{source}: {X.shape[1]} feature columns ({shown}) but spec "
                        f"'{model.name}' has {model.inputs} inputs{hint}")
    return np.ascontiguousarray(X, dtype=np.float64)


def _targets(model: Network, table, source: str):
    """-> (Y (n, n_L), labels or None, task, class names or None)."""
    n_out = model.sizes[-1]
    softmax = model.layers[-1].activation.is_softmax
    if table.Y is not None and table.Y.shape[1] > 1:  # several target columns: as they are
        Y = table.Y
        if Y.shape[1] != n_out:
            raise DataError(f"{source}: {Y.shape[1]} target columns "
                            f"({', '.join(table.target_names)}) but spec '{model.name}' has "
                            f"{n_out} outputs")
        if softmax:
            bad = np.flatnonzero(np.abs(Y.sum(axis=1) - 1.0) > 1e-6)
            if bad.size:
                raise DataError(f"{source}: {table.where(int(bad[0]))}: targets of a softmax "
                                "net must sum to 1 (one-hot)")
            return Y, np.argmax(Y, axis=1), "multiclass", None
        return Y, None, "regression", None
    if n_out > 1:
        labels, classes = _labels(table, n_out, model.name, source)
        Y = np.zeros((labels.size, n_out))
        Y[np.arange(labels.size), labels] = 1.0
        return Y, labels, "multiclass", classes
    if table.raw_labels is not None:  # one output, class names: two classes become 0 and 1
        labels, classes = _labels(table, 2, model.name, source)
        return labels.astype(np.float64)[:, None], labels, "binary", classes
    y = table.Y[:, 0]
    if np.all((y == 0) | (y == 1)):
        return y[:, None].copy(), y.astype(np.int64), "binary", table.class_names
    return y[:, None].copy(), None, "regression", None


def _labels(table, n_classes: int, model_name: str, source: str):
    """Integer labels 0..n_classes-1 from numeric labels or class names."""
    if table.raw_labels is not None:  # class names (CSV text)
        classes = tuple(sorted(set(table.raw_labels)))
        if len(classes) > n_classes:
            raise DataError(f"{source}: column '{table.target_names[0]}': {len(classes)} classes "
                            f"({', '.join(classes[:12])}) but spec '{model_name}' has "
                            f"{n_classes} outputs")
        index = {name: i for i, name in enumerate(classes)}
        return np.array([index[v] for v in table.raw_labels], dtype=np.int64), classes
    y = table.Y[:, 0]
    bad = np.flatnonzero((y != np.round(y)) | (y < 0) | (y >= n_classes))
    if bad.size:
        row, value = int(bad[0]), float(y[bad[0]])
        problem = ("is not a whole number" if value != round(value)
                   else f"is out of range for a {n_classes}-class net "
                        f"(labels 0..{n_classes - 1})")
        raise DataError(f"{source}: {table.where(row, table.target_names[0])}: "
                        f"label {value:g} {problem}")
    classes = table.class_names if table.class_names and len(table.class_names) == n_classes \
        else None
    return y.astype(np.int64), classes
