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
all look it up here.  ``tests/test_registry.py`` walks every record through all of them.

Printing per code target: ``numba(printer, *args)`` and ``numpy(printer, *args)`` return the
code of one call, built with the printer's ``helper(name, *args)`` (a call of the module's
helper ``_name``, whose source is ``numba_helper``/``numpy_helper``), ``kink(name, args,
inline)`` and ``times(alpha, text)``.  A record whose ``apply`` builds no function class of its
own (identity, tanh, or a new one written with existing functions) needs neither.
``numba_float32``/``numba_float32_helper``: the Numba form and helper in a float32 kernel,
where they differ (``symbprop.functions.float32``).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
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


def _sympy() -> ModuleType:
    # Imported here: SymPy loads only when an expression is built (not for cached kernels).
    import sympy

    return sympy


def _call(name: str, with_alpha: bool = False) -> Callable:
    """``apply`` of a record whose function is the class ``name`` of ``sympy_classes``."""
    if with_alpha:
        return lambda z, alpha: getattr(sympy_classes(), name)(z, alpha)
    return lambda z, alpha: getattr(sympy_classes(), name)(z)


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


# ---------------------------------------------------------------- the built-in activations


register_activation(ActivationRecord("identity", lambda z, alpha: z, aliases=("linear",)))
register_activation(ActivationRecord(
    "sigmoid", _call("sigmoid"), function="sigmoid", text="σ", latex=r"\sigma",
    saturates=True,
    numba=lambda p, x: p.helper("sigmoid", x),
    numba_helper='''def _sigmoid(x):
    """σ(x) = 1 / (1 + e^(−x)), branching on the sign so that exp never overflows."""
    if x >= 0.0:
        return 1.0 / (1.0 + math.exp(-x))
    e = math.exp(x)
    return e / (1.0 + e)''',
    numpy=lambda p, x: p.helper("sigmoid", x),
    numpy_helper='''def _sigmoid(x):
    """σ(x) = 1 / (1 + e^(−x)), from e^(−|x|) so that exp never overflows."""
    e = np.exp(-np.abs(x))
    return np.where(x >= 0.0, 1.0 / (1.0 + e), e / (1.0 + e))'''))
register_activation(ActivationRecord("tanh", lambda z, alpha: _sympy().tanh(z), latex=r"\tanh",
                                     saturates=True))
register_activation(ActivationRecord(
    "softplus", _call("softplus"), function="softplus", init="he",
    numba=lambda p, x: p.helper("softplus", x),
    numba_helper='''def _softplus(x):
    """log(1 + e^x) = max(x, 0) + log1p(e^(−|x|)), finite for every finite x."""
    return max(x, 0.0) + math.log1p(math.exp(-abs(x)))''',
    numpy=lambda p, x: p.helper("softplus", x),
    numpy_helper='''def _softplus(x):
    """log(1 + e^x) = max(x, 0) + log1p(e^(−|x|)), finite for every finite x."""
    return np.maximum(x, 0.0) + np.log1p(np.exp(-np.abs(x)))'''))
register_activation(ActivationRecord(
    "relu", _call("relu"), function="relu", kink=True, init="he",
    numba=lambda p, x: p.kink("relu", (x,), lambda t: f"({t} if {t} > 0.0 else 0.0)"),
    numba_helper='''def _relu(x):
    """max(x, 0), with NaN -> 0 as the inline form (x if x > 0.0 else 0.0)."""
    return x if x > 0.0 else 0.0''',
    numpy=lambda p, x: p.kink("relu", (x,), lambda t: f"np.where({t} > 0.0, {t}, 0.0)")))
register_activation(ActivationRecord(
    "leaky_relu", _call("leaky_relu", True), function="leaky_relu",
    alpha=Fraction(1, 100), text="lrelu", latex=r"\operatorname{lrelu}", kink=True, init="he",
    numba=lambda p, x, a: p.kink("leaky_relu", (x, a),
                                 lambda t, a: f"({t} if {t} > 0.0 else {p.times(a, t)})"),
    numba_helper='''def _leaky_relu(x, alpha):
    return x if x > 0.0 else alpha * x''',
    numpy=lambda p, x, a: p.kink("leaky_relu", (x, a),
                                 lambda t, a: f"np.where({t} > 0.0, {t}, {p.times(a, t)})")))
register_activation(ActivationRecord(
    "elu", _call("elu", True), function="elu", alpha=Fraction(1), kink=True,
    init="he",
    numba=lambda p, x, a: p.kink("elu", (x, a), lambda t, a:
                                 f"({t} if {t} > 0.0 else {p.times(a, f'math.expm1({t})')})"),
    numba_helper='''def _elu(x, alpha):
    return x if x > 0.0 else alpha * math.expm1(x)''',
    numpy=lambda p, x, a: p.kink("elu", (x, a), lambda t, a:
                                 f"np.where({t} > 0.0, {t}, {p.times(a, f'np.expm1({t})')})")))
register_activation(ActivationRecord(
    "swish", _call("swish"), function="swish", aliases=("silu",), init="he",
    numba=lambda p, x: f"({p._print(x)}*{p.helper('sigmoid', x)})",
    numpy=lambda p, x: f"({p._print(x)}*{p.helper('sigmoid', x)})"))
register_activation(ActivationRecord(
    "gelu", _call("gelu"), function="gelu", init="he",
    numba=lambda p, x: p.helper("gelu", x),
    numba_helper='''def _gelu(x):
    """x Φ(x) = (x/2)(1 + erf(x/√2))."""
    return 0.5 * x * (1.0 + math.erf(x * 0.7071067811865476))''',
    numpy=lambda p, x: p.helper("gelu", x),
    numpy_helper='''def _gelu(x):
    """x Φ(x) = (x/2)(1 + erf(x/√2))."""
    return 0.5 * x * (1.0 + scipy.special.erf(x * 0.7071067811865476))'''))


# ---------------------------------------------------------------- the built-in losses


register_loss(LossRecord("half_sse", lambda a, y: Fraction(1, 2) * (y - a) ** 2,
                         aliases=("quadratic",), equation="C = ½ Σ_j (y_j − a{L}_j)²"))
register_loss(LossRecord("sse", lambda a, y: (a - y) ** 2, equation="C = Σ_j (a{L}_j − y_j)²"))
register_loss(LossRecord("mse", lambda a, y: (a - y) ** 2, scale=lambda n: Fraction(1, n),
                         equation="C = (1/n_L) Σ_j (a{L}_j − y_j)²"))
register_loss(LossRecord("bce", lambda a, y: -(y * _sympy().log(a) + (1 - y) * _sympy().log(1 - a)),
                         output="sigmoid", fused="sigmoid + BCE fused",
                         equation="C = −Σ_j [y_j log a{L}_j + (1 − y_j) log(1 − a{L}_j)]"))
register_loss(LossRecord("softmax_cross_entropy", lambda a, y: -y * _sympy().log(a),
                         output="softmax", aliases=("cross_entropy",),
                         fused="softmax + cross-entropy fused",
                         equation="C = −Σ_j y_j log a{L}_j", targets_sum_to_one=True))
