"""Independent oracles for gradient tests: sympy.diff of the fully composed loss, written with
elementary functions only (no symbprop derivative rule is involved), at random rational points,
or central differences of that loss in 50-digit arithmetic (``precise_gradients``)."""

from __future__ import annotations

import random

import sympy
from sympy import Indexed

from symbprop.functions.sympy_classes import as_elementary


def leaves(derivation) -> list:
    """Every leaf of the composed loss: parameter elements, inputs x[k], targets y[j]."""
    elements = []
    for base, shape in derivation.program.shapes.items():
        if derivation.program.defining(base) is not None:
            continue  # an intermediate, not a leaf
        if not shape:
            elements.append(base)
        else:
            elements += [base[idx] for idx in _product(shape)]
    return elements


def _product(shape):
    import itertools

    return itertools.product(*(range(n) for n in shape))


def random_point(derivation, seed: int = 0) -> dict:
    """Random numbers in [-2, 2] (away from 0) for every leaf, as 30-digit Floats (exact
    rationals would keep every exp(...) symbolic and the composed loss would never shrink);
    softmax-CE targets sum to 1, BCE targets lie in (0, 1).  Every number but a target is
    moved by a random 10⁻⁹ to 10⁻⁸: multiples of 1/20 alone can make a weighted input exactly 0,
    a kink of relu, leaky_relu or abs, where central differences average the two slopes."""
    exact = _random_rationals(derivation, seed)
    rng = random.Random(f"offsets {seed}")
    return {leaf: sympy.Float(value if _is_target(leaf)
                              else value + sympy.Rational(rng.randint(10, 100), 10**10), 30)
            for leaf, value in exact.items()}


def _is_target(leaf) -> bool:
    return isinstance(leaf, Indexed) and leaf.base.label.name == "y"


def _random_rationals(derivation, seed: int) -> dict:
    rng = random.Random(seed)
    point = {}
    for leaf in leaves(derivation):
        value = sympy.Rational(rng.randint(1, 40), 20) * rng.choice((-1, 1))
        point[leaf] = value
    if derivation.program.targets_sum_to_one:
        ys = [e for e in point if isinstance(e, Indexed) and e.base.label.name == "y"]
        weights = [sympy.Rational(rng.randint(1, 9)) for _ in ys]
        for element, weight in zip(ys, weights, strict=True):
            point[element] = weight / sum(weights)
    if derivation.model.kind == "network" and derivation.model.loss.name == "bce":
        for e in point:
            if isinstance(e, Indexed) and e.base.label.name == "y":
                point[e] = sympy.Rational(rng.randint(1, 9), 10)
    return point


def oracle_gradients(derivation, point: dict, names=None) -> dict[str, sympy.Float]:
    """∂C/∂θ for the named (default: every) scalar parameter: ``sympy.diff`` of the loss composed
    from the *model* (its layers, activations written in elementary functions, and loss; or its
    graph nodes), with every leaf but θ replaced by its number — C as a function of θ alone."""
    result = {}
    for name in names or derivation.params:
        theta = derivation.element(name)
        # A real symbol for θ keeps SymPy's assumption queries (is tanh(...) real?) cheap.
        variable = sympy.Symbol("theta", real=True)
        numbers = {leaf: value for leaf, value in point.items() if leaf != theta}
        loss = composed_loss(derivation, numbers | {theta: variable})
        result[name] = sympy.diff(loss, variable).xreplace({variable: point[theta]}).evalf(25)
    return result


