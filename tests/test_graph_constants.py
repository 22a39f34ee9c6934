"""Constants (data that is not trained) and an upstream gradient that seeds the backward pass
(issue 17, seed 003's "look at one node": w = 1, x = 2, v = 3, y = 4, u = 2, ∂L/∂c = 2).

Every gradient is checked against an oracle written here: ``sympy.diff`` of the composed
expression typed in this file, times the upstream gradient, or central differences of it.
"""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
import sympy
from typer.testing import CliRunner

import symbprop as sp
from symbprop.cli.app import app
from symbprop.codegen.generator import source
from symbprop.training import descent as gd
from tests.documents import example_document

W, X, V, Y, U = sympy.symbols("w x v y u")
C = U * (W * X + V * Y)  # seed 003: i = w·x, j = v·y, h = i + j, c = u·h
POINT = {W: 1, X: 2, V: 3, Y: 4, U: 2}
UPSTREAM = 2
ONE_NODE = {"name": "one_node_test", "graph": {"i": "w * x", "j": "v * y", "h": "i + j",
                                               "c": "u * h"},
            "output": "c", "params": ["w", "v", "u"], "constants": ["x", "y"]}
AT = {"w": 1, "x": 2, "v": 3, "y": 4, "u": 2, "lr": 0.1, "upstream": 2}


def oracle_grad(expr=C, point=POINT, upstream=UPSTREAM, params=(W, V, U)) -> dict:
    """∂L/∂θ = upstream · ∂c/∂θ by sympy.diff of the composed expression above."""
    return {str(p): float(upstream * sympy.diff(expr, p).subs(point)) for p in params}


def central(f, x: dict, name: str, h: float = 1e-6) -> float:
    plus, minus = dict(x), dict(x)
    plus[name] += h
    minus[name] -= h
    return (f(plus) - f(minus)) / (2 * h)


# ---------------------------------------------------------------- the example of seed 003


def test_one_node_is_seed_003s_example_exactly():
    d = sp.derive(sp.load("examples:one_node"))
    result = d.evaluate("examples:one_node")
    assert result["grad"] == {"w": 8.0, "v": 16.0, "u": 28.0}
    assert result["grad"] == oracle_grad()
    assert d.params == ("w", "v", "u")  # x and y are data
    assert sp.load("examples:one_node").constants == ("x", "y")
    # ∂L/∂h = ∂L/∂c · u = 4, and every intermediate is ∂L/∂·
    assert result["adjoint"] == {"dL_dh": 4.0, "dL_dj": 4.0, "dL_di": 4.0}
    assert result["loss"] == 28.0 and result["upstream"] == 2.0
    assert result["step"]["params"] == pytest.approx({"w": 0.2, "v": 1.4, "u": -0.8})


def test_without_upstream_the_gradients_are_the_outputs():
    d = sp.derive(sp.load(ONE_NODE))
    at = {k: v for k, v in AT.items() if k != "upstream"}
    assert d.evaluate(at)["grad"] == oracle_grad(upstream=1)
    assert d.evaluate(at)["adjoint"] == {"dc_dh": 2.0, "dc_dj": 2.0, "dc_di": 2.0}


def test_the_upstream_seeds_the_backward_pass_symbolically():
    d = sp.derive(sp.load(ONE_NODE)).seeded
    seed = sympy.Symbol("dL_dc")
    assert d.seed == seed and d.top == sympy.Symbol("L")
    for name in ("w", "v", "u"):  # composed, ∂L/∂θ = ∂L/∂c · ∂c/∂θ
        composed = d.compose(d.gradient(name))
        assert sympy.simplify(composed - seed * sympy.diff(C, sympy.Symbol(name))) == 0
    path = d.chain("w")[0]
    assert (path[0].of, path[0].wrt, path[0].value) == (sympy.Symbol("L"), sympy.Symbol("c"),
                                                       seed)
    assert d.seeded is d


@pytest.mark.parametrize("upstream", [2.0, -0.5, 3.25])
def test_gradients_at_other_points_match_central_differences(upstream):
    d = sp.derive(sp.load(ONE_NODE))
    at = {"w": 0.3, "x": -1.2, "v": 2.5, "y": 0.7, "u": -1.1, "upstream": upstream}
    f = sympy.lambdify([W, X, V, Y, U], upstream * C)

    def loss(p):
        return f(p["w"], p["x"], p["v"], p["y"], p["u"])

    point = {k: v for k, v in at.items() if k != "upstream"}
    grad = d.evaluate(at)["grad"]
    assert set(grad) == {"w", "v", "u"}
    for name in grad:
        assert grad[name] == pytest.approx(central(loss, point, name), rel=1e-8)


