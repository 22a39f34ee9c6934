"""The float32 forms of the activations: how a call prints and the helper a float32 kernel
module defines, where they differ from the float64 forms of the registry's records.

A float64 form printed into a float32 kernel promotes: ``x if x > 0.0 else 0.0`` is float64,
and so is a helper built on float64 literals.  ``float32_record(record)`` returns the record
with its ``numba``/``numba_helper`` replaced by its ``numba_float32``/``numba_float32_helper``
where it has them (the built-in records, ``symbprop.functions.builtin``, take theirs from here:
``tanh``, ``relu``, ``leaky_relu``, ``elu`` and the ``*_HELPER`` sources), else the record
unchanged (correct, only promoted).

tanh: Numba's float32 ``math.tanh`` calls libm's ``tanhf``, a call per element that LLVM cannot
vectorise (no SVML here).  ``_tanh`` evaluates instead the [13/14] Padé approximant of tanh
(the 14th convergent of Lambert's continued fraction x/(1 + x²/(3 + x²/(5 + …)))) in float64
and rounds once to float32: within 0.06 float32 ulp of tanh for |x| ≤ ``TANH_CLAMP`` before the
rounding, so within 0.56 ulp of tanh after it (tests/test_float32.py measures it); above
``TANH_CLAMP`` = 9.02 > 13 ln 2, tanh rounds to ±1 in float32 and ``_tanh`` returns ±1.  NaN
passes through (both comparisons are false), ±inf gives ±1.
"""

from __future__ import annotations

import dataclasses
import functools

#: |x| above which tanh(x) rounds to ±1 in float32 (13 ln 2 = 9.0109 and a margin).
TANH_CLAMP = 9.02

TANH_HELPER = f'''def _tanh(x):
    """tanh(x) for float32 x: the [13/14] Padé approximant in float64, rounded once (see
    symbprop.functions.float32); ±1 beyond |x| > {TANH_CLAMP}, NaN for NaN."""
    if x > {TANH_CLAMP}:
        return np.float32(1.0)
    if x < -{TANH_CLAMP}:
        return np.float32(-1.0)
    t = np.float64(x)
    s = t * t
    p = 1.0 + s * (0.14814814814814814 + s * (0.005432098765432099 + s * (
        7.361398665746492e-05 + s * (4.0896659254147175e-07 + s * (
            8.696790909972818e-10 + s * 4.918999383468789e-13)))))
    q = 1.0 + s * (0.48148148148148145 + s * (0.03259259259259259 + s * (
        0.0007085346215780998 + s * (6.134498888122077e-06 + s * (
            2.1524557502182723e-08 + s * (2.55787967940377e-11 + s * 4.684761317589322e-15))))))
    return np.float32(t * p / q)'''

SIGMOID_HELPER = '''def _sigmoid(x):
    """σ(x) = 1 / (1 + e^(−x)) in float32, branching on the sign so that exp never
    overflows."""
    one = np.float32(1.0)
    if x >= 0.0:
        return one / (one + math.exp(-x))
    e = math.exp(x)
    return e / (one + e)'''

SOFTPLUS_HELPER = '''def _softplus(x):
    """log(1 + e^x) = max(x, 0) + log1p(e^(−|x|)) in float32, finite for every finite x."""
    return max(x, np.float32(0.0)) + math.log1p(math.exp(-abs(x)))'''

RELU_HELPER = '''def _relu(x):
    """max(x, 0) in float32, with NaN -> 0 as the inline form."""
    return x if x > 0.0 else np.float32(0.0)'''

LEAKY_RELU_HELPER = '''def _leaky_relu(x, alpha):
    return x if x > 0.0 else np.float32(alpha) * x'''

ELU_HELPER = '''def _elu(x, alpha):
    return x if x > 0.0 else np.float32(alpha) * math.expm1(x)'''

GELU_HELPER = '''def _gelu(x):
    """x Φ(x) = (x/2)(1 + erf(x/√2)) in float32."""
    half, one = np.float32(0.5), np.float32(1.0)
    return half * x * (one + math.erf(x * np.float32(0.7071067811865476)))'''


def relu(p, x):
    return p.kink("relu", (x,), lambda t: f"({t} if {t} > 0.0 else np.float32(0.0))")


def leaky_relu(p, x, a):
    return p.kink("leaky_relu", (x, a), lambda t, a: f"({t} if {t} > 0.0 else {p.times(a, t)})")


def elu(p, x, a):
    return p.kink("elu", (x, a),
                  lambda t, a: f"({t} if {t} > 0.0 else {p.times(a, f'math.expm1({t})')})")


def tanh(p, x):
    return p.helper("tanh", x)


@functools.lru_cache(maxsize=64)
def float32_record(record):
    """``record`` with its Numba form and helper in float32 (see the module docstring); built
    once per record (the printer asks for it at every activation it prints)."""
    form, helper = record.numba_float32, record.numba_float32_helper
    if form is None and helper is None:
        return record
    return dataclasses.replace(record, numba=form or record.numba,
                               numba_helper=helper or record.numba_helper)
