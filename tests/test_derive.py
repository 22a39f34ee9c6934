"""Every gradient equals sympy.diff of the fully composed loss (an independent oracle), and so
does the sum over the chain-rule paths; on bundled examples, every activation × loss, and
random nets and expressions."""

from __future__ import annotations

import pytest
import sympy
from hypothesis import given, settings
from hypothesis import strategies as st

import symbprop as sp
from symbprop import examples
from symbprop.functions import registry
from tests.oracle import NamedValues, oracle_gradients, precise_gradients, random_point

TOLERANCE = sympy.Float("1e-12")
SMALL_EXAMPLES = [n for n in examples.names() if n not in ("digits_64_32_10", "mnist_784_128_10")]


def assert_gradients_match(model, seed: int = 0, chains: bool = True,
                           oracle=oracle_gradients) -> None:
    d = sp.derive(model)
    point = random_point(d, seed)
    expected = oracle(d, point)
    value_at = NamedValues(d, point)
    for name in d.params:
        bound = TOLERANCE * (1 + abs(expected[name]))
        assert abs(value_at(d.gradient(name)) - expected[name]) <= bound, name
        if chains:
            total = sympy.Add(*[sympy.Mul(*[f.value for f in path]) for path in d.chain(name)])
            assert abs(value_at(total) - expected[name]) <= bound, name


@pytest.mark.parametrize("name", SMALL_EXAMPLES)
def test_bundled_examples(name):
    # iris's 131 composed losses take sympy.diff 15–40 s; the small examples keep sympy.diff
    oracle = precise_gradients if "iris" in name else oracle_gradients
    assert_gradients_match(sp.load(f"examples:{name}"), chains="iris" not in name, oracle=oracle)


ELEMENTWISE = sorted(registry.ACTIVATIONS)
LOSSES = ["half_sse", "sse", "mse", {"formula": "(a - y)**4 / 4"}]


@pytest.mark.parametrize("activation", [*ELEMENTWISE, {"name": "sw", "formula": "z/(1+exp(-z))"}])
@pytest.mark.parametrize("loss", LOSSES, ids=str)
def test_every_activation_and_loss(activation, loss):
    model = sp.mlp([2, 2, 2], activation=activation, loss=loss)
    assert_gradients_match(model, chains=False)


@pytest.mark.parametrize("hidden", ["sigmoid", "tanh", "relu"])
def test_softmax_cross_entropy_and_bce(hidden):
    assert_gradients_match(sp.mlp([2, 3, 3], activation=hidden, loss="softmax_cross_entropy"))
    assert_gradients_match(sp.mlp([2, 2, 2], activation=hidden, loss="bce"))


@pytest.mark.parametrize("bias", ["per_neuron", "shared", "none"])
@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_bias_modes_and_reductions(bias, reduction):
    assert_gradients_match(sp.mlp([3, 2, 1], activation="tanh", bias=bias, reduction=reduction))


def test_seed_003_staged_graph():
    d = sp.derive(sp.load("examples:staged"))
    result = d.evaluate({"x": -2, "y": 5, "z": -4})
    assert result["loss"] == -12
    assert result["grad"] == {"x": -4, "y": -4, "z": 3}
    assert result["forward"] == {"q": 3, "f": -12}


def test_expression_is_staged_one_operation_per_node():
    model = sp.expression("exp(1/x)")
    assert [name for name, _ in model.nodes] == ["t1", "f"]
    d = sp.derive(model)
    x = sympy.Symbol("x")
    assert d.compose(d.gradient("x")) == sympy.diff(sympy.exp(1 / x), x)
    assert len(d.chain("x")) == 1 and len(d.chain("x")[0]) == 2  # ∂f/∂t1 · ∂t1/∂x


def test_quadratic_gradient():
    d = sp.derive(sp.load("examples:quadratic"))
    x = sympy.Symbol("x")
    assert sympy.expand(d.compose(d.gradient("x"))) == 2 * x - 10


NETS = st.builds(
    lambda sizes, acts, loss, bias: (sizes, acts, loss, bias),
    st.lists(st.integers(1, 3), min_size=2, max_size=4),
    st.lists(st.sampled_from(ELEMENTWISE), min_size=3, max_size=3),
    st.sampled_from(["half_sse", "sse", "mse", "bce", "softmax_cross_entropy"]),
    st.sampled_from(["per_neuron", "shared", "none"]),
)


@settings(max_examples=25, deadline=None)
@given(net=NETS, seed=st.integers(0, 10_000))
def test_random_networks(net, seed):
    sizes, acts, loss, bias = net
    acts = acts[: len(sizes) - 1]
    if loss == "softmax_cross_entropy":
        acts[-1] = "softmax"
    elif loss == "bce":
        acts[-1] = "sigmoid"
    model = sp.mlp(sizes, activation=acts, loss=loss, bias=bias)
    # 50-digit central differences: sympy.diff of these nets' composed loss takes ten times longer
    assert_gradients_match(model, seed=seed, chains=sum(sizes) <= 7, oracle=precise_gradients)


EXPRESSION = st.recursive(
    st.sampled_from(["x", "y", "z", "2", "0.5"]),
    lambda inner: st.one_of(
        st.tuples(inner, st.sampled_from(["+", "-", "*"]), inner).map(
            lambda t: f"({t[0]} {t[1]} {t[2]})"
        ),
        st.tuples(inner, inner).map(lambda t: f"({t[0]}) / (2 + ({t[1]})**2)"),
        st.tuples(st.sampled_from(["exp", "sin", "tanh", "sigmoid", "softplus"]), inner).map(
            lambda t: f"{t[0]}({t[1]} + x)"
        ),
        inner.map(lambda t: f"({t})**3"),
    ),
    max_leaves=6,
)


@settings(max_examples=40, deadline=None)
@given(text=EXPRESSION)
def test_random_expressions(text):
    model = sp.expression(f"x*y*z + {text}", params=["x", "y", "z"])
    assert_gradients_match(model)


def test_derivation_is_layer_level_for_wide_nets():
    """784-128-10: the layer form is derived without instantiating 100k per-weight forms."""
    d = sp.derive(sp.load("examples:mnist_784_128_10"))
    assert len(d.params) == 784 * 128 + 128 + 128 * 10 + 10
    W1 = d.adjoints[d.program.params[0]]
    assert str(W1.expr) == "delta1[j]*x[k]"
    assert str(d.gradient("W1[5,700]")) == "delta1[5]*x[700]"
    assert len(d.chain("W1[5,700]")) == 100  # 10 outputs × 10 softmax inputs