def test_an_expression_may_declare_constants_too():
    model = sp.expression("(x - a)**2 * b", params=["x"], constants=["a", "b"])
    d = sp.derive(model)
    x, a, b = sympy.symbols("x a b")
    grad = d.evaluate({"x": 1.5, "a": 4.0, "b": 3.0})["grad"]
    assert grad == {"x": float(sympy.diff((x - a) ** 2 * b, x).subs({x: 1.5, a: 4, b: 3}))}
    inferred = sp.load({"expression": "w * t + 1", "constants": ["t"]})
    assert inferred.params == ("w",) and inferred.constants == ("t",)


# ---------------------------------------------------------------- refusals


def cli(*args):
    return CliRunner().invoke(app, list(args))


def write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def test_a_name_cannot_be_both_a_parameter_and_a_constant(tmp_path):
    spec = write(tmp_path, "both.yaml", 'graph: {i: "w * x"}\nparams: [w, x]\nconstants: [x]\n')
    result = cli("derive", spec)
    assert result.exit_code == 2
    assert (f"{spec}: constants[0]: 'x' is both a parameter (params[1]) and a constant"
            in result.output)
    assert "Traceback" not in result.output
    with pytest.raises(sp.SpecError, match=r"constants\[0\]: 'i' is both a constant and a node"):
        sp.load({"graph": {"i": "w * x"}, "constants": ["i"]})
    with pytest.raises(sp.SpecError, match="constants: duplicate names: x"):
        sp.load({"graph": {"i": "w * x"}, "constants": ["x", "x"]})
    with pytest.raises(sp.SpecError, match="constants: must be a list of variable names"):
        sp.load({"graph": {"i": "w * x"}, "constants": "x"})
    with pytest.raises(sp.SpecError, match=r"constants\[0\]: 'lr' cannot name a variable"):
        sp.load({"graph": {"i": "w * lr"}, "constants": ["lr"]})


def test_a_constant_needs_a_value(tmp_path):
    values = write(tmp_path, "v.yaml", "w: 1\nv: 3\nu: 2\ny: 4\n")
    result = cli("derive", "examples:one_node", "--at", values)
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert f"{values}: missing values for the constant x" in result.output
    with pytest.raises(sp.ValuesError, match="missing values for the constants x, y"):
        sp.derive(sp.load(ONE_NODE)).evaluate({"w": 1, "v": 3, "u": 2})
    with pytest.raises(sp.ValuesError, match="x: must be a number"):
        sp.derive(sp.load(ONE_NODE)).evaluate(AT | {"x": "two"})


def test_a_graph_without_constants_keeps_its_spec_hash_and_kernels():
    staged = sp.load("examples:staged")
    assert "constants" not in staged.spec and staged.constants == ()
    assert "const" not in source(staged).split("def forward")[1].split(":")[0]


# ---------------------------------------------------------------- kernels and check


def test_kernels_take_the_constants_after_theta():
    model = sp.load(ONE_NODE)
    text = source(model)
    assert "def forward(theta, const):" in text and "CONST_NAMES = ('x', 'y')" in text
    assert "PARAM_NAMES = ('w', 'v', 'u')" in text
    k = sp.compile(model)
    point = {"w": 1.0, "x": 2.0, "v": 3.0, "y": 4.0, "u": 2.0}
    value, grads = k.loss_and_grad(point)
    assert value == 28.0 and grads == oracle_grad(upstream=1)
    theta, const = np.array([1.0, 3.0, 2.0]), np.array([2.0, 4.0])
    assert k.module.forward(theta, const) == 28.0  # the module itself, as DESIGN describes
    assert k.sgd_step(point, 0.1) == pytest.approx({"w": 0.6, "v": 2.2, "u": 0.6})
    params = dict(point)
    k.fit(params, lr=0.01, epochs=3, progress=False)
    assert params["x"] == 2.0 and params["y"] == 4.0 and params["w"] != 1.0
    with pytest.raises(sp.SymbpropError, match="missing the constant y"):
        k.loss_and_grad({"w": 1.0, "x": 2.0, "v": 3.0, "u": 2.0})


