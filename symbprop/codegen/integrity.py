"""The wall every kernel module passes: checked before written, verified before imported.

``checked(text)`` runs before anything writes a rendered module: it must compile, hold no
line-breaking character but ``\n``, no comment with a backslash or a triple quote, and run
nothing at import but its header (a docstring, imports, name bindings, class and function
definitions, its one ``sys.modules`` registration).  A spec's text never reaches a module
(formulas arrive printed from their parsed expressions, names are identifiers); a failure here is
an internal error, and nothing is written.  ``write`` goes through
``symbprop.files.atomic.write_text``, so a reader never sees a partial file and a failed write
leaves nothing behind.

``damage(data, required)`` is what the cache checks before it imports a file: the second line
(``CHECKSUM_LINE``, written by ``checksum_line``) states the sha256 of the rest and the functions
the module defines.  Nothing here needs SymPy or Jinja2, so a process that only loads cached
kernels does not import them.
"""

from __future__ import annotations

import ast
import hashlib
import io
import re
import tokenize
from pathlib import Path

from symbprop.errors import CodegenError
from symbprop.files.atomic import write_text

#: The second line of every kernel module: the sha256 of the file without this line, and the
#: functions the file defines for callers (public ones and ``_loss_and_grad_checked``, which
#: symbprop's dict API calls; not the helpers).
CHECKSUM_LINE = re.compile(r"# sha256 of this file without this line: ([0-9a-f]{64}); "
                           r"defines: ([a-z_, ]+)\n")


def checksum_line(text: str, names: str) -> str:
    """The checksum line of a module whose text without that line is ``text`` and which defines
    ``names`` (comma-separated)."""
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
    return f"# sha256 of this file without this line: {digest}; defines: {names}\n"


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
