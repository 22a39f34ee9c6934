"""``Derivation``: the result of ``symbprop.derive(model)``, a value computed once.

It holds the IR and the adjoints of the reverse sweep in index form (for a network: one equation
per layer, whatever its width) and instantiates the scalar, per-weight form only when asked
(``gradient``, ``chain``, ``definition``, ``compose``).  Conventions: ``gradient(name)`` is
∂C/∂θ for one sample, in named intermediates (δ^l_j, a^l_j, ∂f/∂q); the batch reduction
(mean or sum) is applied by ``evaluate``.  Definitions and their composition are a
``composition.Composer``'s, the documents (``d.to_latex()``, ...) the ``documents.Documents``
mixin's; a ``Derivation`` delegates to them.
"""

from __future__ import annotations

import functools

import sympy
from sympy import Idx, Indexed

from symbprop.errors import SymbpropError
from symbprop.model import Graph, Network
from symbprop.spec.loader import as_model
from symbprop.spec.variables import (
    BIAS,
    DELTA,
    PRE,
    WEIGHT,
    Var,
    adjoint_name,
    is_adjoint_of,
    split_element,
)
from symbprop.symbolic.composition import MAX_COMPOSED_SIZE, Composer, int_indices
from symbprop.symbolic.documents import Documents
from symbprop.symbolic.evaluate import evaluate
from symbprop.symbolic.indexing import bound_indices, index_values, instantiate, rename_indices
from symbprop.symbolic.ir import Program, label, program
from symbprop.symbolic.param_names import MAX_LISTED_PARAMS, ParamNames, summary
from symbprop.symbolic.paths import MAX_CHAIN_PATHS, Factor, count_paths, paths
from symbprop.symbolic.sweep import Adjoint, reverse_sweep

FREE_NAMES = ("j", "k")
BOUND_NAMES = ("k", "m", "i", "n", "r", "s")


def derive(model: Network | Graph | str | dict) -> Derivation:
    """Derive every ∂C/∂θ of ``model`` (a model, or what ``symbprop.load`` takes) by the chain
    rule (see ``Derivation``)."""
    return Derivation(as_model(model))


