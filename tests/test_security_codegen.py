"""Generated code cannot be hijacked by a spec, nor silently wrong (issue 23, part 1).

Oracles: SymPy's own ``diff`` of the parsed expression, evaluated numerically; Python's ``ast``
for what a module would run; the file system for what importing it created.
"""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

import symbprop as sp
import symbprop.codegen.generator as codegen
import symbprop.codegen.integrity as integrity
from symbprop.errors import CodegenError, SymbpropError

pytestmark = pytest.mark.usefixtures("kernel_cache_dir")

PWN = 'open("pwned","w").write("ran")'
#: Formula texts that try to leave a comment or a docstring of the generated module; {v} is the
#: formula's variable part.  Each is refused by the parser or generates a harmless module.
HOSTILE = [
    '{v}#""";' + PWN + ';"""',
    "{v}#'''; " + PWN + "; '''",
    '{v} # """',
    "{v} #\\",
    "{v} #\\\n",
    "({v}\n)",
    "({v}\r)",
    "({v}\r\n)",
    "{v}\r#" + PWN,
    "{v}\f",
    "({v}\f)",
    "{v}\u2028" + PWN,
    "{v}#\u2028" + PWN,
    "{v}#\x85" + PWN,
    "{v}#\u2029" + PWN,
    "{v}#\x1c" + PWN,
    "{v}#\v" + PWN,
    "({v} \\\n)",
    '{v}  # \\"""\\\\',
    "{v}#\x00",
]
LOSS_BODY, ACTIVATION_BODY = "(a-y)**2", "z*2"


def net(loss=None, activation="identity") -> dict:
    return {"name": "hostile", "inputs": 1, "layers": [{"units": 1, "activation": activation}],
            "loss": loss or "half_sse"}


def top_level_statements_are_plain(text: str) -> None:
    """The module runs nothing at import but its own header: one docstring, imports, name
    bindings, defs and the one registration in sys.modules."""
    tree = ast.parse(text)
    body = tree.body
    assert isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant)
    for node in body[1:]:
        if isinstance(node, ast.Expr):
            assert ast.unparse(node) == "sys.modules.setdefault(__name__, _namespace)", \
                ast.unparse(node)
        else:
            assert isinstance(node, (ast.Import, ast.ImportFrom, ast.Assign, ast.FunctionDef,
                                     ast.ClassDef)), ast.unparse(node)


