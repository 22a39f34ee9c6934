"""The two kinds of model: a dense ``Network`` and a scalar computational ``Graph``.

Both are frozen values built by ``symbprop.spec.loader`` (which validates) and consumed by
``symbprop.symbolic.ir``.  ``spec`` holds the canonical dict form of the model: the spec hash in
generated files and the cache key of compiled kernels are computed from it.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from symbprop.functions.activations import Activation
from symbprop.functions.losses import Loss
from symbprop.spec.variables import BIAS, WEIGHT, Var

if TYPE_CHECKING:
    import sympy

BIAS_MODES = ("per_neuron", "shared", "none")
REDUCTIONS = ("mean", "sum")


@dataclass(frozen=True)
class Layer:
    units: int
    activation: Activation
    bias: str = "per_neuron"


@dataclass(frozen=True)
class Network:
    """Dense layers 1..L on an input of ``inputs`` features, with a per-sample loss."""

    name: str
    inputs: int
    layers: tuple[Layer, ...]
    loss: Loss
    reduction: str = "mean"
    spec: dict = field(default_factory=dict, compare=False, repr=False)
    #: Display names from the spec's ``notation`` (``symbprop.spec.notation``): (key, name).
    notation: tuple[tuple[str, str], ...] = field(default=(), compare=False, repr=False)
    #: How the documents number layers: ``from_input`` (w¹, w², …) or ``from_output`` (seed
    #: 004's w^(L), w^(L−1), …), from the spec's ``notation: {layers: ...}``.
    layer_numbering: str = field(default="from_input", compare=False, repr=False)

    kind = "network"

    @property
    def sizes(self) -> tuple[int, ...]:
        """(n_0, n_1, ..., n_L)."""
        return (self.inputs, *(layer.units for layer in self.layers))

    @property
    def param_shapes(self) -> dict[str, tuple[int, ...]]:
        """Ordered parameter arrays: W1 (n1, n0), b1 (n1,) or () if shared, ..."""
        shapes: dict[str, tuple[int, ...]] = {}
        for number, layer in enumerate(self.layers, 1):
            shapes[Var(WEIGHT, number).name] = (layer.units, self.sizes[number - 1])
            if layer.bias == "per_neuron":
                shapes[Var(BIAS, number).name] = (layer.units,)
            elif layer.bias == "shared":
                shapes[Var(BIAS, number).name] = ()
        return shapes

    @property
    def param_count(self) -> int:
        return sum(int(_prod(shape)) for shape in self.param_shapes.values())

    @property
    def sha256(self) -> str:
        return spec_hash(self.spec)


@dataclass(frozen=True)
class Graph:
    """Named scalar nodes in evaluation order; ``output`` is the value being differentiated."""

    name: str
    params: tuple[str, ...]
    nodes: tuple[tuple[str, sympy.Expr], ...]
    output: str
    spec: dict = field(default_factory=dict, compare=False, repr=False)
    formulas: tuple[tuple[str, str], ...] = field(default=(), compare=False, repr=False)
    #: Data of the graph: given in the values, never differentiated nor updated.
    constants: tuple[str, ...] = ()

    kind = "graph"

    @property
    def param_shapes(self) -> dict[str, tuple[int, ...]]:
        return {name: () for name in self.params}

    @property
    def param_count(self) -> int:
        return len(self.params)

    @property
    def sha256(self) -> str:
        return spec_hash(self.spec)


def spec_hash(spec: dict) -> str:
    """sha256 of the canonical JSON form of a spec (sorted keys, no whitespace)."""
    text = json.dumps(spec, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _prod(shape: tuple[int, ...]) -> int:
    result = 1
    for size in shape:
        result *= size
    return result
