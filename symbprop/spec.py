"""Specs -> models: ``load`` (a YAML file, ``examples:NAME`` or a dict) and ``from_dict``.

Every problem raises ``SpecError`` with one message of the form
``<file>: <field path>: <what is wrong>; <what is allowed>``.  Nothing here evaluates user text:
formulas go through ``symbprop.formula``.
"""

from __future__ import annotations

import re
import warnings
from pathlib import Path
from typing import Any

import sympy
import yaml

from . import activations, losses
from .errors import FormulaError, SpecError
from .formula import CONSTANTS, FUNCTIONS, formula_names, parse_formula
from .model import BIAS_MODES, REDUCTIONS, Graph, Layer, Network
from .staging import stage

NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
NETWORK_KEYS = ("name", "inputs", "layers", "loss", "reduction", "bias")
LAYER_KEYS = ("units", "activation", "bias")
GRAPH_KEYS = ("name", "graph", "output", "params")
EXPRESSION_KEYS = ("name", "expression", "params")


class _Where:
    """Where a value came from: the source (file) and a field path, for error messages."""

    def __init__(self, source: str | None, path: str = "") -> None:
        self.source, self.path = source, path

    def __truediv__(self, part: str | int) -> _Where:
        step = f"[{part}]" if isinstance(part, int) else (f".{part}" if self.path else part)
        return _Where(self.source, self.path + step)

    def error(self, problem: str) -> SpecError:
        return SpecError.at(self.source, self.path or None, problem)


def load(spec: str | Path | dict) -> Network | Graph:
    """A model from a YAML file, ``examples:NAME``, or a dict; raises ``SpecError``."""
    if isinstance(spec, dict):
        return from_dict(spec, source=None)
    text, source, default_name = _read_spec_text(spec)
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        line = f"line {mark.line + 1}: " if mark else ""
        raise SpecError(
            f"{source}: {line}not valid YAML ({getattr(err, 'problem', err)})"
        ) from None
    if not isinstance(data, dict):
        raise SpecError(
            f"{source}: a spec must be a mapping with 'layers' or 'graph' or 'expression'"
        )
    data.setdefault("name", default_name)
    return from_dict(data, source=source)


def _read_spec_text(spec: str | Path) -> tuple[str, str, str]:
    from .examples import example_path

    path = (
        example_path(str(spec)[len("examples:") :])
        if str(spec).startswith("examples:")
        else Path(spec)
    )
    try:
        return path.read_text(encoding="utf-8"), str(spec), _safe_name(path.stem)
    except FileNotFoundError:
        raise SpecError(f"{spec}: no such file") from None
    except (OSError, UnicodeDecodeError) as err:
        raise SpecError(f"{spec}: cannot read ({err})") from None


def _safe_name(stem: str) -> str:
    name = re.sub(r"[^A-Za-z0-9_]", "_", stem)
    return name if NAME_RE.match(name) else f"model_{name}"


def from_dict(data: dict, source: str | None = None) -> Network | Graph:
    """Validate a spec mapping and build its model."""
    where = _Where(source)
    if "layers" in data:
        return _network(data, where)
    if "graph" in data:
        return _graph(data, where)
    if "expression" in data:
        return _expression(data, where)
    raise where.error("a spec needs 'layers' (a network), 'graph' or 'expression'")


# ---------------------------------------------------------------- networks


def _network(data: dict, where: _Where) -> Network:
    _check_keys(data, NETWORK_KEYS, where)
    name = _name(data.get("name", "network"), where / "name")
    inputs = _positive_int(data.get("inputs"), where / "inputs")
    default_bias = _choice(data.get("bias", "per_neuron"), BIAS_MODES, where / "bias")
    raw_layers = data["layers"]
    if not isinstance(raw_layers, list) or not raw_layers:
        raise (where / "layers").error("must be a non-empty list of {units, activation}")
    layers = tuple(
        _layer(raw, default_bias, where / "layers" / i, is_output=i == len(raw_layers) - 1)
        for i, raw in enumerate(raw_layers)
    )
    loss = _loss(data.get("loss"), where / "loss")
    reduction = _choice(data.get("reduction", "mean"), REDUCTIONS, where / "reduction")
    _check_loss_output(loss, layers[-1], where)
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
    return Network(name, inputs, layers, loss, reduction, spec)


def _layer(raw: Any, default_bias: str, where: _Where, is_output: bool) -> Layer:
    if not isinstance(raw, dict):
        raise where.error("each layer must be a mapping such as {units: 2, activation: sigmoid}")
    _check_keys(raw, LAYER_KEYS, where)
    units = _positive_int(raw.get("units"), where / "units")
    activation = _activation(raw.get("activation", "identity"), where / "activation")
    if activation.is_softmax and not is_output:
        raise (where / "activation").error("softmax is allowed on the output layer only")
    bias = _choice(raw.get("bias", default_bias), BIAS_MODES, where / "bias")
    return Layer(units, activation, bias)