def test_check_passes_for_a_graph_with_constants():
    report = sp.check(sp.load("examples:one_node"), values="examples:one_node", samples=3)
    assert report.ok
    assert sp.check(sp.load(ONE_NODE), samples=2).ok  # random constants too


def test_generated_one_node_module_imports_without_symbprop(tmp_path):
    path = sp.generate(sp.load("examples:one_node"), tmp_path)
    code = (f"import importlib.util, sys, numpy as np\n"
            f"spec = importlib.util.spec_from_file_location('k', {str(path)!r})\n"
            "m = importlib.util.module_from_spec(spec); spec.loader.exec_module(m)\n"
            "print(m.CONST_NAMES, m.loss_and_grad(np.array([1., 3., 2.]), np.array([2., 4.])))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "('x', 'y') (28.0, array([ 4.,  8., 14.]))" in done.stdout


# ---------------------------------------------------------------- gradient descent


def test_descent_moves_only_the_parameters():
    objective = gd.Objective(sp.load("examples:one_node"), constants={"x": 2, "y": 4},
                             upstream=2)
    assert objective.names == ("w", "v", "u") and objective.function == "L"
    value, grad = objective.evaluate(np.array([1.0, 3.0, 2.0]))
    assert value == 2 * 28 and grad.tolist() == [8.0, 16.0, 28.0]
    run = gd.descend(objective, {"w": 1, "v": 3, "u": 2}, lr=0.1, steps=1)
    assert run.iterates[1].tolist() == pytest.approx([0.2, 1.4, -0.8])
    with pytest.raises(sp.SymbpropError, match="constants: missing y"):
        gd.Objective(sp.load("examples:one_node"), constants={"x": 2})


def test_train_command_moves_only_w_v_u():
    result = cli("train", "examples:one_node", "--steps", "2")
    assert result.exit_code == 0, result.output
    assert "from w = 1, v = 3, u = 2; constants x = 2, y = 4 held fixed" in result.output
    assert "L = 2*u*(4*v + 2*w)" in result.output and "L = 2·c" in result.output
    header = next(line for line in result.output.splitlines() if "┃ k" in line)
    assert [c.strip() for c in header.split("┃")[1:-1]] == ["k", "w", "v", "u", "L", "α‖∇L‖"]
    assert "0.2" in result.output and "-0.8" in result.output  # θ − 0.1·(8, 16, 28)


# ---------------------------------------------------------------- documents


@pytest.mark.parametrize("fmt", ["txt", "md", "tex"])
def test_documents_speak_of_dl_and_show_the_seed(fmt):
    doc = example_document("one_node", True, fmt)
    partial = {"txt": "∂L/∂", "md": r"\frac{\partial L}{\partial", "tex":
               r"\frac{\partial L}{\partial"}[fmt]
    output = {"txt": "∂c/∂w", "md": r"\frac{\partial c}{\partial w}",
              "tex": r"\frac{\partial c}{\partial w}"}[fmt]
    assert partial in doc and output not in doc
    assert "upstream gradient" in doc


def test_text_document_numbers():
    doc = example_document("one_node", True, "txt")
    flat = " ".join(doc.split())
    assert "∂L/∂c = 2" in flat
    assert "with the constants x, y (data: given with the values, never differentiated nor " \
           "trained)" in flat
    assert "∂L/∂h = (∂L/∂c)·u = 2 · 2 = 4" in flat.replace("∂L/∂c · u", "(∂L/∂c)·u") or \
        "= 2 · 2 = 4" in flat
    rows = [line.split() for line in doc.splitlines() if line.strip().startswith(("w →", "u →"))]
    assert ["w", "→", "i", "4", "2", "8"] in rows and ["u", "→", "c", "2", "14", "28"] in rows
    assert "x →" not in doc  # no gradient flows to a constant
    verification = doc.split("Verification")[1]
    assert "∂L/∂w" in verification and "∂L/∂x" not in verification


def test_html_page_shows_the_seed():
    page = sp.derive(sp.load("examples:one_node")).to_html("examples:one_node")
    assert "∂L/∂c = 2" in page  # under the output node of the drawing
    assert "is a constant" in page or "are constants" in page
    assert "dc_" not in page
