"""Hostile spec, values and data inputs (symbprop issues 22 and 23): each is refused early with
one line, a ``SymbpropError`` (exit 2 from the CLI), fast, and nothing is written; no wrong
gradient, hang, RecursionError or OverflowError.

Oracles: SymPy's ``diff`` of the composed function, and the old quadratic definition of the
graph order."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pytest
import sympy
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

import symbprop as sp
from symbprop.datasets import files
from symbprop.errors import SpecError, SymbpropError
from symbprop.files.yamltext import MAX_YAML_BYTES, MAX_YAML_DEPTH, MAX_YAML_NODES, load_yaml
from symbprop.spec.fields import Where
from symbprop.spec.formula import parse_formula
from symbprop.spec.graphs import MAX_NODES, _topological
from symbprop.spec.values import LARGE_LR, MAX_VALUE_SAMPLES, load_values
from symbprop.training.data import load_data
from symbprop.training.schedules import Schedule

FAST = 3.0  # CPU seconds: a refusal is immediate; generous for a slow machine


def refused(call, kind=SymbpropError) -> str:
    """The one-line message of the ``kind`` error that ``call()`` raises, within ``FAST`` seconds
    of this process's CPU time (wall time also counts other load on a shared machine)."""
    start = time.process_time()
    with pytest.raises(kind) as caught:
        call()
    assert time.process_time() - start < FAST
    message = str(caught.value)
    assert "\n" not in message and len(message) < 400, message[:400]
    return message


# ---------------------------------------------------------------- 1. names of adjoints

ADJOINT_NAMED = [  # (graph, output, params): a name that is d<output>_d<something>
    ({"q": "x + y", "f": "q * z * df_dq"}, "f", ["x", "y", "z", "df_dq"]),
    ({"q": "x + y", "f": "q * z * df_dq"}, "f", None),
    ({"df_dq": "x * y", "q": "x + 1", "f": "q * df_dq"}, "f", None),
    ({"q": "x + 1", "f": "q * df_dx"}, "f", None),
    ({"q": "x + 1", "my_out": "q * dmy_out_dq"}, "my_out", None),
    ({"q": "x + 1", "dg_dq": "q * 2", "g": "dg_dq + q"}, "g", None),
]


@pytest.mark.parametrize(("graph", "output", "params"), ADJOINT_NAMED)
def test_a_name_of_the_form_of_an_adjoint_is_refused(graph, output, params):
    """df_dq named ∂f/∂q: f = q·z·df_dq gave ∂f/∂z = 36 instead of 12 at (1, 2, 3, 4)."""
    message = refused(lambda: sp.graph(graph, output=output, params=params), SpecError)
    assert f"d{output}_d" in message and "rename" in message and "adjoint" in message


@pytest.mark.parametrize("text", ["df_dt1 * x + sin(x)", "x * df_dx", "dout_dx + f*x"])
def test_an_expression_variable_named_like_an_adjoint_is_refused(text):
    message = refused(lambda: sp.expression(text), SpecError)
    assert message.startswith("expression: ") and "rename" in message


def test_a_spec_file_names_the_field(tmp_path):
    path = tmp_path / "g.yaml"
    path.write_text('graph: {q: "x + y", f: "q * z * w"}\nparams: [x, y, z, w, df_dq]\n')
    assert refused(lambda: sp.load(path)).startswith(f"{path}: params[4]: 'df_dq' ")
    path.write_text('graph: {q: "x + y", f: "q * z * df_dq"}\n')
    assert refused(lambda: sp.load(path)).startswith(f"{path}: graph.f: 'df_dq' ")
    path.write_text('graph: {df_dq: "x + y", f: "df_dq * z"}\n')
    assert refused(lambda: sp.load(path)).startswith(f"{path}: graph.df_dq: 'df_dq' ")


@pytest.mark.parametrize(("graph", "output"), [
    ({"q": "x + y", "g": "q * z * df_dq"}, "g"),  # adjoints of g are dg_d...
    ({"q": "x + y", "f": "q * z * d_f + df + dff_dq"}, "f"),
])
def test_names_near_the_adjoint_form_still_work(graph, output):
    model = sp.graph(graph, output=output)
    point = {name: float(i + 2) for i, name in enumerate(model.params)}
    grad = sp.derive(model).evaluate(point)["grad"]
    symbols = {name: sympy.Symbol(name) for name in model.params}
    composed = parse_formula(graph[output], symbols | {"q": parse_formula(graph["q"], symbols)})
    for name, symbol in symbols.items():
        assert grad[name] == pytest.approx(float(composed.diff(symbol).subs(point)))


# ---------------------------------------------------------------- 2. graph order, node limit