def _activation(raw: Any, where: _Where) -> activations.Activation:
    allowed = f"one of {', '.join(activations.KNOWN)}, or a formula in z"
    if isinstance(raw, str):
        if NAME_RE.match(raw):
            if raw in activations.KNOWN:
                return activations.builtin(raw)
            raise where.error(f"unknown activation '{raw}'; allowed: {allowed}")
        return _custom_activation("custom", raw, where)
    if isinstance(raw, dict):
        _check_keys(raw, ("name", "alpha", "formula"), where)
        label = raw.get("name", "custom")
        if "formula" in raw:
            return _custom_activation(
                _name(label, where / "name"), raw["formula"], where / "formula"
            )
        if label not in activations.KNOWN:
            raise (where / "name").error(f"unknown activation '{label}'; allowed: {allowed}")
        alpha = None
        if "alpha" in raw:
            if label not in ("leaky_relu", "elu"):
                raise (where / "alpha").error(f"'{label}' takes no alpha (leaky_relu and elu do)")
            alpha = _number(raw["alpha"], where / "alpha")
        return activations.builtin(label, alpha)
    raise where.error(f"must be a name or a mapping; allowed: {allowed}")


def _custom_activation(label: str, text: Any, where: _Where) -> activations.Activation:
    expr = _formula(text, {"z": activations.Z}, where, "activation formula")
    return activations.Activation(label, formula=text, expr=expr)


def _loss(raw: Any, where: _Where) -> losses.Loss:
    allowed = f"one of {', '.join(losses.KNOWN)}, or {{formula: ...}} in a and y"
    if raw is None:
        raise where.error(f"missing; allowed: {allowed}")
    if isinstance(raw, dict):
        _check_keys(raw, ("name", "formula"), where)
        if "formula" not in raw:
            raw = raw.get("name")
        else:
            return _custom_loss(raw["formula"], where / "formula")
    if isinstance(raw, str):
        if raw in losses.KNOWN:
            return losses.builtin(raw)
        if NAME_RE.match(raw):
            raise where.error(f"unknown loss '{raw}'; allowed: {allowed}")
        return _custom_loss(raw, where)
    raise where.error(f"must be a name or a mapping; allowed: {allowed}")


def _custom_loss(text: Any, where: _Where) -> losses.Loss:
    expr = _formula(text, {"a": losses.A, "y": losses.Y}, where, "loss formula")
    return losses.Loss("custom", formula=text, expr=expr)


def _check_loss_output(loss: losses.Loss, output: Layer, where: _Where) -> None:
    needed = loss.required_output
    if needed and output.activation.name != needed:
        raise (where / "loss").error(
            f"{loss.name} needs a {needed} output layer, but the last layer uses "
            f"'{output.activation.name}'"
        )
    if output.activation.is_softmax and loss.name != "softmax_cross_entropy":
        raise (where / "loss").error("a softmax output layer goes with loss softmax_cross_entropy")


# ---------------------------------------------------------------- graphs and expressions


def _graph(data: dict, where: _Where) -> Graph:
    _check_keys(data, GRAPH_KEYS, where)
    name = _name(data.get("name", "graph"), where / "name")
    raw = data["graph"]
    if not isinstance(raw, dict) or not raw:
        raise (where / "graph").error("must be a non-empty mapping {node: formula}")
    texts = {}
    for node, text in raw.items():
        _name(node, where / "graph", what="node name")
        texts[node] = _formula_text(text, where / "graph" / str(node))
    deps = {node: _names(text, where / "graph" / node) for node, text in texts.items()}
    params = _params(data.get("params"), texts, deps, where)
    order = _topological(texts, deps, params, where)
    output = data.get("output", order[-1])
    if output not in texts:
        raise (where / "output").error(f"'{output}' is not a node; nodes: {', '.join(texts)}")
    symbols = {p: sympy.Symbol(p) for p in params} | {n: sympy.Symbol(n) for n in texts}
    nodes = tuple(
        (node, _formula(texts[node], symbols, where / "graph" / node, "formula")) for node in order
    )
    _warn_unused(params, nodes, output, where)
    spec = {"name": name, "graph": texts, "output": output, "params": list(params)}
    return Graph(name, params, nodes, output, spec, tuple(texts.items()))


