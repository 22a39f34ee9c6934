"""The rules before they are used (seeds 000, 002, 003): the chain rule's two cases in general,
each followed by this model's own instance read from the derivation (one path: a product;
several paths: a sum); for networks ⊙ and the vectorised activation, what δ means (ΔC ≈ δ Δz),
the Jacobian and the vector chain rule with this model's sizes; for graphs the closed form of
every final derivative, the intermediates substituted back and simplified.

Every formula goes through the document's ``Style``; instances come from ``Derivation.chain``,
``symbolic.paths.consumers`` and ``Derivation.compose``, never typed in.
"""

from __future__ import annotations

import functools

import sympy
from sympy import HadamardProduct, ImmutableMatrix, IndexedBase, Symbol

from symbprop.render.blocks import math, para, section, table
from symbprop.render.gradients import output_symbol
from symbprop.render.graph_notation import indirect_edges, local_symbol
from symbprop.render.notation import Chain, Elementwise, More, Partial, Terms, vector
from symbprop.spec.variables import ACT, BIAS, INPUT, PRE, WEIGHT, Var
from symbprop.symbolic.paths import consumers

#: Terms of a case-2 instance shown before "+ N more".
MAX_TERMS = 4
#: Closed forms are shown only up to this many composed parts (``composed_size``), and handed
#: to ``sympy.simplify`` only up to ``MAX_SIMPLIFIED_OPS`` operations: simplify's time grows
#: steeply (a derivative of ten nested tanh, 84 operations, runs for minutes).
MAX_CLOSED_SIZE = 400
MAX_SIMPLIFIED_OPS = 40


def rules(d, s) -> dict:
    """The section "The rules", for a network or a graph derivation ``d``."""
    blocks = _chain_rule(d, s)
    if d.model.kind == "network":
        blocks += _vectors(d, s) + _delta(d, s) + _jacobian(d, s)
    return section("The rules", blocks)


def closed_forms(d, s) -> dict | None:
    """A graph's final derivatives in closed form: the named intermediates substituted back
    (``Derivation.compose``), simplified where short; None for a model too large to compose."""
    forms = [closed_form(d, name) for name in d.params]
    if None in forms:
        return None
    lines = [(s.expr(Partial(output_symbol(d), d.element(name))), "=", s.expr(formula))
             for name, (formula, _) in zip(d.params, forms, strict=True)]
    all_simplified = all(simplified for _, simplified in forms)
    f = output_symbol(d)
    how = "and simplifying" if all_simplified else "and simplifying where the formula is short,"
    return section("The derivatives in closed form", [
        para(f"The backward pass gives each derivative in terms of the named intermediates.  "
             f"Substituting their definitions back, down to the variables, {how} "
             f"gives each derivative of {s.m(f)} as one formula:"), math(lines)])


@functools.lru_cache(maxsize=64)
def closed_form(d, name: str) -> tuple[sympy.Expr, bool] | None:
    """(∂(output)/∂``name`` as a formula of the variables only, whether it was simplified):
    ``sympy.simplify`` up to ``MAX_SIMPLIFIED_OPS`` operations, else common factors only; None
    past ``MAX_CLOSED_SIZE`` composed parts.  Memoized: the rules and the descent section
    (``stationary``) both ask."""
    if d.composed_size(d.gradient(name)) > MAX_CLOSED_SIZE:
        return None
    composed = d.compose(d.gradient(name))
    if sympy.count_ops(composed) <= MAX_SIMPLIFIED_OPS:
        return sympy.simplify(composed), True
    return sympy.factor_terms(composed), False


# ---------------------------------------------------------------- the chain rule


def _chain_rule(d, s) -> list:
    x, y, z, u = (Symbol(n) for n in "xyzs")
    C = output_symbol(d)
    one = s.inline(f"{s.expr(Symbol('y'))} = g({s.expr(x)}), {s.expr(z)} = h({s.expr(y)})")
    two = s.inline("x = g(s), y = h(s), z = k(x, y)") if not s.latex else \
        "$x = g(s)$, $y = h(s)$, $z = k(x, y)$"
    blocks = [
        para(f"{s.strong('The chain rule, case 1: one path.')}  If {one}, a change of "
             f"{s.m(x)} changes {s.m(y)}, which changes {s.m(z)}; the rates multiply:"),
        math([(s.expr(Partial(z, x)), "=", s.expr(Chain(Partial(z, y), Partial(y, x))))]),
    ]
    blocks += _one_path(d, s, C)
    blocks += [
        para(f"{s.strong('Case 2: several paths.')}  If {two}, a change of {s.m(u)} reaches "
             f"{s.m(z)} along two paths, through {s.m(x)} and through {s.m(y)}; the products "
             "of the paths are added:"),
        math([(s.expr(Partial(z, u)), "=", s.expr(Terms(Chain(Partial(z, x), Partial(x, u)),
                                                        Chain(Partial(z, y), Partial(y, u)))))]),
    ]
    blocks += _several_paths(d, s, C)
    return blocks


