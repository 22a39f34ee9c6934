"""Values for a worked example (``--at`` file or dict), validated against a model.

Network: ``x`` (one sample: a vector, or a number when n_0 = 1) or ``X`` (a batch: a matrix, or a
vector when n_0 = 1); likewise ``y``/``Y`` for the targets; ``params`` {W1: matrix, b1: vector, or
a number for a shared bias}, or the path of an .npz file saved by ``symbprop train --save`` (for
nets too big for a values file); optional ``lr`` (default 0.1).  Graph: {variable: number} plus
optional ``lr`` and ``upstream`` (the gradient ∂L/∂out arriving at the output from a loss L
beyond the graph, as in seed 003's example: it seeds the backward pass, so every gradient is
∂L/∂·); the graph's ``constants`` are given there too, as numbers, and are required.  Every
problem raises ``ValuesError`` naming the file, the field and what fits.  Numbers are at most
float64's 1.8e308 in size; a batch holds at most ``MAX_VALUE_SAMPLES`` samples; a learning rate
above ``LARGE_LR`` is a warning.  Values whose forward pass overflows are refused when evaluated
(``symbprop.symbolic.evaluate``: ``FloatRangeError``).
"""

from __future__ import annotations

import math
import sys
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from symbprop.errors import SymbpropError, ValuesError
from symbprop.examples import example_values_path
from symbprop.files.params import load_params
from symbprop.files.yamltext import load_yaml, number_hint, read_input
from symbprop.model import Graph, Network
from symbprop.spec.fields import did_you_mean, shown
from symbprop.spec.grammar import RESERVED_VARIABLES

DEFAULT_LR = 0.1
#: The most samples (rows of X) a values file holds: it is for a worked example; big data go in
#: a CSV or NPZ file (``--data``).
MAX_VALUE_SAMPLES = 1_000
#: A learning rate above this gets a warning: steps that long diverge or overflow.
LARGE_LR = 1e6


def large_rate(lr: float) -> str | None:
    """What happens with the learning rate ``lr`` if it is above ``LARGE_LR`` (the text of a
    warning, without the name of the field), else None.  Values files, network training
    (``Schedule``) and ``fit`` warn with it."""
    if not lr > LARGE_LR:
        return None
    return (f"{lr:g} is more than {LARGE_LR:,.0f}: a step of gradient descent this long "
            "diverges, overflows to inf, or drives every unit into saturation so that the loss "
            "stops changing; usual rates are 1e-4 to 1")


def warn_large_rate(lr: float, what: str = "lr", stacklevel: int = 1) -> None:
    """Warn (``UserWarning``, named ``what``) if ``lr`` is above ``LARGE_LR``; ``stacklevel``
    as ``warnings.warn``'s, counted from the caller of this function."""
    problem = large_rate(lr)
    if problem:
        warnings.warn(f"{what}: {problem}", UserWarning, stacklevel=stacklevel + 1)


@dataclass(frozen=True)
class Values:
    """Validated numbers: samples as rows; params as {array name: nested lists}."""

    X: list[list[float]] = field(default_factory=list)
    Y: list[list[float]] = field(default_factory=list)
    params: dict[str, Any] = field(default_factory=dict)
    lr: float = DEFAULT_LR
    batch: bool = False  # X/Y given (a batch) rather than x/y (one sample)
    source: str | None = None  # the file they were read from, for messages
    upstream: float | None = None  # a graph's ∂L/∂out from a loss beyond it, if given
    constants: dict[str, float] = field(default_factory=dict)  # a graph's constants (data)


def load_values(model: Network | Graph, values: str | Path | dict) -> Values:
    """Read (if a path) and validate values for ``model``."""
    if isinstance(values, Values):
        return values
    source = None
    if not isinstance(values, dict | str | Path):
        raise ValuesError(
            f"values: expected a mapping or the path of a values file, got {type(values).__name__}"
        )
    if not isinstance(values, dict):
        source, values = str(values), _read(values)
    check = _Checker(source)
    if not isinstance(values, dict):
        raise check.error(None, "must be a mapping (x, y, params, lr, ...)")
    if model.kind == "graph":
        return _graph_values(model, values, check)
    return _network_values(model, values, check)


