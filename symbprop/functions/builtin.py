"""The built-in activations and losses: one registry record each, registered on import.

``symbprop.functions`` imports this module when the package loads, so every lookup in
``symbprop.functions.registry`` finds these records, in this order (the order generated modules
define their helpers in), before any record a user registers.  Each activation record carries
its float64 forms for the Numba and NumPy targets and, where they differ, its float32 forms
(``symbprop.functions.float32``).  Building a record loads no SymPy: ``apply`` and the loss
terms reach SymPy, and the function classes of ``sympy_classes``, when first called.
"""

from __future__ import annotations

from collections.abc import Callable
from fractions import Fraction
from types import ModuleType

import symbprop.functions.float32 as f32
from symbprop.functions.registry import (
    ActivationRecord,
    LossRecord,
    register_activation,
    register_loss,
    sympy_classes,
)


def _sympy() -> ModuleType:
    # Imported here: SymPy loads only when an expression is built (not for cached kernels).
    import sympy

    return sympy


def _call(name: str, with_alpha: bool = False) -> Callable:
    """``apply`` of a record whose function is the class ``name`` of ``sympy_classes``."""
    if with_alpha:
        return lambda z, alpha: getattr(sympy_classes(), name)(z, alpha)
    return lambda z, alpha: getattr(sympy_classes(), name)(z)


# ---------------------------------------------------------------- activations


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
    return np.where(x >= 0.0, 1.0 / (1.0 + e), e / (1.0 + e))''',
    numba_float32_helper=f32.SIGMOID_HELPER))
register_activation(ActivationRecord(
    "tanh", lambda z, alpha: _sympy().tanh(z), latex=r"\tanh", saturates=True,
    numba_float32=f32.tanh, numba_float32_helper=f32.TANH_HELPER))
register_activation(ActivationRecord(
    "softplus", _call("softplus"), function="softplus", init="he",
    numba=lambda p, x: p.helper("softplus", x),
    numba_helper='''def _softplus(x):
    """log(1 + e^x) = max(x, 0) + log1p(e^(−|x|)), finite for every finite x."""
    return max(x, 0.0) + math.log1p(math.exp(-abs(x)))''',
    numpy=lambda p, x: p.helper("softplus", x),
    numpy_helper='''def _softplus(x):
    """log(1 + e^x) = max(x, 0) + log1p(e^(−|x|)), finite for every finite x."""
    return np.maximum(x, 0.0) + np.log1p(np.exp(-np.abs(x)))''',
    numba_float32_helper=f32.SOFTPLUS_HELPER))
register_activation(ActivationRecord(
    "relu", _call("relu"), function="relu", kink=True, init="he",
    numba=lambda p, x: p.kink("relu", (x,), lambda t: f"({t} if {t} > 0.0 else 0.0)"),
    numba_helper='''def _relu(x):
    """max(x, 0), with NaN -> 0 as the inline form (x if x > 0.0 else 0.0)."""
    return x if x > 0.0 else 0.0''',
    numpy=lambda p, x: p.kink("relu", (x,), lambda t: f"np.where({t} > 0.0, {t}, 0.0)"),
    numba_float32=f32.relu, numba_float32_helper=f32.RELU_HELPER))
register_activation(ActivationRecord(
    "leaky_relu", _call("leaky_relu", True), function="leaky_relu",
    alpha=Fraction(1, 100), text="lrelu", latex=r"\operatorname{lrelu}", kink=True, init="he",
    numba=lambda p, x, a: p.kink("leaky_relu", (x, a),
                                 lambda t, a: f"({t} if {t} > 0.0 else {p.times(a, t)})"),
    numba_helper='''def _leaky_relu(x, alpha):
    return x if x > 0.0 else alpha * x''',
    numpy=lambda p, x, a: p.kink("leaky_relu", (x, a),
                                 lambda t, a: f"np.where({t} > 0.0, {t}, {p.times(a, t)})"),
    numba_float32=f32.leaky_relu, numba_float32_helper=f32.LEAKY_RELU_HELPER))
register_activation(ActivationRecord(
    "elu", _call("elu", True), function="elu", alpha=Fraction(1), kink=True,
    init="he",
    numba=lambda p, x, a: p.kink("elu", (x, a), lambda t, a:
                                 f"({t} if {t} > 0.0 else {p.times(a, f'math.expm1({t})')})"),
    numba_helper='''def _elu(x, alpha):
    return x if x > 0.0 else alpha * math.expm1(x)''',
    numpy=lambda p, x, a: p.kink("elu", (x, a), lambda t, a:
                                 f"np.where({t} > 0.0, {t}, {p.times(a, f'np.expm1({t})')})"),
    numba_float32=f32.elu, numba_float32_helper=f32.ELU_HELPER))
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
    return 0.5 * x * (1.0 + scipy.special.erf(x * 0.7071067811865476))''',
    numba_float32_helper=f32.GELU_HELPER))


# ---------------------------------------------------------------- losses


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
