"""Hostile inputs whose cost explodes: each is refused before the work, with a message naming the
limit, or finishes within a generous time bound (run in a subprocess, so that a regression times
out instead of hanging the suite).  Results are checked against sympy.diff of the formula."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import mpmath
import pytest
import sympy

import symbprop as sp
from symbprop.functions.sympy_classes import as_elementary
from symbprop.spec import formula, grammar
from symbprop.symbolic.sweep import MAX_TIDY_DEGREE
from tests.oracle import leaves

STAGES = textwrap.dedent("""
    import json, sys, time
    import symbprop as sp
    kind, text = sys.argv[1], sys.argv[2]
    out, start = {}, time.time()
    try:
        model = sp.expression(text) if kind == "expression" else sp.load(json.loads(text))
        d = sp.derive(model)
        values = {p: 0.01 * (i + 1) for i, p in enumerate(model.params)}
        out["grad"] = d.evaluate(values if model.kind == "graph" else None)["grad"]
        if "doc" in sys.argv[3:]:
            out["doc"] = len(d.to_text())
    except sp.SymbpropError as err:
        out["refused"] = str(err)
    out["seconds"] = time.time() - start
    print(json.dumps(out))
""")


def run_bounded(kind: str, text: str, *extra: str, seconds: float = 60) -> dict:
    """Load, derive and evaluate (and render with "doc") in a fresh interpreter, at most
    ``seconds`` (a hang is a failure, not a stuck suite)."""
    try:
        done = subprocess.run([sys.executable, "-c", STAGES, kind, text, *extra],
                              capture_output=True, text=True, timeout=seconds, check=True)
    except subprocess.TimeoutExpired:
        pytest.fail(f"{kind} {text[:60]!r} did not finish in {seconds} s")
    return json.loads(done.stdout)


def nest(functions: str, inner: str = "x") -> str:
    for name in reversed(functions.split()):
        inner = f"{name}({inner})"
    return inner


# ------------------------------------------------------------------ formulas

DEEP_FORMULAS = [nest("tanh " * 11), nest("tanh " * 6), nest("exp tanh tanh tanh tanh tanh"),
                 nest("sigmoid erf log sqrt exp abs"),
                 nest("softplus abs relu tanh tanh tanh", "x*y")]


@pytest.mark.parametrize("text", DEEP_FORMULAS)
def test_functions_nested_too_deeply_are_refused_before_building(text):
    # tanh nested 11 deep took 95 s to load; now refused at once, the limit named.
    with pytest.raises(sp.FormulaError, match=f"the limit is {grammar.MAX_FUNCTION_DEPTH} "):
        formula.parse_formula(text, {"x": sympy.Symbol("x"), "y": sympy.Symbol("y")})


@pytest.mark.parametrize("text", [nest("exp tanh tanh"), nest("sin exp sin exp sin"),
                                  nest("tanh " * 5),
                                  "+".join(nest("exp tanh tanh", f"x+{i}") for i in range(30))])
def test_nested_functions_at_the_limit_are_fast_and_right(text):
    x = sympy.Symbol("x")
    result = run_bounded("expression", text, "doc", seconds=60)
    assert result["seconds"] < 15, result
    expr = formula.parse_formula(text, {"x": x})
    exact = sympy.diff(expr, x).subs(x, sympy.Rational(1, 100))
    assert result["grad"]["x"] == pytest.approx(float(exact), rel=1e-12)


MANY_FACTORS = "*".join(f"(x+{i}*y)**64" for i in range(17))  # degree 17·64 = 1088


@pytest.mark.parametrize("text", ["(((x+1)**64+1)**64+1)**64", "((x+1)**2**6+1)**2**6",
                                  "((x*y+1)**64+1)**64", MANY_FACTORS])
def test_powers_that_would_expand_past_the_degree_limit_are_refused(text):
    # (((x+1)**64+1)**64+1)**64 grew past 2.8 GB in derive.tidy (sympy.cancel expanded it).
    variables = {name: sympy.Symbol(name) for name in "xyz"}
    with pytest.raises(sp.FormulaError, match=f"the limit is {grammar.MAX_DEGREE} "):
        formula.parse_formula(text, variables)


def test_degree_bound_is_an_upper_bound_of_the_expanded_degree():
    x, y = sympy.symbols("x y")
    for expr in [(x + 1) ** 3 * (y - 2) ** 2, ((x + y) ** 2 + 1) ** 3 / (x + 1) ** 2, x * y]:
        numerator, denominator = sympy.fraction(sympy.cancel(expr))
        expanded = max(sympy.Poly(numerator, x, y).total_degree(),
                       sympy.Poly(denominator, x, y).total_degree())
        assert expanded <= formula.degree_bound(expr)


@pytest.mark.parametrize("text", ["(x+y+z)**20*(x-y+z)**20", "((x+1)**16+1)**16",
                                  "(x+y)**30/(x-y)**30"])
def test_graph_gradients_that_cancel_would_expand_stay_fast_and_right(text):
    # a graph node is not staged: tidy's cancel expanded (x+y+z)**20*(x-y+z)**20 for 26 s.
    spec = json.dumps({"graph": {"f": text}})
    result = run_bounded("spec", spec, seconds=60)
    assert result["seconds"] < 15, result
    symbols = {name: sympy.Symbol(name) for name in "xyz"}
    expr = formula.parse_formula(text, symbols)
    point = {symbols[n]: sympy.Rational(i + 1, 100) for i, n in enumerate(sorted(result["grad"]))}
    for name, value in result["grad"].items():
        exact = sympy.diff(expr, symbols[name]).subs(point)
        assert value == pytest.approx(float(exact), rel=1e-10)


def test_tidy_still_cancels_small_expressions():
    # BCE's (−y/a + (1−y)/(1−a))·a(1−a) becomes a − y, as before
    d = sp.derive(sp.mlp([1, 1], loss="bce"))
    assert sympy.count_ops(d.adjoints[d.base("z1")].expr) <= 3
    assert MAX_TIDY_DEGREE >= 4


# ------------------------------------------------------------------ documents and chain-rule paths

DOCUMENT = textwrap.dedent("""
    import json, resource, sys, time
    resource.setrlimit(resource.RLIMIT_AS, (2 * 1024**3, 2 * 1024**3))
    import symbprop as sp
    start = time.time()
    d = sp.derive(sp.mlp(json.loads(sys.argv[1])))
    text = d.to_text()
    names = d.params
    print(json.dumps({"seconds": time.time() - start, "text": text, "count": len(names),
                      "last": names[-1], "index": names.index(sys.argv[2]),
                      "paths": d.path_count("W1[0,0]"), "repr": repr(d)}))
