"""The Jinja2 environment for every template (kernels and documents).

Templates live in the top-level ``templates/`` folder, installed as the package
``symbprop.templates``.  The environment is strict (``StrictUndefined``: a missing variable is an
error, not a blank), trims block whitespace, and keeps the trailing newline so that generated
files are byte-stable.  ``latex=True`` switches to LaTeX-safe delimiters (``\\VAR{...}``,
``\\BLOCK{...}``, ``\\#{...}``), so that TeX's braces and ``%`` need no escaping in templates.
"""

from __future__ import annotations

import functools
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import jinja2

LATEX_DELIMITERS = {
    "block_start_string": r"\BLOCK{",
    "block_end_string": "}",
    "variable_start_string": r"\VAR{",
    "variable_end_string": "}",
    "comment_start_string": r"\#{",
    "comment_end_string": "}",
    "line_statement_prefix": "%%",
    "line_comment_prefix": "%#",
}


def template_dir() -> Path:
    """The repository's ``templates/`` when symbprop runs from a source checkout (a
    ``pyproject.toml`` beside it: an editable install, or a git worktree whose package shadows
    the installed one), else the installed ``symbprop/templates`` folder."""
    checkout = Path(__file__).resolve().parent.parent
    if (checkout / "pyproject.toml").is_file() and (checkout / "templates").is_dir():
        return checkout / "templates"
    try:
        installed = Path(str(resources.files("symbprop.templates")))
        if installed.is_dir():
            return installed
    except ModuleNotFoundError:
        pass
    return checkout / "templates"


@functools.lru_cache(maxsize=4)
def environment(latex: bool = False) -> jinja2.Environment:
    """A strict environment over the template folder (LaTeX-safe delimiters if ``latex``)."""
    # Imported here: a process that only loads cached kernels (``template_dir``) needs no Jinja2.
    import jinja2

    options = dict(LATEX_DELIMITERS) if latex else {}
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(template_dir())),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        autoescape=False,
        **options,
    )


def render(name: str, latex: bool = False, **context) -> str:
    """Render template ``name`` with ``context``."""
    return environment(latex).get_template(name).render(**context)
