"""The registry (symbprop.functions.registry): every activation and every loss record goes
through the whole pipeline (spec, derivation, documents, code generation, cross-check), and a
new activation or loss is one record.

Oracles: ``sympy.diff`` of the loss composed from the model (tests/oracle.py) for the
derivation; central finite differences inside ``sp.check`` for the compiled kernels.  The new
activation of the last tests (mish) is written here in elementary functions, independently of
its record.
"""

from __future__ import annotations

import numpy as np
import pytest
import sympy

import symbprop as sp
from symbprop.functions import registry
from symbprop.functions.registry import ActivationRecord, LossRecord
from symbprop.functions.sympy_classes import softplus
from tests.oracle import oracle_gradients, random_point

#: One compile per model: keep the check to one lowering, one dtype, two random points.
CHECK = {"samples": 2, "dtypes": ("float64",), "strategy": "unrolled"}


def _agrees_with_oracle(d, names=None, seed: int = 1) -> None:
    point = random_point(d, seed)
    expected = oracle_gradients(d, point, names)
    for name, value in expected.items():
        ours = d.compose(d.gradient(name)).xreplace(point).evalf(25)
        assert abs(ours - value) <= 1e-15 * (1 + abs(value)), (name, ours, value)


def _through_everything(model, symbols=()) -> None:
    """Derived (checked against the oracle on a few weights), printed in every text format,
    generated, compiled and cross-checked."""
    d = sp.derive(model)
    _agrees_with_oracle(d, [n for n in d.params if n.startswith("W")][:6])
    text, tex = d.to_text(), d.to_latex()
    for symbol in symbols:
        assert symbol in text or symbol in tex, symbol
    report = sp.check(model, **CHECK)
    assert report.ok, str(report)


@pytest.mark.parametrize("name", sorted(registry.ACTIVATIONS))
def test_every_registered_activation_is_derived_and_printed(name):
    model = sp.mlp([2, 2, 1], activation=[name, "identity"], name=f"act_{name}")
    d = sp.derive(model)
    _agrees_with_oracle(d)
    if name != "identity":
        assert registry.ACTIVATIONS[name].symbol in d.to_text()
        assert registry.ACTIVATIONS[name].latex_symbol in d.to_latex()


def test_every_registered_activation_compiles_and_checks():
    """One network with a layer per activation: one compile for all of them."""
    names = list(registry.ACTIVATIONS)
    model = sp.mlp([2, *[2] * len(names), 1], activation=[*names, "identity"], name="all_acts")
    report = sp.check(model, **CHECK)
    assert report.ok, str(report)


@pytest.mark.parametrize("name", sorted(registry.LOSSES))
def test_every_registered_loss_goes_through_the_pipeline(name):
    record = registry.LOSSES[name]
    model = sp.mlp([2, 2, 2], activation="tanh", loss=name, name=f"loss_{name}")
    assert model.layers[-1].activation.name == (record.output or "tanh")
    _through_everything(model)


def test_every_record_is_complete():
    for record in registry.ACTIVATIONS.values():
        assert record.init in registry.INITIALISERS
        if record.function is not None:
            assert record.numba is not None, record.name  # the class needs a Numba form
            assert record.function_class.latex_name == record.latex_symbol
        if record.numba_helper:
            assert record.numba_helper.startswith(f"def _{record.name}(")
    for record in registry.LOSSES.values():
        a, y = sympy.symbols("a y")
        assert record.element(a, y).free_symbols <= {a, y}


def test_names_are_taken_once():
    with pytest.raises(ValueError, match="registered already"):
        registry.register_activation(ActivationRecord("silu", lambda z, alpha: z))
    with pytest.raises(ValueError, match="registered already"):
        registry.register_loss(LossRecord("quadratic", lambda a, y: a))


# ---------------------------------------------------------------- a new activation, a new loss


def _mish(z, alpha):
    return z * sympy.tanh(softplus(z))


@pytest.fixture
def mish():
    record = registry.register_activation(ActivationRecord("mish", _mish, text="mish"))
    yield record
    registry.unregister_activation("mish")


@pytest.fixture
def log_cosh():
    record = registry.register_loss(
        LossRecord("log_cosh", lambda a, y: sympy.log(sympy.cosh(a - y))))
    yield record
    registry.unregister_loss("log_cosh")


def test_mish_is_one_record(mish):
    spec = {"name": "mish_net", "inputs": 2, "loss": "half_sse",
            "layers": [{"units": 2, "activation": "mish"}, {"units": 1}]}
    model = sp.load(spec)
    d = sp.derive(model)
    # The oracle writes mish itself: z·tanh(log(1 + e^z)).
    z = sympy.Symbol("z", real=True)
    elementary = z * sympy.tanh(sympy.log(1 + sympy.exp(z)))
    slope = sympy.diff(elementary, z)
    _agrees_with_oracle(d)
    assert "mish" in d.to_text() and "mish" in d.to_markdown()
    kernels = sp.compile(model, strategy="unrolled")
    params = kernels.init_params(seed=0)
    X = np.array([[0.3, -0.7], [1.1, 0.2]])
    Y = np.array([[0.5], [-0.25]])
    # The compiled forward pass against mish written here, in NumPy.
    W1, b1, W2, b2 = (params[k] for k in ("W1", "b1", "W2", "b2"))
    hidden = X @ W1.T + b1
    mish_np = sympy.lambdify(z, elementary, "numpy")
    out = mish_np(hidden) @ W2.T + b2
    loss, _ = kernels.loss_and_grad(params, X, Y)
    assert loss == pytest.approx(0.5 * np.mean(np.sum((Y - out) ** 2, axis=1)), rel=1e-12)
    assert float(slope.subs(z, 0)) == pytest.approx(0.6, abs=1e-12)  # mish'(0) = tanh(log 2)
    assert sp.check(model, **CHECK).ok


def test_a_registered_loss_without_an_equation_prints_its_term(log_cosh):
    model = sp.mlp([2, 2, 1], activation="tanh", loss="log_cosh", name="logcosh_net")
    _through_everything(model)
    from symbprop.codegen.generator import source

    text = source(model, "unrolled")
    assert "ℓ(a, y) = log(cosh(a - y))" in text
    assert "None" not in text.split("def ")[0]


def test_unknown_names_list_the_registered_ones(mish):
    with pytest.raises(sp.SpecError, match="mish"):
        sp.mlp([2, 1], activation="mishh")
