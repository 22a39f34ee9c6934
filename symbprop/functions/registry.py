"""The registry: one record per activation and per loss, from which every other part reads.

An ``ActivationRecord`` holds everything symbprop knows about one activation: how it applies to
a pre-activation ``z`` (a SymPy expression, through the function classes of
``sympy_classes`` where the textbook names the function), its default α, the symbols documents
print for it, whether it has a kink, how its weights are initialised, and, per code target, how
a call prints and the helper function the generated module defines for it.  A ``LossRecord``
holds a loss's per-neuron term, its scale, the output activation it is defined with, and the
equation documents and generated code print for it.

Adding an activation or a loss is one ``register_activation``/``register_loss`` call; the spec
reader, the derivation, the documents, the code generator, the cross-check and the initialiser
all look it up here.  ``tests/test_registry.py`` walks every record through all of them.  The
built-in records are such calls, in ``symbprop.functions.builtin`` (run when the package
``symbprop.functions`` loads, so before any lookup here).

Printing per code target: ``numba(printer, *args)`` and ``numpy(printer, *args)`` return the
code of one call, built with the printer's ``helper(name, *args)`` (a call of the module's
helper ``_name``, whose source is ``numba_helper``/``numpy_helper``), ``kink(name, args,
inline)`` and ``times(alpha, text)``.  A record whose ``apply`` builds no function class of its
own (identity, tanh, or a new one written with existing functions) needs neither.
``numba_float32``/``numba_float32_helper``: the Numba form and helper in a float32 kernel,
where they differ (``symbprop.functions.float32.float32_record``).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from numbers import Rational
from types import ModuleType
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import sympy

INITIALISERS = ("glorot", "he")


@dataclass(frozen=True)
class ActivationRecord:
    """One elementwise activation (see the module docstring).  ``function``: its SymPy
    function class, if it has one: the class, or the name of one in ``sympy_classes`` (which
    then loads only when SymPy is needed; ``function_class`` is the class either way).

    ``apply(z, alpha)`` returns σ(z); ``alpha`` is the default α of a parametric activation
    (None: it takes none).  ``text``/``latex``: the function's symbol in unicode documents and
    LaTeX (None: the name, as ``\\operatorname{name}`` in LaTeX).  ``kink``: not differentiable
    somewhere (the cross-check keeps its samples away from the kink).  ``saturates``: flat for
    large |z| (exercise points keep away from there).  ``init``: "he" (normal,
    σ = √(2/n_in)) or "glorot" (uniform)."""

    name: str
    apply: Callable[[sympy.Expr, sympy.Expr | None], sympy.Expr]
    alpha: Rational | None = None
    aliases: tuple[str, ...] = ()
    text: str | None = None
    latex: str | None = None
    kink: bool = False
    saturates: bool = False
    init: str = "glorot"
    function: type | str | None = None
    numba: Callable | None = None
    numba_helper: str | None = None
    numpy: Callable | None = None
    numpy_helper: str | None = None
    numba_float32: Callable | None = None
    numba_float32_helper: str | None = None

    def __post_init__(self) -> None:
        if self.init not in INITIALISERS:
            raise ValueError(f"{self.name}: init {self.init!r}; allowed: {INITIALISERS}")
        if not self.name.isidentifier():
            raise ValueError(f"{self.name!r}: an activation's name is an identifier")

    @property
    def symbol(self) -> str:
        """The function's symbol in unicode text (σ for sigmoid, else the name)."""
        return self.text or self.name

    @property
    def latex_symbol(self) -> str:
        return self.latex or rf"\operatorname{{{self.name}}}"

    @property
    def function_class(self) -> type | None:
        """The SymPy function class of ``function`` (None if it has none)."""
        if isinstance(self.function, str):
            return getattr(sympy_classes(), self.function)
        return self.function