def old_topological(texts: dict, deps: dict, params: tuple) -> list[str]:
    """The order as it was defined (quadratic): repeatedly the first node in spec order whose
    dependencies are all placed."""
    order: list[str] = []
    remaining = list(texts)
    while remaining:
        ready = [n for n in remaining if all(d in params or d in order for d in deps[n])]
        order.append(ready[0])
        remaining.remove(ready[0])
    return order


@st.composite
def dags(draw):
    n = draw(st.integers(1, 25))
    params = ("x", "y")
    later = draw(st.permutations(range(n)))  # node k may use the nodes before it in `later`
    names = [f"n{k}" for k in range(n)]
    deps = {}
    for rank, k in enumerate(later):
        earlier = [names[j] for j in later[:rank]]
        used = draw(st.lists(st.sampled_from(earlier + list(params)), max_size=4))
        deps[names[k]] = list(dict.fromkeys(used))
    texts = {name: " + ".join(deps[name]) or "1" for name in names}
    return texts, deps, params


@settings(max_examples=200, deadline=None)
@given(dags())
def test_the_order_is_the_old_order(dag):
    texts, deps, params = dag
    assert _topological(texts, deps, params, Where(None)) == old_topological(texts, deps, params)


def test_a_cycle_is_still_named():
    message = refused(lambda: sp.graph({"a": "b + x", "b": "a * 2", "c": "x"}), SpecError)
    assert message == "graph: the nodes a, b form a cycle"


def test_4000_nodes_load_in_well_under_a_second():
    """The order was cubic: 4000 nodes took 282 s."""
    chain = {"n0": "x + 1"} | {f"n{i}": f"n{i - 1} + x" for i in range(1, 4000)}
    texts = dict(reversed(chain.items()))  # the worst spec order for the old definition
    deps = {name: [d for d in ("x", f"n{int(name[1:]) - 1}") if d != "n-1"] for name in texts}
    # this thread's CPU only: process_time also counts the worker's other threads (BLAS,
    # Numba), which made this 0.8 s of a 9 ms sort under a full suite
    start = time.thread_time()
    order = _topological(texts, deps, ("x",), Where(None))
    assert time.thread_time() - start < 0.5
    assert order == list(chain)


def test_a_graph_of_more_than_max_nodes_is_refused_at_once():
    graph = {f"n{i}": "x + 1" for i in range(100_000)}
    message = refused(lambda: sp.graph(graph), SpecError)
    assert message == f"graph: has 100,000 nodes; at most {MAX_NODES:,} are supported"


# ---------------------------------------------------------------- 3. YAML

NOT_DECIMAL = ["1:20", "1:20:30", "190:20:30.15", "0o17", "017", "00", "0b101", "0x1F", "-0x1f",
               "1_000", "1_000_000_000", "1.5_0", "0b1_0", "+0o7"]


@pytest.mark.parametrize("text", NOT_DECIMAL)
def test_yaml_11_number_forms_are_text_not_numbers(text):
    """YAML 1.1 read units: 1:20 as 80 (base 60), 017 as 15 (octal), 1_000 as 1000."""
    assert load_yaml(f"v: {text}") == {"v": text}


@pytest.mark.parametrize(("text", "number"), [
    ("0", 0), ("-0", 0), ("12", 12), ("+12", 12), ("-3", -3), ("1e3", 1000.0),
    ("1.0e+3", 1000.0), ("2E-2", 0.02), (".5", 0.5), ("5.", 5.0), ("-1.25", -1.25),
    ("0.5", 0.5), (".inf", float("inf")), ("-.inf", float("-inf")), ("10" * 30, int("10" * 30)),
])
def test_decimal_numbers_are_still_numbers(text, number):
    value = load_yaml(f"v: {text}")["v"]
    assert value == number and type(value) is type(number)
    assert load_yaml("v: .nan")["v"] != load_yaml("v: .nan")["v"]  # a NaN


@pytest.mark.parametrize("text", NOT_DECIMAL)
def test_a_size_in_another_base_is_refused_where_a_number_is_expected(tmp_path, text):
    path = tmp_path / "net.yaml"
    path.write_text(f"inputs: 2\nlayers: [{{units: {text}}}]\nloss: sse\n")
    message = refused(lambda: sp.load(path), SpecError)
    assert message.startswith(f"{path}: layers[0].units: must be a whole number >= 1, got "
                              f"{text!r}; ") and "decimal" in message
    values = tmp_path / "v.yaml"
    values.write_text(f"x: 1\ny: 2\nlr: {text}\n")
    message = refused(lambda: load_values(sp.expression("x*y"), values))
    assert message.startswith(f"{values}: lr: must be a number, got {text!r}; ")


