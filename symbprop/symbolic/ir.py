"""The ordered, named IR: equations ``out = expr`` in evaluation order.

A network is lowered to layer-level equations in index form, with ``sympy.Idx`` indices that
carry their ranges (the element definition of a dense layer)::

    z1[j] = Σ_k W1[j, k]·x[k] + b1[j]      a1[j] = σ(z1[j])     ...     C = ½ Σ_j (y[j] − aL[j])²

A graph is lowered to its scalar nodes (``q = x + y``, ``f = q·z``).  A network's variables are
``Var`` values (``symbprop.spec.variables``: role and layer, ``Program.variables``), and their
SymPy objects are named ``Var.name`` (``x, y, W<l>, b<l>, z<l>, a<l>, C``) so that printers and
templates can rely on them.  Nothing here differentiates; ``derive`` sweeps this IR backwards.
"""

from __future__ import annotations

import enum
import functools
from dataclasses import dataclass, field

import sympy
from sympy import Idx, IndexedBase, Sum

from symbprop.model import Graph, Network
from symbprop.spec.variables import ACT, BIAS, INPUT, LOSS, PRE, TARGET, WEIGHT, Var


class EqnRole(enum.Enum):
    """What an equation defines: a network's weighted input z or activation a (of one layer),
    its loss, or a graph's node."""

    PRE = "z"
    ACT = "a"
    LOSS = "loss"
    NODE = "node"


@dataclass(frozen=True)
class Eqn:
    """``out = expr``. ``indices`` are the free indices of ``out`` (empty for a scalar)."""

    out: sympy.Expr
    expr: sympy.Expr
    indices: tuple[Idx, ...]
    role: EqnRole
    layer: int = 0

    @property
    def base(self) -> sympy.Basic:
        """The variable defined: an IndexedBase for ``z1[j]``, the Symbol itself for ``q``."""
        return self.out.base if isinstance(self.out, sympy.Indexed) else self.out


@dataclass(frozen=True)
class Program:
    """Equations in evaluation order, the differentiable parameters and the output (loss)."""

    eqns: tuple[Eqn, ...]
    params: tuple[sympy.Basic, ...]  # IndexedBase or Symbol, in parameter order
    output: sympy.Symbol
    shapes: dict  # base -> shape tuple (() for a scalar)
    targets_sum_to_one: bool = False  # softmax cross-entropy: Σ_j y_j = 1 is assumed
    #: A network's variables: Var -> its IndexedBase or Symbol ({} for a graph, whose names
    #: are the user's).
    variables: dict = field(default_factory=dict)

    def defining(self, base: sympy.Basic) -> Eqn | None:
        """The equation that defines ``base``, or None (a parameter, the data)."""
        return self._defining.get(base)

    @functools.cached_property
    def _defining(self) -> dict:
        # one dict, not a scan per question: the sweep asks once per equation (quadratic in
        # the depth of a net otherwise); the first equation of a name defines it
        found: dict = {}
        for eqn in self.eqns:
            found.setdefault(eqn.base, eqn)
        return found

    @functools.cached_property
    def var_of(self) -> dict:
        """Base -> its ``Var`` (the inverse of ``variables``)."""
        return {base: var for var, base in self.variables.items()}


def label(variable: sympy.Basic) -> str:
    """The name of an IR variable: ``"W1"`` for the IndexedBase W1, ``"b1"`` for a Symbol b1."""
    return variable.label.name if isinstance(variable, IndexedBase) else variable.name


def index(name: str, size: int) -> Idx:
    return Idx(name, size)


def network_program(net: Network) -> Program:
    """Layer-level equations of a dense network, in index form."""
    sizes = net.sizes
    x = IndexedBase(Var(INPUT).name, shape=(sizes[0],))
    previous = x
    eqns: list[Eqn] = []
    params: list[sympy.Basic] = []
    shapes: dict = {x: (sizes[0],)}
    variables: dict = {Var(INPUT): x}
    for number, layer in enumerate(net.layers, 1):
        n_out, n_in = sizes[number], sizes[number - 1]
        j, k = index("j", n_out), index("k", n_in)
        weights = IndexedBase(Var(WEIGHT, number).name, shape=(n_out, n_in))
        params.append(weights)
        shapes[weights] = (n_out, n_in)
        variables[Var(WEIGHT, number)] = weights
        bias = _bias(number, layer.bias, j, params, shapes, variables)
        z = IndexedBase(Var(PRE, number).name, shape=(n_out,))
        a = IndexedBase(Var(ACT, number).name, shape=(n_out,))
        shapes[z] = shapes[a] = (n_out,)
        variables[Var(PRE, number)], variables[Var(ACT, number)] = z, a
        weighted = Sum(weights[j, k] * previous[k], (k, 0, n_in - 1)) + bias
        eqns.append(Eqn(z[j], weighted, (j,), EqnRole.PRE, number))
        eqns.append(Eqn(a[j], _activate(layer.activation, z, j), (j,), EqnRole.ACT, number))
        previous = a
    y = IndexedBase(Var(TARGET).name, shape=(sizes[-1],))
    shapes[y] = (sizes[-1],)
    loss = net.loss.index_form(previous, y, index("j", sizes[-1]))
    cost = sympy.Symbol(Var(LOSS).name)
    variables[Var(TARGET)], variables[Var(LOSS)] = y, cost
    eqns.append(Eqn(cost, loss, (), EqnRole.LOSS, len(net.layers)))
    return Program(tuple(eqns), tuple(params), cost, shapes, net.loss.targets_sum_to_one,
                   variables)


def _bias(number: int, mode: str, j: Idx, params: list, shapes: dict,
          variables: dict) -> sympy.Expr:
    if mode == "none":
        return sympy.S.Zero
    if mode == "shared":
        shared = sympy.Symbol(Var(BIAS, number).name)
        params.append(shared)
        shapes[shared] = ()
        variables[Var(BIAS, number)] = shared
        return shared
    per_neuron = IndexedBase(Var(BIAS, number).name, shape=(int(j.upper) + 1,))
    params.append(per_neuron)
    shapes[per_neuron] = (int(j.upper) + 1,)
    variables[Var(BIAS, number)] = per_neuron
    return per_neuron[j]


def _activate(activation, z: IndexedBase, j: Idx) -> sympy.Expr:
    if activation.is_softmax:
        m = index("m", int(j.upper) + 1)
        return sympy.exp(z[j]) / Sum(sympy.exp(z[m]), (m, 0, j.upper))
    return activation.apply(z[j])


def graph_program(graph: Graph) -> Program:
    """Scalar node equations of a computational graph."""
    params = tuple(sympy.Symbol(p) for p in graph.params)
    eqns = tuple(Eqn(sympy.Symbol(name), expr, (), EqnRole.NODE) for name, expr in graph.nodes)
    output = sympy.Symbol(graph.output)
    # The constants are data, like a network's x and y: leaves with a shape, not parameters.
    constants = tuple(sympy.Symbol(c) for c in graph.constants)
    shapes = {s: () for s in (*params, *constants)} | {e.out: () for e in eqns}
    # Nodes after the output do not influence it; keep the program ending at the output.
    last = next(i for i, e in enumerate(eqns) if e.out == output)
    return Program(eqns[: last + 1], params, output, shapes)


def program(model: Network | Graph) -> Program:
    return network_program(model) if model.kind == "network" else graph_program(model)
