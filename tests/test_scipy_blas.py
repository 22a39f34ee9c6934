"""A kernel's first call loads SciPy's BLAS table alone, not all of ``scipy.linalg`` (issue 20:
0.15 s of a second process), and SciPy works as before afterwards."""

from __future__ import annotations

import subprocess
import sys

import numpy as np

import symbprop as sp

SMALL = "examples:iris_4_16_3"  # looped by "auto": its products call BLAS through np.dot

SECOND_PROCESS = f"""
import sys
import numpy as np
import symbprop as sp
k = sp.compile({SMALL!r})
rng = np.random.default_rng(0)
X, Y = rng.normal(size=(8, 4)), np.eye(3)[rng.integers(0, 3, 8)]
loss, grad = k.loss_and_grad(k.init_params(0), X, Y)
loaded = sorted(m for m in sys.modules if m.startswith(("scipy.", "numpy.f2py")))
assert "scipy.linalg" not in sys.modules and "numpy.f2py" not in sys.modules, loaded
import scipy.linalg
assert scipy.linalg.cython_blas is sys.modules["scipy.linalg.cython_blas"]
assert np.allclose(scipy.linalg.solve(2 * np.eye(2), np.ones(2)), 0.5)
print(repr(loss), repr(float(np.abs(grad["W1"]).sum())))
"""


def _run(script: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)


def test_a_kernels_first_call_leaves_scipy_linalg_unimported():
    k = sp.compile(SMALL)  # generated and compiled here (or kept): the child loads the cache
    rng = np.random.default_rng(0)
    X, Y = rng.normal(size=(8, 4)), np.eye(3)[rng.integers(0, 3, 8)]
    loss, grad = k.loss_and_grad(k.init_params(0), X, Y)
    child = _run(SECOND_PROCESS)
    assert child.returncode == 0, child.stderr
    assert child.stdout.split() == [repr(loss), repr(float(np.abs(grad["W1"]).sum()))]


def test_scipy_linalg_imported_later_is_whole_and_holds_the_same_table():
    child = _run(
        "import sys\n"
        "from symbprop.runtime import scipy_blas\n"
        "table = scipy_blas.load()\n"
        "assert 'scipy.linalg' not in sys.modules\n"
        "assert scipy_blas.load() is table\n"
        "import scipy.linalg.cython_blas\n"
        "assert scipy.linalg.cython_blas is table\n"
        "from scipy.linalg import cython_blas, lu_factor\n"
        "assert cython_blas is table and '__pyx_capi__' in vars(table)\n"
        "import numpy as np\n"
        "assert np.allclose(lu_factor(np.eye(2))[0], np.eye(2))\n")
    assert child.returncode == 0, child.stderr


def test_with_scipy_linalg_imported_first_the_ordinary_module_is_used():
    child = _run(
        "import sys, scipy.linalg\n"
        "from symbprop.runtime import scipy_blas\n"
        "meta_path = list(sys.meta_path)\n"
        "assert scipy_blas.load() is scipy.linalg.cython_blas\n"
        "assert sys.meta_path == meta_path\n")
    assert child.returncode == 0, child.stderr
