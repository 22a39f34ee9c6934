"""Specs: loading, builders, and one clear SpecError per mistake (file, field, what is allowed)."""

from __future__ import annotations

import warnings

import pytest
import sympy

import symbprop as sp
from symbprop import examples
from symbprop.errors import SpecError

NET = {
    "inputs": 2,
    "layers": [{"units": 2, "activation": "sigmoid"}, {"units": 1}],
    "loss": "half_sse",
}


def net(**changes):
    spec = {**NET, "layers": [dict(layer) for layer in NET["layers"]]}
    spec.update(changes)
    return spec


@pytest.mark.parametrize("name", examples.names())
def test_every_bundled_example_loads(name):
    model = sp.load(f"examples:{name}")
    assert model.name == name
    assert len(model.sha256) == 64


def test_yaml_file_and_dict_agree(tmp_path):
    path = tmp_path / "net.yaml"
    path.write_text(
        "name: n\ninputs: 2\nlayers:\n  - {units: 2, activation: sigmoid}\n  - {units: 1}\n"
        "loss: half_sse\n"
    )
    assert sp.load(path).spec == sp.load(net(name="n")).spec


def test_builders():
    model = sp.mlp([2, 2, 1], activation="sigmoid", loss="half_sse")
    assert model.sizes == (2, 2, 1)
    assert [layer.activation.name for layer in model.layers] == ["sigmoid", "sigmoid"]
    ce = sp.mlp([4, 16, 3], activation="tanh", loss="softmax_cross_entropy")
    assert [layer.activation.name for layer in ce.layers] == ["tanh", "softmax"]
    assert sp.mlp([2, 1], activation="relu", bias="shared").param_shapes == {"W1": (1, 2), "b1": ()}
    assert sp.expression("(x + y) * z", params=["x", "y", "z"]).params == ("x", "y", "z")
    g = sp.graph({"q": "x + y", "f": "q * z"}, output="f", params=["x", "y", "z"])
    assert [n for n, _ in g.nodes] == ["q", "f"]


def test_graph_nodes_are_ordered_by_dependency():
    g = sp.graph({"f": "q * z", "q": "x + y"}, output="f")
    assert [n for n, _ in g.nodes] == ["q", "f"]
    assert g.params == ("z", "x", "y")  # inferred, in order of first use


def test_custom_activation_and_loss():
    model = sp.load(
        net(
            layers=[
                {"units": 2, "activation": {"name": "swish2", "formula": "z/(1+exp(-z))"}},
                {"units": 1},
            ],
            loss={"formula": "(a - y)**4 / 4"},
        )
    )
    assert model.layers[0].activation.is_custom
    assert model.loss.is_custom


ERRORS = [
    (
        net(layers=[{"units": 2, "activation": "sigmoidd"}, {"units": 1}]),
        "layers[0].activation: unknown activation 'sigmoidd' (did you mean 'sigmoid'?); allowed: "
        "one of elu, gelu",
    ),
    (
        net(layers=[{"units": 2, "activation": "softmax"}, {"units": 1}]),
        "layers[0].activation: softmax is allowed on the output layer only",
    ),
    (net(layers=[{"units": 0}, {"units": 1}]), "layers[0].units: must be >= 1, got 0"),
    (net(inputs="two"), "inputs: must be a whole number >= 1, got 'two'"),
    (net(inputs=True), "inputs: must be a whole number >= 1"),
    (net(layers=[{"activation": "relu"}, {"units": 1}]),
     "layers[0].units: missing; give a whole number >= 1"),
    (net(loss=None), "loss: missing; allowed: one of bce, cross_entropy"),
    (net(loss="hinge"), "loss: unknown loss 'hinge'"),
    (net(loss="bce"), "loss: bce needs a sigmoid output layer"),
    (net(reduction="avg"), "reduction: 'avg' is not allowed; allowed: mean, sum"),
    (net(layers=[]), "layers: must be a non-empty list"),
    (net(colour="red"), "colour: unknown field; allowed: name, inputs"),
    (
        net(layers=[{"units": 2, "activation": {"name": "relu", "alpha": 0.1}}, {"units": 1}]),
        "'relu' takes no alpha",
    ),
    (net(layers=[{"units": 2, "activation": "exp(z"}, {"units": 1}]), "layers[0].activation"),
    ({"graph": {"q": "x + y", "f": "q * w"}, "output": "g"}, "output: 'g' is not a node"),
    ({"graph": {"a": "b + 1", "b": "a * 2"}, "params": []}, "the nodes a, b form a cycle"),
    ({"graph": {"q": "x + y"}, "params": ["x"]}, "graph.q: undefined name 'y'"),
    ({"graph": {"q": "x + y"}, "params": ["x", "y", "x"]}, "params: duplicate names: x"),
    ({"graph": {"q": "x + y"}, "params": ["x", "q"]}, "'q' is both a parameter and a node"),
    ({"graph": {"exp": "x + 1"}}, "node name 'exp' is reserved"),
    ({"graph": {"q": "__import__('os')"}}, "graph.q"),
    ({"expression": ["x"]}, "expression: must be a formula"),
    ({"layers_": 1}, "a spec needs 'layers'"),
]


@pytest.mark.parametrize(("spec", "message"), ERRORS, ids=[m for _, m in ERRORS])
def test_spec_errors(spec, message):
    with pytest.raises(SpecError) as caught:
        sp.load(spec)
    assert message in str(caught.value)


def test_errors_name_the_file(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("inputs: 2\nlayers:\n  - {units: 2, activation: sigmoidd}\nloss: sse\n")
    with pytest.raises(SpecError, match=r"bad\.yaml: layers\[0\]\.activation: unknown"):
        sp.load(path)
    path.write_text("inputs: [\n")
    with pytest.raises(SpecError, match=r"bad\.yaml: line \d+: not valid YAML"):
        sp.load(path)
    with pytest.raises(SpecError, match="nowhere.yaml: no such file"):
        sp.load(tmp_path / "nowhere.yaml")
    with pytest.raises(SpecError, match="no such example; examples: chain"):
        sp.load("examples:nope")


def test_unused_parameter_is_a_warning():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        sp.graph({"f": "x * 2"}, params=["x", "unused"])
    assert any("does not depend on unused" in str(w.message) for w in caught)


def test_spec_reads_scientific_notation(tmp_path):
    path = tmp_path / "net.yaml"
    path.write_text(
        "inputs: 2\nlayers:\n  - {units: 2, activation: {name: leaky_relu, alpha: 1e-2}}\n"
        "  - {units: 1}\nloss: half_sse\n"
    )
    assert sp.load(path).layers[0].activation.alpha == sympy.Rational(1, 100)


def test_a_key_given_twice_is_an_error_with_its_line(tmp_path):
    path = tmp_path / "net.yaml"
    path.write_text("inputs: 2\ninputs: 3\nlayers:\n  - {units: 1}\nloss: half_sse\n")
    with pytest.raises(SpecError, match=r"net\.yaml: line 2: not valid YAML \(duplicate key "
                                        r"'inputs'\)"):
        sp.load(path)


def test_builder_errors_start_at_the_field():
    with pytest.raises(SpecError, match=r"^expression: formula \"x \+\": is not a valid"):
        sp.expression("x +")
    with pytest.raises(SpecError, match=r"^graph\.q: formula"):
        sp.graph({"q": "x +"})