def _one_path(d, s, C) -> list:
    """A parameter with exactly one path, written as the product of its local derivatives."""
    for name in _candidates(d):
        if d.path_count(name) == 1:
            (path,) = d.chain(name, max_paths=1)
            element = d.element(name)
            indirect = indirect_edges(d)
            factors = [local_symbol(d, f.of, f.wrt, indirect) for f in path]
            return [para(f"In this model, {s.m(element)} reaches {s.m(C)} along one path, so "
                         f"its gradient is one product of {len(factors)} local derivatives:"),
                    math([(s.expr(Partial(C, element)), "=", s.expr(Chain(*factors)))])]
    return [para(f"In this model no parameter reaches {s.m(C)} along a single path: every "
                 "gradient below is a sum of such products (case 2).")]


def _candidates(d) -> list[str]:
    """A few parameters to look for an instance in: the first weight and bias of each layer
    (a network), every variable (a graph)."""
    if d.model.kind != "network":
        return list(d.params)
    names = []
    for layer in range(1, len(d.model.layers) + 1):
        weights = Var(WEIGHT, layer)
        names += [n for n in (weights.element(0, 1), weights.element(0, 0),
                              Var(BIAS, layer).element(0)) if n in d.params]
    return names


def _several_paths(d, s, C) -> list:
    """A variable that feeds several quantities: ∂C/∂v = Σ ∂C/∂c · ∂c/∂v over its consumers."""
    for element in _branch_candidates(d):
        fed = consumers(d, element)
        if len(fed) < 2:
            continue
        shown = fed[:MAX_TERMS]
        indirect = indirect_edges(d)
        general = [Chain(Partial(C, c), local_symbol(d, c, element, indirect))
                   for c, _ in shown]
        local = [Chain(_named_adjoint(d, c, C), value) for c, value in shown]
        more = [More(len(fed) - len(shown), "terms")] if len(fed) > len(shown) else []
        lhs = s.expr(Partial(C, element))
        what = "an input" if _is_input(d, element) else "a variable"
        return [para(f"In this model, {what}, {s.m(element)}, feeds "
                     f"{len(fed)} quantities, so its derivative is a sum over them, each term "
                     f"the derivative arriving from upstream times the local derivative:"),
                math([(lhs, "=", s.expr(Terms(*general, *more))),
                      ("", "=", s.expr(Terms(*local, *more)))])]
    return [para("In this model every quantity feeds a single next one, so case 2 does not "
                 "arise: every gradient is one product.  In a wider model the products of "
                 "the paths are added.")]


def _branch_candidates(d) -> list:
    if d.model.kind != "network":
        return [*(d.element(n) for n in d.params), *(e.out for e in d.program.eqns)]
    L = len(d.model.layers)
    found = [d.variable(ACT, layer)[0] for layer in range(1, L)]
    return found + [d.variable(INPUT)[0]]


def _is_input(d, element) -> bool:
    return d.model.kind == "network" and getattr(element, "base", None) == d.variable(INPUT)


def _named_adjoint(d, element, C):
    """∂C/∂``element`` by its name where the sweep names it (δ^l_j, ∂f/∂q), else the fraction."""
    base = element.base if isinstance(element, sympy.Indexed) else element
    adjoint = d.adjoints.get(base)
    if adjoint is None or adjoint.symbol is None:
        return Partial(C, element)
    indices = tuple(element.indices) if isinstance(element, sympy.Indexed) else ()
    return adjoint.symbol[indices] if indices else adjoint.symbol


# ---------------------------------------------------------------- vectors, δ, Jacobians


def _vectors(d, s) -> list:
    j = Symbol("j")
    blocks = [para(f"{s.strong('The Hadamard product')} {s.mnote('odot')} multiplies two "
                   f"vectors entry by entry, {_odot_entry(s)}; for example:"),
              math([_odot_example(s)])]
    layer = next((number for number, spec in enumerate(d.model.layers, 1)
                  if not spec.activation.is_softmax and not (
                      spec.activation.name == "identity" and not spec.activation.is_custom)),
                 None)
    if layer is not None:
        activation = d.model.layers[layer - 1].activation
        name = "custom" if activation.is_custom else activation.name
        z, a = d.variable(PRE, layer), d.variable(ACT, layer)
        entry = d.definition(a[0]).xreplace({z[0]: z[j]})
        blocks.append(para(
            f"{s.strong('A vectorised activation')} applies the function to every entry of a "
            f"vector: {s.m(Elementwise(name, vector(Var(PRE, layer), 2)))} is the vector of the "
            f"{s.meq(a[j], entry)}, one per neuron {s.m(j)} of layer {s.layer(layer)}.  BP1 and "
            f"BP2 below use both: the vector of slopes of a layer times the error vector, entry "
            f"by entry."))
    return blocks


