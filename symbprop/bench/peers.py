"""Reference implementations of "loss and every gradient" for a network, for benchmarks.

What an engineer would otherwise reach for: a hand-written vectorized NumPy backprop, PyTorch
autograd (CPU, the given dtype, 2 threads unless told) and JAX ``jit(value_and_grad)``.  Each
``make_*``
returns a zero-argument callable that computes loss and all gradients once, or ``None`` when the
framework is not installed or the network uses something it does not cover here.  They are
written independently of symbprop's derivation, so the benchmark can also compare results.
"""

from __future__ import annotations

import numpy as np

from symbprop.spec.variables import BIAS, WEIGHT, Var

SUPPORTED_ACTIVATIONS = {"identity", "sigmoid", "tanh", "relu", "softmax"}
SUPPORTED_LOSSES = {"half_sse", "sse", "mse", "bce", "softmax_cross_entropy"}


def supported(model) -> bool:
    """True if the peers implement every activation and the loss of ``model``."""
    names = {layer.activation.name for layer in model.layers}
    return (
        model.kind == "network"
        and names <= SUPPORTED_ACTIVATIONS
        and model.loss.name in SUPPORTED_LOSSES
        and all(layer.bias == "per_neuron" for layer in model.layers)
    )


def _weights(params: dict, model):
    return [(params[Var(WEIGHT, i).name], params[Var(BIAS, i).name])
            for i in range(1, len(model.layers) + 1)]


# ---------------------------------------------------------------- NumPy


def make_numpy(model, params: dict, X: np.ndarray, Y: np.ndarray):
    """Hand-written vectorized backprop (the BP equations, batch as rows)."""
    layers = _weights(params, model)
    acts = [layer.activation.name for layer in model.layers]
    loss_name, mean = model.loss.name, model.reduction == "mean"

    def run():
        a, cache = X, []
        for (W, b), act in zip(layers, acts, strict=True):
            z = a @ W.T + b
            cache.append((a, z))
            a = _np_act(act, z)
        n = X.shape[0]
        loss, delta = _np_loss_delta(loss_name, acts[-1], cache[-1][1], a, Y, model.sizes[-1])
        scale = 1.0 / n if mean else 1.0
        grads = []
        for index in range(len(layers) - 1, -1, -1):
            a_prev, z = cache[index]
            grads.append((scale * delta.T @ a_prev, scale * delta.sum(axis=0)))
            if index:
                delta = (delta @ layers[index][0]) * _np_prime(acts[index - 1], cache[index - 1][1])
        return scale * loss, grads

    return run


def _np_act(name, z):
    if name == "sigmoid":
        return 1.0 / (1.0 + np.exp(-z))
    if name == "tanh":
        return np.tanh(z)
    if name == "relu":
        return np.maximum(z, 0.0)
    if name == "softmax":
        e = np.exp(z - z.max(axis=1, keepdims=True))
        return e / e.sum(axis=1, keepdims=True)
    return z


def _np_prime(name, z):
    if name == "sigmoid":
        s = 1.0 / (1.0 + np.exp(-z))
        return s * (1.0 - s)
    if name == "tanh":
        return 1.0 - np.tanh(z) ** 2
    if name == "relu":
        return (z > 0).astype(z.dtype)
    return np.ones_like(z)


def _np_loss_delta(loss, act, z, a, Y, n_out):
    if loss == "softmax_cross_entropy":
        shifted = z - z.max(axis=1, keepdims=True)
        log_p = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
        return -(Y * log_p).sum(), a - Y
    if loss == "bce":
        total = (np.logaddexp(0.0, z) - Y * z).sum()
        return total, a - Y
    factor = {"half_sse": (0.5, 1.0), "sse": (1.0, 2.0), "mse": (1.0 / n_out, 2.0 / n_out)}[loss]
    return factor[0] * ((a - Y) ** 2).sum(), factor[1] * (a - Y) * _np_prime(act, z)


# ---------------------------------------------------------------- PyTorch


