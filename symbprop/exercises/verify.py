"""Every answer of a key checked before any file is written.

``verify(d, values, sheet_questions)`` raises ``AnswerMismatch`` (a ``SymbpropError``) naming
the first answer that disagrees; it returns the number of comparisons made.  Each answer is
compared with sources other than the one that produced it (``Derivation.evaluate``):

* the loss, the gradients and the updated parameters with the **compiled kernels**
  (float64, ``symbprop.compile``), and the gradients also with **central finite differences**
  of the compiled loss (``crosscheck``'s step rule);
* the forward values with a fresh forward pass through the scalar equations, from the point's
  decimals taken as exact rationals (SymPy, 30 digits);
* δ (∂C/∂z) and a graph node's upstream gradient by a central finite difference of that
  forward pass with the node's value nudged (the nodes after it recomputed), and every local
  partial ∂a/∂b by a central difference of a's own equation in b;
* a chain-rule product: the sum over its paths of the products of the factors' values, against
  the compiled gradient;
* the dimension of the gradient against the kernels' parameter count.

Tolerances (atol·max(1, |value|) + rtol·|value|) are ``checkreport.TOLERANCES``: float64 for
the kernels and the exact forward pass, "fd" for differences.
"""

from __future__ import annotations

import math

import numpy as np
import sympy

from symbprop.crosscheck.report import TOLERANCES
from symbprop.errors import SymbpropError
from symbprop.runtime.compiling import compile_model
from symbprop.spec.values import load_values
from symbprop.spec.variables import split_element

DIGITS = 30
#: The step of the differences taken on the exact (30-digit) forward pass.
STEP = sympy.Rational(1, 10**8)


class AnswerMismatch(SymbpropError):
    """An answer of a key disagrees with an independent computation."""


def verify(d, values, sheet_questions, where: str = "") -> int:
    """Check every item of ``sheet_questions`` at ``values`` (see the module docstring)."""
    checker = _Checker(d, values, where)
    for question in sheet_questions:
        for item in question.items:
            checker.item(item)
    return checker.count


class _Checker:
    def __init__(self, d, values, where: str) -> None:
        self.d, self.where, self.count = d, where, 0
        vals = load_values(d.model, values)
        self.kernels = compile_model(d.model)
        self.lr = vals.lr
        self.theta = _flat_point(d, vals)
        self.call = _kernel_call(d, vals, self.kernels)
        self.loss, self.grad = self.call(self.theta)
        self.fd = {n: self._difference(n) for n in d.params}
        self.leaves = _leaves(d, vals)
        self.numbers = self.forward()

    # ------------------------------------------------------------ the independent sources

    def _difference(self, name: str) -> float:
        """∂L/∂θ by a central difference of the compiled loss, h = 1e-6·max(1, |θ|)."""
        h = 1e-6 * max(1.0, abs(self.theta[name]))
        high = self.call(self.theta | {name: self.theta[name] + h})[0]
        low = self.call(self.theta | {name: self.theta[name] - h})[0]
        return (high - low) / (2 * h)

    def forward(self, nudge=None, by=0) -> dict:
        """The scalar forward pass from the exact leaves; ``nudge`` (an element) is set to its
        own value plus ``by`` and the rest recomputed from it."""
        numbers = dict(self.leaves)
        for lhs, rhs, kind in self.d.scalar_equations():
            if kind not in ("forward", "loss"):
                continue
            if lhs == nudge:
                numbers[lhs] = self.numbers[lhs] + by
            else:
                numbers[lhs] = rhs.xreplace(numbers).evalf(DIGITS)
            if kind == "loss":
                numbers["loss"] = numbers[lhs]
        return numbers

    def _adjoint(self, node) -> float:
        high = self.forward(node, STEP)["loss"]
        low = self.forward(node, -STEP)["loss"]
        return float((high - low) / (2 * STEP))

    def _local(self, factor) -> float:
        expr = self.d.definition(factor.of)
        if expr is None:
            raise SymbpropError(f"no equation defines {factor.of}")
        numbers = {k: v for k, v in self.numbers.items() if k != factor.wrt}
        at = self.numbers[factor.wrt]
        sides = [expr.xreplace(numbers | {factor.wrt: at + s}).evalf(DIGITS)
                 for s in (STEP, -STEP)]
        return float((sides[0] - sides[1]) / (2 * STEP))

    # ------------------------------------------------------------ comparisons

    def item(self, item) -> None:
        """Compare one answer with its independent sources (``Item.check`` says which)."""
        kind, *args = item.check
        getattr(self, f"_check_{kind}")(item, *args)

    def _check_node(self, item, element) -> None:
        self._same(item, float(self.numbers[element]), "float64", "the exact forward pass")

    def _check_loss(self, item) -> None:
        self._same(item, float(self.numbers["loss"]), "float64", "the exact forward pass")
        self._same(item, self.loss, "float64", "the compiled kernels")

    def _check_adjoint(self, item, node) -> None:
        self._same(item, self._adjoint(node), "fd", "a central difference")

    def _check_local(self, item, factor) -> None:
        self._same(item, self._local(factor), "fd", "a central difference")

    def _check_grad(self, item, name: str) -> None:
        self._same(item, self.grad[name], "float64", "the compiled kernels")
        self._same(item, self.fd[name], "fd", "central finite differences")

    def _check_chain(self, item, name: str) -> None:
        """The gradient, each factor's value as the key shows it, and their sum of products."""
        self._check_grad(item, name)
        for path, shown in zip(item.paths, item.numbers, strict=True):
            for factor, value in zip(path, shown, strict=True):
                self._same(item, self._local(factor), "fd", "a central difference", value)
        total = sum(math.prod(shown) for shown in item.numbers)
        self._same(item, self.grad[name], "fd", "the compiled kernels", total)

    def _check_update(self, item, name: str) -> None:
        self._same(item, self.theta[name] - self.lr * self.grad[name], "float64",
                   "the compiled kernels' step")

    def _check_dimension(self, item) -> None:
        shapes = self.kernels.module.PARAM_SHAPES.values()
        self._same(item, int(sum(np.prod(s, dtype=int) for s in shapes)), "float64",
                   "the compiled kernels' parameter count")

    def _check_count(self, item) -> None:
        """Counted from the derivation's chains (questions.py): nothing else to compare."""

    def _same(self, item, other: float, tolerance: str, source: str, value=None) -> None:
        self.count += 1
        value = item.value if value is None else value
        atol, rtol = TOLERANCES[tolerance]
        if math.isfinite(other) and abs(value - other) <= atol * max(1.0, abs(value)) \
                + rtol * abs(value):
            return
        what = item.label or item.words
        raise AnswerMismatch(f"{self.where}the key's answer {what} = {value!r} disagrees with "
                             f"{source}: {other!r}; no file was written")


