"""Gradient descent on an expression or graph model itself, made visible (seed 003).

    k = 1;  x^(1) = any initial guess;  choose α, ε
    while α ‖∇L(x^(k))‖ > ε:   x^(k+1) = x^(k) − α ∇L(x^(k));   k = k + 1

``descend(model, start, lr, steps, tol)`` runs exactly that loop (at most ``steps`` updates:
the one loop of symbprop, ``symbprop.render.descent_loop.run``, which the documents use too) and
returns a ``Descent``: every iterate, its value and its gradient, and why it stopped.
``compare(model, start, [0.001, 0.1, 0.9])`` runs several learning rates from the same start
(too small, right, too large) and ``plot(runs, path)`` draws the iterates on the curve (one
parameter), on a contour plot (two) or as traces (more), with the values per step below.

L and ∇L come from the compiled kernels (``symbprop.compile``) or, where those cannot be built,
from ``sympy.lambdify`` of the derivation's composed expressions (an expression tree built by the
safe formula parser, never user text); plots evaluate L on a grid with the latter.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from pathlib import Path

import numpy as np

import symbprop.render.descent_loop as loop
from symbprop.errors import SymbpropError
from symbprop.functions.sympy_classes import as_elementary
from symbprop.model import Graph
from symbprop.render.descent_loop import OVERFLOW, Trajectory
from symbprop.render.diagnosis import DEFAULT_STEPS, DEFAULT_TOL
from symbprop.render.plots import plot_descent
from symbprop.symbolic.derivation import derive
from symbprop.training.schedules import check_rate, check_tol

__all__ = ["DEFAULT_STEPS", "DEFAULT_TOL", "OVERFLOW", "Descent", "Objective", "compare",
           "descend", "plot", "start_point"]


@dataclass(frozen=True)
class Descent(Trajectory):
    """One gradient-descent run of the one loop (``symbprop.render.descent_loop``): the iterates
    x^(1), ..., x^(K+1) of seed 003 (row k − 1 of ``iterates`` is x^(k); x^(1) is the start),
    their values and gradients, and the objective it ran on.  ``stopped_because``: "tol",
    "steps" or "overflow" (the loop's words; without a bound no other ends a run here)."""

    objective: Objective | None = field(default=None, compare=False, repr=False)

    @property
    def final(self) -> dict[str, float]:
        return {name: float(v) for name, v in zip(self.names, self.iterates[-1], strict=True)}

    @property
    def final_point(self) -> str:
        """The last iterate for people: 'x = 4.99993, y = -2'."""
        return ", ".join(f"{n} = {v:.6g}" for n, v in self.final.items())

    @property
    def final_step(self) -> float:
        """α‖∇L‖ at the last iterate, the quantity the stopping rule compares with ε."""
        return self.lr * self.grad_norms[-1]

    @property
    def converged(self) -> bool:
        return self.stopped_because == "tol"

    @property
    def overshooting(self) -> bool:
        """Most steps jump across the valley: consecutive gradients point in opposite ways."""
        g = self.gradients
        if len(g) < 3:
            return False
        return bool(np.mean(np.sum(g[1:] * g[:-1], axis=1) < 0) > 0.5)

    @property
    def verdict(self) -> str:
        """The outcome of ``diagnosis``, one of ``symbprop.render.diagnosis.OUTCOMES``."""
        return self.diagnosis.outcome

    @property
    def function(self) -> str:
        """The name of the function descended on: the model's output (f), the loss L where an
        upstream gradient makes the objective L = ∂L/∂f · f, else L."""
        if self.objective is None:
            return "L"
        return self.objective.function

    def describe(self) -> str:
        """One line for people: what happened with this learning rate."""
        return (f"α = {self.lr:g}: {self._what_happened()}; "
                f"{self.final_point}, {self.function} = {self.values[-1]:.6g}")

    def _what_happened(self) -> str:
        f = self.function
        rule = (f"α‖∇{f}‖ = {self.final_step:.2g} {'≤' if self.converged else '>'} "
                f"ε = {self.tol:g}")
        if self.converged:
            if self.steps == 0:
                return (f"stopped at the start ({rule}): a stationary point, which the rule "
                        "cannot tell from a saddle or a maximum")
            return f"converged after {self.steps} steps ({rule})"
        diagnosis = self.diagnosis
        return f"{diagnosis.headline} after {self.steps} steps ({rule}): {diagnosis.reason}"


class Objective:
    """L and ∇L of a graph model at a point (parameters in ``names`` order).

    ``constants``: the numbers of the graph's constants (required when it has any: data, held
    fixed); ``upstream``: a gradient g = ∂L/∂f arriving at the output f from a loss beyond the
    graph, as a values file gives it: the objective is then L = g·f, the loss to first order,
    and ∇L = g∇f (the documents' ∂L/∂·).

    ``backend``: "kernels" evaluates with the compiled kernels of ``symbprop.compile``;
    "sympy" with ``sympy.lambdify`` of the derivation's composed loss and gradient; "auto"
    (default) uses the kernels and falls back to SymPy when they cannot be built.  Both are
    the same derivation.  Plots evaluate L on a grid with the vectorised SymPy function.
    """

    def __init__(self, model: Graph, backend: str = "auto", constants: dict | None = None,
                 upstream: float | None = None) -> None:
        # Imported here: SymPy's lambdify, only for the SymPy backend.
        import sympy

        if getattr(model, "kind", None) != "graph":
            raise SymbpropError(f"{model.name}: gradient descent on the model itself needs an "
                                "expression or graph; train a network on data with --data")
        if backend not in ("auto", "kernels", "sympy"):
            raise SymbpropError(f"backend: {backend!r}; allowed: auto, kernels, sympy")
        d = derive(model)
        self.model, self.derivation = model, d
        self.names: tuple[str, ...] = tuple(d.params)
        self.constants = _constants(model, constants)
        self.scale = 1.0 if upstream is None else float(upstream)
        self.function = model.output if upstream is None else "L"
        self._const = np.array([self.constants[c] for c in model.constants], dtype=np.float64)
        fixed = {sympy.Symbol(c): _exact(v) for c, v in self.constants.items()}
        self._symbols = [d.element(n) for n in self.names]
        self.loss_expr = _exact(self.scale) * as_elementary(
            d.composed_loss()).xreplace(fixed)
        self._loss = sympy.lambdify(self._symbols, self.loss_expr, modules="numpy")
        self.backend, self._kernels = "sympy", None
        if backend != "sympy":
            self._compile(strict=backend == "kernels")
        if self.backend == "sympy":
            grads = [self.scale * as_elementary(d.compose(d.gradient(n))).xreplace(fixed)
                     for n in self.names]
            self._grad = sympy.lambdify(self._symbols, grads, modules="numpy")

    def _compile(self, strict: bool) -> None:
        # Imported here: Numba loads only for the kernels backend.
        from symbprop.runtime.compiling import compile_model

        try:
            kernels = compile_model(self.model)
        except (SymbpropError, NotImplementedError):
            if strict:
                raise
            return
        self._order = np.array([kernels.names.index(n) for n in self.names])
        self._kernels, self.backend = kernels, "kernels"

    def evaluate(self, x: np.ndarray) -> tuple[float, np.ndarray]:
        """(L(x), ∇L(x))."""
        if self._kernels is not None:
            theta = np.empty(len(self.names))
            theta[self._order] = x
            inputs = (theta, self._const) if self.model.constants else (theta,)
            value, grad = self._kernels.module.loss_and_grad(*inputs)
            return (self.scale * float(value),
                    self.scale * np.asarray(grad, dtype=np.float64)[self._order])
        with np.errstate(all="ignore"):
            value = float(self._loss(*x))
            grad = np.array(self._grad(*x), dtype=np.float64).reshape(len(self.names))
        return value, grad

    def grid(self, *axes: np.ndarray) -> np.ndarray:
        """L on a grid (1 or 2 parameters), vectorised."""
        with np.errstate(all="ignore"):
            out = self._loss(*axes)
        return np.broadcast_to(np.asarray(out, dtype=np.float64), np.broadcast(*axes).shape)


def _exact(value: float):
    """A whole number as a SymPy Integer (printed 2, not 2.0), else a Float."""
    import sympy  # SymPy only for the SymPy backend and documents, not for the kernels'

    return sympy.Integer(int(value)) if float(value).is_integer() else sympy.Float(value)


def _constants(model: Graph, given: dict | None) -> dict[str, float]:
    """The numbers of ``model``'s constants from ``given``: all of them, nothing else."""
    given = dict(given or {})
    missing = [c for c in model.constants if c not in given]
    unknown = [c for c in given if c not in model.constants]
    if missing or unknown:
        raise SymbpropError(
            f"{model.name}: constants: " + (f"missing {', '.join(missing)}; " if missing else "")
            + (f"unknown {', '.join(unknown)}; " if unknown else "")
            + f"the constants are: {', '.join(model.constants) or 'none'}")
    return {c: float(given[c]) for c in model.constants}


def start_point(objective: Objective, start: dict | None) -> np.ndarray:
    """The start vector from {name: value}; missing names are an error, None means zeros."""
    if start is None:
        return np.zeros(len(objective.names))
    unknown = [k for k in start if k not in objective.names and k != "lr"]
    missing = [n for n in objective.names if n not in start]
    if unknown or missing:
        raise SymbpropError(
            f"{objective.model.name}: start point: "
            + (f"unknown {', '.join(unknown)}; " if unknown else "")
            + (f"missing {', '.join(missing)}; " if missing else "")
            + f"variables: {', '.join(objective.names)}")
    return np.array([float(start[n]) for n in objective.names])


def descend(model: Graph | Objective, start: dict | None = None, lr: float = 0.1,
            steps: int = DEFAULT_STEPS, tol: float = DEFAULT_TOL, schedule=None) -> Descent:
    """Gradient descent from ``start`` with rate ``lr`` (or ``schedule(k) -> α_k``): at most
    ``steps`` updates, stopping early when α‖∇L‖ ≤ ``tol`` (seed 003)."""
    objective = _objective(model)
    _check_settings(lr, steps, tol)
    done = loop.run(objective.evaluate, start_point(objective, start), lr, steps, tol,
                    schedule=schedule, names=objective.names)
    return Descent(**{f.name: getattr(done, f.name) for f in fields(Trajectory)},
                   objective=objective)


def compare(model: Graph | Objective, start: dict | None = None, lrs=(0.001, 0.1, 0.9),
            steps: int = DEFAULT_STEPS, tol: float = DEFAULT_TOL) -> list[Descent]:
    """Several learning rates from the same start, side by side (one ``Objective`` for all)."""
    objective = _objective(model)
    return [descend(objective, start, lr, steps, tol) for lr in lrs]


def _objective(model: Graph | Objective) -> Objective:
    return model if isinstance(model, Objective) else Objective(model)


def _check_settings(lr: float, steps: int, tol: float) -> None:
    check_rate(lr)
    if steps < 0:
        raise SymbpropError(f"steps must be ≥ 0, got {steps}")
    check_tol(tol)


def plot(runs: list[Descent], path: str | Path, model: Graph | Objective | None = None) -> Path:
    """Draw the runs side by side (PNG, PDF or SVG by the file's suffix); returns the path.

    One panel per learning rate: the iterates on the curve f(x) (one parameter), on a contour
    plot of f (two parameters), or each coordinate against k (more); below, f(θ^(k)) against k
    for every rate.  f is the model's output and k counts from 1 (θ^(1) is the start), as in
    the derivation document.  ``model`` defaults to the objective the runs were made with."""
    objective = runs[0].objective if model is None else _objective(model)
    return plot_descent(runs, path, objective)
