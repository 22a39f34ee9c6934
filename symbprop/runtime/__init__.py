"""The compiled kernels at run time: a generated module behind a dict-of-arrays interface.

In: a model (``compiling.compile_model``), a spec (``compiling.compile_spec``) or a generated
module.  Out: ``Kernels`` /
``GraphKernels`` whose ``loss_and_grad``, ``step`` and ``fit`` run compiled Numba code, with
every input checked before compiled code runs.  SymPy is not needed here once a module exists.

- ``compiling``: ``compile_model`` and ``compile_spec``, which make the kernels.
- ``source_index``: the cache found by a spec's text (a graph's kernels without SymPy).
- ``kernels``: ``Kernels`` (networks).
- ``graph_kernels``: ``GraphKernels`` (graphs and expressions).
- ``base``: the parameter layout shared by both and the checked dict ↔ flat-vector move.
- ``input_checks``: shape, dtype and finiteness checks run before compiled code.
- ``dictcall``: the dict interface in one compiled call where the inputs allow it.
- ``views``, ``aligned``: flat-vector views and cache-line-aligned buffers.
- ``fitting``: running a generated ``train`` loop in one call or in chunks.
- ``training_loop``: one compiled training loop for every net's ``loss_and_grad_into``.
- ``first_compile``: compiling in two processes at once; ``signatures``: the Numba signatures
  the wrappers call generated functions with.
- ``threads``: the BLAS thread count and the usable CPUs; ``scipy_blas``: loading SciPy's BLAS
  table, which Numba's ``np.dot`` calls, without the rest of ``scipy.linalg``.
"""