def _read(path: str | Path) -> Any:
    text_path = Path(path)
    if str(path).startswith("examples:"):
        text_path = example_values_path(str(path)[len("examples:") :])
    text = read_input(text_path, str(path), "values", ValuesError)
    try:
        return load_yaml(text)
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        line = f"line {mark.line + 1}: " if mark else ""
        raise ValuesError(f"{path}: {line}not valid YAML ({getattr(err, 'problem', err)})") \
            from None


class _Checker:
    def __init__(self, source: str | None) -> None:
        self.source = source

    def error(self, field_path: str | None, problem: str) -> ValuesError:
        return ValuesError.at(self.source, field_path, problem)

    def rate(self, value: Any) -> float:
        """The learning rate ``lr``: a finite number > 0, as ``--lr`` requires."""
        lr = self.number(value, "lr")
        if lr <= 0:
            raise self.error("lr", f"must be a positive number, got {shown(value)}")
        problem = large_rate(lr)
        if problem:
            warnings.warn(str(self.error("lr", problem)), UserWarning, stacklevel=4)
        return lr

    def number(self, value: Any, field_path: str) -> float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise self.error(field_path,
                             f"must be a number, got {shown(value)}{number_hint(value)}")
        if isinstance(value, int) and abs(value) > sys.float_info.max:
            raise self.error(field_path, f"must be a number of at most 1.8e308 in size (a float), "
                                         f"got {shown(value)}")
        if not math.isfinite(value):
            raise self.error(field_path, f"must be finite, got {shown(value)}")
        return float(value)

    def array(self, value: Any, shape: tuple[int, ...], field_path: str) -> Any:
        """Nested lists of floats of exactly ``shape``."""
        if not shape:
            return self.number(value, field_path)
        if not isinstance(value, list) or len(value) != shape[0]:
            got = f"{len(value)} entries" if isinstance(value, list) else shown(value)
            raise self.error(field_path, f"must be a list of {shape[0]} (shape {shape}), got {got}")
        return [self.array(v, shape[1:], f"{field_path}[{i}]") for i, v in enumerate(value)]


def _graph_values(graph: Graph, values: dict, check: _Checker) -> Values:
    names = [*graph.params, *graph.constants, *RESERVED_VARIABLES]
    unknown = [k for k in values if k not in names]
    if unknown:
        raise check.error(str(unknown[0]), f"unknown variable"
                          f"{did_you_mean(unknown[0], names)}; allowed: {', '.join(names)}")
    missing = [p for p in graph.params if p not in values]
    if missing:
        raise check.error(None, f"missing values for {', '.join(missing)}")
    missing = [c for c in graph.constants if c not in values]
    if missing:
        raise check.error(None, f"missing values for the constant{'s' * (len(missing) > 1)} "
                                f"{', '.join(missing)} (data of the graph: give their numbers "
                                "here, as for the parameters)")
    params = {p: check.number(values[p], p) for p in graph.params}
    constants = {c: check.number(values[c], c) for c in graph.constants}
    lr = check.rate(values.get("lr", DEFAULT_LR))
    upstream = check.number(values["upstream"], "upstream") if "upstream" in values else None
    return Values(params=params, lr=lr, source=check.source, upstream=upstream,
                  constants=constants)


