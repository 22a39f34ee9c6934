"""The questions of one sheet and their answers, from a derivation at a point.

``questions(d, pt, kinds, rng)`` returns ``Question``s in the order of ``KINDS``:

* ``forward``: every forward value (z and a of every neuron, or every graph node) and the loss;
* ``local``: every local partial derivative that some chain-rule path uses, at the point
  (∂C/∂a, ∂a/∂z, ∂z/∂w, …: the distinct factors of ``Derivation.chain``);
* ``delta``: δ per neuron (networks, δ^l_j = ∂C/∂z^l_j), or the upstream gradient ∂f/∂n per
  node (graphs);
* ``chain``: chosen gradients written as chain-rule products of local partials, to complete;
* ``gradient``: the chosen gradients' numbers;
* ``update``: the chosen parameters after one gradient-descent step θ − η ∂C/∂θ;
* ``concept``: the seeds' questions: the dimension of the gradient, how many local partials,
  the chain length of each chosen weight, and (deeper nets) whether earlier weights have
  longer or shorter chains.

Every ``Item`` carries what ``verify`` compares it with (``check``); its ``value`` is the
derivation's own number (``Derivation.evaluate``).  The chosen parameters come from ``rng``:
for a network one weight per layer and one bias of the first layer (at most ``CHOSEN``), for a
graph its first ``CHOSEN`` variables.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import sympy

from symbprop.render.latex import latex
from symbprop.render.notation import Partial
from symbprop.spec.variables import BIAS, PRE, WEIGHT, Var, element_role, element_var, split_element

KINDS = ("forward", "local", "delta", "chain", "gradient", "update", "concept")
CHOSEN = 4


@dataclass(frozen=True)
class Item:
    """One answer to fill in: ``label`` (LaTeX math) = ``value`` (a number, or words for a
    concept question); ``check`` says how ``verify`` checks it: ("node", element), ("loss",),
    ("adjoint", element), ("local", Factor), ("grad", name), ("update", name), ("chain",
    name), ("dimension",) or ("count",) (counted from the derivation, nothing to compare)."""

    label: str
    value: float | int | str
    check: tuple
    words: str = ""  # a caption before the label, for concept questions
    paths: tuple = ()  # chain questions: the paths (lists of Factors) of the product
    numbers: tuple = ()  # chain questions: the factors' values, path by path


@dataclass(frozen=True)
class Question:
    kind: str
    text: str  # the question in words (LaTeX-safe, math in $...$)
    items: tuple[Item, ...] = field(default_factory=tuple)


def questions(d, pt, kinds, rng) -> list[Question]:
    """The questions of ``kinds`` (a subset of ``KINDS``) at point ``pt``
    (``render.numbers.Point``), in the order of ``KINDS``."""
    chosen = _chosen(d, rng)
    makers = {"forward": _forward, "local": _local, "delta": _delta, "chain": _chain,
              "gradient": _gradient, "update": _update, "concept": _concept}
    return [makers[kind](d, pt, chosen) for kind in KINDS if kind in kinds]


def _chosen(d, rng) -> list[str]:
    names = list(d.params)
    if d.model.kind == "graph":
        return names[:CHOSEN]
    picks = []
    for layer in range(1, len(d.model.layers) + 1):
        weights = [n for n in names if element_var(n) == Var(WEIGHT, layer)]
        picks.append(weights[int(rng.integers(len(weights)))])
    biases = [n for n in names if element_var(n) == Var(BIAS, 1)]
    if biases:
        picks.insert(1, biases[int(rng.integers(len(biases)))])
    if len(picks) > CHOSEN:
        picks = [*picks[:CHOSEN - 1], picks[-1]]
    return sorted(picks, key=names.index)


def _forward(d, pt, chosen) -> Question:
    items = []
    for lhs, _rhs, kind in d.scalar_equations():
        if kind in ("forward", "loss"):
            if kind == "loss":
                items.append(Item(latex(lhs), pt.result["loss"], ("loss",)))
            else:
                items.append(Item(latex(lhs), pt.number(lhs), ("node", lhs)))
    return Question("forward", "Compute the forward pass: the value of every quantity below.",
                    tuple(items))


def local_factors(d) -> list:
    """The distinct local partials (Factors) on the chain-rule paths of every parameter, in the
    order they are met (parameters in order, each path from the loss back)."""
    seen: dict = {}
    for name in d.params:
        for path in d.chain(name):
            for factor in path:
                seen.setdefault((factor.of, factor.wrt), factor)
    return list(seen.values())


def _local(d, pt, chosen) -> Question:
    items = tuple(Item(latex(Partial(f.of, f.wrt)), pt.number(f.value), ("local", f))
                  for f in local_factors(d))
    return Question("local", "Compute every local partial derivative at this point (the "
                    "derivative of one quantity with respect to one of its direct inputs).",
                    items)


def _delta(d, pt, chosen) -> Question:
    if d.model.kind == "network":
        items = []
        for lhs, _rhs, kind in d.scalar_equations():
            if kind == "adjoint":
                z = d.variable(PRE, d.role_of(lhs.base).layer)[lhs.indices]
                items.append(Item(latex(lhs), pt.number(lhs), ("adjoint", z)))
        text = (r"Compute the error $\delta^{l}_{j} = \partial C / \partial z^{l}_{j}$ of every "
                "neuron, output layer first (backward pass).")
        return Question("delta", text, tuple(items))
    output = d.program.output
    items = []
    for node, adjoint in d.adjoints.items():
        if adjoint.symbol is not None:
            items.append(Item(latex(Partial(output, node)), pt.number(adjoint.symbol),
                              ("adjoint", node)))
    text = (f"Compute the upstream gradient ${latex(Partial(output, sympy.Symbol('n')))}$ "
            "arriving at every inner node $n$ (backward pass).")
    return Question("delta", text, tuple(items))


def _chain_params(d, chosen) -> list[str]:
    if d.model.kind == "network":
        weights = [n for n in chosen if element_role(n) is WEIGHT]
        return [weights[0], weights[-1]] if len(weights) > 1 else weights
    longest = sorted(chosen, key=lambda n: -max(len(p) for p in d.chain(n)))
    return longest[:2]


def _chain(d, pt, chosen) -> Question:
    items = []
    for name in _chain_params(d, chosen):
        element = d.element(name)
        paths = tuple(tuple(p) for p in d.chain(name))
        numbers = tuple(tuple(pt.number(f.value) for f in p) for p in paths)
        items.append(Item(latex(Partial(d.program.output, element)), pt.result["grad"][name],
                          ("chain", name), paths=paths, numbers=numbers))
    return Question("chain", "Write each gradient as a chain-rule product: one local partial "
                    "derivative per box, then the product.",
                    tuple(items))


def _gradient(d, pt, chosen) -> Question:
    items = tuple(Item(latex(Partial(d.program.output, d.element(n))), pt.result["grad"][n],
                       ("grad", n)) for n in chosen)
    return Question("gradient", "Compute these gradients.", items)


def _update(d, pt, chosen) -> Question:
    lr = pt.result["step"]["lr"]
    gradient = latex(Partial(d.program.output, sympy.Symbol("theta")))
    items = tuple(Item("{" + latex(d.element(n)) + "}'", _stepped(pt.result["step"]["params"], n),
                       ("update", n)) for n in chosen)
    text = (rf"One step of gradient descent with learning rate $\eta = {lr:g}$: compute "
            rf"each updated parameter $\theta' = \theta - \eta\, {gradient}$.")
    return Question("update", text, items)


def _stepped(params: dict, name: str) -> float:
    base, indices = split_element(name)
    value = params[base]
    for i in indices:
        value = value[i]
    return value


def _concept(d, pt, chosen) -> Question:
    items = [Item("", len(d.params), ("dimension",),
                  "The dimension of the gradient (how many parameters the model has):"),
             Item("", len(local_factors(d)), ("count",),
                  "How many distinct local partial derivatives the backward pass needs:")]
    weights = [n for n in chosen if d.model.kind == "graph" or element_role(n) is WEIGHT]
    for name in weights:
        length = max(len(p) for p in d.chain(name))
        items.append(Item(latex(Partial(d.program.output, d.element(name))), length,
                          ("count",), "Local partials in one chain-rule path of"))
    if d.model.kind == "network" and len(d.model.layers) > 1:
        items.append(Item("", "longer", ("count",), "Do weights nearer the input have longer "
                          "or shorter chains (longer/shorter)?"))
    return Question("concept", "Answer without computing any derivative.", tuple(items))
