"""The entry points that reach past the derivation: ``compile``, ``generate``, ``check`` and
``exercise``.  Each takes a model or anything ``symbprop.load`` takes.

The code generator, the compiled runtime and the cross-check are imported when first called:
``import symbprop`` stays light (no Numba, no code generation) for users who only derive and
print.
"""

from __future__ import annotations

import os

from symbprop.spec.loader import as_model


def compile(model, strategy: str = "auto", dtype: str = "float64",  # noqa: A001 - public name
            target: str = "numba", threads: int | None = None):
    """Kernels for ``model`` (a model, or what ``load`` takes), generated into the cache
    directory and imported (see codegen); ``target="numpy"`` is plain NumPy, no Numba.  The
    kernels of a graph compiled before from the same spec file are found by the file's text,
    without parsing it: a second process does not import SymPy until ``k.model`` is asked for
    (``symbprop.runtime.source_index``).

    ``threads``: how many threads the BLAS behind the kernels' matrix products runs, a whole
    number ≥ 1, or None (the default): one thread for a net whose widest layer has fewer than
    8192 weights, where a second does not pay, else BLAS's own default (unrolled kernels and
    graphs call no BLAS: None leaves it as it is).  The count is set
    for the whole process, now (and again when ``fit`` or ``train`` starts), never per call:
    it is a property of the BLAS library (SciPy's, which Numba's ``np.dot`` calls; NumPy's own
    BLAS is left alone when it is another library).  On a shared machine, or with several
    training processes side by side, pass ``threads=1``: a second thread waiting for a busy
    core made BLAS-bound calls 10–75× slower.  See ``symbprop.runtime.threads``."""
    # Imported here: Numba and the code generator load only when kernels are asked for.
    from symbprop.runtime.compiling import compile_model, compile_spec

    if isinstance(model, (str, os.PathLike)):  # a graph compiled before needs no SymPy
        return compile_spec(model, strategy=strategy, dtype=dtype, target=target,
                            threads=threads)
    return compile_model(as_model(model), strategy=strategy, dtype=dtype, target=target,
                         threads=threads)


def generate(model, out_dir="generated", strategy: str = "auto", dtype: str = "float64",
             target: str = "numba"):
    """Write ``<out_dir>/<name>/kernels.py`` for ``model``; returns its path."""
    # Imported here: Numba and the code generator load only when kernels are asked for.
    from symbprop.codegen.generator import generate as _generate

    return _generate(as_model(model), out_dir, strategy=strategy, dtype=dtype, target=target)


def check(model, values=None, samples: int = 5, strategy: str = "auto", **options):
    """Cross-check symbolic, compiled and finite-difference gradients -> ``CheckReport``
    (options: ``dtypes=("float64", "float32")``, ``seed``; see ``symbprop.crosscheck.compare``)."""
    # Imported here: Numba and the code generator load only when kernels are asked for.
    from symbprop.crosscheck.compare import check as _check

    return _check(as_model(model), values=values, samples=samples, strategy=strategy,
                  **options)


def exercise(model, seed: int = 0, count: int = 1, questions=None, fmt: str = "pdf",
             out_dir=None):
    """Exercise sheets of ``model`` with verified answer keys and values files, a fresh point
    per sheet -> ``Exercises`` (``.files``, ``.sheets``); written to ``out_dir`` if given
    (see ``symbprop.exercises``)."""
    # Imported here: sheets need the kernels (Numba) and the documents, only when asked for.
    from symbprop.exercises import exercise as _exercise

    return _exercise(as_model(model), seed=seed, count=count, questions=questions, fmt=fmt,
                     out_dir=out_dir, spec=model if isinstance(model, str) else None)