""")


def document_bounded(sizes: list[int], name: str = "W2[1,0]", seconds: float = 120) -> dict:
    try:
        done = subprocess.run([sys.executable, "-c", DOCUMENT, json.dumps(sizes), name],
                              capture_output=True, text=True, timeout=seconds, check=True)
    except subprocess.TimeoutExpired:
        pytest.fail(f"the document of mlp({sizes}) did not finish in {seconds} s")
    return json.loads(done.stdout)


def test_deep_narrow_net_document_counts_paths_instead_of_listing_them():
    # 2 units, 15 layers: 2^14 paths per weight of layer 1, all listed: past 300 s before.
    sizes = [2] * 16 + [1]
    result = document_bounded(sizes)
    assert result["seconds"] < 60, result["seconds"]
    assert result["paths"] == 2**14  # layers 2..15 have 2 units each, the output 1
    assert f"({2**14 - 4} more paths)" in result["text"]  # 4 shown: max_paths by default


def test_net_at_the_parameter_limit_builds_names_lazily():
    # 98 million parameters: every name was built first (8.6 GB and still running).
    sizes = [7000, 7000, 7000, 10]
    result = document_bounded(sizes, "W2[5,6]")
    count = 7000 * 7000 * 2 + 7000 * 2 + 7000 * 10 + 10
    assert result["count"] == count and result["last"] == "b3[9]"
    assert result["index"] == 7000 * 7000 + 7000 + 5 * 7000 + 6  # after W1, b1: W2 row-major
    assert result["paths"] == 7000 * 10 and f"{count:,}" not in result["repr"]
    assert result["seconds"] < 60, result["seconds"]


@pytest.mark.parametrize("sizes, kw", [([2, 3, 2], {}), ([3, 2, 2, 2], {"bias": "shared"}),
                                       ([2, 2, 3], {"loss": "softmax_cross_entropy"}),
                                       ([2, 3, 1], {"bias": "none", "activation": "relu"})])
def test_path_count_and_the_first_paths_agree_with_the_full_list(sizes, kw):
    d = sp.derive(sp.mlp(sizes, **kw))
    for name in d.params:
        full = d.chain(name)
        assert d.path_count(name) == len(full)
        assert d.chain(name, max_paths=2) == full[:2]
        # the products along the paths sum to sympy.diff of the composed loss
        element = d.element(name)
        exact = sympy.diff(as_elementary(d.composed_loss()), element)
        total = as_elementary(d.compose(sum(sympy.Mul(*(f.value for f in p)) for p in full)))
        # a point of 40-digit floats: exact rationals made SymPy expand every exp (4.5 s)
        point = {leaf: sympy.Float(sympy.Rational(k % 5 + 1, 7), 40)
                 for k, leaf in enumerate(leaves(d))}
        assert abs(float((total - exact).xreplace(point).evalf(30))) < 1e-20


def test_chain_refuses_more_paths_than_its_limit_and_gives_the_first_ones():
    from symbprop.symbolic.paths import MAX_CHAIN_PATHS

    d = sp.derive(sp.mlp([2] * 16 + [1]))
    with pytest.raises(sp.SymbpropError, match="MAX_CHAIN_PATHS") as info:
        d.chain("W1[0,0]")
    assert f"{2**14:,}" in str(info.value) and "max_paths=N" in str(info.value)
    assert 2**14 > MAX_CHAIN_PATHS
    first = d.chain("W1[0,0]", max_paths=3)
    assert len(first) == 3 and all(len(path) == 2 * 16 + 1 for path in first)


def test_graph_paths_are_counted_in_one_sweep():
    # q_i = sin(q_{i-1}) + cos(q_{i-1}) through named nodes doubles the paths at every level
    nodes = {"u1": "sin(x)", "v1": "cos(x)", "q1": "u1 + v1"}
    for i in range(2, 21):
        nodes |= {f"u{i}": f"sin(q{i - 1})", f"v{i}": f"cos(q{i - 1})", f"q{i}": f"u{i} + v{i}"}
    d = sp.derive(sp.graph(nodes, output="q20"))
    assert d.path_count("x") == 2**20
    assert len(d.chain("x", max_paths=4)) == 4
    with pytest.raises(sp.SymbpropError, match="MAX_CHAIN_PATHS"):
        d.chain("x")


# ------------------------------------------------------------------ depth


def test_derive_looks_up_each_equation_once_linear_in_depth(monkeypatch):
    # program.defining scanned the equation list for each of them: quadratic in the depth
    # (derive at 256 layers took 13.4 s of CPU, 6.3 times its 64-layer time; now 9.2 s, 3.3 times)
    from symbprop.symbolic import ir

    looks = {"count": 0}
    original = ir.Eqn.base

    def counted(eqn):
        looks["count"] += 1
        return original.fget(eqn)

    monkeypatch.setattr(ir.Eqn, "base", property(counted))
    counts = []
    for depth in (8, 32):
        looks["count"] = 0
        d = sp.derive(sp.mlp([2] * depth + [1], activation="tanh"))
        assert d.path_count("W1[0,0]") == 2 ** (depth - 2)  # layers 2..depth-1 have 2 units
        counts.append(looks["count"])
    assert counts[1] <= 5 * counts[0], counts  # 4 times the layers: linear is 4x, quadratic 16x


# ------------------------------------------------------------------ graph documents

TANH_NODES = {"q1": "tanh(x)"} | {f"q{i}": f"tanh(q{i - 1})" for i in range(2, 11)}
DIAMOND = {"u1": "sin(x)", "v1": "cos(x)", "q1": "u1 + v1"} | {
    name: text for i in range(2, 21) for name, text in
    [(f"u{i}", f"sin(q{i - 1})"), (f"v{i}", f"cos(q{i - 1})"), (f"q{i}", f"u{i} + v{i}")]}


@pytest.mark.parametrize("nodes, output", [(TANH_NODES, "q10"), (DIAMOND, "q20")])
def test_graph_documents_of_deep_graphs_are_bounded(nodes, output):
    # tanh through 10 nodes composed to tanh nested 10 deep for the document: 54 s; the
    # diamond doubles its composed formula at every level (2^20 paths); each node's line
    # recomputed every edge's local derivative
    spec = json.dumps({"graph": nodes, "output": output})
    result = run_bounded("spec", spec, "doc", seconds=120)
    assert "refused" not in result and result["seconds"] < 30, result

    def function(x):  # the graph in plain mpmath; its derivative by mpmath's differences
        for _ in range(int(output[1:])):
            x = mpmath.tanh(x) if nodes is TANH_NODES else mpmath.sin(x) + mpmath.cos(x)
        return x

    with mpmath.workdps(40):
        value = mpmath.diff(function, mpmath.mpf(1) / 100)
    assert result["grad"]["x"] == pytest.approx(float(value), rel=1e-10)


def test_compose_refuses_a_formula_too_long_to_write_out():
    from symbprop.symbolic.composition import MAX_COMPOSED_SIZE

    d = sp.derive(sp.graph(DIAMOND, output="q20"))
    assert d.composed_size(sympy.Symbol("q20")) > MAX_COMPOSED_SIZE
    with pytest.raises(sp.SymbpropError, match="MAX_COMPOSED_SIZE"):
        d.composed_loss()
    small = sp.derive(sp.graph(TANH_NODES, output="q10"))
    composed = small.composed_loss()  # tanh nested 10 deep (SymPy would take a minute)
    for _ in range(10):
        assert composed.func is sympy.tanh
        (composed,) = composed.args
    assert composed == sympy.Symbol("x")
