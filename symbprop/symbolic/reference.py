"""``Reference``: the derivation's index-form equations evaluated with mpmath at 30 digits, or
more where that is not enough for float64 precision (``symbprop.symbolic.precision``).

The symbolic side of the cross-check for networks too wide for ``Derivation.evaluate`` (which
instantiates every per-weight equation with SymPy): the layer equations and the adjoints of the
sweep are lambdified once per layer with mpmath and evaluated element by element; a sum is
mpmath's ``fdot`` (a layer's weighted inputs) or ``fsum``, which round once.

``Reference(d, exact=False)`` evaluates the same equations in float64 (Python's ``math``), once,
without raising the precision: about 20 times cheaper, for the many gradients of a wide net's
gradient-descent runs in a document (``symbprop.render.descent_runs``).  Outside the domain it
raises as the exact form does (``ValueError``, ``ZeroDivisionError``); past the float range,
``OverflowError`` where the exact form would still have a value.
"""

from __future__ import annotations

import mpmath
import numpy as np
import sympy
from sympy.printing.pycode import MpmathPrinter

from symbprop.functions.sympy_classes import as_elementary
from symbprop.spec.variables import INPUT, PRE, TARGET, Var
from symbprop.symbolic.ir import label
from symbprop.symbolic.precision import DIGITS, settled


class Reference:
    """The index-form equations and adjoints of a network, lambdified to mpmath.

    Every element is computed from the derivation as it stands (sums iterate over their range),
    so the cost is one pass over the weights per sample, not one SymPy instantiation per weight.
    """

    def __init__(self, d, exact: bool = True) -> None:
        self.exact = exact
        prog = d.program
        named = [a for a in d.adjoints.values() if a.symbol is not None]
        self.bases = [*prog.shapes, prog.output, *(a.symbol for a in named)]
        self.shapes = {
            **prog.shapes,
            prog.output: (),
            **{a.symbol: prog.shapes[a.variable] for a in named},
        }
        self.forward = [(e.base, e.indices, self._lambdify(e.expr, e.indices)) for e in prog.eqns]
        self.backward = [(a.symbol, a.indices, self._lambdify(a.expr, a.indices)) for a in named]
        self.grads = {
            label(p): (
                d.adjoints[p].indices,
                self._lambdify(d.adjoints[p].expr, d.adjoints[p].indices),
            )
            for p in prog.params
        }
        self.output, self.reduction = prog.output, d.model.reduction
        self.by_name = {label(b): b for b in self.bases}
        self.variables = prog.variables

    def _lambdify(self, expr, indices):
        if not self.exact:
            return sympy.lambdify([*self.bases, *indices], as_elementary(expr), modules="math")
        return sympy.lambdify([*self.bases, *indices], as_elementary(expr),
                              modules=[{"mpmath": mpmath}, "mpmath"], printer=_SumPrinter)

    def _number(self, value):
        """An element of an array of values as this reference computes with it."""
        return mpmath.mpf(value) if self.exact else float(value)

    def _array(self, value) -> np.ndarray:
        """``value`` as this reference computes with it: an object array of mpmath numbers
        (exact; a float64 converts exactly at any working precision, so one conversion serves
        every ``settled`` run) or a float array.  An object array is taken as converted."""
        if isinstance(value, np.ndarray) and value.dtype == object:
            return value
        array = np.asarray(value, dtype=float)
        if not self.exact:
            return array
        return np.array([mpmath.mpf(v) for v in array.ravel().tolist()],
                        dtype=object).reshape(array.shape)

    def run(self, params, x, y, steps) -> dict:
        """Every element of ``steps`` (``self.forward``, ``self.backward``) for one sample, at
        the working precision (``DIGITS``): {array base: object array of mpmath numbers}.
        The inputs may be given converted already (``_array``)."""
        with mpmath.workdps(DIGITS.get()):
            env = {b: np.empty(self.shapes.get(b, ()), dtype=object) for b in self.bases}
            for name, value in [*params.items(), (Var(INPUT).name, x), (Var(TARGET).name, y)]:
                env[self.by_name[name]][...] = self._array(value)
            for base, _, function in steps:
                args = [env[b] if env[b].shape else env[b][()] for b in self.bases]
                for idx in np.ndindex(*self.shapes.get(base, ())):
                    env[base][idx] = function(*args, *idx)
        return env

    def forward_z(self, params, data) -> list[np.ndarray]:
        """z of every layer per sample, as floats (to find points near a kink)."""
        rows = [self.run(params, x, y, self.forward) for x, y in zip(*data, strict=True)]
        zs = [b for v, b in self.variables.items() if v.role is PRE]
        return [np.array([[float(v) for v in env[z]] for env in rows]) for z in zs]

    def loss_and_grad(self, params, data, entries):
        """(loss, {name: gradient at the flat ``entries[name]``}), right to float64 precision
        (exact) or computed in float64."""
        return self.loss_grad_and_samples(params, data, entries)[:2]

    def loss_grad_and_samples(self, params, data, entries, describe=None):
        """``loss_and_grad``, and ``[describe(env) for each sample]`` from the same runs
        (``env`` as ``run`` returns it, forward and backward; ``describe`` returns floats in
        dicts and lists, as ``settled`` compares them).  Without entries or ``describe`` only
        the forward pass runs."""
        params = {name: self._array(value) for name, value in params.items()}
        data = tuple([self._array(row) for row in part] for part in data)
        if not self.exact:
            return self._sums(params, data, entries, describe)
        return settled(lambda digits: self._sums(params, data, entries, describe))

    def _sums(self, params, data, entries, describe):
        steps = self.forward + self.backward if entries or describe else self.forward
        with mpmath.workdps(DIGITS.get()):
            total, grads, samples = self._number(0), {n: 0 for n in entries}, []
            for x, y in zip(*data, strict=True):
                env = self.run(params, x, y, steps)
                args = [env[b] if env[b].shape else env[b][()] for b in self.bases]
                total += env[self.output][()]
                for name, idx in entries.items():
                    indices, function = self.grads[name]
                    shape = self.shapes[self.by_name[name]]
                    grads[name] = grads[name] + np.array(
                        [function(*args, *np.unravel_index(i, shape)) for i in idx], dtype=object
                    )
                if describe is not None:
                    samples.append(describe(env))
            scale = self._number(1) / len(data[0]) if self.reduction == "mean" else 1
            return float(total * scale), {
                n: np.array([float(v * scale) for v in g]) for n, g in grads.items()
            }, samples


class _SumPrinter(MpmathPrinter):
    """Sums as mpmath's ``fdot`` (a product: the sum of a layer's weighted inputs) or ``fsum``,
    which add the terms' mantissas exactly and round once: 2–4 times faster than Python's
    ``sum`` of mpf numbers, and never less accurate."""

    def _print_Sum(self, expr):
        loops = " ".join(f"for {self._print(i)} in range({self._print(a)}, {self._print(b)}+1)"
                         for i, a, b in expr.limits[::-1])
        term = expr.function
        if isinstance(term, sympy.Mul):
            first, rest = term.as_two_terms()
            return f"mpmath.fdot(({self._print(first)}, {self._print(rest)}) {loops})"
        return f"mpmath.fsum({self._print(term)} {loops})"