def nested(kind: str, depth: int) -> str:
    """A YAML document ``depth`` levels deep."""
    if kind == "block map":
        return "".join(" " * i + "a:\n" for i in range(depth))
    if kind == "block list":
        return "- " * depth + "1\n"
    if kind == "flow list":
        return "v: " + "[" * depth + "]" * depth + "\n"
    return "v: " + "{a: " * depth + "1" + "}" * depth + "\n"


DEEP = [("block map", 1000), *[(kind, depth) for kind in ("block list", "flow list", "flow map")
                               for depth in (1000, 10_000, 100_000)]]


@pytest.mark.parametrize(("kind", "depth"), DEEP)
def test_deep_nesting_is_refused_not_a_recursion_error(tmp_path, kind, depth):
    path = tmp_path / "deep.yaml"
    path.write_text(nested(kind, depth))
    message = refused(lambda: sp.load(path), SpecError)
    assert message.startswith(f"{path}: line ") and f"at most {MAX_YAML_DEPTH} levels" in message
    message = refused(lambda: load_values(sp.expression("x*y"), path))
    assert message.startswith(f"{path}: line ") and f"at most {MAX_YAML_DEPTH} levels" in message


def test_depth_through_aliases_is_counted():
    levels = MAX_YAML_DEPTH - 5
    text = "a: &a " + "[" * levels + "1" + "]" * levels + "\n"
    text += "b: &b " + "[" * levels + "*a" + "]" * levels + "\n"
    text += "c: [*b]\n"
    with pytest.raises(yaml.YAMLError, match=f"at most {MAX_YAML_DEPTH} levels"):
        load_yaml(text)
    assert load_yaml("a: &a [[1]]\nb: [*a, *a]\n") == {"a": [[1]], "b": [[[1]], [[1]]]}


def test_nesting_up_to_the_limit_loads():
    assert load_yaml("[" * MAX_YAML_DEPTH + "]" * MAX_YAML_DEPTH) is not None
    with pytest.raises(yaml.YAMLError, match=f"at most {MAX_YAML_DEPTH} levels"):
        load_yaml("[" * (MAX_YAML_DEPTH + 1) + "]" * (MAX_YAML_DEPTH + 1))


def test_without_libyaml_the_same_rules_hold(monkeypatch):
    """PyYAML built without libyaml: the pure-Python parser under the same loader."""
    import importlib

    from symbprop.files import yamltext

    monkeypatch.setitem(sys.modules, "yaml._yaml", None)  # the import of CParser fails
    try:
        importlib.reload(yamltext)
        assert yamltext._SafeBase is yaml.SafeLoader
        assert yamltext.load_yaml("v: 1:20\nw: 1e-3\n") == {"v": "1:20", "w": 0.001}
        for text in ("[" * 10_000 + "]" * 10_000, "- " * 10_000 + "1"):
            with pytest.raises(yaml.YAMLError, match=f"at most {MAX_YAML_DEPTH} levels"):
                yamltext.load_yaml(text)
        with pytest.raises(yaml.YAMLError, match="duplicate key 'a'"):
            yamltext.load_yaml("a: 1\na: 2\n")
    finally:
        monkeypatch.undo()
        importlib.reload(yamltext)
    assert yamltext._SafeBase is not yaml.SafeLoader


@pytest.mark.parametrize("what", ["key", "comment", "sparse"])
def test_a_spec_or_values_file_over_the_size_limit_is_refused(tmp_path, what):
    path = tmp_path / "big.yaml"
    if what == "sparse":  # 100 MB that would take minutes to scan: refused by its size
        with open(path, "wb") as stream:
            stream.truncate(100_000_000)
    else:
        body = "k" * 3_000_000 + ": 1\n" if what == "key" else "#" * 3_000_000 + "\n"
        path.write_text("inputs: 2\nlayers: [{units: 1}]\nloss: sse\n" + body)
    size = path.stat().st_size
    limit = f"at most {MAX_YAML_BYTES:,} bytes"
    assert refused(lambda: sp.load(path), SpecError) == (
        f"{path}: the file is {size:,} bytes; a spec file is {limit}")
    assert refused(lambda: load_values(sp.expression("x*y"), path)) == (
        f"{path}: the file is {size:,} bytes; a values file is {limit}")


def test_a_file_of_exactly_the_limit_is_read(tmp_path):
    path = tmp_path / "v.yaml"
    text = "x: 1\ny: 2\n"
    path.write_text(text + "#" * (MAX_YAML_BYTES - len(text) - 1) + "\n")
    assert path.stat().st_size == MAX_YAML_BYTES
    assert load_values(sp.expression("x*y"), path).params == {"x": 1.0, "y": 2.0}


