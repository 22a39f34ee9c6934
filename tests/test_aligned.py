"""Every vector the wrapper allocates for the kernels starts on a 64-byte boundary."""

from __future__ import annotations

import numpy as np
import pytest

import symbprop as sp
from symbprop.bench.timing import sample_data
from symbprop.runtime.aligned import ALIGNMENT, empty_aligned, zeros_aligned

pytestmark = pytest.mark.usefixtures("kernel_cache_dir")

#: A looped net that other tests compile too (the run's kernel cache shares it).
WIDE = "examples:digits_64_32_10"


def address(array: np.ndarray) -> int:
    return array.__array_interface__["data"][0]


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("size", [0, 1, 7, 101770])
def test_aligned_vectors(size, dtype):
    for vector in (empty_aligned(size, dtype), zeros_aligned(size, dtype)):
        assert vector.shape == (size,) and vector.dtype == dtype
        assert vector.flags.c_contiguous and vector.flags.writeable
        assert size == 0 or address(vector) % ALIGNMENT == 0  # (an empty one has no data)
    assert not zeros_aligned(size, dtype).any()


def test_the_wrapper_allocates_aligned_vectors():
    model = sp.load(WIDE)
    kernels = sp.compile(model)  # looped: scratch space for work(n)
    params = kernels.init_params(seed=0)
    X, Y = sample_data(model, 4, "float64")
    grads = kernels.loss_and_grad(params, X, Y)[1]
    copies = {name: value.copy() for name, value in params.items()}
    for vector in (kernels.flatten(params), kernels.flatten(copies), kernels.flatten(grads),
                   kernels.empty_vector(), kernels.work(3), kernels.work(50)):
        assert address(vector) % ALIGNMENT == 0
    assert kernels.empty_vector().shape == (kernels.size,)


def test_views_of_an_aligned_vector_are_recognised_by_address():
    model = sp.mlp([70, 60, 3], activation="relu", loss="softmax_cross_entropy", name="wide")
    kernels = sp.compile(model)  # 4443 parameters (nothing is compiled: no kernel runs)
    theta = kernels.flatten({n: v.copy() for n, v in kernels.init_params(seed=1).items()})
    assert type(theta.base) is np.ndarray and theta.base.dtype == np.uint8  # the byte buffer
    offsets = kernels.module.PARAM_OFFSETS
    by_hand = {name: theta[offsets[name]:offsets[name] + int(np.prod(shape))].reshape(shape)
               for name, shape in kernels.shapes.items()}  # views the wrapper never handed out
    again = kernels.flatten(by_hand)
    assert np.shares_memory(again, theta) and address(again) == address(theta)
    shifted = dict(by_hand, W1=theta[1:4201].reshape(60, 70))  # W1 one number off: a copy
    assert not np.shares_memory(kernels.flatten(shifted), theta)
