"""The nonlinear pieces a model is built from: activations and losses.

In: a name from a spec (``"sigmoid"``, ``"cross_entropy"``) or a custom formula.  Out: an
``Activation`` or ``Loss`` record and the SymPy function classes whose derivatives print the way
a textbook writes them (σ' = σ(1 − σ)).

- ``activations``: activation records: name, parameters, how each applies to ``z``.
- ``losses``: per-sample losses as a sum over output neurons of one element term.
- ``sympy_classes``: SymPy ``Function`` classes for the activations, with their rules.
- ``registry``: one record per activation and per loss, read by every other part.
"""

# The records name the SymPy classes' symbols (σ for sigmoid): registered on first import.
import symbprop.functions.registry as registry  # noqa: E402, F401