@pytest.mark.parametrize("device", ["fifo", "/dev/zero", "/dev/urandom", "/dev/null"])
def test_a_fifo_or_device_is_refused_without_reading(tmp_path, device):
    """A FIFO blocked the open for ever; /dev/zero and /dev/urandom were read without end."""
    path = device
    if device == "fifo":
        path = str(tmp_path / "fifo.yaml")
        os.mkfifo(path)
    kind = "a FIFO" if device == "fifo" else "a device"
    assert refused(lambda: sp.load(path), SpecError) == (
        f"{path}: is {kind}, not a regular file; give a spec file (YAML)")
    assert refused(lambda: load_values(sp.expression("x*y"), path)) == (
        f"{path}: is {kind}, not a regular file; give a values file (YAML)")


@pytest.mark.parametrize("units", ["1_000_000_000", "1000000000", "100000 * 100000"])
def test_huge_sizes_are_refused_before_any_work(tmp_path, units):
    path = tmp_path / "net.yaml"
    path.write_text(f"inputs: 100000\nlayers: [{{units: {units}}}, {{units: 1}}]\nloss: sse\n")
    message = refused(lambda: sp.load(path), SpecError)
    assert message.startswith(f"{path}: layers") and ("at most 100,000,000" in message
                                                      or "whole number" in message)


# ---------------------------------------------------------------- 4. values

NET_VALUES = "x: [1, 2]\ny: 0.5\nparams: {{W1: [[{w}, 1]], b1: [0]}}\n{extra}"
BIG_INT = "1" + "0" * 400


def network_values(tmp_path, w="1", extra=""):
    path = tmp_path / "values.yaml"
    path.write_text(NET_VALUES.format(w=w, extra=extra))
    return path


def test_an_integer_beyond_float_range_is_refused(tmp_path):
    """10**400 was an OverflowError from math.isfinite."""
    net = sp.mlp([2, 1], activation="identity")
    path = network_values(tmp_path, w=BIG_INT)
    assert refused(lambda: load_values(net, path)) == (
        f"{path}: params.W1[0][0]: must be a number of at most 1.8e308 in size (a float), got "
        "(an integer of about 400 digits)")
    graph = sp.expression("x*y")
    path.write_text(f"x: 1\ny: -{BIG_INT}\n")
    assert refused(lambda: load_values(graph, path)).startswith(f"{path}: y: must be a number of ")
    assert refused(lambda: load_values(graph, {"x": 1, "y": 2, "lr": 10**400})).startswith(
        "lr: must be a number of at most 1.8e308 in size")
    assert load_values(graph, {"x": 10**300, "y": 2}).params == {"x": 1e300, "y": 2.0}


@pytest.mark.parametrize("rows", [MAX_VALUE_SAMPLES + 1, 100_000])
def test_a_batch_in_a_values_file_is_bounded(tmp_path, rows):
    """100 000 rows took a minute to read."""
    net = sp.mlp([1, 1])
    path = tmp_path / "values.yaml"
    path.write_text("X: [" + ",".join(["0"] * rows) + "]\nY: [" + ",".join(["1"] * rows)
                    + "]\nparams: {W1: [[1]], b1: [0]}\n")
    message = refused(lambda: load_values(net, path))
    if rows == MAX_VALUE_SAMPLES + 1:
        assert message == (
            f"{path}: X: has {rows:,} samples; a values file holds at most "
            f"{MAX_VALUE_SAMPLES:,} (train on big data from a CSV or NPZ file with --data)")
    else:
        assert message == (
            f"{path}: line 1: not valid YAML (more than {MAX_YAML_NODES:,} values; a spec or "
            f"values file holds at most {MAX_YAML_NODES:,} (big data go in a CSV or NPZ file: "
            "--data))")


def test_a_batch_of_max_value_samples_loads():
    net = sp.mlp([1, 1])
    rows = [[float(i)] for i in range(MAX_VALUE_SAMPLES)]
    values = load_values(net, {"X": rows, "Y": rows, "params": {"W1": [[1]], "b1": [0]}})
    assert len(values.X) == MAX_VALUE_SAMPLES


def test_a_huge_learning_rate_warns(tmp_path):
    with pytest.warns(UserWarning, match=r"^lr: 1e\+300 is more than 1,000,000: a step of "
                                         "gradient descent this long"):
        assert load_values(sp.expression("x*y"), {"x": 1, "y": 2, "lr": 1e300}).lr == 1e300
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        load_values(sp.expression("x*y"), {"x": 1, "y": 2, "lr": LARGE_LR})