def _flat_point(d, vals) -> dict[str, float]:
    """The point's parameters by scalar name ("W1[0,1]", "x")."""
    if d.model.kind == "graph":
        return {n: float(vals.params[n]) for n in d.params}
    point = {}
    for name in d.params:
        base, index = split_element(name)
        point[name] = float(np.asarray(vals.params[base], dtype=float)[index])
    return point


def _kernel_call(d, vals, k):
    """θ by scalar name -> (loss, {scalar name: gradient}) from the compiled kernels (float64):
    a graph's through its ``loss_and_grad``, a network's through the module's
    ``loss_and_grad_into`` on arrays checked once (the dict API would check them again at
    every one of a finite difference's few dozen calls, and might build its own compiled
    path, about 1 s, which those calls never repay)."""
    if d.model.kind == "graph":
        constants = dict(getattr(vals, "constants", {}) or {})

        def graph(theta):
            loss, grads = k.loss_and_grad(dict(theta) | constants)
            return float(loss), {n: float(grads[n]) for n in d.params}

        return graph
    X, Y = k.check_data(vals.X, vals.Y)
    shapes = d.model.param_shapes
    grad, work = k.empty_vector(), k.work(X.shape[0])

    def network(theta):
        params = {b: np.zeros(s) for b, s in shapes.items()}
        for name, value in theta.items():
            base, index = split_element(name)
            params[base][index] = value
        loss = k.module.loss_and_grad_into(k.flatten(params), X, Y, grad, work)
        grads = k.unflatten(grad)
        return float(loss), {n: float(np.asarray(grads[split_element(n)[0]])[split_element(n)[1]])
                             for n in theta}

    return network


def _leaves(d, vals) -> dict:
    """The point's numbers as exact rationals, by SymPy element (parameters, x, y)."""
    def exact(v):
        return sympy.Rational(repr(float(v)))

    if d.model.kind == "graph":
        given = {**getattr(vals, "constants", {}), **vals.params}
        return {sympy.Symbol(n): exact(v) for n, v in given.items()}
    arrays = dict(vals.params) | {"x": vals.X[0], "y": vals.Y[0]}
    leaves = {}
    for name, array in arrays.items():
        base = d.base(name)
        flat = np.ravel(np.asarray(array, dtype=float))
        if np.ndim(array) == 0:
            leaves[base] = exact(flat[0])
            continue
        for index in np.ndindex(np.shape(array)):
            leaves[base[index]] = exact(np.asarray(array, dtype=float)[index])
    return leaves
