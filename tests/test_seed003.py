"""Seed 003 (EECS 230, lecture 4: gradient descent and backpropagation) taught by the bundled
``examples:quadratic`` (f(x) = (x - 5)²), ``staged`` (f = (x + y) z at (-2, 5, -4)),
``one_node`` (look at one node, ∂L/∂c = 2 arriving from the loss), ``exp_inverse`` (staging
exp(1/x)) and, for the Jacobian, a network (``iris_4_16_3``): each of the seed's points is found
in the document, its numbers parsed back and compared with central differences of the function
typed in this file (plain Python), or sizes counted here.

The seed's points, in its order, and where each is checked:

1. Minimise f(x) = (x - 5)²: the derivative 2(x - 5): here.
2. Partial derivatives and the gradient ∇L as a column of them: here (``staged``).
3. Gradient descent x' = x - α∇L, the stopping rule while α‖∇L(x⁽ᵏ⁾)‖ > ε: here, the
   quadratic's iterates against a loop written here.
4. The learning rate: too small, too large, variable α⁽ᵏ⁾; watch the objective: the statement
   here; each rate's outcome in ``test_descent_diagnosis``
   (``test_quadratic_document_names_what_each_rate_shows``, and exp(1/x) without a minimum in
   ``test_exp_inverse_document_does_not_blame_the_learning_rate``).
5. The small example (x + y) z, one operation per node, from the end backwards, upstream times
   local on every edge: here.
6. Look at one node, the upstream gradient ∂L/∂c = 2: ``test_graph_constants``
   (``test_one_node_is_seed_003s_example_exactly``, ``test_text_document_numbers``); here only
   that the intermediate derivatives are not moved by gradient descent.
7. Staging exp(1/x): the local derivatives and the value here; the closed form −e^{1/x}/x² in
   ``test_rules_doc.test_exp_inverse_closed_form_is_the_textbook_one``.
8. The Jacobian (m × n, ∂fᵢ/∂xⱼ), the chain rule for vector functions, and why the Jacobian of
   the weights is huge and never built: the sizes here; the statements in
   ``test_rules_doc.test_network_rules_statements``.
"""

from __future__ import annotations

import math
import re

import pytest

import symbprop as sp
from tests.oracle import central_difference

H = 1e-6


def _doc(name, at=True):
    d = sp.derive(sp.load(f"examples:{name}"))
    return d.to_text(f"examples:{name}" if at else None)


def _flat(doc):
    return " ".join(doc.split())


def central(f, point, name):
    return central_difference(lambda p: f(**p), point, name, h=H)


def quadratic(x):
    return (x - 5) ** 2


def staged(x, y, z):
    return (x + y) * z


# ---------------------------------------------------------------- 1-3. the quadratic, descent


def test_the_quadratics_derivative():
    doc = _doc("quadratic")
    assert "∂f/∂x = 2·(x - 5)" in doc  # the closed form
    rows = doc[doc.index("parameter  θ"):].split("\n\n")[0].splitlines()[2:]
    x, grad, stepped = (float(v) for v in rows[0].split()[1:])
    assert grad == pytest.approx(central(quadratic, {"x": x}, "x"), rel=1e-6)
    assert stepped == pytest.approx(x - 0.1 * grad)


def test_the_quadratics_descent_is_a_loop_written_here():
    doc = _doc("quadratic")
    flat = _flat(doc)
    assert "θ⁽ᵏ⁺¹⁾ = θ⁽ᵏ⁾ - α∇f(θ⁽ᵏ⁾), repeated while α‖∇f(θ⁽ᵏ⁾)‖ > ε" in flat
    assert "with α = 0.1 from the values and ε = 1e-6" in flat
    section = doc[doc.index("Gradient descent on the function"):]
    rows = re.findall(r"^ +(\d+) +(\S+) +(\S+) +(\S+)$", section, re.M)
    x, alpha, iterates = 0.0, 0.1, {}
    for k in range(1, 200):
        grad = central(quadratic, {"x": x}, "x")
        iterates[k] = (x, quadratic(x), alpha * abs(grad))
        if alpha * abs(grad) <= 1e-6:
            break
        x -= alpha * grad
    assert rows and int(rows[-1][0]) == k  # stops where the rule says
    for number, *shown in rows:
        assert [float(v) for v in shown] == pytest.approx(iterates[int(number)], rel=1e-4,
                                                          abs=1e-10)
    assert float(rows[-1][1]) == pytest.approx(5, abs=1e-5)  # the minimum, x = 5
    assert ("If the learning rate is too small, it takes too many iterations to converge; if it "
            "is too large, a step may overshoot the minimum, oscillate, or never converge. "
            "Watching how fast the function decreases tells which case applies.") in flat
    assert "α⁽ᵏ⁾ = (10·α)/k (seed 003: choose α⁽ᵏ⁾ at each iteration" in flat


