"""The bundled example specs: the networks and graphs of the lecture notes (see the README).

``NAME.yaml`` is a spec; ``NAME.values.yaml``, where present, is its worked-example point
(``--at examples:NAME``).  The leading comment block of a spec is its description.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from symbprop.errors import SpecError, ValuesError


def _folder() -> Path:
    return Path(str(resources.files(__name__)))


def names() -> list[str]:
    """Every bundled example, sorted."""
    return sorted(p.stem for p in _folder().glob("*.yaml") if not p.stem.endswith(".values"))


def describe(name: str) -> str:
    """The leading comment block of the example's spec, as one line."""
    words = []
    for line in example_path(name).read_text(encoding="utf-8").splitlines():
        if not line.startswith("#"):
            break
        words.append(line.lstrip("# ").strip())
    return " ".join(words)


def example_path(name: str) -> Path:
    path = _folder() / f"{name}.yaml"
    if name not in names():
        raise SpecError(f"examples:{name}: no such example; examples: {', '.join(names())}")
    return path


def has_values(name: str) -> bool:
    """True if the example ``name`` ships a values file (a worked-example point)."""
    return (_folder() / f"{name}.values.yaml").exists()


def example_values_path(name: str) -> Path:
    path = _folder() / f"{name}.values.yaml"
    if not has_values(name):
        with_values = [n for n in names() if has_values(n)]
        raise ValuesError(
            f"examples:{name}: no bundled values; examples with values: {', '.join(with_values)}"
        )
    return path