def _network_values(net: Network, values: dict, check: _Checker) -> Values:
    allowed = ("x", "X", "y", "Y", "params", "lr")
    unknown = [k for k in values if k not in allowed]
    if unknown:
        raise check.error(str(unknown[0]), f"unknown field{did_you_mean(unknown[0], allowed)}; "
                                           f"allowed: {', '.join(allowed)}")
    X, batch_x = _samples(values, "x", net.inputs, check)
    Y, batch_y = _samples(values, "y", net.sizes[-1], check)
    if len(X) != len(Y):
        raise check.error("Y", f"has {len(Y)} samples but X has {len(X)}")
    if net.loss.targets_sum_to_one:
        for i, row in enumerate(Y):
            if abs(sum(row) - 1) > 1e-9:
                raise check.error(
                    f"y[{i}]" if batch_y else "y",
                    "targets of softmax_cross_entropy must sum to 1 (one-hot)",
                )
    params = _params(net, values.get("params"), check)
    lr = check.rate(values.get("lr", DEFAULT_LR))
    return Values(X, Y, params, lr, batch_x or batch_y, check.source)


def _samples(values: dict, key: str, width: int, check: _Checker) -> tuple[list, bool]:
    single, batch = key, key.upper()
    if single in values and batch in values:
        raise check.error(
            batch, f"give either {single} (one sample) or {batch} (a batch), not both"
        )
    if single in values:
        raw = values[single]
        row = [raw] if width == 1 and not isinstance(raw, list) else raw
        return [check.array(row, (width,), single)], False
    if batch in values:
        raw = values[batch]
        if width == 1 and isinstance(raw, list) and all(not isinstance(r, list) for r in raw):
            raw = [[r] for r in raw]
        if not isinstance(raw, list) or not raw:
            raise check.error(batch, f"must be a non-empty list of samples of {width} numbers")
        if len(raw) > MAX_VALUE_SAMPLES:
            raise check.error(batch, f"has {len(raw):,} samples; a values file holds at most "
                                     f"{MAX_VALUE_SAMPLES:,} (train on big data from a CSV or NPZ "
                                     "file with --data)")
        return [check.array(r, (width,), f"{batch}[{i}]") for i, r in enumerate(raw)], True
    raise check.error(None, f"missing '{single}' (one sample of {width}) or '{batch}' (a batch)")


def _params(net: Network, raw: Any, check: _Checker) -> dict[str, Any]:
    shapes = net.param_shapes
    described = ", ".join(f"{n} {s or 'scalar'}" for n, s in shapes.items())
    if isinstance(raw, str):
        return _saved_params(net, raw, check)
    if not isinstance(raw, dict):
        raise check.error("params", f"missing or not a mapping; expected {described}")
    unknown = [k for k in raw if k not in shapes]
    if unknown:
        raise check.error(f"params.{unknown[0]}", f"unknown parameter"
                          f"{did_you_mean(unknown[0], shapes)}; expected {described}")
    missing = [n for n in shapes if n not in raw]
    if missing:
        raise check.error("params", f"missing {', '.join(missing)}; expected {described}")
    return {name: check.array(raw[name], shape, f"params.{name}") for name, shape in shapes.items()}


def _saved_params(net: Network, name: str, check: _Checker) -> dict[str, Any]:
    """``params: FILE.npz``: parameters saved by ``symbprop train --save`` (or
    ``symbprop.files.params.save_params``), a path relative to the values file.  For nets whose
    parameters do not fit a values file (at most 50,000 numbers of YAML); a file more than twice
    the size of its numbers (plus 1 MB) is refused before it is read."""
    path = Path(name)
    if check.source is not None and not path.is_absolute():
        path = Path(check.source).parent / path
    if path.suffix != ".npz":
        raise check.error("params", f"must be a mapping of the parameters or the path of an .npz "
                                    f"file saved by symbprop train --save, got {shown(name)}")
    try:
        size = path.stat().st_size
    except OSError as err:
        raise check.error("params", f"{path}: {err.strerror or err}") from None
    limit = 2 * 8 * net.param_count + 2**20
    if size > limit:
        raise check.error("params", f"{path}: {size:,} bytes is more than {limit:,}, twice what "
                                    f"the {net.param_count:,} parameters of '{net.name}' need")
    try:
        params = load_params(path, net)
    except SymbpropError as err:
        raise check.error("params", str(err)) from None
    return {name: value.tolist() for name, value in params.items()}
