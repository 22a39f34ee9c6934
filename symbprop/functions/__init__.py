"""The nonlinear pieces a model is built from: activations and losses.

In: a name from a spec (``"sigmoid"``, ``"cross_entropy"``) or a custom formula.  Out: an
``Activation`` or ``Loss`` record and the SymPy function classes whose derivatives print the way
a textbook writes them (σ' = σ(1 − σ)).

- ``activations``: activation records: name, parameters, how each applies to ``z``.
- ``losses``: per-sample losses as a sum over output neurons of one element term.
- ``sympy_classes``: SymPy ``Function`` classes for the activations, with their rules.
- ``registry``: the record types and the tables of records, read by every other part.
- ``builtin``: the built-in records (registered when this package loads).
- ``float32``: the float32 forms of the activations for the Numba target.
"""

# The built-in records are registered on first import, before any lookup or user record.
import symbprop.functions.builtin as builtin  # noqa: E402, F401