def import_in_child(path: Path, cwd: Path) -> None:
    script = ("import importlib.util, sys\n"
              f"spec = importlib.util.spec_from_file_location('k', {str(path)!r})\n"
              "m = importlib.util.module_from_spec(spec); spec.loader.exec_module(m)\n")
    done = subprocess.run([sys.executable, "-c", script], cwd=cwd, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr


# ---------------------------------------------------------------- 1. no code from a formula


def test_the_reported_loss_formula_runs_nothing_through_generate_compile_and_check(tmp_path):
    spec = tmp_path / "hostile.yaml"
    spec.write_text(yaml.safe_dump(net({"formula": HOSTILE[0].format(v=LOSS_BODY)})))
    env = {**os.environ, "SYMBPROP_CACHE_DIR": str(tmp_path / "cache")}
    for command in (["generate", "hostile.yaml", "-o", "out"],
                    ["check", "hostile.yaml", "--samples", "1"]):
        done = subprocess.run([sys.executable, "-m", "symbprop", *command], cwd=tmp_path,
                              env=env, capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stdout + done.stderr
    path = tmp_path / "out" / "hostile" / "kernels.py"
    text = path.read_text()
    top_level_statements_are_plain(text)
    assert "pwned" not in text and "#" not in ast.get_docstring(ast.parse(text))
    assert "ℓ(a, y) = (a - y)**2" in text  # the parsed formula, printed by SymPy
    import_in_child(path, tmp_path)
    k = sp.compile(sp.load(str(spec)))
    import_in_child(k.path, tmp_path)
    assert not (tmp_path / "pwned").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cache", "hostile.yaml", "out"]


def _hostile_models():
    for template in HOSTILE:
        yield "loss", net({"formula": template.format(v=LOSS_BODY)})
        yield "activation", net(activation={"formula": template.format(v=ACTIVATION_BODY)})


def test_hostile_formula_texts_are_refused_or_generate_a_module_that_runs_nothing(tmp_path):
    written, refused = [], 0
    for number, (field, spec) in enumerate(_hostile_models()):
        try:
            model = sp.load(spec)
        except SymbpropError as err:
            assert "\n" not in str(err) and field in str(err)
            refused += 1
            continue
        for strategy in ("unrolled", "looped"):
            text = codegen.source(model, strategy)
            top_level_statements_are_plain(text)
            compile(text, "kernels.py", "exec")
            assert "pwned" not in text
            for line in text.splitlines():
                if line.lstrip().startswith("#"):
                    assert "\\" not in line and '"""' not in line and "'''" not in line
            path = tmp_path / f"m{number}_{strategy}" / "kernels.py"
            written.append(integrity.write(path, text))
    assert written, "every hostile text refused: the test checks nothing generated"
    script = "".join(
        f"import importlib.util as u; s = u.spec_from_file_location('k{n}', {str(p)!r}); "
        f"u.module_from_spec(s); s.loader.exec_module(u.module_from_spec(s))\n"
        for n, p in enumerate(written))
    done = subprocess.run([sys.executable, "-c", script], cwd=tmp_path, capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert not (tmp_path / "pwned").exists()


def test_a_custom_activation_with_a_newline_generates_a_module_that_parses(tmp_path):
    model = sp.load(net(activation={"formula": "(z\n)"}))
    for strategy in ("unrolled", "looped"):
        text = codegen.source(model, strategy)
        compile(text, "kernels.py", "exec")
        assert "f(z) = z" in text


def test_a_module_that_would_not_parse_is_an_internal_error_and_nothing_is_written(tmp_path):

    good = codegen.source(sp.load(net()))
    broken = good.replace('"""', '"""x"""\nopen("pwned", "w")\n"""', 1)
    for bad in (good + "\ndef (:\n", broken, good.replace("# layer", "# layer \\", 1),
                good.replace("# layer", "# layer \u2028", 1)):
        with pytest.raises(CodegenError, match="internal error"):
            integrity.checked(bad, "kernels.py")
    assert integrity.checked(good, "kernels.py") == good


@pytest.mark.parametrize("field, value", [
    ("name", 'x"""; import os'), ("name", "a\nb"), ("name", "a b"), ("name", "__x"),
    ("graph var", 'x"""'), ("graph var", "a\nb"), ("graph var", "1x"), ("graph var", "__init__"),
])
def test_spec_name_and_graph_variable_names_are_identifiers(field, value):
    if field == "name":
        spec = {**net(), "name": value}
    else:
        spec = {"name": "g", "graph": {value: "x*2"}, "params": ["x"]}
    with pytest.raises(SymbpropError):
        sp.load(spec)


# ---------------------------------------------------------------- 2. renamed names never collide

from hypothesis import HealthCheck, assume, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

#: Names a kernel module uses itself (module level, helpers, builtins, adjoints, locals), each
#: with its underscored variants: a graph variable named so must not change any result.
MODULE_NAMES = ["np", "theta", "grad", "math", "sys", "njit", "forward", "loss", "train",
                "sgd_step", "loss_and_grad", "loss_and_grad_into", "N_PARAMS", "DTYPE", "float",
                "range", "len", "print", "open", "_sigmoid", "_softplus", "_namespace", "lr",
                "epochs", "history", "value", "new", "p", "df_dq", "df_dt1", "df_dt2", "dq",
                "q", "t1", "t2", "f", "x", "_x", "d_", "df_df"]
POOL = sorted({n + "_" * k for n in MODULE_NAMES for k in range(3)})


def oracle(model, values: dict) -> tuple[float, dict]:
    """The output and its gradient by SymPy: the graph's nodes composed, then ``diff``."""
    import sympy

    composed = {}
    for name, expr in model.nodes:
        composed[name] = expr.xreplace({sympy.Symbol(n): composed[n] for n in composed})
    f = composed[model.output]
    at = {sympy.Symbol(n): v for n, v in values.items()}
    return (float(f.xreplace(at)),
            {n: float(sympy.diff(f, sympy.Symbol(n)).xreplace(at)) for n in model.params})


def same(got, want) -> None:
    value, grads = got
    assert value == pytest.approx(want[0], rel=1e-12, abs=1e-12)
    assert grads == pytest.approx(want[1], rel=1e-12, abs=1e-12)


def test_the_reported_collisions_give_the_true_gradient():
    cases = [("np*np_ + np", ["np", "np_"]), ("theta*theta_ + theta", ["theta", "theta_"]),
             ("_sigmoid*np__ + np__*np__*_sigmoid_", ["_sigmoid", "np__", "_sigmoid_"]),
             ("forward*loss + train*forward_", ["forward", "loss", "train", "forward_"])]
    for text, params in cases:
        model = sp.expression(text, params=params)
        values = {n: 2.0 + i for i, n in enumerate(params)}
        same(sp.compile(model).loss_and_grad(values), oracle(model, values))
    assert sp.expression("np*np_ + np", params=["np", "np_"]).nodes  # a staged expression
    try:  # a variable named like an adjoint: the spec may refuse it; if not, it is renamed
        model = sp.graph({"q": "x + y", "f": "q*q*df_dq*df_dq"}, output="f",
                         params=["x", "y", "df_dq"])
    except SymbpropError as err:
        assert "df_dq" in str(err)
    else:
        values = {"x": 1.0, "y": 2.0, "df_dq": 5.0}
        assert oracle(model, values) == (225.0, {"x": 150.0, "y": 150.0, "df_dq": 90.0})
        same(sp.compile(model).loss_and_grad(values), oracle(model, values))
    from symbprop.codegen.graphs import safe_names  # the renaming alone: adjoint names too

    rename = safe_names(["x", "df_dq", "q", "df_dq_", "np", "np_", "f"], "f")
    final = [rename.get(n, n) for n in ["x", "df_dq", "q", "df_dq_", "np", "np_", "f"]]
    assert len(set(final)) == 7 and {"x", "q", "np_", "f"} <= set(final)
    assert not {"df_dx", "df_dq", "df_dnp_"} & set(final) and "np" not in final


@settings(max_examples=12, deadline=None, suppress_health_check=list(HealthCheck))
@given(names=st.lists(st.sampled_from(POOL), min_size=3, max_size=3, unique=True),
       nodes=st.lists(st.sampled_from(POOL), min_size=2, max_size=2, unique=True),
       values=st.lists(st.floats(0.5, 3.0), min_size=3, max_size=3))
def test_graph_variables_named_like_module_names_give_the_sympy_gradient(names, nodes, values):
    assume(not set(names) & set(nodes))
    a, b, c = names
    q, f = nodes
    try:
        model = sp.graph({q: f"{a}*{b} + {c}", f: f"{q}*{q}*{a} + {c}*{q}"}, output=f,
                         params=names)
    except SymbpropError:
        assume(False)
    point = dict(zip(names, values, strict=True))
    same(sp.compile(model).loss_and_grad(point), oracle(model, point))


def test_a_variable_that_is_a_top_level_name_of_the_module_is_an_internal_error():
    from symbprop.codegen.graphs import check_names

    text = codegen.source(sp.expression("x*y", params=["x", "y"]))
    check_names(text, ["x", "y", "df_dx"])
    for clash in ("forward", "N_PARAMS", "np", "sys", "_namespace"):
        with pytest.raises(CodegenError, match="internal error"):
            check_names(text, ["x", clash])


# ---------------------------------------------------------------- 5. cached modules are verified

import numpy as np  # noqa: E402

from symbprop.codegen import loader  # noqa: E402

LINEAR = {"name": "linear", "inputs": 2, "layers": [{"units": 1, "activation": "identity"}],
          "loss": "half_sse"}


def linear_oracle(params, X, Y):
    """½ mean (W x + b − y)² and its gradient, by plain NumPy."""
    r = X @ params["W1"].T + params["b1"] - Y
    n = len(X)
    return 0.5 * float((r ** 2).sum()) / n, {"W1": r.T @ X / n, "b1": r.sum(axis=0) / n}


def _forget(path: Path) -> None:
    """What a new process would know: nothing imported from ``path`` yet."""
    loader._modules.pop(path, None)
    loader._warned.discard(path)


def _damages(text: str) -> dict[str, str]:
    assert "gW1_0_0 += " in text and "def _loss_and_grad_checked(" in text
    return {
        "truncated": text[: len(text) // 2],
        "sign": text.replace("gW1_0_0 += ", "gW1_0_0 -= ", 1),
        "function": text.replace("def _loss_and_grad_checked(", "def _gone(", 1),
        "empty": "",
        "not utf-8": text.encode("utf-8")[:-3].decode("latin-1") + "\udcff",
    }


@pytest.mark.parametrize("damage", ["truncated", "sign", "function", "empty", "not utf-8"])
def test_a_damaged_cache_entry_is_detected_regenerated_and_warned_about(damage, tmp_path,
                                                                        monkeypatch):
    monkeypatch.setenv("SYMBPROP_CACHE_DIR", str(tmp_path))  # not the run's: it damages it
    model = sp.load(LINEAR)
    k = sp.compile(model)
    path = k.path
    params = {"W1": np.array([[0.5, -1.5]]), "b1": np.array([0.25])}
    X, Y = np.array([[1.0, 2.0], [3.0, -1.0]]), np.array([[0.5], [2.0]])
    good = path.read_text()
    bad = _damages(good)[damage]
    path.write_bytes(bad.encode("utf-8", "surrogateescape"))
    _forget(path)
    with pytest.warns(UserWarning, match="damaged") as caught:
        k = sp.compile(model)
    assert str(path) in str(caught[0].message)
    assert path.read_text() == good
    loss, grads = k.loss_and_grad(params, X, Y)
    want_loss, want_grads = linear_oracle(params, X, Y)
    assert loss == pytest.approx(want_loss, rel=1e-12)
    for name in want_grads:
        np.testing.assert_allclose(grads[name], want_grads[name], rtol=1e-12)


def test_an_intact_cache_entry_is_reused_without_a_warning():
    import warnings

    model = sp.load(LINEAR)
    path = sp.compile(model).path
    before = path.stat().st_mtime_ns
    _forget(path)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        sp.compile(model)
    assert path.stat().st_mtime_ns == before


def test_a_regenerated_entry_does_not_load_stale_compiled_code(tmp_path):
    """Numba's index beside the file keys compiled code by the functions' bytecode (not their
    constants) and a stamp of the file (a hash of it in Numba 0.68, its mtime and size in older
    releases): code compiled from a file edited to ``2.0 / n`` must not be loaded for the
    repaired ``1.0 / n`` file of the same size and mtime.  Child processes, so that Numba's
    on-disk cache is what is tested."""
    env = {**os.environ, "SYMBPROP_CACHE_DIR": str(tmp_path / "cache")}
    call = ("import numpy as np\n"
            "g = np.empty(3); m.loss_and_grad_into(np.array([0.5, -1.5, 0.25]), "
            "np.array([[1.0, 2.0], [3.0, -1.0]]), np.array([[0.5], [2.0]]), g, np.empty(0)); "
            "print(g[0])\n")
    compiled = ("import symbprop as sp, warnings\n"
                f"model = sp.load({LINEAR!r})\n"
                "with warnings.catch_warnings(record=True) as w:\n"
                "    warnings.simplefilter('always'); k = sp.compile(model)\n"
                "m = k.module; print(k.path); print(len(w))\n") + call

    def run(script):
        done = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True,
                              text=True, timeout=300)
        assert done.returncode == 0, done.stderr
        return done.stdout.split("\n")

    path_text, _, good = run(compiled)[:3]
    path = Path(path_text)
    stamp = path.stat()
    assert "scale = 1.0 / n" in path.read_text()
    path.write_text(path.read_text().replace("scale = 1.0 / n", "scale = 2.0 / n"))
    os.utime(path, ns=(stamp.st_atime_ns, stamp.st_mtime_ns))  # same size, same mtime
    # the edited file imported as it is (not through symbprop's loader): Numba caches its code
    edited = ("from symbprop.codegen.loader import import_file\n"
              f"m = import_file({str(path)!r}, 'edited')\n") + call
    assert float(run(edited)[0]) == pytest.approx(2 * float(good), rel=1e-12)
    os.utime(path, ns=(stamp.st_atime_ns, stamp.st_mtime_ns))
    # the repaired file gets the same stamp (a file system with coarse times, a fast rewrite)
    repaired = ("import os; from symbprop.codegen import integrity; write = integrity.write\n"
                "def same_stamp(path, text):\n"
                "    write(path, text)\n"
                f"    os.utime(path, ns=({stamp.st_atime_ns}, {stamp.st_mtime_ns}))\n"
                "integrity.write = same_stamp\n") + compiled
    _, warned, value = run(repaired)[:3]
    assert path.stat().st_mtime_ns == stamp.st_mtime_ns and path.stat().st_size == stamp.st_size
    assert warned == "1" and float(value) == pytest.approx(float(good), rel=1e-12)


def test_generate_check_detects_an_edited_committed_file(tmp_path):
    from typer.testing import CliRunner

    from symbprop.cli.app import app

    spec = tmp_path / "linear.yaml"
    spec.write_text(yaml.safe_dump(LINEAR))
    runner = CliRunner()
    assert runner.invoke(app, ["generate", str(spec), "-o", str(tmp_path)]).exit_code == 0
    assert runner.invoke(app, ["generate", str(spec), "-o", str(tmp_path), "--check"]
                         ).exit_code == 0
    path = tmp_path / "linear" / "kernels.py"
    path.write_text(path.read_text().replace("gW1_0_0 += ", "gW1_0_0 -= ", 1))
    result = runner.invoke(app, ["generate", str(spec), "-o", str(tmp_path), "--check"])
    assert result.exit_code == 1 and "stale" in result.output


# ---------------------------------------------------------------- 3. code size linear in depth


def nested(function: str, depth: int):
    """A 1-2-1 net whose hidden activation is ``function`` nested ``depth`` deep; built past the
    parser (whose nesting limit is for the derivation's time) to reach 18 levels."""
    import dataclasses

    import sympy

    from symbprop.functions.activations import variable
    from symbprop.functions.sympy_classes import absolute, relu, sigmoid

    Z = variable()

    builder = {"relu": relu, "abs": absolute, "sigmoid": sigmoid}[function]
    base = sp.load({"name": "deep", "inputs": 1,
                    "layers": [{"units": 2, "activation": {"formula": f"{function}(z)"}},
                               {"units": 1, "activation": "identity"}], "loss": "half_sse"})
    expr = Z
    for _ in range(depth):
        expr = builder(expr)
    assert sympy.count_ops(expr) >= depth
    name = f"deep_{function}_{depth}"
    hidden = dataclasses.replace(base.layers[0].activation, formula=f"{function}^{depth}(z)",
                                 expr=expr)
    return dataclasses.replace(base, name=name, spec={**base.spec, "name": name},
                               layers=(dataclasses.replace(base.layers[0], activation=hidden),
                                       base.layers[1]))


def _printer_cases():
    import sympy

    from symbprop.functions.sympy_classes import absolute, elu, leaky_relu, relu

    x = sympy.Symbol("x")
    return {"relu": relu, "leaky_relu": lambda e: leaky_relu(e, sympy.Rational(1, 100)),
            "elu": lambda e: elu(e, sympy.Rational(1, 2)), "sign": sympy.sign,
            "step": lambda e: sympy.Heaviside(e, sympy.S.Half),
            "abs": lambda e: sympy.sign(absolute(e)), "x": x}


@pytest.mark.parametrize("name", ["relu", "leaky_relu", "elu", "sign", "step", "abs"])
def test_printed_code_is_linear_in_the_nesting_depth(name):
    from symbprop.codegen.printer import NumbaPrinter

    cases = _printer_cases()
    sizes = {}
    for depth in (2, 6, 10, 14, 18):
        expr = cases["x"] + 1
        for _ in range(depth):
            expr = cases[name](expr + 1)
        sizes[depth] = len(NumbaPrinter().doprint(expr))
    steps = [sizes[d + 4] - sizes[d] for d in (2, 6, 10, 14)]
    assert max(steps) <= 1.25 * min(steps) + 20, sizes


@pytest.mark.parametrize("function", ["relu", "abs", "sigmoid"])
@pytest.mark.parametrize("strategy", ["unrolled", "looped"])
def test_module_size_grows_linearly_with_nesting_depth(function, strategy):
    sizes = {d: len(codegen.source(nested(function, d), strategy)) for d in (2, 6, 10, 14, 18)}
    steps = [sizes[d + 4] - sizes[d] for d in (2, 6, 10, 14)]
    assert max(steps) <= 1.25 * min(steps) + 100, sizes
    assert sizes[18] < 60_000, sizes


def test_nested_relu_and_abs_kernels_match_numpy_and_keep_the_zero_convention():
    params = {"W1": np.array([[1.0], [-2.0]]), "b1": np.array([0.0, 0.5]),
              "W2": np.array([[0.75, -1.25]]), "b2": np.array([0.1])}
    X = np.array([[0.0], [0.25], [-1.5], [2.0]])  # x = 0: z¹₀ = 0 exactly, relu'(0) = 0
    Y = np.array([[0.3], [-0.2], [1.0], [0.5]])
    for function, f, df in (("relu", lambda z: np.maximum(z, 0.0), lambda z: (z > 0) * 1.0),
                            ("abs", np.abs, np.sign)):
        for strategy in ("unrolled", "looped"):
            k = sp.compile(nested(function, 18), strategy)
            z1 = X @ params["W1"].T + params["b1"]
            a1 = f(z1)
            r = a1 @ params["W2"].T + params["b2"] - Y
            n = len(X)
            want = {"W2": r.T @ a1 / n, "b2": r.sum(0) / n}
            d1 = (r @ params["W2"]) * df(z1)
            want |= {"W1": d1.T @ X / n, "b1": d1.sum(0) / n}
            loss, grads = k.loss_and_grad(params, X, Y)
            assert loss == pytest.approx(0.5 * (r ** 2).sum() / n, rel=1e-12)
            for name in want:
                np.testing.assert_allclose(grads[name], want[name], rtol=1e-12, atol=1e-15)


# ---------------------------------------------------------------- 6. no leftover temporary files


def _dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_a_writer_killed_between_write_and_rename_leaves_nothing_after_the_next_write(tmp_path):
    import signal
    import time

    out = tmp_path / "out"
    script = ("import os, time, symbprop.files.atomic as a\n"
              "os.replace = lambda *args: time.sleep(600)\n"
              f"a.write_text({str(out / 'net' / 'kernels.py')!r}, 'x = 1\\n' * 100000)\n")
    child = subprocess.Popen([sys.executable, "-c", script])
    try:
        deadline = time.monotonic() + 60
        while not [p for p in (out / "net").glob(".kernels.py.*")
                   if p.stat().st_size == 600000]:
            assert time.monotonic() < deadline and child.poll() is None
            time.sleep(0.05)
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait()
    left = [p.name for p in (out / "net").iterdir()]
    assert len(left) == 1 and left[0].startswith(".kernels.py.")  # the leftover
    spec = tmp_path / "net.yaml"
    spec.write_text(yaml.safe_dump({**LINEAR, "name": "net"}))
    done = subprocess.run([sys.executable, "-m", "symbprop", "generate", str(spec), "-o",
                           str(out)], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert [p.name for p in (out / "net").iterdir()] == ["kernels.py"]


def test_stale_temporaries_are_removed_and_live_ones_kept(tmp_path):
    import time

    from symbprop.files.atomic import write_text

    dead, alive = _dead_pid(), os.getppid()
    old = time.time() - 120
    names = {f".kernels.py.tmp-{dead}-abc123": "dead writer",
             f".other.txt.tmp-{dead}-x_y9": "dead writer, other target",
             f".kernels.py.tmp-{alive}-fresh1": "live writer, recent: kept",
             f".kernels.py.tmp-{alive}-old999": "live writer, older than a minute",
             ".kernels.py.q8z1k2ab": "old-style name, older than a minute: kept (a user's?)",
             ".kernels.py.k2j3h4g5": "old-style name, recent: kept",
             "notes.tmp-1-abc": "not ours: kept", ".hidden": "not ours: kept"}
    for name in names:
        (tmp_path / name).write_text(name)
    for name in (f".kernels.py.tmp-{alive}-old999", ".kernels.py.q8z1k2ab"):
        os.utime(tmp_path / name, (old, old))
    write_text(tmp_path / "kernels.py", "x = 1\n")
    kept = {p.name for p in tmp_path.iterdir()}
    assert kept == {"kernels.py", f".kernels.py.tmp-{alive}-fresh1", ".kernels.py.k2j3h4g5",
                    ".kernels.py.q8z1k2ab", "notes.tmp-1-abc", ".hidden"}


# ---------------------------------------------------------------- 7. masked arrays are refused


@pytest.mark.parametrize("which", ["W1", "b1", "X", "Y"])
@pytest.mark.parametrize("example", ["two_two_one", "xor"])
def test_masked_arrays_with_masked_entries_are_refused_by_every_dict_call(which, example):
    from symbprop.errors import DataError
    from symbprop.runtime.input_checks import ParamsError

    k = sp.compile(f"examples:{example}")
    params = k.init_params(seed=1)
    n_in, n_out = k.model.inputs, k.model.sizes[-1]
    X = np.linspace(-1, 1, 3 * n_in).reshape(3, n_in)
    Y = np.full((3, n_out), 1.0 / n_out)
    arrays = {**params, "X": X, "Y": Y}
    k.loss_and_grad(params, X, Y)
    k.compile_dict_call()  # what a long loop of calls builds
    assert k._arrays_call.dispatcher is not None
    mask = np.zeros(arrays[which].shape, bool)
    mask.flat[-1] = True
    arrays[which] = np.ma.masked_array(arrays[which].copy(), mask=mask)
    arrays[which].data.flat[-1] = 1e300  # what the kernels would have used
    params = {n: arrays[n] for n in params}
    error = DataError if which in "XY" else ParamsError
    for call in (lambda: k.loss_and_grad(params, arrays["X"], arrays["Y"]),
                 lambda: k.loss_and_grad(params, arrays["X"], arrays["Y"],
                                         out={n: np.empty_like(np.asarray(v), dtype=float)
                                              for n, v in params.items()}),
                 lambda: k.loss(params, arrays["X"], arrays["Y"])):
        with pytest.raises(error, match="masked"):
            call()
    if which == "X":
        with pytest.raises(DataError, match="masked"):
            k.forward(params, arrays["X"])


# ---------------------------------------------------------------- 4. a negative base to a power


@pytest.mark.parametrize("spec", [
    {"name": "neg", "expression": "(-2)**x + y", "params": ["x", "y"]},
    {"name": "neg", "graph": {"t": "(-3)**(x*y)", "f": "t + x"}, "output": "f",
     "params": ["x", "y"]},
    {"name": "neg", "inputs": 1, "layers": [{"units": 1, "activation": {"formula": "(-2)**z"}}],
     "loss": "half_sse"},
])
def test_a_negative_base_to_a_variable_power_is_refused_clearly(spec, tmp_path):
    try:
        model = sp.load(spec)
    except SymbpropError as err:  # the parser may refuse it first: as good
        assert "\n" not in str(err)
        return
    with pytest.raises(CodegenError, match=r"negative .* power") as caught:
        codegen.source(model)
    assert "\n" not in str(caught.value)
    with pytest.raises(SymbpropError):
        sp.compile(model)
    path = tmp_path / "neg.yaml"
    path.write_text(yaml.safe_dump(spec))
    done = subprocess.run([sys.executable, "-m", "symbprop", "generate", str(path), "-o",
                           str(tmp_path / "out")], capture_output=True, text=True, timeout=300)
    assert done.returncode == 2 and "Traceback" not in done.stderr + done.stdout
    assert "negative" in done.stderr + done.stdout and not (tmp_path / "out").exists()


# ---------------------------------------------------------------- 8. softmax at the float range


def _true_softmax_ce(z, y):
    import mpmath

    with mpmath.workdps(60):
        lse = mpmath.log(sum(mpmath.exp(mpmath.mpf(v)) for v in z))
        return -sum(mpmath.mpf(t) * (mpmath.mpf(v) - lse) for v, t in zip(z, y, strict=True))


@pytest.mark.parametrize("strategy", ["unrolled", "looped"])
def test_softmax_cross_entropy_is_finite_at_the_edge_of_the_float_range(strategy):
    import mpmath

    big = 1e308
    cases = [((big, -big), (1.0, 0.0)), ((-big, big), (1.0, 0.0)), ((big, -big), (0.5, 0.5)),
             ((big, big), (0.25, 0.75)), ((-big, -big), (1.0, 0.0)),
             ((1.7e308, -1.7e308, 0.0), (0.0, 0.0, 1.0)), ((0.0, -big, 3.0), (0.5, 0.25, 0.25)),
             ((-big, big), (0.0, 1.0)), ((1.0, -2.0), (0.3, 0.7))]
    checked = 0
    for z, y in cases:
        n = len(z)
        k = sp.compile({"name": f"edge{n}", "inputs": 1,
                        "layers": [{"units": n, "activation": "softmax"}],
                        "loss": "softmax_cross_entropy"}, strategy)
        params = {"W1": np.array(z).reshape(n, 1), "b1": np.zeros(n)}
        X, Y = np.ones((1, 1)), np.array([y])
        true = _true_softmax_ce(z, y)
        loss, grads = k.loss_and_grad(params, X, Y)
        assert np.isfinite(grads["W1"]).all()
        if abs(true) > 1.7e308:
            assert loss == np.inf
            continue
        tolerance = 4 * np.spacing(max(abs(v) for v in z)) + 1e-12 * abs(float(true))
        assert abs(loss - float(true)) <= tolerance, (z, y, loss, true)
        assert k.loss(params, X, Y) == loss
        checked += 1
    assert checked >= 7 and mpmath.mp.dps == 15