def _expression(data: dict, where: _Where) -> Graph:
    _check_keys(data, EXPRESSION_KEYS, where)
    name = _name(data.get("name", "expression"), where / "name")
    text = _formula_text(data["expression"], where / "expression")
    used = _names(text, where / "expression")
    params = _params(data.get("params"), {}, {"": used}, where)
    symbols = {p: sympy.Symbol(p) for p in params}
    expr = _formula(text, symbols, where / "expression", "expression")
    output = "f" if "f" not in params else "out"
    nodes = stage(expr, output, taken=set(params))
    _warn_unused(params, nodes, output, where)
    spec = {"name": name, "expression": text, "params": list(params)}
    return Graph(name, params, nodes, output, spec, ((output, text),))


def _params(raw: Any, nodes: dict, deps: dict, where: _Where) -> tuple[str, ...]:
    if raw is None:  # infer: free names in order of first use
        inferred = []
        for names in deps.values():
            inferred += [n for n in names if n not in nodes and n not in inferred]
        return tuple(inferred)
    if not isinstance(raw, list) or not all(isinstance(p, str) for p in raw):
        raise (where / "params").error("must be a list of variable names")
    for i, param in enumerate(raw):
        _name(param, where / "params" / i, what="parameter name")
        if param in nodes:
            raise (where / "params" / i).error(f"'{param}' is both a parameter and a node")
    if len(set(raw)) != len(raw):
        dupes = sorted({p for p in raw if raw.count(p) > 1})
        raise (where / "params").error(f"duplicate names: {', '.join(dupes)}")
    return tuple(raw)


def _topological(texts: dict, deps: dict, params: tuple, where: _Where) -> list[str]:
    """Nodes in an order where each comes after what it uses (stable w.r.t. the spec order)."""
    known = set(params) | set(texts)
    for node, names in deps.items():
        undefined = [n for n in names if n not in known]
        if undefined:
            raise (where / "graph" / node).error(
                f"undefined name '{undefined[0]}'; known: {', '.join(sorted(known))}"
            )
    order: list[str] = []
    remaining = list(texts)
    while remaining:
        ready = [n for n in remaining if all(d in params or d in order for d in deps[n])]
        if not ready:
            raise (where / "graph").error(f"the nodes {', '.join(remaining)} form a cycle")
        order.append(ready[0])
        remaining.remove(ready[0])
    return order


def _warn_unused(params: tuple, nodes: tuple, output: str, where: _Where) -> None:
    exprs = dict(nodes)
    needed, stack = set(), [output]
    while stack:
        name = stack.pop()
        if name in exprs and name not in needed:
            needed.add(name)
            stack += [s.name for s in exprs[name].free_symbols]
        needed.add(name)
    unused = [p for p in params if p not in needed]
    if unused:
        message = f"the output '{output}' does not depend on {', '.join(unused)}"
        warnings.warn(str(where.error(message)), UserWarning, stacklevel=4)


# ---------------------------------------------------------------- small validators


def _formula_text(text: Any, where: _Where) -> str:
    if isinstance(text, bool) or not isinstance(text, (str, int, float)):
        raise where.error("must be a formula (text) or a number")
    return str(text)


def _formula(text: Any, variables: dict, where: _Where, what: str) -> sympy.Expr:
    try:
        return parse_formula(_formula_text(text, where), variables, what=what)
    except FormulaError as err:
        raise where.error(str(err)) from None


def _names(text: str, where: _Where) -> list[str]:
    try:
        return formula_names(text)
    except FormulaError as err:
        raise where.error(str(err)) from None


def _name(value: Any, where: _Where, what: str = "name") -> str:
    reserved = set(FUNCTIONS) | set(CONSTANTS)
    if not isinstance(value, str) or not NAME_RE.match(value) or value.startswith("__"):
        raise where.error(f"{what} {value!r} must be an identifier ([A-Za-z_][A-Za-z0-9_]*)")
    if what != "name" and value in reserved:
        raise where.error(f"{what} '{value}' is reserved (a function or constant)")
    return value


def _positive_int(value: Any, where: _Where) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise where.error(f"must be a whole number >= 1, got {value!r}")
    if value < 1:
        raise where.error(f"must be >= 1, got {value}")
    return value


def _number(value: Any, where: _Where) -> sympy.Rational:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise where.error(f"must be a number, got {value!r}")
    return sympy.Rational(repr(value)) if isinstance(value, float) else sympy.Integer(value)


def _choice(value: Any, allowed: tuple[str, ...], where: _Where) -> str:
    if value not in allowed:
        raise where.error(f"{value!r} is not allowed; allowed: {', '.join(allowed)}")
    return value


def _check_keys(data: dict, allowed: tuple[str, ...], where: _Where) -> None:
    unknown = [k for k in data if k not in allowed]
    if unknown:
        raise (where / str(unknown[0])).error(f"unknown field; allowed: {', '.join(allowed)}")
