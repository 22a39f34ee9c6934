"""One minibatch-SGD loop for the kernels of every network, compiled once per machine and dtype.

A generated module's ``train`` calls its ``loss_and_grad_into`` directly, so Numba links the
body's code into ``train`` and optimises it all again: a first process's first ``fit`` cost about
as much as its first gradient (2.0-2.5 s for a looped net on a Zen 4).  ``train`` here runs the
same loop, statement for statement, but calls the body through its address, as a first-class
function (``numba.core.types.WrapperAddressProtocol``), which Numba does not link in.  Its
compiled code depends on the dtypes only, so Numba compiles it once per machine and caches it
beside this file; every later net's first ``fit`` starts without compiling a loop.  The
shuffle is shared (``symbprop.codegen.shuffle``); the template keeps its own copy of the loop,
so that a generated module stands alone, and ``tests/test_training_loop.py`` checks that the two
give the same bits.

The body's address comes from Numba's ``numba.experimental.function_type``, whose helper is
private.  Where it is missing or fails (another Numba), or the target is NumPy, ``train`` calls
the module's own ``train``.  A dispatcher cannot be passed from compiled code instead: Numba
then refuses to cache the caller ("uses dynamic globals").

The body is called through its C wrapper, which cannot raise: a generated body raises nothing
once the wrapper's checks have passed (``error_model="numpy"``, shapes fixed by the module).
"""

from __future__ import annotations

import weakref

import numpy as np
from numba import njit, types
from numba.extending import typeof_impl

from symbprop.codegen.shuffle import _permutation
from symbprop.runtime.signatures import array_types

#: module -> {(theta dtype, X dtype, Y dtype): _Body, or None where the address failed}
_BODIES: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


@njit(cache=True, error_model="numpy")
def _train_loop(theta, X, Y, lr, epochs, batch_size, seed, first_epoch, body, work_per_sample,
                mean):
    """The generated ``train`` (``templates/kernels_network.py.j2``) with its module's constants
    as arguments: ``body`` is ``loss_and_grad_into``, ``mean`` the reduction."""
    n = X.shape[0]
    theta = theta.copy()
    grad = np.empty_like(theta)
    history = np.empty(epochs)
    order = np.empty(n, np.int64)
    rows = min(batch_size, n)
    work = np.empty(work_per_sample * rows, theta.dtype)
    batch_x = np.empty((rows, X.shape[1]), X.dtype)
    batch_y = np.empty((rows, Y.shape[1]), Y.dtype)
    for epoch in range(epochs):
        _permutation(order, seed, first_epoch + epoch)
        total = 0.0
        for start in range(0, n, batch_size):
            m = min(batch_size, n - start)
            for r in range(m):
                sample = order[start + r]
                for c in range(X.shape[1]):
                    batch_x[r, c] = X[sample, c]
                for c in range(Y.shape[1]):
                    batch_y[r, c] = Y[sample, c]
            value = body(theta, batch_x[:m], batch_y[:m], grad, work)
            if mean:
                total += value * m
            else:
                total += value
            for p in range(theta.shape[0]):
                theta[p] -= lr * grad[p]
        history[epoch] = total / n if mean else total
    return theta, history


class _Body(types.WrapperAddressProtocol):
    """A module's ``loss_and_grad_into`` for one signature, as Numba's first-class function."""

    def __init__(self, address: int, signature) -> None:
        self._address, self._signature = address, signature
        self.numba_type = types.FunctionType(signature)

    def __wrapper_address__(self) -> int:
        return self._address

    def signature(self):
        return self._signature


@typeof_impl.register(_Body)
def _typeof_body(body: _Body, context):
    """The body's Numba type, made once: Numba's own typing of a ``WrapperAddressProtocol``
    builds it on every call (12.6 → 6.4 µs a call of the loop on XOR)."""
    return body.numba_type


def _wrapper_address(dispatcher, signature) -> int:
    """The address of the C wrapper of ``dispatcher`` compiled for ``signature``."""
    # Imported here: a private helper of Numba's, asked for only when a net is trained.
    from numba.experimental.function_type import _get_wrapper_address

    return _get_wrapper_address(dispatcher, signature)


def _body(module, theta, X, Y) -> _Body | None:
    """``module.loss_and_grad_into`` as a first-class function for these arrays' dtypes, or
    None where Numba cannot give its address."""
    key = (theta.dtype, X.dtype, Y.dtype)
    bodies = _BODIES.setdefault(module, {})
    if key not in bodies:
        bodies[key] = None
        try:
            vector = array_types(theta.dtype)[1]
            args = (vector, array_types(X.dtype)[0], array_types(Y.dtype)[0],
                    vector, vector)  # theta X Y grad work
            dispatcher = module.loss_and_grad_into
            dispatcher.compile(args)
            signature = dispatcher.overloads[args].signature
            bodies[key] = _Body(_wrapper_address(dispatcher, signature), signature)
        except Exception:  # noqa: BLE001 (any failure means: use the module's own train)
            pass
    return bodies[key]


def train(kernels, theta, X, Y, lr, epochs, batch_size, seed, first_epoch=0):
    """What ``kernels.module.train(theta, X, Y, lr, epochs, batch_size, seed, first_epoch)``
    returns, through the shared loop where it can (see the module docstring).  ``theta``, X and
    Y as the module's ``train`` takes them: C-contiguous arrays of the kernel's dtype."""
    module = kernels.module
    body = _body(module, theta, X, Y) if kernels.target == "numba" else None
    if body is None:
        return module.train(theta, X, Y, lr, epochs, batch_size, seed, first_epoch)
    return _train_loop(theta, X, Y, lr, epochs, batch_size, seed, first_epoch, body,
                       module.WORK_PER_SAMPLE, kernels.model.reduction == "mean")
