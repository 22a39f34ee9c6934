"""``GraphKernels``: the kernels of a computational graph or expression behind a dict interface.

    k = symbprop.compile(model)                    # model.kind == "graph"
    value, grads = k.loss_and_grad({"x": 1.0, "y": 2.0, "z": -3.0})   # floats in, floats out

The graph's variables are its parameters; there is no data (X, Y).
"""

from __future__ import annotations

import numpy as np

from .fitting import LossHistory, in_chunks
from .kernel_base import KernelsBase
from .kernel_checks import (
    ParamsError,
    checked_epochs,
    checked_number,
    checked_rate,
    checked_seed,
)


class GraphKernels(KernelsBase):
    """Kernels of a computational graph: values in, (value, gradients) out."""

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
        return float(self.module.forward(self.flatten(params)))

    def loss(self, params: dict) -> float:
        return self.forward(params)

    def loss_and_grad(self, params: dict) -> tuple[float, dict]:
        grad = np.empty(self.size, self.dtype)
        value = self.module.loss_and_grad_into(self.flatten(params), grad)
        return float(value), {name: float(g) for name, g in zip(self.names, grad, strict=True)}

    def sgd_step(self, params: dict, lr: float) -> dict:
        new = self.module.sgd_step(self.flatten(params), checked_number(lr, "lr"))
        return {name: float(v) for name, v in zip(self.names, new, strict=True)}

    def fit(self, params: dict, lr: float = 0.1, epochs: int = 100, progress: bool = True):
        """Gradient descent on the graph's output; updates ``params`` in place (floats);
        ``epochs``: 0 to ``MAX_EPOCHS`` (10**8; the history holds a value for each)."""
        lr, epochs = checked_rate(lr), checked_epochs(epochs)
        theta, history = in_chunks(lambda t, first, count: self.module.train(t, lr, count),
                                    self.flatten(params), epochs, progress, self.model.name)
        params.update({name: float(v) for name, v in zip(self.names, theta, strict=True)})
        return history.view(LossHistory)
