"""Maintainer script: re-create the bundled ``.npz`` files (needs scikit-learn; not a dependency).

    python -m symbprop.datasets.export

``iris`` and ``digits`` are copied from scikit-learn's bundled copies of the UCI data sets
(see ``symbprop/datasets/__init__.py`` for sources and licenses); ``xor`` is the truth table.
Pixels of ``digits`` are stored as the original integers 0..16 (uint8) and scaled on load.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from symbprop.files.npz import write_npz

FOLDER = Path(__file__).parent


def _save(name: str, **arrays) -> Path:
    return write_npz(FOLDER / f"{name}.npz", arrays)


def export() -> list[Path]:
    # Imported here: a maintainer-only dependency, not installed for users.
    from sklearn.datasets import load_digits, load_iris

    iris, digits = load_iris(), load_digits()
    paths = [
        _save(
            "xor",
            X=np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.uint8),
            y=np.array([0, 1, 1, 0], dtype=np.uint8),
            feature_names=np.array(["x1", "x2"]),
            class_names=np.array(["0", "1"]),
        ),
        _save(
            "iris",
            X=iris.data.astype(np.float64),
            y=iris.target.astype(np.uint8),
            feature_names=np.array([str(n) for n in iris.feature_names]),
            class_names=np.array([str(n) for n in iris.target_names]),
        ),
        _save(
            "digits",
            X=digits.data.astype(np.uint8),
            y=digits.target.astype(np.uint8),
            feature_names=np.array([f"pixel_{r}_{c}" for r in range(8) for c in range(8)]),
            class_names=np.array([str(n) for n in digits.target_names]),
        ),
    ]
    return paths


if __name__ == "__main__":
    for written in export():
        print(f"{written}  {written.stat().st_size} bytes")
