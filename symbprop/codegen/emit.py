"""Template context -> Jinja2 render -> atomic write.

``base_context`` holds what every kernel module states (version, spec hash, parameter layout);
the lowerings add their printed code.  ``render`` uses the strict environment of
``symbprop.templating`` (a missing variable is an error) and ``write`` goes through
``symbprop.files.atomic.write_text``, so a reader never sees a partial file and a failed write
leaves nothing behind.

``checked(text)`` is the wall every rendered module passes before anything writes it: it must
compile, hold no line-breaking character but ``\n``, no comment with a backslash or a triple
quote, and run nothing at import but its header (a docstring, imports, name bindings, class
and function definitions, its one ``sys.modules`` registration).  A spec's text never reaches
a module (formulas arrive printed from their parsed expressions, names are identifiers); a
failure here is an internal error, and nothing is written.
"""

from __future__ import annotations

import ast
import hashlib
import io
import re
import tokenize
from pathlib import Path

import symbprop.codegen.loops as loops
import symbprop.functions.registry as registry
from symbprop.codegen.float_type import real
from symbprop.errors import CodegenError
from symbprop.files.atomic import write_text
from symbprop.functions.float32 import float32_record
from symbprop.templating import environment
from symbprop.version import __version__


def _layout(model) -> tuple[dict, dict, int]:
    shapes = dict(model.param_shapes)
    offsets, offset = {}, 0
    for name, shape in shapes.items():
        offsets[name] = offset
        size = 1
        for n in shape:
            size *= n
        offset += size
    return shapes, offsets, offset


def base_context(model, strategy: str, dtype: str, title: str, helpers: list[str],
                 target: str = "numba") -> dict:
    """Header, metadata and layout of the parameter vector (literals as Python source), and the
    sources of the activation helpers ``helpers`` names, for ``target`` (their float32 forms in
    a float32 Numba module); ``real(text)`` prints a literal of ``dtype`` in the templates."""
    shapes, offsets, count = _layout(model)
    f32 = dtype == "float32" and target == "numba"
    records = [float32_record(r) if f32 else r for r in registry.ACTIVATIONS.values()]
    return {
        "version": __version__,
        "name": model.name,
        "sha256": model.sha256,
        "title": title,
        "strategy": strategy,
        "dtype": dtype,
        "param_names": repr(tuple(shapes)),
        "param_shapes": repr(shapes),
        "param_offsets": repr(offsets),
        "n_params": count,
        "helpers": helpers,
        "activation_helpers": [getattr(record, f"{target}_helper")
                               for record in records
                               if record.name in helpers and getattr(record, f"{target}_helper")],
        "real": lambda text: real(text, dtype if f32 else "float64"),
    }


def packing(model) -> dict:
    """What ``_loss_and_grad_checked`` prints: the shape tests of the separate parameter and
    gradient arrays, the lines that copy the parameters into ``theta``, and those that copy
    ``grad`` out into the gradient arrays (through ``_copy``: Numba compiles a slice assignment
    anew at every site, which made this function take 4 s to compile)."""
    shapes, offsets, _ = _layout(model)
    tests, pack, unpack = [], [], []
    for name, shape in shapes.items():
        start = loops.start(name)
        size = 1
        for n in shape:
            size *= n
        part = f"grad[{start}:{start} + {size}]"
        if not shape:
            pack.append(f"theta[{start}] = {name}")
            unpack.append(f"g{name}[()] = grad[{start}]")
            tests.append(f"g{name}.shape != ()")
            continue
        tests += [f"{name}.shape != {shape}", f"g{name}.shape != {shape}"]
        flat = "" if len(shape) == 1 else f".reshape({size})"
        pack.append(f"_copy(theta[{start}:{start} + {size}], {name}{flat})")
        unpack.append(f"_copy(g{name}{flat}, {part})")
    return {"pack_args": ", ".join(shapes), "grad_names": ", ".join(f"g{n}" for n in shapes),
            "shape_tests": tests, "pack": pack, "unpack": unpack,
            "param_starts": [f"{loops.start(name)} = {offsets[name]}" for name in shapes]}


def render(template: str, context: dict) -> str:
    """Render ``templates/<template>`` with ``context`` (StrictUndefined)."""
    return environment().get_template(template).render(**context)


