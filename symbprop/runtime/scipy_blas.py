"""SciPy's table of BLAS functions, loaded without the rest of ``scipy.linalg``.

Numba's ``np.dot`` calls BLAS through the function pointers that the compiled module
``scipy.linalg.cython_blas`` exports, and the first call of any compiled function, a cached one
too, imports that module (``numba.np.arraymath`` runs ``ensure_blas()`` when Numba's typing and
lowering registries load).  Imported the usual way, the module's package comes first:
``scipy.linalg``'s ``__init__`` imports all of SciPy's linear algebra, and through SciPy's
vendored ``array_api_compat``, which copies NumPy's namespace, ``numpy.f2py``, ``numpy.ma`` and
``numpy.testing``.  Measured with SciPy 1.17 and NumPy 2.4: 0.15 s of a second process's
0.6 s, for nothing a kernel calls.

``load()`` loads the compiled module from its file under its full name, as the import system
would, and registers it in ``sys.modules``: Numba's ``import scipy.linalg.cython_blas`` then finds
it there and ``scipy.linalg`` is not imported.  When something else imports ``scipy.linalg``
later, ``_AttachOnImport`` gives the package its ``cython_blas`` attribute, which an ordinary
import of the submodule would have set.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import importlib.util
import os
import sys
import threading
from types import ModuleType

import scipy  # cheap: SciPy loads its subpackages when they are first used

NAME = "scipy.linalg.cython_blas"
_PACKAGE = "scipy.linalg"
_lock = threading.Lock()


def load() -> ModuleType:
    """``scipy.linalg.cython_blas``, imported; without ``scipy.linalg``'s ``__init__`` unless
    that package is imported already."""
    with _lock:
        if NAME in sys.modules:
            return sys.modules[NAME]
        if _PACKAGE in sys.modules:  # nothing left to save
            return importlib.import_module(NAME)
        spec = importlib.machinery.PathFinder.find_spec(
            NAME, [os.path.join(entry, "linalg") for entry in scipy.__path__])
        if spec is None or spec.loader is None:
            return importlib.import_module(NAME)
        module = importlib.util.module_from_spec(spec)
        sys.modules[NAME] = module
        try:
            spec.loader.exec_module(module)
        except BaseException:
            del sys.modules[NAME]
            raise
        sys.meta_path.insert(0, _AttachOnImport())
        return module


class _AttachOnImport(importlib.abc.MetaPathFinder):
    """Finds ``scipy.linalg`` as the path finder would, with a loader that sets the package's
    ``cython_blas`` attribute after running its ``__init__``; every other name is left to the
    finders after it."""

    def find_spec(self, name, path, target=None):
        if name != _PACKAGE:
            return None
        spec = importlib.machinery.PathFinder.find_spec(name, path, target)
        if spec is None or not hasattr(spec.loader, "exec_module"):
            return spec
        run_init = spec.loader.exec_module

        def exec_module(package: ModuleType) -> None:
            run_init(package)
            package.cython_blas = sys.modules[NAME]

        spec.loader.exec_module = exec_module  # this spec's own loader object only
        return spec
