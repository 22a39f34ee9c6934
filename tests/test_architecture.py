"""The package's layout: sub-packages that are the pipeline, short modules, no import circles.

The import graph is read from the source with ``ast`` (nothing is imported): an edge A → B for
every ``import``/``from ... import`` of B in module A, at module level or inside a function, and
to every package B whose ``__init__`` that import runs first (``import a.b.c`` runs ``a.b``);
imports under ``if TYPE_CHECKING:`` are for annotations only and are left out.  A function-local
import must say why it is there (a comment on its line or above its group): optional or heavy
dependencies only.  The command-line modules (``symbprop.cli``) import the pipeline inside
their commands by rule, so that ``symbprop --help`` starts without SymPy (see its docstring).
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "symbprop"
#: Modules allowed directly in symbprop/ (issue 16: at most 8).
MAX_TOP_LEVEL = 8
#: A module with one job stays short (the project's style: under about 300 lines).
MAX_MODULE_LINES = 300
#: A comment that gives a reason (a bare noqa directive gives none).
REASON = re.compile(r"#(?!\s*noqa\b)\s*\w")


def module_names(package: Path) -> dict[str, Path]:
    """{dotted module name: file} for every module of ``package`` (a folder)."""
    names = {}
    for path in package.rglob("*.py"):
        parts = list(path.relative_to(package.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        names[".".join(parts)] = path
    return names


def _annotation_only(tree: ast.Module) -> set[int]:
    skipped = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            for statement in node.body:
                skipped.update(id(inner) for inner in ast.walk(statement))
    return skipped


def _resolve(module: str, is_package: bool, level: int, name: str | None) -> str:
    base = module.split(".")
    if not is_package:
        base = base[:-1]
    if level > 1:
        base = base[: len(base) - (level - 1)]
    return ".".join(base + ([name] if name else []))


def import_graph(package: Path) -> dict[str, set[str]]:
    """Module → the package's modules it imports (module level and function level)."""
    modules = module_names(package)
    top = package.name
    graph = {}
    for module, path in modules.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        skipped = _annotation_only(tree)
        targets, explicit = set(), set()  # explicit: packages named by ``from X import``
        for node in ast.walk(tree):
            if id(node) in skipped:
                continue
            if isinstance(node, ast.Import):
                targets.update(a.name for a in node.names if a.name.split(".")[0] == top)
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    base = _resolve(module, path.name == "__init__.py", node.level, node.module)
                elif node.module and node.module.split(".")[0] == top:
                    base = node.module
                else:
                    continue
                explicit.add(base)  # reads X, even when Y is a submodule
                for alias in node.names:
                    if f"{base}.{alias.name}" in modules:
                        targets.add(f"{base}.{alias.name}")
        # Importing a.b.c first runs a/__init__ and a/b/__init__: an edge to each package that
        # is not already running (an ancestor of the importer).
        ancestors = {".".join(module.split(".")[:k]) for k in range(1, module.count(".") + 1)}
        for target in list(targets | explicit):
            parts = target.split(".")
            targets.update(".".join(parts[:k]) for k in range(2, len(parts)))
        graph[module] = {t for t in targets | explicit
                         if t in modules and t != module and (t not in ancestors or t in explicit)}
    return graph


def circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan, iterative)."""
    index, low, on_stack, stack, found = {}, {}, set(), [], []
    counter = 0
    for start in sorted(graph):
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def unexplained_local_imports(package: Path) -> list[str]:
    """``file:line`` of each import inside a function with no comment on its line, on the line
    above it, or above the run of import lines it belongs to."""
    missing = []
    for module, path in module_names(package).items():
        if module.split(".")[:2] == [package.name, "cli"]:
            continue
        lines = path.read_text(encoding="utf-8").splitlines()
        tree = ast.parse("\n".join(lines))
        for function in ast.walk(tree):
            if not isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            for node in ast.walk(function):
                if not isinstance(node, ast.Import | ast.ImportFrom):
                    continue
                row = node.lineno - 1
                while row > 0 and lines[row - 1].strip().startswith(("from ", "import ")):
                    row -= 1
                span = lines[max(row - 1, 0):node.end_lineno]
                if not any(REASON.search(text) for text in span):
                    missing.append(f"{path.relative_to(package.parent)}:{node.lineno}")
    return missing


# ---------------------------------------------------------------- the package


def test_the_package_has_no_import_circle():
    graph = import_graph(PACKAGE)
    assert len(graph) > 100  # the whole package was read
    assert circles(graph) == []


def test_every_function_level_import_says_why():
    assert unexplained_local_imports(PACKAGE) == []


def test_few_modules_sit_directly_in_the_package():
    top = sorted(p.name for p in PACKAGE.glob("*.py"))
    assert len(top) <= MAX_TOP_LEVEL, top


def test_every_module_is_short():
    long = {str(path.relative_to(ROOT)): n for path in PACKAGE.rglob("*.py")
            if (n := len(path.read_text(encoding="utf-8").splitlines())) > MAX_MODULE_LINES}
    assert long == {}, f"split these modules (over {MAX_MODULE_LINES} lines): {long}"


def test_every_sub_package_says_what_comes_in_and_goes_out():
    for init in PACKAGE.glob("*/__init__.py"):
        if init.parent.name in ("examples", "datasets", "templates"):
            continue  # bundled data
        doc = ast.get_docstring(ast.parse(init.read_text(encoding="utf-8")))
        assert doc and "In:" in doc and "Out:" in doc, init


#: The layers of the pipeline, lowest first (DESIGN.md §3): a package imports its own layer or
#: lower ones, and render and codegen, side by side, never each other.
LAYERS = (
    ("errors", "version", "templating"),
    ("files", "functions"),
    ("model", "spec", "examples"),
    ("symbolic",),
    ("render", "codegen"),
    ("runtime",),
    ("crosscheck",),
    ("training", "distributed", "exercises", "datasets"),
    ("bench", "cli", "api", "goldens"),
    ("__init__", "__main__"),
)
#: Imports that reach up, each for a reason; every one is made inside a function, on use.
UPWARD = {
    # d.to_latex(), d.to_html(), Jupyter's _repr_*_: documents as methods of a derivation
    ("symbprop.symbolic.documents", "symbprop.render"),
    ("symbprop.symbolic.documents", "symbprop.render.html"),
    # Kernels.loss_and_grad/fit given Dask arrays hand them to the data-parallel code
    ("symbprop.runtime.kernels", "symbprop.distributed"),
    # Kernels.fit shows train's progress bar and returns a history that plots itself
    ("symbprop.runtime.fitting", "symbprop.training"),  # the package, run first
    ("symbprop.runtime.fitting", "symbprop.training.history"),
    ("symbprop.runtime.fitting", "symbprop.training.progress"),
}


def _layer(module: str) -> tuple[int, str]:
    part = module.split(".")[1] if "." in module else "__init__"
    for number, names in enumerate(LAYERS):
        if part in names:
            return number, part
    raise AssertionError(f"{module}: in no layer of LAYERS")


def test_imports_point_down_the_pipeline():
    upward = set()
    for module, targets in import_graph(PACKAGE).items():
        (mine, package) = _layer(module)
        for target in targets:
            (theirs, other) = _layer(target)
            if theirs > mine or (mine == theirs == 4 and package != other):
                upward.add((module, target))
    assert upward == UPWARD


# ---------------------------------------------------------------- the checker can fail


def _package(tmp_path: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = tmp_path / "pkg" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return tmp_path / "pkg"


@pytest.mark.parametrize("second", [
    "from pkg.a import x\n",                       # module level
    "def f():\n    from .a import x  # why\n",     # inside a function, relative
    "def f():\n    import pkg.a  # why\n",
])
def test_a_circle_is_found_wherever_its_import_sits(tmp_path, second):
    package = _package(tmp_path, {"__init__.py": "", "a.py": "from pkg import b\nx = 1\n",
                                  "b.py": second})
    assert circles(import_graph(package)) == [["pkg.a", "pkg.b"]]


def test_annotation_only_imports_and_chains_make_no_circle(tmp_path):
    package = _package(tmp_path, {
        "__init__.py": "",
        "a.py": "from pkg.b import y\nx = 1\n",
        "b.py": ("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from pkg.a import x\n"
                 "from pkg.c import z\ny = 2\n"),
        "c.py": "z = 3\n"})
    graph = import_graph(package)
    assert graph["pkg.a"] == {"pkg.b"} and graph["pkg.b"] == {"pkg.c"}
    assert circles(graph) == []


def test_a_local_import_without_a_reason_is_reported(tmp_path):
    package = _package(tmp_path, {
        "__init__.py": "",
        "a.py": ("def f():\n    import json\n    return json\n\n\n"
                 "def g():\n    # optional\n    import csv\n    import os\n    return csv, os\n")})
    missing = unexplained_local_imports(package)
    assert len(missing) == 1 and missing[0].endswith("a.py:2")


def test_a_circle_through_a_package_init_is_found(tmp_path):
    """``import pkg.sub.x`` runs ``pkg/sub/__init__.py`` first; if that imports the importer,
    the two are a circle although neither names the other's module."""
    package = _package(tmp_path, {"__init__.py": "", "a.py": "from pkg.sub.x import y\n",
                                  "sub/__init__.py": "from pkg import a\n",
                                  "sub/x.py": "y = 1\n"})
    assert circles(import_graph(package)) == [["pkg.a", "pkg.sub"]]


def test_from_a_package_import_a_sibling_is_an_edge_to_the_package(tmp_path):
    """``from pkg.sub import y`` in pkg/sub/x.py reads pkg.sub's namespace: a circle when
    pkg/sub/__init__.py imports x (``import pkg.sub.y as y`` is not)."""
    files = {"__init__.py": "", "sub/__init__.py": "from pkg.sub import x\n",
             "sub/y.py": "z = 1\n"}
    circled = _package(tmp_path / "one", {**files, "sub/x.py": "from pkg.sub import y\n"})
    assert circles(import_graph(circled)) == [["pkg.sub", "pkg.sub.x"]]
    plain = _package(tmp_path / "two", {**files, "sub/x.py": "import pkg.sub.y as y\n"})
    assert circles(import_graph(plain)) == []
