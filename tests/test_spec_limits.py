"""Specs at their limits: hostile or careless input is a SpecError that names the field and what
is allowed, never a raw TypeError/ValueError/MemoryError/RecursionError or a wrong gradient."""

from __future__ import annotations

import time
import warnings

import numpy as np
import pytest
import sympy

import symbprop as sp
from symbprop.errors import SpecError
from symbprop.spec.fields import MAX_NAME_LENGTH, MAX_SHOWN, shown
from symbprop.spec.formula import parse_formula
from symbprop.spec.loader import MAX_LAYERS, MAX_PARAMS

NET = {"inputs": 2, "layers": [{"units": 1}], "loss": "sse"}


def spec_error(spec) -> str:
    """The message of the SpecError that loading ``spec`` raises, checked to be one short line."""
    with pytest.raises(SpecError) as caught:
        sp.load(spec)
    message = str(caught.value)
    assert "\n" not in message and len(message) < 400, message[:400]
    return message


def write(tmp_path, text: str, name: str = "spec.yaml"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


# ---------------------------------------------------------------- 1. the expression's output


@pytest.mark.parametrize("text", [
    "f + out*out", "x + out + f", "out*f", "f*out*output + x", "f1*f + out - output**2",
])
def test_expression_output_is_named_apart_from_its_variables(text):
    """With f a variable the output was "out" even when out was one too: f + out·out then had
    ∂/∂out = 20 at (1, 3) instead of 6, and x + out + f recursed without end."""
    model = sp.expression(text)
    assert model.output not in model.params
    point = {name: float(i + 2) for i, name in enumerate(model.params)}
    grad = sp.derive(model).evaluate(point)["grad"]
    symbols = {name: sympy.Symbol(name) for name in model.params}
    expr = parse_formula(text, symbols)  # the function itself, differentiated by SymPy
    for name, symbol in symbols.items():
        assert grad[name] == pytest.approx(float(expr.diff(symbol).subs(point)))


# ---------------------------------------------------------------- 2. custom loss / activation


@pytest.mark.parametrize("formula", ["y**2", "0*a", "5", 5, "a - a"])
def test_a_loss_formula_must_depend_on_a(formula):
    message = spec_error({**NET, "loss": {"formula": formula}})
    assert message.startswith(f"loss.formula: loss formula {formula!r} does not depend on a; ")


@pytest.mark.parametrize("formula", ["3", 3, "0*z", "z - z"])
def test_an_activation_formula_must_depend_on_z(formula):
    layers = [{"units": 1, "activation": {"name": "flat", "formula": formula}}]
    message = spec_error({**NET, "layers": layers})
    assert message.startswith(
        f"layers[0].activation.formula: activation formula {formula!r} does not depend on z; ")
    if isinstance(formula, str):
        message = spec_error({**NET, "layers": [{"units": 1, "activation": formula}]})
        assert message.startswith("layers[0].activation: activation formula")


# ---------------------------------------------------------------- 3. finite alpha


@pytest.mark.parametrize(("text", "shown_as"), [(".inf", "inf"), (".nan", "nan"),
                                                ("1e999", "inf"), ("-.inf", "-inf")])
def test_alpha_must_be_finite(tmp_path, text, shown_as):
    layer = f"{{units: 1, activation: {{name: leaky_relu, alpha: {text}}}}}"
    path = write(tmp_path, f"inputs: 2\nloss: sse\nlayers: [{layer}]\n")
    assert spec_error(path) == (
        f"{path}: layers[0].activation.alpha: must be a finite number, got {shown_as}")


def test_alpha_in_the_api():
    with pytest.raises(SpecError, match=r"^mlp: layers\[0\]\.activation\.alpha: must be a finite"):
        sp.mlp([2, 1], activation={"name": "leaky_relu", "alpha": float("nan")})
    with pytest.raises(SpecError, match="alpha: must be at most 1e15 in size, got "
                                        r"\(an integer of about 400 digits\)"):
        sp.mlp([2, 1], activation={"name": "elu", "alpha": 10**400})
    model = sp.mlp([2, 1], activation={"name": "leaky_relu", "alpha": np.float64(0.25)})
    assert model.layers[0].activation.alpha == sympy.Rational(1, 4)


# ---------------------------------------------------------------- 4. size


@pytest.mark.parametrize(("changes", "count", "largest"), [
    ({"layers": [{"units": 10**11}]}, "300,000,000,000", "W1 is 100000000000 × 2"),
    ({"inputs": 10**11}, "100,000,000,001", "W1 is 1 × 100000000000"),
])
def test_networks_have_at_most_max_params(changes, count, largest):
    """A derivation names every parameter: 10**11 of them was a MemoryError."""
    assert spec_error({**NET, **changes}) == (
        f"layers: the network has {count} parameters ({largest}); "
        f"at most {MAX_PARAMS:,} are supported")


def test_networks_have_at_most_max_layers_counted_before_anything_is_built():
    """5000 layers of one unit (10,000 parameters, well under MAX_PARAMS) would derive for
    minutes; the spec is refused at once, and MAX_LAYERS layers load."""
    start = time.process_time()
    message = spec_error({**NET, "layers": [{"units": 1}] * 5000})
    assert time.process_time() - start < 1.0
    assert message == ("layers: 5,000 layers; at most 1,024 are supported (deriving takes "
                       "seconds per hundred layers, and the kernels' compile time grows with "
                       "depth)")
    assert len(sp.mlp([1] * (MAX_LAYERS + 1)).layers) == MAX_LAYERS
    with pytest.raises(SpecError, match="1,025 layers"):
        sp.mlp([1] * (MAX_LAYERS + 2))


def test_a_network_of_exactly_max_params_loads():
    assert sp.mlp([MAX_PARAMS - 1, 1]).param_count == MAX_PARAMS
    with pytest.raises(SpecError, match="has 100,000,001 parameters"):
        sp.mlp([MAX_PARAMS, 1])


# ---------------------------------------------------------------- 5. graph output


def test_graph_output_must_be_a_node_name(tmp_path):
    path = write(tmp_path, 'graph: {a: "x + 1"}\noutput: [a]\n')
    assert spec_error(path) == f"{path}: output: ['a'] is not a node; nodes: a"
    with pytest.raises(SpecError, match=r"^output: \{\} is not a node; nodes: a$"):
        sp.graph({"a": "x + 1"}, output={})


# ---------------------------------------------------------------- 6. at least one variable


@pytest.mark.parametrize(("spec", "field"), [
    ({"expression": 5}, "expression"), ({"expression": "exp(2)*pi"}, "expression"),
    ({"graph": {"a": "3+1"}}, "graph"), ({"graph": {"a": "3", "b": "a*2"}}, "graph"),
])
def test_a_graph_needs_a_variable(spec, field):
    assert spec_error(spec).startswith(
        f"{field}: has no variables; a function of at least one variable is needed")


@pytest.mark.parametrize("number", [float("inf"), float("nan"), 10**5000, 10**16],
                         ids=["inf", "nan", "huge", "1e16"])
def test_a_formula_given_as_a_number_is_finite_and_small(number):
    """.inf was the expression "inf" of a variable named inf; 10**5000 a ValueError of str()."""
    assert spec_error({"expression": number}).startswith(
        "expression: must be a formula (text) or a finite number of at most 1e15 in size, got ")


# ---------------------------------------------------------------- 7. name length


def test_names_are_at_most_max_name_length(tmp_path):
    """Names become file and folder names: 300 characters was "File name too long"."""
    assert sp.mlp([2, 1], name="n" * MAX_NAME_LENGTH).name == "n" * MAX_NAME_LENGTH
    message = spec_error({**NET, "name": "n" * 300})
    assert message == f"name: name {shown('n' * 300)} is 300 characters long; at most 64 are " \
                      "allowed"
    assert "node name" in spec_error({"graph": {"q" * 65: "x + 1"}})
    assert "parameter name" in spec_error({"expression": "v" * 65 + " + 1"})
    stem = "s" * 200  # a spec's default name comes from its file name
    assert sp.load(write(tmp_path, "inputs: 1\nlayers: [{units: 1}]\nloss: sse\n",
                         f"{stem}.yaml")).name == stem[:MAX_NAME_LENGTH]


def test_a_name_with_a_trailing_newline_is_refused():
    assert "must be an identifier" in spec_error({**NET, "name": "net\n"})


# ---------------------------------------------------------------- 9. reserved variable names


@pytest.mark.parametrize(("spec", "field", "name"), [
    ({"graph": {"a": "lr*lr"}}, "graph.a", "lr"),
    ({"graph": {"a": "x*2"}, "params": ["x", "lr"]}, "params[1]", "lr"),
    ({"expression": "upstream*x"}, "expression", "upstream"),
])
def test_lr_and_upstream_are_not_variable_names(spec, field, name):
    """A values file gives the learning rate as lr (and a graph's upstream gradient as
    upstream): a variable so named could not be given a value."""
    message = spec_error(spec)
    assert message.startswith(f"{field}: '{name}' cannot name a variable: values files use it")
    assert message.endswith("reserved: lr, upstream")


def test_a_node_may_be_named_lr():
    assert sp.graph({"lr": "x*2"}).output == "lr"


# ---------------------------------------------------------------- 10. short messages, fast


def test_a_huge_aliased_value_fails_fast_with_a_short_message(tmp_path):
    """247 bytes of YAML alias 9**8 items: repr of them took minutes and printed 4.3 MB."""
    anchors = ["&a [" + ",".join(["lol"] * 9) + "]"]
    for a, b in zip("abcdefg", "bcdefgh", strict=True):
        anchors.append(f"&{b} [" + ",".join([f"*{a}"] * 9) + "]")
    path = write(tmp_path, f"inputs: [{', '.join(anchors)}]\nlayers: [{{units: 1}}]\nloss: sse\n")
    start = time.process_time()
    message = spec_error(path)
    assert time.process_time() - start < 2.0
    assert message.startswith(f"{path}: inputs: must be a whole number >= 1, got [['lol', ")


@pytest.mark.parametrize("value", [
    "x" * 10**5, list(range(10**5)), {str(i): i for i in range(10**4)}, 10**5000, -(10**5000),
], ids=["text", "list", "dict", "huge_int", "huge_negative_int"])
def test_shown_values_are_short(value):
    text = shown(value)
    assert len(text) <= MAX_SHOWN
    for field in ("inputs", "reduction", "name", "loss"):
        assert len(spec_error({**NET, field: value})) < 200
    assert len(spec_error({**NET, "layers": [{"units": value}]})) < 200


# ---------------------------------------------------------------- 11. the API's own types


@pytest.mark.parametrize(("call", "message"), [
    (lambda: sp.load(None), "spec: expected a spec file, examples:NAME or a dict, got NoneType"),
    (lambda: sp.load(5), "spec: expected a spec file, examples:NAME or a dict, got int 5"),
    (lambda: sp.load(b"x"), "spec: expected a spec file, examples:NAME or a dict, got bytes"),
    (lambda: sp.load(""), "spec: the file name is empty; give a spec file, examples:NAME or"),
    (lambda: sp.mlp(5), "mlp: sizes: must be a list of layer sizes [inputs, ..., outputs], "
                        "got int 5"),
    (lambda: sp.mlp(None), "mlp: sizes: must be a list of layer sizes"),
    (lambda: sp.mlp("21"), "mlp: sizes: must be a list of layer sizes"),
    (lambda: sp.mlp([2, 1], activation=None), "mlp: activation: must be a name, a mapping"),
    (lambda: sp.mlp([2, 1], activation=5), "mlp: activation: must be a name, a mapping"),
    (lambda: sp.mlp([np.float64(2), 1]), "mlp: inputs: must be a whole number >= 1"),
    (lambda: sp.mlp([np.bool_(True), 1]), "mlp: inputs: must be a whole number >= 1"),
    (lambda: sp.graph(None), "graph: must be a mapping {node: formula}, got NoneType"),
    (lambda: sp.graph({"a": "x"}, params=5), "params: must be a list of variable names"),
    (lambda: sp.expression("x", params="x"), "params: must be a list of variable names"),
])
def test_api_arguments_of_the_wrong_type_are_spec_errors(call, message):
    with pytest.raises(SpecError) as caught:
        call()
    assert str(caught.value).startswith(message)


def test_a_folder_is_not_a_spec(tmp_path):
    with pytest.raises(SpecError, match="is a folder; give a spec file"):
        sp.load(tmp_path)


def test_numpy_integers_are_whole_numbers():
    model = sp.mlp(np.array([2, 3, 1]))
    assert model.sizes == (2, 3, 1) and all(type(n) is int for n in model.sizes)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert model.sha256 == sp.mlp([2, 3, 1]).sha256
    assert sp.load({**NET, "inputs": np.int32(2)}).inputs == 2