def test_fit_and_train_warn_of_a_huge_learning_rate_at_the_callers_line():
    """A rate above LARGE_LR passed to ``fit`` (a network's, a graph's) or to
    ``training.train`` warns, from the line that asked for it; LARGE_LR itself does not."""
    from symbprop.training.loop import train

    net = sp.compile("examples:xor")
    X, Y = np.array([[0.0, 1.0], [1.0, 0.0]]), np.array([[1.0], [1.0]])
    graph = sp.compile(sp.expression("x*y"))
    calls = [lambda lr: net.fit(net.init_params(0), X, Y, lr=lr, epochs=1, progress=False),
             lambda lr: graph.fit({"x": 1.0, "y": 2.0}, lr=lr, epochs=1, progress=False),
             lambda lr: train(net, net.init_params(0), X, Y, lr=lr, epochs=1, progress=False)]
    for call in calls:
        with pytest.warns(UserWarning, match=r"^lr: 1e\+300 is more than 1,000,000: a step of "
                                             "gradient descent this long") as caught:
            call(1e300)
        assert [Path(w.filename).name for w in caught] == [Path(__file__).name]
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            call(LARGE_LR)


@pytest.mark.parametrize(("spec", "values"), [
    ({"expression": "x*y"}, "x: 1.0e200\ny: 1.0e200\n"),
    ({"inputs": 1, "layers": [{"units": 1, "activation": "identity"}], "loss": "sse"},
     "x: 1.0e200\ny: 0\nparams: {W1: [[1.0e200]], b1: [0]}\n"),
])
def test_values_that_overflow_the_forward_pass_are_refused(tmp_path, spec, values):
    path = tmp_path / "v.yaml"
    path.write_text(values)
    model = sp.load(spec)
    assert "overflows the float range" in refused(lambda: sp.derive(model).evaluate(path))


# ---------------------------------------------------------------- 6. did you mean

NET = {"inputs": 2, "layers": [{"units": 1}], "loss": "sse"}


@pytest.mark.parametrize(("spec", "start"), [
    ({**NET, "layer": []}, "layer: unknown field (did you mean 'layers'?); allowed: name, "),
    ({**NET, "lossy": "sse"}, "lossy: unknown field (did you mean 'loss'?); allowed: "),
    ({**NET, "layers": [{"unit": 1}]},
     "layers[0].unit: unknown field (did you mean 'units'?); allowed: units, "),
    ({**NET, "layers": [{"units": 1, "activation": "sigmoidd"}]},
     "layers[0].activation: unknown activation 'sigmoidd' (did you mean 'sigmoid'?); allowed: "),
    ({**NET, "layers": [{"units": 1, "activation": {"name": "leaky_rel"}}]},
     "layers[0].activation.name: unknown activation 'leaky_rel' (did you mean 'leaky_relu'?); "),
    ({**NET, "loss": "mes"}, "loss: unknown loss 'mes' (did you mean 'mse'?); allowed: "),
    ({**NET, "loss": {"name": "cross_entropi"}},
     "loss: unknown loss 'cross_entropi' (did you mean 'cross_entropy'?); allowed: "),
    ({**NET, "reduction": "meen"}, "reduction: 'meen' is not allowed (did you mean 'mean'?); "),
    ({"graph": {"q": "x + y", "out": "q * 2"}, "output": "outt"},
     "output: 'outt' is not a node (did you mean 'out'?); nodes: q, out"),
    ({"graph": {"q": "x"}, "outpt": "q"}, "outpt: unknown field (did you mean 'output'?); "),
    ({"expression": "x", "param": ["x"]}, "param: unknown field (did you mean 'params'?); "),
    ({"inputs": 2, "layer": [{"units": 1}], "loss": "sse"}, "a spec needs 'layers' (a network), "
     "'graph' or 'expression'; found 'layer' (did you mean 'layers'?)"),
    ({"grahp": {"q": "x"}}, "a spec needs 'layers' (a network), 'graph' or 'expression'; found "
     "'grahp' (did you mean 'graph'?)"),
])
def test_a_near_miss_names_the_closest_match(spec, start):
    assert refused(lambda: sp.load(spec), SpecError).startswith(start)


@pytest.mark.parametrize(("spec", "field"), [
    ({**NET, "colour": "red"}, "colour: unknown field; allowed: "),
    ({**NET, "loss": "hinge"}, "loss: unknown loss 'hinge'; allowed: "),
    ({**NET, "layers": [{"units": 1, "activation": "q" * 64}]}, "layers[0].activation: unknown "),
])
def test_no_suggestion_without_a_close_match(spec, field):
    message = refused(lambda: sp.load(spec), SpecError)
    assert message.startswith(field) and "did you mean" not in message


