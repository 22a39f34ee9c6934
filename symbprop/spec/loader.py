"""Specs -> models: ``load`` (a YAML file, ``examples:NAME`` or a dict) and ``from_dict``.

Every problem raises ``SpecError`` with one message of the form
``<file>: <field path>: <what is wrong>; <what is allowed>``.  Nothing here evaluates user text:
formulas go through ``symbprop.spec.formula``.  Networks are read here; graphs and expressions in
``symbprop.spec.graphs``.
"""

from __future__ import annotations

import math
import os
import re
from pathlib import Path
from typing import Any, NamedTuple

import yaml

import symbprop.functions.activations as activations
import symbprop.functions.losses as losses
import symbprop.functions.registry as registry
from symbprop.errors import SpecError
from symbprop.examples import example_path
from symbprop.files.yamltext import load_yaml, read_input
from symbprop.model import BIAS_MODES, REDUCTIONS, Graph, Layer, Network
from symbprop.spec.fields import (
    MAX_NAME_LENGTH,
    NAME_RE,
    Where,
    check_keys,
    choice,
    did_you_mean,
    identifier,
    number,
    parsed_formula,
    positive_int,
    shown,
)
from symbprop.spec.notation import LAYER_NUMBERINGS, LAYERS_KEY, read_layers, read_notation

NETWORK_KEYS = ("name", "inputs", "layers", "loss", "reduction", "bias", "notation")
LAYER_KEYS = ("units", "activation", "bias")
#: The most scalar parameters a network may have: its derivation lists every parameter by name
#: (some 70 bytes each) and its kernels keep several vectors of that length.
MAX_PARAMS = 10**8
#: The most layers a network may have: derive and generate are linear in depth (256 layers:
#: about 6 s of CPU here), so 1024 layers take about half a minute; beyond, minutes.
MAX_LAYERS = 1024


def as_model(model) -> Network | Graph:
    """``model`` itself if it is a model, else ``load(model)`` (a path, ``examples:NAME`` or a
    dict); anything else is a ``SpecError``.  The API functions accept what ``load`` accepts."""
    if isinstance(model, (Network, Graph)):
        return model
    if isinstance(model, (str, os.PathLike, dict)):
        return load(model)
    raise SpecError(f"model: expected a model (symbprop.load, mlp, graph or expression), a spec "
                    f"file, examples:NAME or a dict, got {type(model).__name__}")


def load(spec: str | Path | dict) -> Network | Graph:
    """A model from a YAML file (a path: ``str`` or ``os.PathLike``), ``examples:NAME``, or a
    dict; anything else, an empty path or a folder raises ``SpecError``."""
    if isinstance(spec, dict):
        return from_dict(spec, source=None)
    return load_text(read_spec(spec))


class SpecText(NamedTuple):
    """A spec file's text as read, with what names it: ``source`` (the path or examples:NAME as
    given, for messages) and ``default_name`` (the model's name when the spec gives none)."""

    text: str
    source: str
    default_name: str


def read_spec(spec: str | os.PathLike) -> SpecText:
    """The text of a spec file or ``examples:NAME``, read as ``load`` reads it (size-limited);
    an empty path, a folder, a missing or unreadable file or anything else raises
    ``SpecError``."""
    if not isinstance(spec, (str, os.PathLike)):
        raise SpecError(f"spec: expected a spec file, examples:NAME or a dict, "
                        f"got {type(spec).__name__} {shown(spec)}")
    if not os.fspath(spec):  # Path("") is the current folder
        raise SpecError("spec: the file name is empty; give a spec file, examples:NAME or a dict")
    path = (
        example_path(str(spec)[len("examples:") :])
        if str(spec).startswith("examples:")
        else Path(spec)
    )
    return SpecText(read_input(path, str(spec), "spec", SpecError), str(spec),
                    _safe_name(path.stem))


def load_text(spec: SpecText) -> Network | Graph:
    """The model of a spec's text (``read_spec``): what ``load`` returns for that file."""
    try:
        data = load_yaml(spec.text)
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        line = f"line {mark.line + 1}: " if mark else ""
        raise SpecError(
            f"{spec.source}: {line}not valid YAML ({getattr(err, 'problem', err)})"
        ) from None
    if not isinstance(data, dict):
        raise SpecError(
            f"{spec.source}: a spec must be a mapping with 'layers' or 'graph' or 'expression'"
        )
    data.setdefault("name", spec.default_name)
    return from_dict(data, source=spec.source)