def make_torch(model, params: dict, X: np.ndarray, Y: np.ndarray, dtype: str = "float64",
               threads: int = 2):
    """PyTorch autograd: forward, loss, backward (gradients of every parameter), on
    ``threads`` threads."""
    try:
        # Imported here: an optional peer (the [bench] extra).
        import torch
    except ImportError:
        return None
    torch.set_num_threads(threads)
    tdtype = getattr(torch, dtype)
    tensors = [
        (
            torch.tensor(W, dtype=tdtype, requires_grad=True),
            torch.tensor(b, dtype=tdtype, requires_grad=True),
        )
        for W, b in _weights(params, model)
    ]
    flat = [t for pair in tensors for t in pair]
    x, y = torch.tensor(X, dtype=tdtype), torch.tensor(Y, dtype=tdtype)
    acts = [layer.activation.name for layer in model.layers]
    functional = torch.nn.functional

    def loss_of():
        a = x
        for (W, b), act in zip(tensors[:-1], acts[:-1], strict=True):
            a = _torch_act(torch, act, functional.linear(a, W, b))
        z = functional.linear(a, *tensors[-1])
        return _torch_loss(torch, model, acts[-1], z, y)

    def run():
        loss = loss_of()
        grads = torch.autograd.grad(loss, flat)
        return loss.item(), grads

    return run


def _torch_act(torch, name, z):
    return {"sigmoid": torch.sigmoid, "tanh": torch.tanh, "relu": torch.relu}.get(
        name, lambda v: v
    )(z)


def _torch_loss(torch, model, act, z, y):
    name, n_out = model.loss.name, model.sizes[-1]
    reduce = torch.mean if model.reduction == "mean" else torch.sum
    if name == "softmax_cross_entropy":
        return reduce(-(y * torch.log_softmax(z, dim=1)).sum(dim=1))
    if name == "bce":
        return reduce(
            torch.nn.functional.binary_cross_entropy_with_logits(z, y, reduction="none").sum(dim=1)
        )
    a = _torch_act(torch, act, z)
    factor = {"half_sse": 0.5, "sse": 1.0, "mse": 1.0 / n_out}[name]
    return reduce(factor * ((a - y) ** 2).sum(dim=1))


# ---------------------------------------------------------------- JAX


def make_jax(model, params: dict, X: np.ndarray, Y: np.ndarray, dtype: str = "float64"):
    """JAX ``jit(value_and_grad(loss))`` on the CPU."""
    try:
        # Imported here: an optional peer (the [bench] extra).
        import jax
    except ImportError:
        return None
    jax.config.update("jax_enable_x64", dtype == "float64")
    jnp = jax.numpy
    weights = [(jnp.asarray(W, dtype), jnp.asarray(b, dtype)) for W, b in _weights(params, model)]
    x, y = jnp.asarray(X, dtype), jnp.asarray(Y, dtype)
    acts = [layer.activation.name for layer in model.layers]
    name, n_out, mean = model.loss.name, model.sizes[-1], model.reduction == "mean"

    def loss_fn(ws):
        a = x
        for (W, b), act in zip(ws[:-1], acts[:-1], strict=True):
            a = _jax_act(jax, act, a @ W.T + b)
        z = a @ ws[-1][0].T + ws[-1][1]
        if name == "softmax_cross_entropy":
            per = -(y * jax.nn.log_softmax(z, axis=1)).sum(axis=1)
        elif name == "bce":
            per = (jnp.logaddexp(0.0, z) - y * z).sum(axis=1)
        else:
            factor = {"half_sse": 0.5, "sse": 1.0, "mse": 1.0 / n_out}[name]
            per = factor * ((_jax_act(jax, acts[-1], z) - y) ** 2).sum(axis=1)
        return per.mean() if mean else per.sum()

    compiled = jax.jit(jax.value_and_grad(loss_fn))

    def run():
        value, grads = compiled(weights)
        return jax.block_until_ready(value), jax.block_until_ready(grads)

    return run


def _jax_act(jax, name, z):
    return {"sigmoid": jax.nn.sigmoid, "tanh": jax.numpy.tanh, "relu": jax.nn.relu}.get(
        name, lambda v: v
    )(z)
