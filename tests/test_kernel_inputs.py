"""Bad input to the kernel wrappers and to training: integer parameters in ``fit``, a missing Y,
seeds and epoch counts, masked arrays, casts to float32 that overflow, the shared-bias contract
of the generated ``_loss_and_grad_checked``."""

from __future__ import annotations

import numpy as np
import pytest

import symbprop as sp
from symbprop.codegen.generator import source
from symbprop.errors import DataError, SymbpropError
from symbprop.training.loop import train

pytestmark = pytest.mark.usefixtures("kernel_cache_dir")

X = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
Y = np.array([[0.0], [1.0], [1.0], [0.0]])
FIT = {"lr": 1.0, "epochs": 3, "batch_size": 2, "progress": False}


@pytest.fixture(scope="module")
def k221():
    return sp.compile(sp.load("examples:xor"))


def copies(params, dtype=None):
    return {n: np.array(v, dtype=dtype) for n, v in params.items()}


# ---------------------------------------------------------------- item 1: fit writes back


def test_fit_refuses_integer_parameter_arrays_before_training(k221):
    params = copies(k221.init_params(seed=0), np.int64)
    before = copies(params)
    with pytest.raises(SymbpropError, match=r"params\['W1'\]: dtype int64 cannot hold the "
                                            r"trained values.*astype\(float\)"):
        k221.fit(params, X, Y, **FIT)
    for name, value in params.items():  # nothing was written (not truncated to 0)
        assert value.dtype == np.int64 and np.array_equal(value, before[name])


def test_train_refuses_integer_parameter_arrays(k221):
    params = copies(k221.init_params(seed=0))
    params["b2"] = np.zeros(1, dtype=np.int32)
    with pytest.raises(SymbpropError, match=r"params\['b2'\]: dtype int32 cannot hold"):
        train(k221, params, X, Y, lr=1.0, epochs=2, batch_size=2, progress=False)


def test_fit_updates_float32_arrays_in_place_and_replaces_lists(k221):
    start = k221.init_params(seed=0)
    reference = copies(start)
    k221.fit(reference, X, Y, **FIT)
    single = copies(start, np.float32)
    w1 = single["W1"]
    k221.fit(single, X, Y, **FIT)
    assert single["W1"] is w1 and w1.dtype == np.float32
    np.testing.assert_allclose(w1, reference["W1"], rtol=1e-6)
    lists = {n: v.tolist() for n, v in start.items()}
    k221.fit(lists, X, Y, **FIT)
    np.testing.assert_array_equal(lists["W1"], reference["W1"])


# ---------------------------------------------------------------- item 2: Y is required


@pytest.mark.parametrize("call", [
    lambda k, P: k.loss(P, X, None),
    lambda k, P: k.loss_and_grad(P, X, None),
    lambda k, P: k.sgd_step(P, X, None, 0.1),
    lambda k, P: k.fit(copies(P), X, None, **FIT),
])
def test_a_missing_y_is_a_data_error(k221, call):
    with pytest.raises(DataError, match=r"Y: got None; expected an array of shape \(batch, 1\)"):
        call(k221, k221.init_params(seed=0))


def test_forward_needs_no_y(k221):
    assert k221.forward(k221.init_params(seed=0), X).shape == (4, 1)


# ---------------------------------------------------------------- item 3: seeds and epochs


BAD_SEEDS = ["a", 1.5, -1, 2**63, 2**70, True, np.float64(2.0)]


@pytest.mark.parametrize("seed", BAD_SEEDS, ids=repr)
def test_bad_seeds_state_the_allowed_range(k221, seed):
    message = r"seed: expected an integer with 0 ≤ seed < 2\*\*63"
    with pytest.raises(SymbpropError, match=message):
        k221.init_params(seed=seed)
    with pytest.raises(SymbpropError, match=message):
        k221.fit(k221.init_params(seed=0), X, Y, seed=seed, **FIT)
    with pytest.raises(SymbpropError, match=message):
        train(k221, k221.init_params(seed=0), X, Y, seed=seed, progress=False)


def test_the_largest_seed_is_accepted(k221):
    params = k221.init_params(seed=2**63 - 1)
    assert len(k221.fit(params, X, Y, seed=np.uint64(2**63 - 1), **FIT)) == 3
    assert set(k221.init_params(seed=None)) == set(k221.names)  # fresh entropy, as NumPy


