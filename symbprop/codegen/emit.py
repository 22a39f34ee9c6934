"""Template context -> Jinja2 render -> atomic write.

``base_context`` holds what every kernel module states (version, spec hash, parameter layout);
the lowerings add their printed code.  ``render`` uses the strict environment of
``symbprop.templating`` (a missing variable is an error) and ``write`` goes through
``symbprop.atomic.write_text``, so a reader never sees a partial file and a failed write leaves
nothing behind.
"""

from __future__ import annotations

from pathlib import Path

from ..atomic import write_text
from ..templating import environment


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


def base_context(model, strategy: str, dtype: str, title: str, helpers: list[str]) -> dict:
    """Header, metadata and layout of the parameter vector (literals as Python source)."""
    from .. import __version__

    shapes, offsets, count = _layout(model)
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
    }


def packing(model) -> dict:
    """Lines that copy separate parameter arrays into ``theta`` and views that split ``grad``."""
    shapes, offsets, _ = _layout(model)
    pack, unpack = [], []
    for name, shape in shapes.items():
        start = offsets[name]
        size = 1
        for n in shape:
            size *= n
        if not shape:
            pack.append(f"theta[{start}] = {name}")
            unpack.append(f"grad[{start}]")
        elif len(shape) == 1:
            pack.append(f"theta[{start}:{start + size}] = {name}")
            unpack.append(f"grad[{start}:{start + size}]")
        else:
            pack.append(f"theta[{start}:{start + size}] = {name}.reshape({size})")
            unpack.append(f"grad[{start}:{start + size}].reshape({shape})")
    return {"pack_args": ", ".join(shapes), "grad_names": ", ".join(f"g{n}" for n in shapes),
            "pack": pack, "unpack": unpack}


def render(template: str, context: dict) -> str:
    """Render ``templates/<template>`` with ``context`` (StrictUndefined)."""
    return environment().get_template(template).render(**context)


def write(path: str | Path, text: str) -> Path:
    """Write ``text`` to ``path`` atomically (creating folders); SymbpropError if impossible."""
    return write_text(path, text)
