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


@pytest.fixture(scope="module")
def kernel_cache_dir(tmp_path_factory):
    """SYMBPROP_CACHE_DIR in the session's temporary folder, shared by the modules that use it
    (``pytestmark = pytest.mark.usefixtures("kernel_cache_dir")``): each spec compiles once per
    run, and the user's own cache is neither read nor written."""
    path = tmp_path_factory.getbasetemp() / "symbprop-cache"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SYMBPROP_CACHE_DIR", str(path))
        yield path
