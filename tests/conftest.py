"""Shared test set-up: Hypothesis profiles (derandomized in CI), a kernel cache for the session."""

from __future__ import annotations

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


@pytest.fixture(scope="session", autouse=True)
def kernel_cache_dir(tmp_path_factory):
    """SYMBPROP_CACHE_DIR, for every test and the processes it starts, in the run's temporary
    folder, shared by the pytest-xdist workers of the run (each worker's folder is a child of the
    run's): each spec compiles once per run, and the user's own cache is neither read nor
    written.  A test that needs an empty cache sets its own.  Workers that compile the same spec
    at once are safe: cache entries and Numba's cache files are written to a temporary name and
    renamed into place."""
    base = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        base = base.parent
    path = base / "symbprop-cache"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SYMBPROP_CACHE_DIR", str(path))
        yield path