def test_values_and_schedules_name_the_closest_match():
    graph = sp.expression("alpha * beta")
    assert refused(lambda: load_values(graph, {"alpha": 1, "betta": 2})) == (
        "betta: unknown variable (did you mean 'beta'?); allowed: alpha, beta, lr, upstream")
    net = sp.mlp([1, 1])
    assert refused(lambda: load_values(net, {"x": 1, "y": 1, "param": {}})).startswith(
        "param: unknown field (did you mean 'params'?); allowed: x, X, y, Y, params, lr")
    assert refused(lambda: load_values(net, {"x": 1, "y": 1, "params": {"W": 1}})).startswith(
        "params.W: unknown parameter (did you mean 'W1'?); expected W1")
    assert refused(lambda: Schedule("stepp")) == (
        "schedule: unknown 'stepp' (did you mean 'step'?); allowed: constant, step, inverse, "
        "exponential")


# ---------------------------------------------------------------- 5. data files


def numeric_csv(path, rows: int, bad: str | None = None) -> None:
    """x1,x2,y with ``rows`` rows (y = 1 when x1 > 0); ``bad`` replaces the last row's x2."""
    rng = np.random.default_rng(0)
    X = np.round(rng.standard_normal((rows, 2)), 6)
    body = "\n".join(f"{a},{b},{int(a > 0)}" for a, b in X.tolist())
    if bad is not None:
        body = body[:body.rindex("\n") + 1] + f"0.5,{bad},1"
    path.write_text("x1,x2,y\n" + body + "\n")


def test_a_big_csv_loads_fast_with_the_same_numbers(tmp_path):
    """A million rows took 19 s (five million: minutes, and gigabytes)."""
    path = tmp_path / "big.csv"
    numeric_csv(path, 300_000)
    start = time.process_time()
    data = load_data(sp.mlp([2, 1]), path, test_fraction=0)
    assert time.process_time() - start < 5
    expected = np.loadtxt(path, delimiter=",", skiprows=1)  # NumPy reads the file itself
    assert np.array_equal(data.train.X, expected[:, :2])
    assert np.array_equal(data.train.Y[:, 0], expected[:, 2]) and data.task == "binary"


@pytest.mark.parametrize(("bad", "message"), [
    ("1_000", "'1_000' is not a number (digits only: no _ or other separators)"),
    ("nan", "nan is not allowed (values must be finite)"),
    ("1e999", "1e999 is not allowed (values must be finite)"),
    ("", "empty cell (missing value)"),
    ("٣", "'٣' is not a number"),
    ("1.2.3", "'1.2.3' is not a number"),
])
def test_a_bad_cell_deep_in_a_big_csv_is_named(tmp_path, monkeypatch, bad, message):
    """The bad cell is in the fifth chunk: its row and line count the chunks before it."""
    monkeypatch.setattr(files, "CHUNK_ROWS", 500)
    path = tmp_path / "big.csv"
    numeric_csv(path, 2_400, bad)
    assert refused(lambda: load_data(sp.mlp([2, 1]), path), sp.DataError) == (
        f"{path}: row 2400 (line 2401), column 'x2': {message}")


def test_class_names_in_a_big_csv(tmp_path):
    path = tmp_path / "labels.csv"
    rows = 100_000
    path.write_text("a,b,kind\n" + "".join(f"{i % 7},{i % 3},{'cat' if i % 2 else 'dog'}\n"
                                           for i in range(rows)))
    data = load_data(sp.mlp([2, 2]), path, test_fraction=0)
    assert data.class_names == ("cat", "dog")
    assert data.train.labels.tolist() == [1 - i % 2 for i in range(rows)]


def test_a_csv_over_the_row_limit_is_refused_naming_npz(tmp_path, monkeypatch):
    monkeypatch.setattr(files, "MAX_CSV_ROWS", 1000)
    path = tmp_path / "big.csv"
    numeric_csv(path, 1000)
    assert len(load_data(sp.mlp([2, 1]), path, test_fraction=0).train) == 1000
    numeric_csv(path, 1001)
    assert refused(lambda: load_data(sp.mlp([2, 1]), path), sp.DataError) == (
        f"{path}: more than 1,000 data rows; a CSV file holds at most 1,000 (at most "
        f"{files.MAX_CSV_CELLS:,} cells); give big data as an NPZ file (arrays X and y)")


def test_a_wide_csv_over_the_cell_limit_is_refused(tmp_path, monkeypatch):
    monkeypatch.setattr(files, "MAX_CSV_CELLS", 3000)
    path = tmp_path / "big.csv"
    numeric_csv(path, 1001)
    assert refused(lambda: load_data(sp.mlp([2, 1]), path), sp.DataError).startswith(
        f"{path}: more than 1,000 data rows; a CSV file holds at most 1,000 (at most 3,000 cells)")


