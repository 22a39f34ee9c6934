"""Small public data sets shipped inside the package, so that training works offline.

``load_dataset(name)`` returns a ``Dataset`` (features ``X`` as float64, integer class labels
``y_labels``, feature and class names, a description).  The files are compressed NumPy archives
next to this module; ``python -m symbprop.datasets.export`` re-creates them (maintainers only; it
needs scikit-learn).

Sources and licenses:

- ``xor``: the truth table of exclusive or (4 samples, 2 features, classes 0 and 1).
- ``iris``: R. A. Fisher's iris data (1936), 150 samples, 4 measurements in cm, 3 classes
  (setosa, versicolor, virginica); UCI Machine Learning Repository,
  https://archive.ics.uci.edu/dataset/53/iris — copied from the copy bundled with scikit-learn
  (``sklearn.datasets.load_iris``), distributed under the BSD 3-Clause license.
- ``digits``: "Optical Recognition of Handwritten Digits" by E. Alpaydin and C. Kaynak (1998),
  the test set as bundled with scikit-learn (``sklearn.datasets.load_digits``): 1 797 images of
  8×8 pixels with values 0..16, 10 classes (0..9); UCI Machine Learning Repository,
  https://archive.ics.uci.edu/dataset/80 — distributed by scikit-learn under the BSD 3-Clause
  license.  ``load_dataset("digits")`` scales the pixels to [0, 1] (divides by 16).
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np

from symbprop.errors import DataError

#: name -> (description, divisor applied to the stored features)
BUNDLED = {
    "xor": ("XOR truth table: 4 samples, 2 binary inputs, 2 classes", 1.0),
    "iris": ("Fisher's iris flowers (UCI): 150 samples, 4 measurements (cm), 3 classes", 1.0),
    "digits": ("UCI 8x8 handwritten digits: 1 797 samples, 64 pixels scaled to [0, 1], "
               "10 classes", 16.0),
}


@dataclass(frozen=True)
class Dataset:
    """A bundled data set: ``X`` (n, features) float64, ``y_labels`` (n,) int64 in 0..K-1."""

    name: str
    X: np.ndarray
    y_labels: np.ndarray
    feature_names: tuple[str, ...]
    class_names: tuple[str, ...]
    description: str

    @property
    def n_classes(self) -> int:
        return len(self.class_names)

    def __repr__(self) -> str:
        return (f"<Dataset {self.name!r}: {self.X.shape[0]} samples, {self.X.shape[1]} features, "
                f"{self.n_classes} classes>")


def names() -> list[str]:
    """The bundled data sets."""
    return list(BUNDLED)


def path(name: str) -> Path:
    """The ``.npz`` file of a bundled data set."""
    if name not in BUNDLED:
        raise DataError(f"{name}: no such bundled data set; bundled: {', '.join(BUNDLED)}")
    return Path(str(resources.files(__name__))) / f"{name}.npz"


def load_dataset(name: str) -> Dataset:
    """Load a bundled data set by name (``xor``, ``iris``, ``digits``)."""
    file = path(name)
    description, divisor = BUNDLED[name]
    with np.load(file, allow_pickle=False) as archive:
        X = archive["X"].astype(np.float64) / divisor
        labels = archive["y"].astype(np.int64)
        features = tuple(str(n) for n in archive["feature_names"])
        classes = tuple(str(n) for n in archive["class_names"])
    return Dataset(name, X, labels, features, classes, description)


__all__ = ["BUNDLED", "Dataset", "load_dataset", "names", "path"]
