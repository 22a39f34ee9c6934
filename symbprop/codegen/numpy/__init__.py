"""The NumPy target: the same derivation printed as plain NumPy, for a machine without Numba.

In: a model's ``Derivation`` (and the layer plan of ``codegen.plan``).  Out: the text of a kernel
module that imports NumPy (and SciPy for erf) only and defines the same functions as a Numba
module, so that ``symbprop.runtime`` wraps it and ``symbprop.check`` checks it the same way.

A network's module works on the whole batch at once: one matrix product per layer and the
derivation's element equations printed over whole arrays (``A1 = _sigmoid(Z1)``).  A graph's
module is the graph lowering's scalar code, with NumPy's functions.

- ``printer``: ``NumpyPrinter``, SymPy expressions -> NumPy expressions over arrays.
- ``network``: the template context of a network module.
"""
