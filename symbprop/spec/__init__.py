"""What the user writes, read into a model: the first stage of the pipeline.

In: a YAML spec file, ``examples:NAME``, a dict, or a formula in quotes; a values file for
``--at``.  Out: a ``symbprop.model.Network`` or ``Graph``, and checked ``Values``.  Nothing here
differentiates or prints; every refusal is a ``SpecError``/``ValuesError``/``FormulaError``
that names the file and the field.

- ``loader``: ``load``, ``as_model``, ``from_dict``; network specs and their size limits.
- ``graphs``: graph and expression specs (node formulas, dependency order, parameters).
- ``formula``: the parser of formula text into SymPy (never ``eval``/``sympify``), over
  ``formula_syntax``, the whitelist of the syntax a formula may use (no SymPy).
- ``fields``: field-level checks shared by the readers, and where a value came from.
- ``values``: the point of a worked example (parameters, inputs, targets, learning rate).
- ``builders``: the Python builders ``mlp``, ``expression``, ``graph``.
- ``variables``: ``Var(role, layer)``, the one place that spells a variable's name (``W1``,
  ``delta2``, ``W1[0,1]``, ``df_dq``) and parses one back (``Var.parse``).
- ``staging``: an expression staged into a graph of one operation per node (seed 003).
"""
