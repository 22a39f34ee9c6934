"""``sp.compile`` of a graph spec compiled before: found by its text, without SymPy
(``symbprop.runtime.source_index``), and never when the text, the options or the entry say
otherwise.  Gradients are checked against ``sympy.diff`` of the spec's formula."""

import os
import subprocess
import sys

import numpy as np
import pytest
import sympy

import symbprop as sp
from symbprop.errors import CodegenError, SpecError
from symbprop.runtime import source_index
from symbprop.spec.loader import read_spec


@pytest.fixture
def cache(tmp_path, monkeypatch):
    """An empty kernel cache of this test's own."""
    folder = tmp_path / "cache"
    monkeypatch.setenv("SYMBPROP_CACHE_DIR", str(folder))
    return folder


def oracle(formula: str, point: dict) -> tuple[float, dict]:
    """The value and gradient of ``formula`` at ``point``, by sympy.diff."""
    symbols = {name: sympy.Symbol(name) for name in point}
    expr = sympy.sympify(formula, locals=symbols)  # the test's own text, not user input
    at = {symbols[name]: value for name, value in point.items()}
    return (float(expr.subs(at)),
            {name: float(sympy.diff(expr, s).subs(at)) for name, s in symbols.items()})


def write_spec(path, formula: str):
    path.write_text(f"expression: {formula}\nparams: [x, y]\n", encoding="utf-8")
    return path


def entry(spec, strategy="auto", dtype="float64", target="numba"):
    text = read_spec(spec)
    return source_index.key(text.text, text.default_name, strategy, dtype, target)


def test_a_second_process_compiles_a_cached_graph_without_sympy(cache, tmp_path):
    """The second process is refused SymPy until it asks for ``k.model``; its gradients are
    those of sympy.diff, and its model is the one ``load`` gives."""
    spec = write_spec(tmp_path / "f.yaml", "x*exp(y) + y**3")
    sp.compile(spec)  # the first process: parses, generates, records the entry
    script = (
        "import sys, json\n"
        "class NoSympy:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name == 'sympy' and not getattr(sys, 'sympy_allowed', False):\n"
        "            raise ImportError('sympy imported before k.model')\n"
        "sys.meta_path.insert(0, NoSympy())\n"
        "import symbprop as sp\n"
        f"k = sp.compile({str(spec)!r})\n"
        "value, grads = k.loss_and_grad({'x': 0.5, 'y': -1.25})\n"
        "sys.sympy_allowed = True\n"
        "print(json.dumps([value, grads, k.model == sp.load(sys.argv[1])]))\n"
    )
    result = subprocess.run([sys.executable, "-c", script, str(spec)], capture_output=True,
                            text=True, env=dict(os.environ))
    assert result.returncode == 0, result.stderr
    value, grads, same_model = __import__("json").loads(result.stdout)
    want_value, want_grads = oracle("x*exp(y) + y**3", {"x": 0.5, "y": -1.25})
    assert value == pytest.approx(want_value, rel=1e-14)
    assert grads == pytest.approx(want_grads, rel=1e-14)
    assert same_model


def test_an_edited_spec_is_parsed_again(cache, tmp_path):
    spec = write_spec(tmp_path / "f.yaml", "x*y")
    assert sp.compile(spec).loss_and_grad({"x": 2.0, "y": 3.0}) == (6.0, {"x": 3.0, "y": 2.0})
    write_spec(spec, "x + y**2")
    value, grads = sp.compile(spec).loss_and_grad({"x": 2.0, "y": 3.0})
    assert (value, grads) == oracle("x + y**2", {"x": 2.0, "y": 3.0})


def test_each_dtype_has_its_own_entry(cache):
    k64 = sp.compile("examples:staged")
    k32 = sp.compile("examples:staged", dtype="float32")
    again = sp.compile("examples:staged", dtype=np.float32)
    assert (k64.dtype, k32.dtype, again.dtype) == (np.float64, np.float32, np.float32)
    assert k32.path == again.path != k64.path
    assert len(list((cache / source_index.FOLDER).iterdir())) == 2


def test_a_network_spec_is_not_indexed(cache):
    sp.compile("examples:two_two_one")
    assert not (cache / source_index.FOLDER).exists()


def test_a_wrong_option_is_refused_after_the_spec_as_before(cache, tmp_path):
    sp.compile("examples:staged")
    with pytest.raises(CodegenError, match="dtype"):
        sp.compile("examples:staged", dtype="float16")
    with pytest.raises(CodegenError, match="strategy"):
        sp.compile("examples:staged", strategy="fast")
    broken = tmp_path / "broken.yaml"
    broken.write_text("expression: x +\n", encoding="utf-8")
    with pytest.raises(SpecError, match="broken.yaml"):
        sp.compile(broken, dtype="float16")


@pytest.mark.parametrize("content", ["", "../elsewhere\n", "no-such-folder\n", "\xff",
                                     "network\n", "pipe"])
def test_an_entry_that_names_nothing_usable_is_ignored(cache, tmp_path, content):
    """Garbage, a path out of the cache, a missing folder, a network's module, or a named pipe
    in place of the entry (a read of which would wait forever): the spec is parsed as usual."""
    spec = write_spec(tmp_path / "g.yaml", "x*y")
    sp.compile(spec)
    path = cache / source_index.FOLDER / entry(spec)
    path.unlink()
    if content == "pipe":
        os.mkfifo(path)
    elif content == "network\n":
        path.write_text(sp.compile("examples:two_two_one").path.parent.name + "\n")
    elif content == "\xff":
        path.write_bytes(b"\xff\xfe")
    else:
        path.write_text(content)
    k = sp.compile(spec)
    assert k.loss_and_grad({"x": 2.0, "y": 3.0}) == (6.0, {"x": 3.0, "y": 2.0})
    assert k.model.kind == "graph"


def test_a_damaged_module_behind_an_entry_is_regenerated_with_a_warning(cache, tmp_path):
    spec = write_spec(tmp_path / "h.yaml", "x*y")
    path = sp.compile(spec).path
    path.write_text(path.read_text().replace("x*y", "x+y"))
    with pytest.warns(UserWarning, match="damaged cache entry"):
        k = _fresh_compile(spec)
    assert k.loss_and_grad({"x": 2.0, "y": 3.0}) == (6.0, {"x": 3.0, "y": 2.0})


def _fresh_compile(spec):
    """``sp.compile`` as a new process would: forgetting the modules imported in this one."""
    from symbprop.codegen import loader

    loader._modules.clear()
    loader._warned.clear()
    return sp.compile(spec)


def test_kernels_found_by_their_text_pickle_and_print_as_any(cache, tmp_path):
    import pickle

    spec = write_spec(tmp_path / "p.yaml", "x*y")
    sp.compile(spec)
    k = _fresh_compile(spec)
    assert callable(k._model)  # found by the index: the model is not parsed yet
    assert repr(k).startswith("<Kernels p (unrolled, float64, 2 parameters)")
    again = pickle.loads(pickle.dumps(k))
    assert again.model == sp.load(spec)
    assert again.loss_and_grad({"x": 2.0, "y": 3.0}) == (6.0, {"x": 3.0, "y": 2.0})