def _safe_name(stem: str) -> str:
    """A model name made of a file name: an identifier of at most ``MAX_NAME_LENGTH``."""
    name = re.sub(r"[^A-Za-z0-9_]", "_", stem)
    name = name if NAME_RE.match(name) and not name.startswith("__") else f"model_{name}"
    return name[:MAX_NAME_LENGTH]


def from_dict(data: dict, source: str | None = None) -> Network | Graph:
    """Validate a spec mapping and build its model."""
    where = Where(source)
    if "layers" in data:
        return _network(data, where)
    if "graph" in data:
        # Imported here: a network spec is read without SymPy (graphs are SymPy expressions).
        from symbprop.spec.graphs import graph_model

        return graph_model(data, where)
    if "expression" in data:
        # Imported here: a network spec is read without SymPy (graphs are SymPy expressions).
        from symbprop.spec.graphs import expression_model

        return expression_model(data, where)
    kinds = ("layers", "graph", "expression")
    near = next((f"; found '{key}'{did_you_mean(key, kinds)}" for key in data
                 if isinstance(key, str) and did_you_mean(key, kinds)), "")
    raise where.error(f"a spec needs 'layers' (a network), 'graph' or 'expression'{near}")


# ---------------------------------------------------------------- networks


def _network(data: dict, where: Where) -> Network:
    check_keys(data, NETWORK_KEYS, where)
    name = identifier(data.get("name", "network"), where / "name")
    inputs = positive_int(data.get("inputs"), where / "inputs")
    default_bias = choice(data.get("bias", "per_neuron"), BIAS_MODES, where / "bias")
    raw_layers = data["layers"]
    if not isinstance(raw_layers, list) or not raw_layers:
        raise (where / "layers").error("must be a non-empty list of {units, activation}")
    if len(raw_layers) > MAX_LAYERS:
        raise (where / "layers").error(
            f"{len(raw_layers):,} layers; at most {MAX_LAYERS:,} are supported (deriving takes "
            "seconds per hundred layers, and the kernels' compile time grows with depth)")
    layers = tuple(
        _layer(raw, default_bias, where / "layers" / i, is_output=i == len(raw_layers) - 1)
        for i, raw in enumerate(raw_layers)
    )
    loss = _loss(data.get("loss"), where / "loss")
    reduction = choice(data.get("reduction", "mean"), REDUCTIONS, where / "reduction")
    _check_loss_output(loss, layers[-1], where)
    _check_size(inputs, layers, where)
    spec = {
        "name": name,
        "inputs": inputs,
        "layers": [
            {"units": la.units, "activation": la.activation.to_spec(), "bias": la.bias}
            for la in layers
        ],
        "loss": loss.to_spec(),
        "reduction": reduction,
    }
    sizes = (inputs, *(la.units for la in layers))
    names = read_notation(data.get("notation"), sizes, tuple(la.bias for la in layers),
                          where / "notation")
    numbering = read_layers(data.get("notation"), where / "notation")
    if names or numbering != LAYER_NUMBERINGS[0]:
        spec["notation"] = dict(names)
        if numbering != LAYER_NUMBERINGS[0]:
            spec["notation"][LAYERS_KEY] = numbering
    return Network(name, inputs, layers, loss, reduction, spec, notation=names,
                   layer_numbering=numbering)


def _check_size(inputs: int, layers: tuple[Layer, ...], where: Where) -> None:
    """At most ``MAX_PARAMS`` scalar parameters, counted before anything is built."""
    shapes = Network("size", inputs, layers, losses.builtin("sse")).param_shapes
    sizes = {name: math.prod(shape) for name, shape in shapes.items()}
    count = sum(sizes.values())
    if count > MAX_PARAMS:
        largest = max(sizes, key=sizes.get)
        shape = " × ".join(shown(n) for n in shapes[largest])
        count_text = f"{count:,}" if count < 10**40 else shown(count)
        raise (where / "layers").error(
            f"the network has {count_text} parameters ({largest} is {shape}); "
            f"at most {MAX_PARAMS:,} are supported")