_KEY_PLACEHOLDER = "@@module_key@@"
_CHECKSUM_PLACEHOLDER = "@@checksum@@\n"
#: The second line of every kernel module: the sha256 of the file without this line, and the
#: functions the file defines for callers (public ones and ``_loss_and_grad_checked``, which
#: symbprop's dict API calls; not the helpers).
CHECKSUM_LINE = re.compile(r"# sha256 of this file without this line: ([0-9a-f]{64}); "
                           r"defines: ([a-z_, ]+)\n")
_DEF = re.compile(r"^def ([a-z]\w*|_loss_and_grad_checked)\(", re.MULTILINE)


def render_module(template: str, context: dict) -> str:
    """Render a kernel module whose ``module_key`` is the sha256 (16 hex digits) of its own text
    with the key left out: the fixed name the module registers for Numba's cache
    (templates/kernels.py.j2 says why) then changes exactly when the module's text does.  Its
    second line (``CHECKSUM_LINE``) states the sha256 of the finished file without that line and
    the functions it defines, which ``damage`` verifies."""
    text = render(template, {**context, "module_key": _KEY_PLACEHOLDER,
                             "checksum_line": _CHECKSUM_PLACEHOLDER[:-1]})
    assert text.count(_KEY_PLACEHOLDER) == 1, "the base template states module_key once"
    key = hashlib.sha256(text.replace(_CHECKSUM_PLACEHOLDER, "").encode("utf-8")).hexdigest()
    text = text.replace(_KEY_PLACEHOLDER, key[:16])
    head, tail = text.split(_CHECKSUM_PLACEHOLDER)
    digest = hashlib.sha256((head + tail).encode("utf-8")).hexdigest()
    names = ", ".join(_DEF.findall(tail))
    return f"{head}# sha256 of this file without this line: {digest}; defines: {names}\n{tail}"


def damage(data: bytes, required) -> str | None:
    """What is wrong with the kernel module ``data`` (bytes of a file), or None if it is
    intact: its checksum line is missing, its sha256 differs from the line's, or it does not
    define one of the functions ``required``."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return "not UTF-8 text"
    first = text.find("\n") + 1
    match = CHECKSUM_LINE.match(text, first) if first else None
    if match is None:
        return "no checksum line"
    rest = text[:first] + text[match.end():]
    if hashlib.sha256(rest.encode("utf-8")).hexdigest() != match.group(1):
        return "content differs from its sha256"
    missing = set(required) - set(match.group(2).split(", "))
    if missing:
        return f"does not define {', '.join(sorted(missing))}"
    return None


#: Characters that break a line for some reader (str.splitlines, editors, the tokenizer) or
#: have no business in generated source; only "\n" ends a line of a kernel module.
_STRAY = re.compile("[\x00-\x08\x0b-\x1f\x7f\x85\u2028\u2029]")
_ESCAPES = ("\\", '"""', "'''")
_REGISTRATION = "sys.modules.setdefault(__name__, _namespace)"
_HARMLESS = (ast.Import, ast.ImportFrom, ast.Assign, ast.FunctionDef, ast.ClassDef)


def internal_error(path, problem: str):
    return CodegenError(f"{path}: internal error: the generated module {problem}; nothing was "
                        f"written (please report this with the spec)")


def checked(text: str, path: str | Path = "kernels.py") -> str:
    """``text`` if it passes the wall of the module docstring, else ``CodegenError``."""
    stray = _STRAY.search(text)
    if stray:
        line = text.count("\n", 0, stray.start()) + 1
        raise internal_error(path, f"holds the character {stray.group()!r} (line {line})")
    try:
        tree = ast.parse(text, str(path))
        compile(tree, str(path), "exec", dont_inherit=True)
    except (SyntaxError, ValueError) as err:
        raise internal_error(path, f"does not compile ({err})") from None
    for token in tokenize.generate_tokens(io.StringIO(text).readline):
        if token.type == tokenize.COMMENT and any(s in token.string for s in _ESCAPES):
            line = token.start[0]
            raise internal_error(path, f"has a comment that quotes or escapes (line {line})")
    body = tree.body
    if not body or not isinstance(body[0], ast.Expr) or not isinstance(body[0].value, ast.Constant):
        raise internal_error(path, "does not start with its docstring")
    for node in body[1:]:
        plain = isinstance(node, _HARMLESS) or (isinstance(node, ast.Expr)
                                                 and ast.unparse(node) == _REGISTRATION)
        if not plain:
            raise internal_error(path, f"runs {ast.unparse(node)[:60]!r} at import (line "
                                  f"{node.lineno})")
    return text


def write(path: str | Path, text: str) -> Path:
    """Write ``text`` to ``path`` atomically (creating folders); SymbpropError if impossible."""
    return write_text(path, text)
