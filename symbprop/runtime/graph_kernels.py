"""``GraphKernels``: the kernels of a computational graph or expression behind a dict interface.

    k = symbprop.compile(model)                    # model.kind == "graph"
    value, grads = k.loss_and_grad({"x": 1.0, "y": 2.0, "z": -3.0})   # floats in, floats out

The graph's variables are its parameters; there is no data (X, Y).  A graph with ``constants``
takes their numbers in the same dict (``{"w": 1.0, "x": 2.0, ...}``): they go to the kernels as
the vector ``const`` (``CONST_NAMES``), are neither differentiated nor updated, and have no
entry in the gradients.
"""

from __future__ import annotations

import numpy as np

from symbprop.runtime.base import KernelsBase
from symbprop.runtime.fitting import LossHistory, in_chunks
from symbprop.runtime.input_checks import (
    ParamsError,
    checked_epochs,
    checked_number,
    checked_rate,
    checked_seed,
)


class GraphKernels(KernelsBase):
    """Kernels of a computational graph: values in, (value, gradients) out."""

    def __init__(self, model, module, dtype: str) -> None:
        super().__init__(model, module, dtype)
        self.constants = tuple(getattr(module, "CONST_NAMES", ()))

    def _inputs(self, params: dict) -> tuple:
        """(theta,) or (theta, const): the arguments before ``lr``/``grad`` of every kernel."""
        if not self.constants:
            return (self.flatten(params),)
        if not isinstance(params, dict):
            return (self.flatten(params),)
        missing = [c for c in self.constants if c not in params]
        if missing:
            raise ParamsError(f"params: missing the constant{'s' * (len(missing) > 1)} "
                              f"{', '.join(missing)}; expected {', '.join(self.names)} and the "
                              f"constants {', '.join(self.constants)}")
        const = np.array([checked_number(params[c], f"params[{c!r}]") for c in self.constants],
                         dtype=self.dtype)
        rest = {n: v for n, v in params.items() if n not in self.constants}
        return self.flatten(rest), const

    def init_params(self, seed: int | None = 0) -> dict:
        """Standard normal draws for every variable; ``seed`` as for ``Kernels.init_params``
        (0 ≤ seed < 2**63, or None for fresh entropy)."""
        rng = np.random.default_rng(None if seed is None else checked_seed(seed))
        return {name: float(rng.standard_normal()) for name in self.names}

    def flatten(self, params: dict) -> np.ndarray:
        if isinstance(params, dict):
            for name, value in params.items():
                if isinstance(value, (bool, np.bool_)) or np.ndim(value) != 0:
                    raise ParamsError(f"params[{name!r}]: expected a number, got {value!r}")
        return super().flatten(params)

    def forward(self, params: dict) -> float:
        return float(self.module.forward(*self._inputs(params)))

    def loss(self, params: dict) -> float:
        return self.forward(params)

    def loss_and_grad(self, params: dict) -> tuple[float, dict]:
        grad = np.empty(self.size, self.dtype)
        value = self.module.loss_and_grad_into(*self._inputs(params), grad)
        return float(value), {name: float(g) for name, g in zip(self.names, grad, strict=True)}

    def sgd_step(self, params: dict, lr: float) -> dict:
        new = self.module.sgd_step(*self._inputs(params), checked_number(lr, "lr"))
        return {name: float(v) for name, v in zip(self.names, new, strict=True)}

    def fit(self, params: dict, lr: float = 0.1, epochs: int = 100, progress: bool = True):
        """Gradient descent on the graph's output; updates ``params`` in place (floats; the
        constants stay as given); ``epochs``: 0 to ``MAX_EPOCHS`` (10**8; the history holds a
        value for each)."""
        lr, epochs = checked_rate(lr), checked_epochs(epochs)
        start, *const = self._inputs(params)
        theta, history = in_chunks(lambda t, first, count: self.module.train(t, *const, lr, count),
                                    start, epochs, progress)
        params.update({name: float(v) for name, v in zip(self.names, theta, strict=True)})
        return history.view(LossHistory)