def _layer(raw: Any, default_bias: str, where: Where, is_output: bool) -> Layer:
    if not isinstance(raw, dict):
        raise where.error("each layer must be a mapping such as {units: 2, activation: sigmoid}")
    check_keys(raw, LAYER_KEYS, where)
    units = positive_int(raw.get("units"), where / "units")
    activation = _activation(raw.get("activation", "identity"), where / "activation")
    if activation.is_softmax and not is_output:
        raise (where / "activation").error("softmax is allowed on the output layer only")
    bias = choice(raw.get("bias", default_bias), BIAS_MODES, where / "bias")
    return Layer(units, activation, bias)


def _activation(raw: Any, where: Where) -> activations.Activation:
    allowed = f"one of {', '.join(activations.known())}, or a formula in z"
    if isinstance(raw, str):
        if NAME_RE.match(raw):
            if raw in activations.known():
                return activations.builtin(raw)
            raise where.error(f"unknown activation {shown(raw)}"
                              f"{did_you_mean(raw, activations.known())}; allowed: {allowed}")
        return _custom_activation("custom", raw, where)
    if isinstance(raw, dict):
        check_keys(raw, ("name", "alpha", "formula"), where)
        label = raw.get("name", "custom")
        if "formula" in raw:
            return _custom_activation(
                identifier(label, where / "name"), raw["formula"], where / "formula"
            )
        if not isinstance(label, str) or label not in activations.known():
            raise (where / "name").error(f"unknown activation {shown(label)}"
                                         f"{did_you_mean(label, activations.known())}; "
                                         f"allowed: {allowed}")
        alpha = None
        if "alpha" in raw:
            if registry.activation(label) is None or registry.activation(label).alpha is None:
                takes = ", ".join(r.name for r in registry.ACTIVATIONS.values() if r.alpha)
                raise (where / "alpha").error(f"'{label}' takes no alpha ({takes} do)")
            alpha = number(raw["alpha"], where / "alpha")
        return activations.builtin(label, alpha)
    raise where.error(f"must be a name or a mapping; allowed: {allowed}")


def _custom_activation(label: str, text: Any, where: Where) -> activations.Activation:
    """An activation formula must depend on z (after SymPy's simplification: not ``0*z``)."""
    expr = parsed_formula(text, {"z": activations.variable()}, where, "activation formula")
    if activations.variable() not in expr.free_symbols:
        raise where.error(f"activation formula {shown(text)} does not depend on z; "
                          f"an activation is a function of the pre-activation z")
    return activations.Activation(label, formula=text, expr=expr)


def _loss(raw: Any, where: Where) -> losses.Loss:
    allowed = f"one of {', '.join(losses.known())}, or {{formula: ...}} in a and y"
    if raw is None:
        raise where.error(f"missing; allowed: {allowed}")
    if isinstance(raw, dict):
        check_keys(raw, ("name", "formula"), where)
        if "formula" not in raw:
            raw = raw.get("name")
        else:
            return _custom_loss(raw["formula"], where / "formula")
    if isinstance(raw, str):
        if raw in losses.known():
            return losses.builtin(raw)
        if NAME_RE.match(raw):
            raise where.error(f"unknown loss {shown(raw)}{did_you_mean(raw, losses.known())}; "
                              f"allowed: {allowed}")
        return _custom_loss(raw, where)
    raise where.error(f"must be a name or a mapping; allowed: {allowed}")


def _custom_loss(text: Any, where: Where) -> losses.Loss:
    """A loss formula must depend on a (after SymPy's simplification: not ``0*a``)."""
    a, y = losses.variables()
    expr = parsed_formula(text, {"a": a, "y": y}, where, "loss formula")
    if a not in expr.free_symbols:
        raise where.error(f"loss formula {shown(text)} does not depend on a; a loss is a "
                          f"function of the output a (and the target y)")
    return losses.Loss("custom", formula=text, expr=expr)


def _check_loss_output(loss: losses.Loss, output: Layer, where: Where) -> None:
    needed = loss.required_output
    if needed and output.activation.name != needed:
        raise (where / "loss").error(
            f"{loss.name} needs a {needed} output layer, but the last layer uses "
            f"'{output.activation.name}'"
        )
    if output.activation.is_softmax and loss.required_output != "softmax":
        fitting = " or ".join(r.name for r in registry.LOSSES.values() if r.output == "softmax")
        raise (where / "loss").error(f"a softmax output layer goes with loss {fitting}")