def _odot_example(s) -> tuple[str, str, str]:
    """[1, 2] ⊙ [3, 4] = [3, 8]: columns in LaTeX, tuples in text."""
    if s.latex:
        example = HadamardProduct(ImmutableMatrix([1, 2]), ImmutableMatrix([3, 4]))
        return s.expr(example), "=", s.expr(ImmutableMatrix([3, 8]))
    return (f"{s.expr(sympy.Tuple(1, 2))} {s.note('odot')} {s.expr(sympy.Tuple(3, 4))}", "=",
            s.expr(sympy.Tuple(3, 8)))


def _odot_entry(s) -> str:
    j = Symbol("j")
    if s.latex:
        return s.inline(r"(s \odot t)_{j} = " + s.expr(IndexedBase("s")[j] * IndexedBase("t")[j]))
    return s.inline("(s ⊙ t)ⱼ = " + s.expr(IndexedBase("s")[j] * IndexedBase("t")[j]))


def _delta(d, s) -> list:
    j, l = Symbol("j"), Symbol("l")  # noqa: E741 (the layer index, as the notes write it)
    delta, z = IndexedBase("delta^l")[j], IndexedBase("z^l")[j]
    C = Symbol("C")
    change = s.inline(f"\\Delta C {s.note('approx')} " if s.latex else f"ΔC {s.note('approx')} ")
    dz = (r"\Delta " if s.latex else "Δ") + s.expr(z)
    return [para(
        f"{s.strong('What the error means.')}  The error of neuron {s.m(j)} in layer {s.m(l)} is "
        f"{s.meq(delta, Partial(C, z))}: if the weighted input of the neuron changes by a "
        f"little, {s.inline(dz)}, the loss changes by about "
        f"{s.inline(_strip(change) + ' ' + s.expr(delta) + ' ' + dz)}.  A large "
        f"{s.m(sympy.Abs(delta))} means the loss is sensitive to this neuron, and a change of "
        f"its input against the sign of {s.m(delta)} lowers the loss a lot; a "
        f"{s.m(delta)} near zero means the neuron can hardly lower the loss, whatever its "
        "input does.")]


def _strip(printed: str) -> str:
    return printed.strip("$").strip()


def _jacobian(d, s) -> list:
    f, x, g = vector("f", 1), vector("x", 1), vector("g", 1)
    i, j = Symbol("i"), Symbol("j")
    m, n = Symbol("m"), Symbol("n")
    sizes = d.model.sizes
    blocks = [
        para(f"{s.strong('The Jacobian')} of a vector function {s.m(f)} of {s.m(n)} inputs and "
             f"{s.m(m)} outputs is the {s.m(m)} by {s.m(n)} matrix "
             f"{s.m(Partial(f, x))} whose entry in row {s.m(i)}, column {s.m(j)} is "
             f"{s.m(Partial(IndexedBase('f')[i], IndexedBase('x')[j]))}.  The chain rule for "
             f"vector functions multiplies Jacobians, both cases at once (the matrix product "
             f"sums over the paths):"),
        math([(s.expr(Partial(f, x)), "=", s.expr(Chain(Partial(f, g), Partial(g, x))))]),
    ]
    L = len(d.model.layers)
    rows = []
    for layer in range(1, L + 1):
        nl, nk = sizes[layer], sizes[layer - 1]
        rows.append([s.layer(layer), _size(s, nl, nl * nk), str(nl * nl * nk), str(nl * nk)])
    zl, Wl = vector("z^l", 1), vector("W^l", 1)
    blocks += [
        para(f"For this network, "
             f"{s.m(Partial(vector(Var(PRE, L), 1), vector(Var(ACT, L - 1), 1)))} "
             f"is the weight matrix {s.m(vector(Var(WEIGHT, L), 1))} "
             f"({_size(s, sizes[L], sizes[L - 1])}), "
             f"and the Jacobian of an activation, {s.m(Partial(vector('a^l', 1), zl))}, is "
             f"diagonal: entry {s.m(j)} of the vector times the slope of neuron {s.m(j)}, "
             f"which is the {s.mnote('odot')} of BP1 and BP2.  Backpropagation never builds a "
             f"Jacobian: the one of the weights, {s.m(Partial(zl, Wl))} (the weights stretched "
             f"into one column), holds as many numbers as below, "
             f"{_sparsity(s, sizes[1:])}, while BP4 needs only one product per weight:"),
        table(["layer", s.m(Partial(zl, Wl)), "numbers", "weights"], rows, "rrrr"),
    ]
    return blocks


def _sparsity(s, widths) -> str:
    """How many of the weights' Jacobian entries are zeros, for layers ``widths`` neurons wide:
    a weight feeds one neuron, so a fraction 1/n of the entries is non-zero."""
    if min(widths) > 2:
        return "almost all of them zeros because a weight feeds a single neuron"
    if max(widths) == 1:
        return "none of them zeros with one neuron per layer (a weight feeds a single neuron)"
    n = Symbol("n")
    return (f"a fraction {s.m(1 / n)} of them non-zero in a layer of {s.m(n)} neurons, "
            "because a weight feeds a single neuron")


def _size(s, rows: int, cols: int) -> str:
    return s.inline(f"{rows} {s.note('times')} {cols}")