class Derivation(Documents):
    """Every gradient of a model, derived once; scalar forms are instantiated on demand.

    ``upstream=True`` (graphs; ``d.seeded``) seeds the backward pass with ∂L/∂f, a symbol
    ``dL_df`` for the gradient arriving at the output f from a loss L beyond the graph, whose
    value a values file gives as ``upstream``: every adjoint and gradient is then ∂L/∂·.
    ``top`` is what is differentiated (f, or L when seeded), ``seed`` the output's adjoint (1,
    or the symbol ∂L/∂f)."""

    MAX_COMPOSED_SIZE = MAX_COMPOSED_SIZE

    def __init__(self, model: Network | Graph, upstream: bool = False) -> None:
        self.model = model
        self.program: Program = program(model)
        self.top, self.seed = self.program.output, sympy.S.One
        if upstream:
            if model.kind != "graph":
                raise SymbpropError("an upstream gradient seeds a graph's backward pass; a "
                                    "network ends in its own loss")
            self.top = sympy.Symbol(loss_name(model))
            self.seed = sympy.Symbol(adjoint_name(self.top.name, self.program.output.name))
        seed = None if self.seed == 1 else self.seed
        self.adjoints: dict[sympy.Basic, Adjoint] = {
            v: canonical(a) for v, a in reverse_sweep(self.program, seed, self.top.name).items()
        }
        named = [a.symbol for a in self.adjoints.values() if a.symbol is not None]
        if seed is not None:
            named.append(seed)
        self._by_name = {label(v): v for v in [*self.program.shapes, *named]}
        self._variables = dict(self.program.variables)  # Var -> base, and each delta<l>:
        for adjoint in self.adjoints.values():
            var = self.program.var_of.get(adjoint.variable)
            if var is not None and var.role is PRE and adjoint.symbol is not None:
                self._variables[Var(DELTA, var.layer)] = adjoint.symbol
        self._roles = {base: var for var, base in self._variables.items()}
        self._composer = Composer(self.program, self.adjoints)

    @functools.cached_property
    def seeded(self) -> Derivation:
        """This graph's derivation seeded with ∂L/∂output (see the class), for values that give
        an ``upstream`` gradient; itself if it is seeded already."""
        return self if self.seed != 1 else Derivation(self.model, upstream=True)

    # ------------------------------------------------------------ scalar parameters

    def base(self, name: str) -> sympy.Basic:
        """The IR variable or named adjoint called ``name``: ``"x"``, ``"W1"``, ``"z2"``,
        ``"delta1"``, ``"q"``, ``"df_dq"`` (an IndexedBase or a Symbol); KeyError if none."""
        return self._by_name[name]

    def variable(self, role, layer: int | None = None) -> sympy.Basic:
        """A network's variable by role and layer (``symbprop.spec.variables``):
        ``d.variable(PRE, 2)`` is the IndexedBase z2, ``d.variable(DELTA, 1)`` δ1; also takes a
        ``Var``.  KeyError if the network has none (``BIAS`` of a layer without a bias)."""
        return self._variables[role if isinstance(role, Var) else Var(role, layer)]

    def role_of(self, base) -> Var | None:
        """The ``Var`` (role and layer) of an IR variable or δ: a SymPy base, or its name
        (``"W2"``); None for a graph's variables, adjoints ∂f/∂q and unknown names."""
        if isinstance(base, str):
            var = Var.find(base)
            return var if var in self._variables else None
        return self._roles.get(base)

    @functools.cached_property
    def params(self) -> tuple[str, ...] | ParamNames:
        """Scalar parameter names in order: "W1[0,0]", "W1[0,1]", ..., "b1[0]", ... (or "x").
        A tuple; past ``MAX_LISTED_PARAMS`` a ``ParamNames``, the same names made on demand
        (a net of 10^8 parameters would need gigabytes for the strings)."""
        names = ParamNames(self.program)
        return tuple(names) if len(names) <= MAX_LISTED_PARAMS else names

    @functools.cached_property
    def param_arrays(self) -> list[tuple[str, tuple[int, ...]]]:
        """(name, shape) of each parameter array in the order of ``params``: ("W1", (2, 2)),
        ("b1", (2,)), ... or ("x", ()); costs nothing per parameter."""
        return ParamNames(self.program).arrays

    def element(self, name: str) -> sympy.Expr:
        """The SymPy element of a scalar parameter name such as ``"W1[0,1]"`` or ``"x"``."""
        if not isinstance(name, str):
            raise SymbpropError(
                f"parameter names are strings such as {self.params[0]!r}, "
                f"not {type(name).__name__}"
            )
        base_name, indices = split_element(name) or (None, ())
        base = self._by_name.get(base_name)
        base = base if base in self.program.params else None
        shape = self.program.shapes.get(base, None)
        if (
            base is None
            or len(indices) != len(shape)
            or any(not 0 <= i < n for i, n in zip(indices, shape, strict=True))
        ):
            raise SymbpropError(f"unknown parameter {name!r}; parameters: {summary(self.params)}")
        return base[indices] if indices else base

    def gradient(self, name: str) -> sympy.Expr:
        """∂C/∂``name`` for one sample, in named intermediates (δ^l_j, a^l_j, ∂f/∂q)."""
        return self.scalar_adjoint(self.element(name))

    def scalar_adjoint(self, element: sympy.Expr) -> sympy.Expr:
        base = element.base if isinstance(element, Indexed) else element
        adjoint = self.adjoints[base]
        values = dict(zip(adjoint.indices, int_indices(element), strict=True))
        return instantiate(adjoint.expr, values)

    def bp_equations(self) -> list[dict]:
        """The four fundamental equations per layer (networks), output layer first, in index
        form: ``{"layer": l, "BP1" or "BP2": δ^l_j, "BP3": ∂C/∂b^l_j (absent without a bias),
        "BP4": ∂C/∂W^l_jk}`` — read off the adjoints of the sweep, not typed in."""
        if self.model.kind != "network":
            raise SymbpropError("bp_equations: only networks have BP1-BP4; see d.adjoints")
        rows = []
        last = len(self.model.layers)
        for layer in range(last, 0, -1):
            row = {"layer": layer}
            row["BP1" if layer == last else "BP2"] = self.adjoints[self.variable(PRE, layer)].expr
            if Var(BIAS, layer) in self._variables:
                row["BP3"] = self.adjoints[self.variable(BIAS, layer)].expr
            row["BP4"] = self.adjoints[self.variable(WEIGHT, layer)].expr
            rows.append(row)
        return rows

    # ------------------------------------------------------------ definitions and composition

    def definition(self, element: sympy.Expr) -> sympy.Expr | None:
        """The right-hand side of a named scalar intermediate (z, a, δ, node, ∂f/∂q), or None."""
        return self._composer.definition(element)

    def compose(self, expr: sympy.Expr) -> sympy.Expr:
        """``expr`` with every named intermediate replaced by its definition, recursively:
        a function of the parameters and the data (x, y) only.  For small models: a
        ``SymbpropError`` if the result would have more than ``MAX_COMPOSED_SIZE`` parts
        (``composed_size``; a graph whose nodes use their input twice doubles at every level)."""
        return self._composer.compose(expr)

    def composed_size(self, expr: sympy.Expr, limit: int | None = None) -> int:
        """How many parts ``compose(expr)`` would have written out, counted without composing
        (with ``limit``: ``limit + 1`` as soon as the count passes it)."""
        return self._composer.composed_size(expr, limit)

    def scalar_equations(self) -> list[tuple[sympy.Expr, sympy.Expr, str]]:
        """The full per-weight scalar form, in evaluation order, as (lhs, rhs, kind) with kind
        "forward" (z, a, graph nodes), "loss", "adjoint" (δ, ∂f/∂q) or "gradient" (lhs is the
        parameter element).  Size grows with the number of weights: for small nets."""
        equations = []
        for eqn in self.program.eqns:
            kind = "loss" if eqn.out == self.program.output else "forward"
            for idx in index_values(eqn.indices):
                lhs = instantiate(eqn.out, dict(zip(eqn.indices, idx, strict=True)))
                equations.append((lhs, self.definition(lhs), kind))
        for adjoint in self.adjoints.values():  # reverse evaluation order: upstream first
            if adjoint.symbol is not None:
                for idx in index_values(adjoint.indices):
                    lhs = adjoint.symbol[idx] if idx else adjoint.symbol
                    equations.append((lhs, self.definition(lhs), "adjoint"))
        for name in self.params:
            equations.append((self.element(name), self.gradient(name), "gradient"))
        return equations

    def composed_loss(self) -> sympy.Expr:
        """C as one expression of the parameters and the data (the oracle for the tests); for
        a seeded graph, L to first order: ∂L/∂f (its symbol) times the composed output f."""
        return self.seed * self.compose(self.definition(self.program.output))

    # ------------------------------------------------------------ chain rule, paths

    def chain(self, name: str, max_paths: int | None = None) -> list[list[Factor]]:
        """The chain-rule terms of ∂C/∂``name``: one list of local factors per path from the
        loss back to the parameter (∂C/∂a · ∂a/∂z · ∂z/∂w); their products sum to the gradient.

        With ``max_paths``, the first that many paths.  Without, all of them, and a
        ``SymbpropError`` if there are more than ``paths.MAX_CHAIN_PATHS`` (their number is the
        product of the widths of the later layers: ``path_count`` says it without listing)."""
        element = self.element(name)
        if max_paths is None and (count := self.path_count(name)) > MAX_CHAIN_PATHS:
            raise SymbpropError(
                f"chain({name!r}): {count:,} chain-rule paths lead from {name} to the loss, more "
                f"than the {MAX_CHAIN_PATHS:,} that chain lists (MAX_CHAIN_PATHS); "
                f"d.chain({name!r}, max_paths=N) gives the first N, d.path_count({name!r}) "
                "their number")
        found = paths(self, element, max_paths)
        if self.seed == 1:
            return found
        first = Factor(self.top, self.program.output, self.seed)  # ∂L/∂f, the seed
        return [[first, *path] for path in found]

    def path_count(self, name: str) -> int:
        """The number of chain-rule paths from ``name`` to the loss, counted, not listed."""
        return count_paths(self, self.element(name))

    # ------------------------------------------------------------ numbers

    def evaluate(self, values) -> dict:
        """Loss, forward values, δ's and every gradient at ``values``
        (``symbprop.symbolic.evaluate``)."""
        return evaluate(self, values)

    def __repr__(self) -> str:
        return (
            f"<Derivation of {self.model.kind} {self.model.name!r}: {len(self.params)} parameters>"
        )


# ---------------------------------------------------------------- helpers


def loss_name(graph: Graph) -> str:
    """The name of the loss beyond a graph's output: L, else the first of L_, L__, ... that
    no variable or node of the graph uses, nor begins its name with (as adjoints' names do)."""
    names = {*graph.params, *graph.constants, *(n for n, _ in graph.nodes)}
    name = "L"
    while any(n == name or is_adjoint_of(n, name) for n in names):
        name += "_"
    return name


def canonical(adjoint: Adjoint) -> Adjoint:
    """Rename the sweep's fresh indices to textbook ones: free j, k; bound k, m, i, ..."""
    free = tuple(
        Idx(n, (i.lower, i.upper)) for n, i in zip(FREE_NAMES, adjoint.indices, strict=False)
    )
    bound_names = [n for n in BOUND_NAMES if n not in FREE_NAMES[: len(free)]]
    mapping = dict(zip(adjoint.indices, free, strict=False))
    for old, name in zip(bound_indices(adjoint.expr), bound_names, strict=False):
        mapping[old] = Idx(name, (old.lower, old.upper))
    expr = rename_indices(adjoint.expr, mapping)
    return Adjoint(adjoint.variable, free, expr, adjoint.symbol)