@dataclass(frozen=True)
class LossRecord:
    """One named per-sample loss C = scale(n_L) · Σ_j element(a_j, y_j).

    ``output``: the output activation the loss is defined with (None: any).  ``equation``: the
    loss as documents and generated comments write it, with ``{L}`` for the output layer's
    superscript (None: written from ``element``).  ``fused``: how the output layer's δ is
    described when the loss and its output activation simplify together."""

    name: str
    element: Callable[[sympy.Expr, sympy.Expr], sympy.Expr]
    scale: Callable[[int], Rational] = lambda n: 1
    output: str | None = None
    aliases: tuple[str, ...] = ()
    equation: str | None = None
    fused: str | None = None
    targets_sum_to_one: bool = False


class Table(dict):
    """Records by name, with their aliases; a name or alias is taken once (``reserved`` names,
    handled elsewhere, are taken from the start)."""

    def __init__(self, kind: str, reserved: tuple[str, ...] = ()) -> None:
        super().__init__()
        self.kind, self.reserved, self.aliases = kind, reserved, {}

    def add(self, record):
        """Add ``record`` (its name and aliases must be new); returns it."""
        taken = [n for n in (record.name, *record.aliases)
                 if n in self or n in self.aliases or n in self.reserved]
        if taken:
            raise ValueError(f"{self.kind} {taken[0]!r} is registered already")
        self[record.name] = record
        self.aliases.update(dict.fromkeys(record.aliases, record.name))
        return record

    def remove(self, name: str) -> None:
        for alias in self.pop(name).aliases:
            self.aliases.pop(alias, None)

    def canonical(self, name: str) -> str:
        return self.aliases.get(name, name)

    def find(self, name: str):
        """The record of ``name`` (an alias resolves), or None."""
        return self.get(self.canonical(name))

    def names(self) -> list[str]:
        """Every name a spec may use, sorted."""
        return sorted([*self, *self.aliases, *self.reserved])


ACTIVATIONS: Table = Table("activation", reserved=("softmax",))
LOSSES: Table = Table("loss")


def register_activation(record: ActivationRecord) -> ActivationRecord:
    """Add ``record`` (its name and aliases must be new)."""
    ACTIVATIONS.add(record)
    loaded = sympy_classes.cache_info().currsize  # else sympy_classes() names it when it loads
    if isinstance(record.function, type) or (record.function and loaded):
        record.function_class.latex_name = record.latex_symbol  # prints under its symbol
    return record


@functools.cache
def sympy_classes() -> ModuleType:
    """``symbprop.functions.sympy_classes``, loaded on first use, its classes named in LaTeX
    by their records (the one way the package should reach those classes for printing)."""
    # Imported here: SymPy loads only when an expression is built (not for cached kernels).
    import symbprop.functions.sympy_classes as classes

    for record in ACTIVATIONS.values():
        if isinstance(record.function, str):
            getattr(classes, record.function).latex_name = record.latex_symbol
    return classes


def unregister_activation(name: str) -> None:
    """Remove a registered activation (tests that register one for a while)."""
    ACTIVATIONS.remove(name)


def register_loss(record: LossRecord) -> LossRecord:
    return LOSSES.add(record)


def unregister_loss(name: str) -> None:
    LOSSES.remove(name)


def activation(name: str) -> ActivationRecord | None:
    """The record of ``name`` (an alias resolves), or None (softmax, custom, unknown)."""
    return ACTIVATIONS.find(name)


def activation_names() -> list[str]:
    """Every name a spec may use for an activation, sorted (softmax included)."""
    return ACTIVATIONS.names()


def loss(name: str) -> LossRecord | None:
    return LOSSES.find(name)


def canonical_loss(name: str) -> str:
    return LOSSES.canonical(name)


def loss_names() -> list[str]:
    return LOSSES.names()


def symbol(name: str) -> str:
    """How unicode documents name activation ``name`` (σ for sigmoid; f for a custom one)."""
    if name == "custom":
        return "f"
    record = activation(name)
    return record.symbol if record else name


def latex_symbol(name: str) -> str:
    """How LaTeX documents name activation ``name`` (``\\sigma``; f for a custom one)."""
    if name == "custom":
        return "f"
    record = activation(name)
    return record.latex_symbol if record else rf"\operatorname{{{name}}}"


def record_of_function(function: type) -> ActivationRecord | None:
    """The record of the SymPy function class ``function``, or None."""
    return next((r for r in ACTIVATIONS.values()
                 if r.function is not None and r.function_class is function), None)