# ---------------------------------------------------------------- 2, 5. the small example


def test_the_small_example_backwards_edge_by_edge():
    doc = _doc("staged")
    flat = _flat(doc)
    point = {"x": -2.0, "y": 5.0, "z": -4.0}
    assert "q = x + y" in flat and "f = q·z" in flat
    assert "Compute ∂f/∂v for every variable v from the end backwards" in flat
    assert "∂f/∂x = ∂f/∂q · ∂q/∂x" in flat  # the chain of chain rules: upstream times local
    rows = doc[doc.index("edge   upstream"):].split("\n\n")[0].splitlines()[2:]
    edges = {}
    for row in rows:
        origin, _, end, upstream, local, product = row.split()
        assert float(product) == pytest.approx(float(upstream) * float(local))
        edges[(origin, end)] = float(product)
    for name in ("x", "y"):
        assert edges[(name, "q")] == pytest.approx(central(staged, point, name), rel=1e-6)
    assert edges[("z", "f")] == pytest.approx(central(staged, point, "z"), rel=1e-6)
    # the gradient, a column of the partial derivatives, and its numbers
    assert "∂f/∂θ = (∂f/∂x, ∂f/∂y, ∂f/∂z)" in flat
    numbers = re.search(r"= \((-?[\d.]+), (-?[\d.]+), (-?[\d.]+)\) 6\. Gradients", flat)
    assert [float(v) for v in numbers.groups()] == pytest.approx(
        [central(staged, point, n) for n in "xyz"], rel=1e-6)
    assert "f = q·z = -12" in flat or "f = -12" in flat.replace("f = q·z ", "f = ")


# ---------------------------------------------------------------- 6. look at one node


def test_one_nodes_intermediates_are_not_descended():
    doc = _doc("one_node")
    flat = _flat(doc)
    assert "∂L/∂h" in flat and "∂L/∂i" in flat  # computed on the way back
    rows = doc[doc.index("parameter  θ"):].split("\n\n")[0].splitlines()[2:]
    assert sorted(r.split()[0] for r in rows) == ["u", "v", "w"]  # only these move


# ---------------------------------------------------------------- 7. staging exp(1/x)


def test_staging_exp_of_one_over_x():
    doc = _doc("exp_inverse")
    for line in ("b = 1/x", "f = exp(b)", "∂b/∂x = -1/x²", "∂f/∂b = f",
                 "∂f/∂x = -(exp(1/x))/x²"):
        assert line in doc, line
    value = float(doc[doc.index("    ∂f/∂x = [∂f/∂b]"):].split("\n\n")[0].split("=")[-1])
    expected = central(lambda x: math.exp(1 / x), {"x": 2.0}, "x")
    assert value == pytest.approx(expected, rel=1e-5)
    assert value == pytest.approx(-math.exp(0.5) / 4, rel=1e-5)


# ---------------------------------------------------------------- 8. the Jacobian


def test_the_jacobian_of_the_weights_is_counted_not_built():
    doc = _doc("iris_4_16_3", at=False)
    flat = _flat(doc)
    assert ("The Jacobian of a vector function f of n inputs and m outputs is the m by n matrix "
            "∂f/∂x whose entry in row i, column j is ∂fᵢ/∂xⱼ") in flat
    assert "∂f/∂x = ∂f/∂g · ∂g/∂x" in flat
    assert "Backpropagation never builds a Jacobian" in flat
    # seed 003: W of n × m stretched into an n·m column, ∂h/∂W is n × (n·m)
    sizes = (4, 16, 3)
    rows = doc[doc.index("layer  ∂zˡ/∂Wˡ"):].split("\n\n")[0].splitlines()[2:]
    for layer, row in enumerate(rows, 1):
        n, m = sizes[layer], sizes[layer - 1]
        assert row.split() == [str(layer), str(n), "×", str(n * m), str(n * n * m), str(n * m)]
