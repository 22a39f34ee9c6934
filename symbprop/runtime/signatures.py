"""The Numba signatures that symbprop's wrappers call generated functions with: C-contiguous
arrays of the module's dtype.  A second process compiling them ahead (``first_compile``) and
the shared training loop (``training_loop``) must name exactly these, or Numba compiles another
overload at the first call; ``tests/test_first_compile.py`` compares them with what the wrappers
compile."""

from __future__ import annotations

import numpy as np

#: How the wrappers call a generated module's functions, by the kind of model: "v" a vector (θ,
#: the gradient, the scratch space), "m" a matrix (a network's X and Y); all C-contiguous, of
#: the module's dtype.  A graph's functions take θ (and the gradient) only.
ARGUMENTS = {"network": {"forward": "vm", "loss": "vmm", "loss_and_grad_into": "vmmvv"},
             "graph": {"forward": "v", "loss": "v", "loss_and_grad_into": "vv"}}


def array_types(dtype):
    """(matrix, vector): Numba's types of the C-contiguous 2-D and 1-D arrays of ``dtype``."""
    # Imported here: Numba loads only when kernels are asked for.
    from numba import from_dtype, types

    scalar = from_dtype(np.dtype(dtype))
    return types.Array(scalar, 2, "C"), types.Array(scalar, 1, "C")


def module_function(module, name: str) -> tuple:
    """(dispatcher, signature) of the function ``name`` (a key of ARGUMENTS) of the generated
    ``module``, with the types its wrappers call it with."""
    matrix, vector = array_types(module.DTYPE)
    types = {"m": matrix, "v": vector}
    kind = "network" if hasattr(module, "SIZES") else "graph"
    return getattr(module, name), tuple(types[t] for t in ARGUMENTS[kind][name])
