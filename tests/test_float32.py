"""float32 kernels (issue 20, item 4): they compute in float32 (nothing promotes to float64),
their gradients agree with an independent oracle, and the float32 tanh is within 0.56 ulp.

Oracles: ``sympy.diff`` of the loss composed from the model (tests/oracle.py) at the point
rounded to float32, for the gradients; NumPy's float64 ``tanh`` rounded to float32 for the
tanh.  The promotion check reads the types Numba inferred for the compiled kernel's variables.
"""

from __future__ import annotations

import numpy as np
import pytest
import sympy
from numba import njit

import symbprop as sp
from symbprop.functions import registry
from symbprop.functions.float32 import TANH_CLAMP, TANH_HELPER
from tests.oracle import oracle_gradients, random_point

ACTIVATIONS = sorted(name for name in registry.ACTIVATIONS if name != "identity")


def _tanh32():
    """The float32 ``_tanh`` helper, compiled from the source that kernels print."""
    namespace = {"np": np}
    exec(TANH_HELPER, namespace)  # noqa: S102 (the helper's own source, under test)
    return njit(error_model="numpy")(namespace["_tanh"])


def _ulps(values: np.ndarray, x: np.ndarray) -> np.ndarray:
    """|values − tanh(x)| in units of the float32 spacing at tanh(x) rounded to float32."""
    exact = np.tanh(x.astype(np.float64))
    spacing = np.spacing(np.abs(exact.astype(np.float32))).astype(np.float64)
    return np.abs(values.astype(np.float64) - exact) / spacing


def test_tanh32_is_within_half_an_ulp_and_a_little():
    tanh = np.vectorize(_tanh32(), otypes=[np.float32])
    tiny = np.float32(2.0) ** -np.arange(1, 150, dtype=np.float32)
    x = np.concatenate([
        np.linspace(-12, 12, 1_000_001, dtype=np.float32),
        np.linspace(8.9, 9.2, 100_001, dtype=np.float32),  # either side of the clamp
        tiny, -tiny, np.float32([0.0, -0.0, 1e10, -1e10, 3.4e38, -3.4e38]),
    ])
    values = tanh(x)
    assert values.dtype == np.float32
    worst = float(_ulps(values, x).max())
    assert worst <= 0.56, worst
    assert np.array_equal(np.signbit(values[x == 0]), np.signbit(x[x == 0]))  # tanh(−0) = −0
    assert np.all(values[np.abs(x) > TANH_CLAMP] == np.sign(x[np.abs(x) > TANH_CLAMP]))


def test_tanh32_at_infinity_and_nan():
    tanh = _tanh32()
    assert tanh(np.float32(np.inf)) == 1.0 and tanh(np.float32(-np.inf)) == -1.0
    assert np.isnan(tanh(np.float32(np.nan)))


def test_ulp_measure_sees_libm_tanhf_error():
    """The measure above can fail: a float32 evaluation of the same approximant is off by
    several ulp."""
    x = np.linspace(-9, 9, 200_001, dtype=np.float32)
    assert _ulps(np.tanh(x.astype(np.float64)).astype(np.float32), x).max() <= 0.5
    assert _ulps(np.float32(1 - 2 ** -20) * np.tanh(x), x).max() > 2


def _point_arrays(d, kernels, point):
    """The parameters, X and Y (one sample) of ``point``, rounded to float32."""
    params = {n: np.zeros(s, np.float32) for n, s in dict(kernels.model.param_shapes).items()}
    X = np.zeros((1, kernels.model.inputs), np.float32)
    Y = np.zeros((1, kernels.model.sizes[-1]), np.float32)
    arrays = {**params, "x": X[0], "y": Y[0]}
    for leaf, value in point.items():
        arrays[leaf.base.label.name][tuple(int(i) for i in leaf.indices)] = np.float32(value)
    return params, X, Y


def _rounded(point: dict) -> dict:
    return {leaf: sympy.Float(float(np.float32(value)), 30) for leaf, value in point.items()}


