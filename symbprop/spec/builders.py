"""Python builders for models: ``mlp``, ``expression``, ``graph``.

Each builds the same spec mapping a YAML file would hold and validates it through
``symbprop.spec.loader.from_dict``, so the rules and the error messages are the same everywhere.
What only Python can pass (``None``, a number where a list belongs, a NumPy array of sizes) is
checked here first: every mistake is a ``SpecError``, never a ``TypeError``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from collections.abc import Set as AbstractSet

import symbprop.functions.registry as registry
from symbprop.errors import SpecError
from symbprop.model import Graph, Network
from symbprop.spec.fields import shown
from symbprop.spec.loader import from_dict


def mlp(
    sizes: Sequence[int],
    activation: str | dict | Sequence[str | dict] = "sigmoid",
    loss: str | dict = "half_sse",
    bias: str = "per_neuron",
    reduction: str = "mean",
    output_activation: str | dict | None = None,
    name: str = "mlp",
) -> Network:
    """A dense network ``sizes = [n_0, n_1, ..., n_L]`` (a list, tuple or NumPy array of whole
    numbers).

    ``activation`` is one activation for every layer or a list with one per layer.  With one
    activation, the output layer takes the activation its loss is defined with (softmax for
    ``softmax_cross_entropy``, sigmoid for ``bce``) unless ``output_activation`` says otherwise.
    """
    sizes = _listed(sizes, "mlp: sizes", "a list of layer sizes [inputs, ..., outputs]")
    if len(sizes) < 2:
        raise SpecError(f"mlp: sizes: give at least [inputs, outputs], got {shown(sizes)}")
    activations = _activations(activation, loss, output_activation, len(sizes) - 1)
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


def _activations(activation, loss, output_activation, count: int) -> list:
    """One activation per layer, from one for all (the output layer's fits the loss) or a list."""
    if isinstance(activation, (str, dict)):
        activations = [activation] * count
        record = registry.loss(loss) if isinstance(loss, str) else None
        required = record.output if record else None
        activations[-1] = output_activation or required or activation
        return activations
    allowed = "a name, a mapping such as {'name': 'leaky_relu', 'alpha': 0.1}, or a list of them"
    activations = _listed(activation, "mlp: activation", f"{allowed}, one per layer")
    if len(activations) != count:
        raise SpecError(f"mlp: activation: give one per layer ({count}), got {len(activations)}")
    if output_activation is not None:
        activations[-1] = output_activation
    return activations


def _listed(values, field: str, allowed: str) -> list:
    """``values`` as a list if it is an ordered collection (not text, a mapping or a set)."""
    unordered = (str, bytes, Mapping, AbstractSet)
    if isinstance(values, unordered) or not isinstance(values, Iterable):
        raise SpecError(f"{field}: must be {allowed}, got {type(values).__name__} {shown(values)}")
    return list(values)


def expression(text: str, params: Sequence[str] | None = None, name: str = "expression",
               constants: Sequence[str] | None = None) -> Graph:
    """A scalar expression, staged into one operation per node (``(x + y)*z``); ``constants``
    are data, given with the values and never differentiated."""
    spec = {"name": name, "expression": text}
    if params is not None:
        spec["params"] = _listed(params, "params", "a list of variable names")
    if constants is not None:
        spec["constants"] = _listed(constants, "constants", "a list of variable names")
    return from_dict(spec, source=None)  # messages start at the field: "expression: ..."


def graph(
    nodes: dict[str, str],
    output: str | None = None,
    params: Sequence[str] | None = None,
    name: str = "graph",
    constants: Sequence[str] | None = None,
) -> Graph:
    """A computational graph of named nodes (``{"q": "x + y", "f": "q * z"}``); ``constants``
    are data, given with the values and never differentiated."""
    if not isinstance(nodes, Mapping):
        raise SpecError(f"graph: must be a mapping {{node: formula}}, "
                        f"got {type(nodes).__name__} {shown(nodes)}")
    spec: dict = {"name": name, "graph": dict(nodes)}
    if output is not None:
        spec["output"] = output
    if params is not None:
        spec["params"] = _listed(params, "params", "a list of variable names")
    if constants is not None:
        spec["constants"] = _listed(constants, "constants", "a list of variable names")
    return from_dict(spec, source=None)  # messages start at the field: "graph.q: ..."