def test_a_csv_over_the_size_limit_is_refused_at_once(tmp_path):
    path = tmp_path / "huge.csv"
    with open(path, "wb") as stream:
        stream.write(b"x1,x2,y\n")
        stream.truncate(files.MAX_CSV_BYTES + 1)
    assert refused(lambda: load_data(sp.mlp([2, 1]), path), sp.DataError) == (
        f"{path}: the file is {files.MAX_CSV_BYTES + 1:,} bytes; a CSV file is at most "
        f"{files.MAX_CSV_BYTES:,} bytes; give big data as an NPZ file (arrays X and y)")


@pytest.mark.parametrize("device", ["fifo", "/dev/zero", "/dev/urandom"])
def test_a_fifo_or_device_is_not_data(tmp_path, device):
    path = device
    if device == "fifo":
        path = str(tmp_path / "data.csv")
        os.mkfifo(path)
    assert refused(lambda: load_data(sp.mlp([2, 1]), path), sp.DataError) == (
        f"{path}: not a file")


# ---------------------------------------------------------------- the command line

CLI_FILES = {  # name: contents (None: made below)
    "deep.yaml": "v: " + "[" * 100_000 + "]" * 100_000 + "\n",
    "sexagesimal.yaml": "inputs: 2\nlayers: [{units: 1:20}]\nloss: sse\n",
    "typo.yaml": "inputs: 2\nlayer: [{units: 1}]\nloss: sse\n",
    "huge.yaml": "inputs: 2\nlayers: [{units: 1}]\nloss: sse\n" + "#" * 3_000_000 + "\n",
    "adjoint.yaml": 'graph: {q: "x + y", f: "q * z * df_dq"}\n',
    "nodes.yaml": "graph:\n" + "".join(f"  n{i}: x + 1\n" for i in range(MAX_NODES + 1)),
    "bigint.values.yaml": f"x: [1, 2]\ny: 0.5\nparams: {{W1: [[{BIG_INT}, 1]], b1: [0]}}\n",
    "rows.values.yaml": "X: [" + ",".join(["[0, 1]"] * 1_500) + "]\ny: 1\n",
    "many.values.yaml": "X: [" + ",".join(["[0, 1]"] * 30_000) + "]\ny: 1\n",
    "expression.yaml": "expression: x*y + z\n",
    "octal.values.yaml": "x: 017\ny: 1\nz: 2\n",
    "net.yaml": "inputs: 2\nlayers: [{units: 1}]\nloss: sse\n",
    "bad.csv": "x1,x2,y\n" + "0.5,1,1\n" * 1000 + "0.5,1_000,1\n",
}
CLI_CASES = [  # (category, arguments, part of the message)
    ("spec", ["derive", "deep.yaml"], "at most 50 levels"),
    ("spec", ["derive", "sexagesimal.yaml", "-o", "out.pdf"], "got '1:20'"),
    ("spec", ["derive", "typo.yaml"], "did you mean 'layers'"),
    ("spec", ["derive", "huge.yaml"], "a spec file is at most 1,000,000 bytes"),
    ("spec", ["derive", "fifo.yaml"], "is a FIFO, not a regular file"),
    ("spec", ["derive", "/dev/zero"], "is a device, not a regular file"),
    ("graph", ["derive", "adjoint.yaml"], "rename it"),
    ("graph", ["derive", "nodes.yaml", "-o", "out.txt"], f"at most {MAX_NODES:,} are supported"),
    ("values", ["check", "net.yaml", "--at", "bigint.values.yaml"], "at most 1.8e308 in size"),
    ("values", ["check", "net.yaml", "--at", "rows.values.yaml"], "at most 1,000 (train on"),
    ("values", ["check", "net.yaml", "--at", "many.values.yaml"], "at most 50,000 (big data"),
    ("values", ["check", "expression.yaml", "--at", "octal.values.yaml"], "got '017'"),
    ("values", ["check", "net.yaml", "--at", "deep.yaml"], "at most 50 levels"),
    ("values", ["derive", "net.yaml", "--at", "fifo.yaml"], "is a FIFO"),
    ("values", ["derive", "net.yaml", "--at", "/dev/urandom"], "is a device"),
    ("data", ["train", "net.yaml", "--data", "bad.csv", "--epochs", "1"], "'1_000' is not a num"),
    ("data", ["train", "net.yaml", "--data", "fifo.yaml", "--epochs", "1"], "not a file"),
    ("data", ["train", "net.yaml", "--data", "/dev/zero", "--epochs", "1"], "not a file"),
]


@pytest.fixture(scope="module")
def cli_folder(tmp_path_factory):
    folder = tmp_path_factory.mktemp("cli")
    for name, text in CLI_FILES.items():
        (folder / name).write_text(text)
    os.mkfifo(folder / "fifo.yaml")
    return folder


