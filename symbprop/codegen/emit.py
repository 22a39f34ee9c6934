"""Template context -> Jinja2 render -> the text of a kernel module, stamped.

``base_context`` holds what every kernel module states (version, spec hash, parameter layout);
the lowerings add their printed code.  ``render`` uses the strict environment of
``symbprop.templating`` (a missing variable is an error); ``render_module`` stamps the module's
key and checksum line.  ``symbprop.codegen.integrity`` checks the text before it is written.
"""

from __future__ import annotations

import functools
import hashlib
import re
from pathlib import Path

import symbprop.codegen.loops as loops
import symbprop.functions.registry as registry
from symbprop.codegen.float_type import real
from symbprop.codegen.integrity import checksum_line
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
    return head + checksum_line(head + tail, ", ".join(_DEF.findall(tail))) + tail


@functools.cache
def printed_functions(file_name: str) -> str:
    """The functions of ``symbprop/codegen/<file_name>`` (its text from the first ``@njit`` to
    the end), read rather than imported, since generating code needs no Numba: what a generated
    module prints to stand alone and symbprop's runtime imports (``kernel_helpers.py``,
    ``shuffle.py``)."""
    text = (Path(__file__).parent / file_name).read_text(encoding="utf-8")
    return text[text.index("\n@njit") + 1:].rstrip("\n")
