"""The derivation: a model in, every ∂L/∂θ by the chain rule out, intermediates named.

In: a ``Network`` or ``Graph``.  Out: a ``Derivation`` (``derivation``) holding the IR, the
adjoints and, on request, per-weight forms, chain-rule paths and exact numbers at a point.
Nothing here prints a document or generates code: ``symbprop.render`` and ``symbprop.codegen``
read a ``Derivation``.

Pipeline order: ``ir`` (the ordered equations ``out = expr``) → ``rules`` (local partials) →
``sweep`` (the reverse sweep: adjoints) → ``derivation``; beside them ``composition``
(definitions of the named intermediates, written out on request), ``documents`` (the
derivation's documents as its methods: the one import of ``render``, on use), ``indexing``
(index-form sums and instantiation), ``param_names`` (the scalar parameter names, made on demand),
``paths`` (chain-rule paths), ``stabilize`` (overflow-free forms for code),
and the exact numbers: ``evaluate`` (a worked example at 30 digits), ``reference`` (index-form
equations evaluated with mpmath or NumPy), ``precision`` (working precision).
"""