def precise_gradients(derivation, point: dict, digits: int = 50) -> dict[str, sympy.Float]:
    """∂C/∂θ for every scalar parameter by central differences of the same composed loss as
    ``oracle_gradients`` (written from the model alone), in ``digits``-digit arithmetic (mpmath)
    with the step h = 10^(−2·digits/5): truncation (~h²) and rounding (~10^−digits / h) errors
    stay below 10^−30, far under the tests' tolerances.  The composed C is built once with every
    parameter a symbol, not once per parameter, and never differentiated symbolically: about
    nine times faster than ``oracle_gradients`` on a 3-3-3-3 net, whose exact derivatives swell."""
    import mpmath

    names = list(derivation.params)
    thetas = [derivation.element(name) for name in names]
    symbols = [sympy.Symbol(f"theta{i}", real=True) for i in range(len(names))]
    numbers = {leaf: value for leaf, value in point.items() if leaf not in set(thetas)}
    loss = sympy.lambdify(symbols, composed_loss(derivation, numbers | dict(zip(thetas, symbols,
                                                                               strict=True))),
                          "mpmath")
    result = {}
    with mpmath.workdps(digits):
        h = mpmath.mpf(10) ** (-2 * digits // 5)
        at = [mpmath.mpf(str(sympy.N(point[theta], digits))) for theta in thetas]
        for index, name in enumerate(names):
            up, down = list(at), list(at)
            up[index] += h
            down[index] -= h
            slope = (loss(*up) - loss(*down)) / (2 * h)
            result[name] = sympy.Float(mpmath.nstr(slope, 30), 30)
    return result


def composed_loss(derivation, numbers: dict) -> sympy.Expr:
    """C written from the model spec alone (no IR equation, no derivative rule)."""
    model = derivation.model
    bases = {
        b.label.name if isinstance(b, sympy.IndexedBase) else b.name: b
        for b in derivation.program.shapes
    }
    if model.kind == "graph":
        values = {  # constants are data leaves with numbers, as x and y are for a network
            sympy.Symbol(p): numbers.get(sympy.Symbol(p), sympy.Symbol(p))
            for p in (*model.params, *model.constants)
        }
        for node, expr in model.nodes:
            values[sympy.Symbol(node)] = as_elementary(expr).xreplace(values)
        return values[sympy.Symbol(model.output)]

    def leaf(name, *index):
        element = bases[name][index] if index else bases[name]
        return numbers.get(element, element)

    a = [leaf("x", k) for k in range(model.inputs)]
    for number, layer in enumerate(model.layers, 1):
        z = [
            sum(leaf(f"W{number}", j, k) * a[k] for k in range(len(a)))
            + _bias(leaf, number, j, layer)
            for j in range(layer.units)
        ]
        if layer.activation.is_softmax:
            total = sum(sympy.exp(v) for v in z)
            a = [sympy.exp(v) / total for v in z]
        else:
            a = [as_elementary(layer.activation.apply(v)) for v in z]
    y = [leaf("y", j) for j in range(len(a))]
    loss = model.loss
    return loss.scale(len(a)) * sum(as_elementary(loss.element(a[j], y[j])) for j in range(len(a)))


def _bias(leaf, number, j, layer):
    if layer.bias == "none":
        return 0
    return leaf(f"b{number}", j) if layer.bias == "per_neuron" else leaf(f"b{number}")


class NamedValues:
    """Numbers for named-intermediate expressions (δ, a, z, ∂f/∂q ...) at a point: each named
    intermediate is computed once, from its own definition in the derivation."""

    def __init__(self, derivation, point: dict) -> None:
        self.derivation, self.memo = derivation, dict(point)

    def __call__(self, expr) -> sympy.Float:
        return self._substitute(expr).evalf(25)

    def _number(self, atom):
        if atom not in self.memo:
            definition = self.derivation.definition(atom)
            if definition is None:
                raise KeyError(f"no value for {atom}")
            self.memo[atom] = self._substitute(definition)
        return self.memo[atom]

    def _substitute(self, expr):
        labels = {i.base.label for i in expr.atoms(Indexed)}
        atoms = list(expr.atoms(Indexed)) + [
            s
            for s in expr.free_symbols
            if isinstance(s, sympy.Symbol) and not isinstance(s, sympy.Idx) and s not in labels
        ]
        return expr.xreplace({a: self._number(a) for a in atoms}).evalf(30)


def central_difference(fun, point: dict, name: str, index=None, h: float = 1e-6) -> float:
    """(fun(θ + h·e) − fun(θ − h·e)) / 2h, e the unit step in entry ``name`` of ``point`` (at
    ``index`` when it is an array): the finite-difference oracle of the seed tests.  ``point``
    is left as it was."""
    def moved(step):
        copy = {k: v.copy() if hasattr(v, "copy") else v for k, v in point.items()}
        if index is None:
            copy[name] = copy[name] + step
        else:
            copy[name][index] += step
        return copy

    return (fun(moved(h)) - fun(moved(-h))) / (2 * h)