#: Runs ``python -m symbprop ARGS`` for each list of arguments in the JSON file argv[1], one
#: after another in this one process, as ``python -m`` does (``runpy``), and prints, per case,
#: the exit status, stdout, stderr (an exception that escaped, with its traceback), the seconds
#: and the names in the current folder after it.
BATCH = r"""
import contextlib, io, json, os, runpy, sys, time, traceback
results = []
for args in json.load(open(sys.argv[1], encoding="utf-8")):
    out, err, status = io.StringIO(), io.StringIO(), 0
    sys.argv = ["symbprop", *args]
    start = time.perf_counter()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            runpy.run_module("symbprop", run_name="__main__", alter_sys=True)
        except SystemExit as stop:
            status = stop.code if isinstance(stop.code, int) else int(stop.code is not None)
        except BaseException:
            err.write(traceback.format_exc())
            status = 1
    results.append({"args": args, "status": status, "stdout": out.getvalue(),
                    "stderr": err.getvalue(), "seconds": time.perf_counter() - start,
                    "names": sorted(os.listdir("."))})
print(json.dumps(results))
"""


@pytest.fixture(scope="module")
def refusals(cli_folder, tmp_path_factory) -> dict:
    """{arguments: what ``python -m symbprop`` did with them} for every case of ``CLI_CASES``,
    run in one Python process in ``cli_folder`` (one process per case took 0.8 s each, most of
    it Python's, SymPy's and Numba's start-up)."""
    listing = tmp_path_factory.mktemp("cases") / "cases.json"
    listing.write_text(json.dumps([args for _, args, _ in CLI_CASES]), encoding="utf-8")
    before = sorted(os.listdir(cli_folder))
    done = subprocess.run([sys.executable, "-c", BATCH, str(listing)], capture_output=True,
                          text=True, cwd=cli_folder, timeout=300,
                          env={**os.environ, "SYMBPROP_CACHE_DIR": str(cli_folder / ".cache")})
    assert done.returncode == 0, done.stderr[-2000:]
    results = {tuple(result["args"]): result for result in json.loads(done.stdout)}
    for result in results.values():
        result["new names"] = set(result["names"]) - {".cache"} - set(before)
    return results


@pytest.mark.parametrize(("category", "args", "part"), CLI_CASES,
                         ids=[f"{c}-{' '.join(a)[:40]}" for c, a, _ in CLI_CASES])
def test_the_cli_refuses_with_exit_2_one_line_and_no_file(refusals, category, args, part):
    """Exit 2, one line on stderr, no traceback, nothing on stdout, fast, and no file written
    in the folder."""
    done = refusals[tuple(args)]
    assert done["status"] == 2, done["stderr"][-2000:]
    assert "Traceback" not in done["stderr"] and done["stderr"].strip().count("\n") == 0, (
        done["stderr"])
    assert done["stdout"] == ""
    assert done["seconds"] < 15
    assert not done["new names"], done["new names"]
    assert part in done["stderr"]


# ---------------------------------------------------------------- params from an .npz file


def test_params_from_a_saved_npz_equal_the_same_numbers_inline(tmp_path):
    from symbprop.files.params import save_params

    model = sp.load("examples:two_two_one")
    inline = load_values(model, "examples:two_two_one")
    save_params(tmp_path / "p.npz", {k: np.array(v) for k, v in inline.params.items()}, model)
    at = tmp_path / "at.yaml"
    at.write_text(f"x: {inline.X[0]}\ny: {inline.Y[0]}\nlr: {inline.lr}\nparams: p.npz\n")
    saved = load_values(model, at)
    assert saved.params == inline.params and saved.X == inline.X and saved.lr == inline.lr


@pytest.mark.parametrize(("params", "make", "message"), [
    ("gone.npz", None, "params: {dir}/gone.npz: No such file or directory"),
    ("p.yaml", None, "params: must be a mapping of the parameters or the path of an .npz file "
                     "saved by symbprop train --save, got 'p.yaml'"),
    ("big.npz", "big", "params: {dir}/big.npz: 1,048,780 bytes is more than 1,048,720"),
    ("other.npz", "other", "params: {dir}/other.npz: "),
])
def test_params_from_an_npz_file_are_checked(tmp_path, params, make, message):
    from symbprop.files.params import save_params

    model = sp.load("examples:two_two_one")
    if make == "big":
        (tmp_path / "big.npz").write_bytes(b"PK\x03\x04" + bytes(2**20 + 200))
    elif make == "other":
        save_params(tmp_path / "other.npz", {"W1": np.zeros((3, 3))})
    at = tmp_path / "at.yaml"
    at.write_text(f"x: [1, 2]\ny: [1]\nparams: {params}\n")
    text = refused(lambda: load_values(model, at), sp.ValuesError)
    assert text.startswith(f"{at}: " + message.format(dir=tmp_path)), text
