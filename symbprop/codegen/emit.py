"""Template context -> Jinja2 render -> atomic write.

``base_context`` holds what every kernel module states (version, spec hash, parameter layout);
the lowerings add their printed code.  ``render`` uses the strict environment of
``symbprop.templating`` (a missing variable is an error) and ``write`` goes through
``symbprop.atomic.write_text``, so a reader never sees a partial file and a failed write leaves
nothing behind.
"""

from __future__ import annotations

import hashlib
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
    """What ``loss_and_grad_arrays`` prints: the shape tests of the separate parameter and
    gradient arrays, the lines that copy the parameters into ``theta``, and those that copy
    ``grad`` out into the gradient arrays (through ``_copy``: Numba compiles a slice assignment
    anew at every site, which made this function take 4 s to compile)."""
    shapes, offsets, _ = _layout(model)
    tests, pack, unpack = [], [], []
    for name, shape in shapes.items():
        start = offsets[name]
        size = 1
        for n in shape:
            size *= n
        part = f"grad[{start}:{start + size}]"
        if not shape:
            pack.append(f"theta[{start}] = {name}")
            unpack.append(f"g{name}[()] = grad[{start}]")
            tests.append(f"g{name}.shape != ()")
            continue
        tests += [f"{name}.shape != {shape}", f"g{name}.shape != {shape}"]
        flat = "" if len(shape) == 1 else f".reshape({size})"
        pack.append(f"_copy(theta[{start}:{start + size}], {name}{flat})")
        unpack.append(f"_copy(g{name}{flat}, {part})")
    return {"pack_args": ", ".join(shapes), "grad_names": ", ".join(f"g{n}" for n in shapes),
            "shape_tests": tests, "pack": pack, "unpack": unpack}


def render(template: str, context: dict) -> str:
    """Render ``templates/<template>`` with ``context`` (StrictUndefined)."""
    return environment().get_template(template).render(**context)


_KEY_PLACEHOLDER = "@@module_key@@"


def render_module(template: str, context: dict) -> str:
    """Render a kernel module whose ``module_key`` is the sha256 (16 hex digits) of its own text
    with the key left out: the fixed name the module registers for Numba's cache
    (templates/kernels.py.j2 says why) then changes exactly when the module's text does."""
    text = render(template, {**context, "module_key": _KEY_PLACEHOLDER})
    assert text.count(_KEY_PLACEHOLDER) == 1, "the base template states module_key once"
    key = hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]
    return text.replace(_KEY_PLACEHOLDER, key)


def write(path: str | Path, text: str) -> Path:
    """Write ``text`` to ``path`` atomically (creating folders); SymbpropError if impossible."""
    return write_text(path, text)
