"""A network spec's ``notation``: the names a lecture gives its parameters and variables
(seed 001 writes h = x·w1 + b1 and w₀…w₅), as ``{W1[0,0]: w1, b1[0]: b1, z1[0]: h}``.

Keys name one scalar of the network: a weight ``W<l>[j,k]``, a bias ``b<l>[j]``, a weighted
input ``z<l>[j]``, an activation ``a<l>[j]`` or an input ``x[k]``, checked against the layer
sizes.  Values are display names read by a whitelist (letters, then optional digits, with an
optional ``_`` before them: ``w1``, ``w_4``, ``h``), never evaluated.

One more key, ``layers``, chooses how layer superscripts are numbered (``read_layers``):
``from_input`` (the default: w¹, w², …, w^L) or ``from_output`` as seed 004 writes its chain,
w^(L), w^(L−1), … (``{layers: from_output}``).

The names and the numbering change how the documents print (``symbprop.render.style.Style``),
nothing else: the derivation, the kernels and the parameter names of values files keep
``W1[0,0]``.
"""

from __future__ import annotations

import re

from symbprop.spec.fields import Where, shown
from symbprop.spec.variables import BIAS, INPUT, WEIGHT, Var, parse_key

NAME_RE = re.compile(r"^[A-Za-z]{1,8}(_?[0-9]{1,3})?\Z")
MAX_ENTRIES = 200
#: The key of the layer numbering and its choices (the first is the default).
LAYERS_KEY = "layers"
LAYER_NUMBERINGS = ("from_input", "from_output")


def read_notation(raw, sizes: tuple[int, ...], biases: tuple[str, ...],
                  where: Where) -> tuple[tuple[str, str], ...]:
    """The validated ``(key, name)`` pairs of ``raw`` (a mapping), keys spelled canonically
    (``W1[0,0]``); a ``SpecError`` naming the file and the field for anything else."""
    if raw is None:
        return ()
    if not isinstance(raw, dict):
        raise where.error("must be a mapping such as {W1[0,0]: w1, z1[0]: h}")
    if len(raw) > MAX_ENTRIES:
        raise where.error(f"{len(raw)} names; at most {MAX_ENTRIES}")
    pairs, used = [], {}
    for key, name in raw.items():
        if key == LAYERS_KEY:
            continue  # read_layers
        canonical = _key(key, sizes, biases, where)
        if not isinstance(name, str) or not NAME_RE.match(name):
            raise (where / canonical).error(
                f"{shown(name)} is not a name; allowed: letters, then optional digits with an "
                "optional '_' before them (w1, w_4, h)")
        if name in used:
            raise (where / canonical).error(f"{name!r} already names {used[name]}")
        used[name] = canonical
        pairs.append((canonical, name))
    return tuple(pairs)


def _key(key, sizes, biases, where: Where) -> str:
    parsed = parse_key(key)
    allowed = (f"allowed: W<l>[j,k], b<l>[j], z<l>[j], a<l>[j], x[k], and {LAYERS_KEY} "
               f"({' or '.join(LAYER_NUMBERINGS)})")
    if parsed is None:
        raise where.error(f"unknown name {shown(key)}; {allowed}")
    role, layer, indices = parsed
    first = indices[0]
    L = len(sizes) - 1
    if role is INPUT:
        if layer is not None or len(indices) > 1 or first >= sizes[0]:
            raise where.error(f"unknown name {shown(key)}: the inputs are "
                              f"{Var(INPUT).element(0)} to {Var(INPUT).element(sizes[0] - 1)}")
        return Var(INPUT).element(first)
    if layer is None or not 1 <= layer <= L:
        raise where.error(f"unknown name {shown(key)}: layers are 1 to {L}; {allowed}")
    n, m = sizes[layer], sizes[layer - 1]
    if role is WEIGHT:
        if len(indices) < 2 or first >= n or indices[1] >= m:
            raise where.error(f"unknown name {shown(key)}: {Var(WEIGHT, layer).name} is "
                              f"{n} × {m}")
        return Var(WEIGHT, layer).element(*indices)
    if len(indices) > 1 or first >= n:
        raise where.error(f"unknown name {shown(key)}: layer {layer} has {n} neurons")
    if role is BIAS and biases[layer - 1] != "per_neuron":
        raise where.error(f"unknown name {shown(key)}: layer {layer} has no bias per neuron")
    return Var(role, layer).element(first)


def read_layers(raw, where: Where) -> str:
    """The layer numbering of the notation mapping ``raw`` (``where`` is its field):
    ``from_input`` unless ``raw`` has ``layers: from_output``; a ``SpecError`` naming the file
    and the field for any other value."""
    if not isinstance(raw, dict) or LAYERS_KEY not in raw:
        return LAYER_NUMBERINGS[0]
    value = raw[LAYERS_KEY]
    if not isinstance(value, str) or value not in LAYER_NUMBERINGS:
        raise (where / LAYERS_KEY).error(
            f"{shown(value)} is not a layer numbering; allowed: {', '.join(LAYER_NUMBERINGS)} "
            "(from_output numbers the layers (L), (L-1), ... as seed 004 does)")
    return value