def test_graph_kernels_check_seeds_and_epochs():
    g = sp.compile(sp.load("examples:staged"))
    with pytest.raises(SymbpropError, match="seed: expected an integer"):
        g.init_params(seed=-1)
    with pytest.raises(SymbpropError, match="epochs: at most 100,000,000"):
        g.fit({"x": 1.0, "y": 2.0, "z": 3.0}, epochs=10**12, progress=False)


def test_too_many_epochs_is_refused_not_a_memory_error(k221):
    with pytest.raises(SymbpropError, match=r"epochs: at most 100,000,000 \(fit returns the "
                                            r"loss of every epoch"):
        k221.fit(k221.init_params(seed=0), X, Y, lr=0.1, epochs=10**12, progress=False)


@pytest.mark.parametrize("lr", [0.0, -1.0])
def test_fit_needs_a_positive_learning_rate(k221, lr):
    with pytest.raises(SymbpropError, match="lr: must be a positive number"):
        k221.fit(k221.init_params(seed=0), X, Y, lr=lr, epochs=1, progress=False)
    with pytest.raises(SymbpropError, match="lr: must be a positive number"):
        sp.compile(sp.load("examples:staged")).fit({"x": 1.0, "y": 2.0, "z": 3.0}, lr=lr,
                                                    progress=False)


def test_work_checks_its_count(k221):
    with pytest.raises(SymbpropError, match="n: expected an integer >= 0, got 'a'"):
        k221.work("a")
    assert k221.work(3).size == 3 * k221.module.WORK_PER_SAMPLE


# ---------------------------------------------------------------- masked arrays, overflow


def test_masked_entries_are_refused_not_ignored(k221):
    params = k221.init_params(seed=0)
    masked = np.ma.masked_array(X, mask=X > 0)
    with pytest.raises(DataError, match=r"X: a masked array with 4 masked entries \(the first "
                                        r"at \[1, 1\]\).*fill them"):
        k221.forward(params, masked)
    with pytest.raises(DataError, match=r"Y: a masked array with 2 masked entries"):
        k221.loss(params, X, np.ma.masked_array(Y, mask=Y > 0))
    with pytest.raises(SymbpropError, match=r"params\['W1'\]: a masked array with 1 masked"):
        k221.loss({**params, "W1": np.ma.masked_array(params["W1"], mask=[[1, 0], [0, 0]])},
                  X, Y)
    with pytest.raises(DataError, match="X: a masked array"):
        train(k221, copies(params), masked, Y, progress=False)
    unmasked = np.ma.masked_array(X)  # nothing masked: the numbers are all there
    np.testing.assert_array_equal(k221.forward(params, unmasked), k221.forward(params, X))


def test_a_cast_to_float32_that_overflows_says_so():
    k = sp.compile(sp.load("examples:xor"), dtype="float32")
    params = k.init_params(seed=0)
    big = X.copy()
    big[2, 1] = 1e300
    with pytest.raises(DataError, match=r"X\[2, 1\]: 1e\+300 is too large for float32 "
                                        r"\(largest 3.403e\+38\)"):
        k.loss_and_grad(params, big, Y)
    wide = {n: np.asarray(v, np.float64) for n, v in params.items()}
    wide["W2"][0, 1] = -1e200
    with pytest.raises(SymbpropError, match=r"params\['W2'\]\[0, 1\]: -1e\+200 is too large"):
        k.loss(wide, X, Y)
    infinite = X.copy()
    infinite[1, 0] = np.inf
    with pytest.raises(DataError, match="X: row 1 contains NaN or infinity"):
        k.forward(params, infinite)


# ---------------------------------------------------------------- item 7: a shared bias


def test_the_generated_docstring_states_how_a_shared_bias_is_passed():
    model = sp.mlp([2, 2, 1], bias="shared", name="shared_doc")
    k = sp.compile(model)
    doc = k.module._loss_and_grad_checked.__doc__
    assert "A shared bias (shape ()\n    in PARAM_SHAPES) goes in as a number" in doc
    assert "its gradient as a 0-d\n    array" in doc
    params = k.init_params(seed=0)
    grads = [np.empty(k.shapes[n]) for n in k.names]
    args = [float(params[n]) if not k.shapes[n] else params[n] for n in k.names]
    work = np.empty(2 * k.size)
    value, status = k.module._loss_and_grad_checked(*args, X, Y, *grads, work)
    assert status == 0 and value == pytest.approx(k.loss(params, X, Y), rel=1e-14)
    assert "A shared bias" not in source(sp.load("examples:xor"))
