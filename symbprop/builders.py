"""Python builders for models: ``mlp``, ``expression``, ``graph``.

Each builds the same spec mapping a YAML file would hold and validates it through
``symbprop.spec.from_dict``, so the rules and the error messages are the same everywhere.
"""

from __future__ import annotations

from collections.abc import Sequence

from .errors import SpecError
from .losses import BUILTIN as LOSSES
from .model import Graph, Network
from .spec import from_dict


def mlp(
    sizes: Sequence[int],
    activation: str | dict | Sequence[str | dict] = "sigmoid",
    loss: str | dict = "half_sse",
    bias: str = "per_neuron",
    reduction: str = "mean",
    output_activation: str | dict | None = None,
    name: str = "mlp",
) -> Network:
    """A dense network ``sizes = [n_0, n_1, ..., n_L]``.

    ``activation`` is one activation for every layer or a list with one per layer.  With one
    activation, the output layer takes the activation its loss is defined with (softmax for
    ``softmax_cross_entropy``, sigmoid for ``bce``) unless ``output_activation`` says otherwise.
    """
    sizes = list(sizes)
    if len(sizes) < 2:
        raise SpecError(f"mlp: sizes: give at least [inputs, outputs], got {sizes}")
    count = len(sizes) - 1
    if isinstance(activation, (str, dict)):
        activations = [activation] * count
        required = LOSSES.get(loss, (None, None, None))[2] if isinstance(loss, str) else None
        activations[-1] = output_activation or required or activation
    else:
        activations = list(activation)
        if len(activations) != count:
            raise SpecError(
                f"mlp: activation: give one per layer ({count}), got {len(activations)}"
            )
        if output_activation is not None:
            activations[-1] = output_activation
    layers = [{"units": n, "activation": a} for n, a in zip(sizes[1:], activations, strict=True)]
    spec = {
        "name": name,
        "inputs": sizes[0],
        "layers": layers,
        "loss": loss,
        "bias": bias,
        "reduction": reduction,
    }
    return from_dict(spec, source="mlp")


def expression(text: str, params: Sequence[str] | None = None, name: str = "expression") -> Graph:
    """A scalar expression, staged into one operation per node (``(x + y)*z``)."""
    spec = {"name": name, "expression": text}
    if params is not None:
        spec["params"] = list(params)
    return from_dict(spec, source=None)  # messages start at the field: "expression: ..."


def graph(
    nodes: dict[str, str],
    output: str | None = None,
    params: Sequence[str] | None = None,
    name: str = "graph",
) -> Graph:
    """A computational graph of named nodes (``{"q": "x + y", "f": "q * z"}``)."""
    spec: dict = {"name": name, "graph": dict(nodes)}
    if output is not None:
        spec["output"] = output
    if params is not None:
        spec["params"] = list(params)
    return from_dict(spec, source=None)  # messages start at the field: "graph.q: ..."