@pytest.mark.parametrize("strategy", ["unrolled", "looped"])
@pytest.mark.parametrize("name", ACTIVATIONS)
def test_float32_gradients_agree_with_sympy_diff(name, strategy):
    model = sp.mlp([2, 3, 2], activation=[name, "identity"], name=f"f32_{name}")
    d = sp.derive(model)
    kernels = sp.compile(model, strategy=strategy, dtype="float32")
    point = _rounded(random_point(d, 5))
    expected = oracle_gradients(d, point)
    params, X, Y = _point_arrays(d, kernels, point)
    theta = kernels.flatten(params)
    grad = kernels.empty_vector()
    value = kernels.module.loss_and_grad_into(theta, X, Y, grad, kernels.work(1))
    assert np.isfinite(value)
    exact = np.array([float(expected[n]) for n in d.params])
    scale = 1.0 + np.abs(exact).max()
    assert np.abs(grad.astype(np.float64) - exact).max() <= 2e-5 * scale, (grad, exact)


#: Numba's temporaries that hold a constant: a literal, a module constant (math.pi, math.inf)
#: and its negation are typed float64 and folded by LLVM; a value computed from data is not.
CONSTANTS = ("$const", "load_attr", "load_global", "unary_negative")


def _float64_variables(function) -> list[str]:
    """The variables (Numba's temporaries included, ``CONSTANTS`` not) typed float64 in any
    compiled signature of ``function``, and ``return`` if it returns float64.  A function loaded
    from Numba's cache carries no types; it is compiled again, without the cache, to get them."""
    if any(isinstance(o.type_annotation, str) for o in function.overloads.values()):
        options = {k: v for k, v in function.targetoptions.items()
                   if k not in ("cache", "nopython")}
        fresh = njit(**options)(function.py_func)
        for signature in function.signatures:
            fresh.compile(signature)
        function = fresh
    found = []
    for overload in function.overloads.values():
        typemap = overload.type_annotation.typemap
        found += [v for v, t in typemap.items()
                  if "float64" in str(t) and not any(c in v for c in CONSTANTS)]
        if "float64" in str(overload.signature.return_type):
            found.append("return")
    return found


def test_the_promotion_check_can_fail():
    @njit
    def promoted(a):
        return 1 - a

    promoted(np.float32(0.5))
    assert _float64_variables(promoted)


@pytest.mark.parametrize("strategy", ["unrolled", "looped"])
def test_iris_float32_kernel_computes_in_float32(strategy):
    model = sp.load("examples:iris_4_16_3")
    kernels = sp.compile(model, strategy=strategy, dtype="float32")
    X = np.ones((4, 4), np.float32)
    Y = np.full((4, 3), np.float32(1 / 3), np.float32)
    theta = kernels.flatten(kernels.init_params(0))
    grad = kernels.empty_vector()
    kernels.module.loss_and_grad_into(theta, X, Y, grad, kernels.work(4))
    for function in ("loss_and_grad_into", "_tanh", "_ylogsoftmax"):
        compiled = getattr(kernels.module, function)
        variables = _float64_variables(compiled)
        if function == "_tanh":  # float64 inside by design (one rounding at the end)
            assert "return" not in variables
        else:
            assert not variables, (function, variables)


@pytest.mark.parametrize("name", ACTIVATIONS)
def test_float32_source_promotes_nowhere_in_the_activation(name):
    """No float64 in the compiled float32 kernel of a net with this activation."""
    model = sp.mlp([2, 3, 2], activation=[name, "identity"], name=f"f32_{name}")
    kernels = sp.compile(model, strategy="unrolled", dtype="float32")
    theta = kernels.flatten(kernels.init_params(0))
    X, Y = np.ones((2, 2), np.float32), np.ones((2, 2), np.float32)
    kernels.module.loss_and_grad_into(theta, X, Y, kernels.empty_vector(), kernels.work(2))
    assert not _float64_variables(kernels.module.loss_and_grad_into)
