"""Code generation: a model's derivation -> ``<out_dir>/<name>/kernels.py`` (NumPy + Numba only).

In: a model and its ``Derivation``.  Out: the text of a standalone kernel module (NumPy and
Numba only), written atomically or imported from the cache folder (``loader``).

This package file imports nothing, so that loading a cached kernel module (``loader``) does not
load the generator, SymPy or Jinja2.  Its modules, in pipeline order:

- ``options``: strategies (lowerings), targets, dtypes and their checks;
- ``generator``: ``source``, ``generate``, ``is_stale``, ``module_path`` (derive -> lowering ->
  template -> checked text -> file);
- ``plan``, ``unrolled``, ``looped`` (with ``runs``, ``loops``), ``graphs``, ``numpy/``: the
  lowerings and what they print with (``printer``);
- ``emit``: template context, Jinja2 render, the module's key and checksum line;
- ``integrity``: the wall a module passes before it is written and before it is imported;
- ``loader``: the cache folder, importing a module from its file; ``kernel_helpers``: the BLAS
  helpers looped modules share; ``shuffle``: the training loop's seeded shuffle, printed into
  every network module and shared with ``runtime.training_loop``.
"""
