"""Hostile spec, values and data inputs (symbprop issues 22 and 23): each is refused early with
one line, a ``SymbpropError`` (exit 2 from the CLI), fast, and nothing is written; no wrong
gradient, hang, RecursionError or OverflowError.

Oracles: SymPy's ``diff`` of the composed function, and the old quadratic definition of the
graph order."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest
import sympy
from hypothesis import given, settings
from hypothesis import strategies as st

import symbprop as sp
from symbprop.errors import SpecError, SymbpropError
from symbprop.formula import parse_formula
from symbprop.graphspec import MAX_NODES, _topological
from symbprop.specfields import Where

FAST = 3.0  # seconds: a refusal is immediate; generous for a shared, loaded machine


def refused(call, kind=SymbpropError) -> str:
    """The one-line message of the ``kind`` error that ``call()`` raises, within ``FAST``."""
    start = time.perf_counter()
    with pytest.raises(kind) as caught:
        call()
    assert time.perf_counter() - start < FAST
    message = str(caught.value)
    assert "\n" not in message and len(message) < 400, message[:400]
    return message


def cli(*args: str, cwd) -> subprocess.CompletedProcess:
    """``python -m symbprop ARGS`` in ``cwd``: exit 2, one line on stderr, no traceback, fast,
    and no file written in ``cwd``."""
    before = set(os.listdir(cwd))
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "symbprop", *args], capture_output=True,
                          text=True, cwd=cwd, timeout=60,
                          env={**os.environ, "SYMBPROP_CACHE_DIR": str(cwd / ".cache")})
    assert time.perf_counter() - start < 15  # Python, SymPy and Typer start-up included
    assert done.returncode == 2, done.stderr[-2000:]
    assert "Traceback" not in done.stderr and done.stderr.strip().count("\n") == 0, done.stderr
    assert done.stdout == ""
    assert set(os.listdir(cwd)) - {".cache"} == before - {".cache"}
    return done


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
    start = time.perf_counter()
    order = _topological(texts, deps, ("x",), Where(None))
    assert time.perf_counter() - start < 0.5
    assert order == list(chain)


def test_a_graph_of_more_than_max_nodes_is_refused_at_once():
    graph = {f"n{i}": "x + 1" for i in range(100_000)}
    message = refused(lambda: sp.graph(graph), SpecError)
    assert message == f"graph: has 100,000 nodes; at most {MAX_NODES:,} are supported"
