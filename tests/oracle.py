"""Independent oracles for gradient tests: sympy.diff of the fully composed loss, written with
elementary functions only (no symbprop derivative rule is involved), at random rational points."""

from __future__ import annotations

import random

import sympy
from sympy import Indexed

from symbprop.functions import as_elementary


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
    """Random rationals in [-2, 2] (away from 0) for every leaf; softmax-CE targets sum to 1."""
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
    """∂C/∂θ for the named (default: every) scalar parameter: sympy.diff of the elementary
    composed loss, at point."""
    loss = as_elementary(derivation.composed_loss())
    result = {}
    for name in names or derivation.params:
        element = derivation.element(name)
        others = {leaf: value for leaf, value in point.items() if leaf != element}
        restricted = loss.xreplace(others)  # C as a function of this parameter alone
        result[name] = sympy.diff(restricted, element).xreplace(point).evalf(25)
    return result


def value_at(derivation, expr, point: dict) -> sympy.Float:
    """A named-intermediate expression composed down to the leaves, at point."""
    return as_elementary(derivation.compose(expr)).xreplace(point).evalf(25)
