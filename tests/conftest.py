"""Shared test set-up: Hypothesis profiles (derandomized in CI), a kernel cache for the session."""

from __future__ import annotations

import gc
import os

import pytest
from hypothesis import HealthCheck, settings

settings.register_profile(
    "ci",
    derandomize=True,
    deadline=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile("dev", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci" if os.environ.get("CI") else "dev"))


# Numba's compiler and SymPy leave a large heap of long-lived objects, which every full
# collection walks: at Python's default thresholds (700, 10, 10) test_check, test_derive and
# test_documents spent 10.5 of 147 s in the collector, at these 5.2 s (peak memory +4%); the
# whole suite with kept kernels took 4:43 against 4:56 (one run each: within the noise of a
# cold run, where compiling dominates).
gc.set_threshold(10_000, 10, 10)


def _collect_and_freeze() -> None:
    """One full collection, then ``gc.freeze()``: what is left is never walked again."""
    gc.collect()
    gc.freeze()


def pytest_collection_finish(session):
    """The modules, test functions and parameters that collection made live as long as the
    session: freeze them.  A cold run's workers spent 6.3 and 8.9 s in full collections
    without this, 4.3 and 6.8 s with it (one run each, interleaved)."""
    _collect_and_freeze()


def pytest_unconfigure(config):
    """Before pytest's own clean-up collects five times in a row to find exceptions raised in
    finalizers (``_pytest.unraisableexception``): over a worker's heap each full collection
    took about 1.2 s, and the four after the first find nothing new.  Garbage found by this
    collection is still reported."""
    _collect_and_freeze()


#: The kernels of earlier runs, kept for the next (a folder of pytest's cache, ``.pytest_cache``).
KEPT_KERNELS = "symbprop-kernels"


def pytest_addoption(parser):
    parser.addoption(
        "--fresh-kernels", action="store_true",
        help="symbprop: compile every kernel in this run, in pytest's temporary folder, instead "
             "of reusing the kernels that earlier runs kept in .pytest_cache (the default "
             "where the environment variable CI is unset)")


def _fresh(config) -> bool:
    return bool(config.getoption("--fresh-kernels") or os.environ.get("CI")
                or getattr(config, "cache", None) is None)  # -p no:cacheprovider


def pytest_configure(config):
    """Empty the kept kernels when the generator, NumPy or Numba changed since they were made
    (run once, by the controller: xdist workers have ``workerinput``), so the folder holds one
    generation of kernels and cannot grow without bound."""
    if _fresh(config) or hasattr(config, "workerinput"):
        return
    import shutil

    import numba
    import numpy

    from symbprop.codegen.loader import generator_fingerprint

    stamp = f"{generator_fingerprint()} numpy {numpy.__version__} numba {numba.__version__}\n"
    folder = config.cache.mkdir(KEPT_KERNELS)
    made_by = folder / "made-by.txt"
    if not made_by.is_file() or made_by.read_text(encoding="utf-8") != stamp:
        shutil.rmtree(folder)
        folder.mkdir()
        made_by.write_text(stamp, encoding="utf-8")


@pytest.fixture(scope="session", autouse=True)
def kernel_cache_dir(request, tmp_path_factory):
    """SYMBPROP_CACHE_DIR, for every test and the processes it starts: shared by the
    pytest-xdist workers of the run, so each spec compiles once per run, and the user's own
    cache is neither read nor written.  A test that needs an empty cache sets its own.

    Where it lives: by default in ``.pytest_cache/d/symbprop-kernels``, kept for the next run,
    which then loads the kernels (and Numba's compiled code beside them) instead of compiling
    them again; the cache key of a kernel module includes the sources of the generator, so an
    edited generator never reuses a module of the old one, and ``pytest_configure`` empties the
    folder when the generator, NumPy or Numba changed.  With ``--fresh-kernels``, or wherever
    ``CI`` is set, in the run's temporary folder instead: every kernel is compiled in the run.
    Workers that compile the same spec at once are safe: cache entries and Numba's cache files
    are written to a temporary name and renamed into place."""
    if _fresh(request.config):
        base = tmp_path_factory.getbasetemp()
        if os.environ.get("PYTEST_XDIST_WORKER"):
            base = base.parent
        path = base / "symbprop-cache"
    else:
        path = request.config.cache.mkdir(KEPT_KERNELS)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SYMBPROP_CACHE_DIR", str(path))
        # the workers use every core already: no second process for a machine's first looped
        # net (tests/test_first_compile.py turns it on where it tests it)
        mp.setenv("SYMBPROP_PARALLEL_COMPILE", "0")
        yield path


@pytest.fixture(autouse=True)
def short_measurements(monkeypatch):
    """``symbprop.bench`` in every test: measurements and warm-ups of 5 ms, pauses of 10 ms
    (the defaults: 100, 50 and 200 ms).  The tests check what the rows, the tables and the
    order of the calls say, not the times."""
    from symbprop.bench import timing

    monkeypatch.setattr(timing, "MEASURE_SECONDS", 0.005)
    monkeypatch.setattr(timing, "WARMUP_SECONDS", 0.005)
    monkeypatch.setattr(timing, "SETTLE_SECONDS", 0.01)
