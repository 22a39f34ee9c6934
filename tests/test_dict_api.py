"""The dict-of-arrays call in one compiled step (symbprop.runtime.dictcall), ``out=``, and the
scratch space (``work``) of the looped lowering."""

from __future__ import annotations

import numpy as np
import pytest

import symbprop as sp
import symbprop.runtime.dictcall as dictcall
from symbprop.bench.timing import sample_data
from symbprop.errors import SymbpropError
from symbprop.runtime.base import VIEW_MIN

pytestmark = pytest.mark.usefixtures("kernel_cache_dir")


@pytest.fixture(scope="module", params=["two_two_one", "iris_4_16_3"])
def case(request):
    model = sp.load(f"examples:{request.param}")
    kernels = sp.compile(model)
    X, Y = sample_data(model, 5, "float64", seed=3)
    return kernels, kernels.init_params(seed=2), X, Y


def flat_reference(kernels, params, X, Y):
    """The generated flat-vector kernel, called directly (no wrapper)."""
    theta = np.concatenate([np.ravel(params[n]) for n in kernels.names])
    grad = np.empty_like(theta)
    work = np.empty(kernels.module.WORK_PER_SAMPLE * X.shape[0])
    value = kernels.module.loss_and_grad_into(theta, X, Y, grad, work)
    return value, kernels.unflatten(grad)


def warm(kernels, params, X, Y):
    """Build the one-call path, as a long loop of dict calls does, after a first call."""
    kernels.loss_and_grad(params, X, Y)
    assert kernels.compile_dict_call() is not None


def assert_same(result, reference):
    assert result[0] == pytest.approx(reference[0], rel=1e-14)
    assert set(result[1]) == set(reference[1])
    for name, value in reference[1].items():
        np.testing.assert_allclose(result[1][name], value, rtol=1e-13, atol=1e-15)


def test_every_input_form_gives_the_flat_kernels_result(case):
    kernels, params, X, Y = case
    reference = flat_reference(kernels, params, X, Y)
    warm(kernels, params, X, Y)
    assert_same(kernels.loss_and_grad(params, X, Y), reference)  # the one-call path
    forms = {
        "float32 params": {n: v.astype(np.float32) for n, v in params.items()},
        "read-only params": {n: _read_only(v) for n, v in params.items()},
        "Fortran-ordered": {n: np.asfortranarray(v) for n, v in params.items()},
        "lists": {n: v.tolist() for n, v in params.items()},
    }
    for form, other in forms.items():
        result = kernels.loss_and_grad(other, np.asfortranarray(X), Y.tolist())
        tolerance = 1e-6 if form == "float32 params" else 1e-13
        assert result[0] == pytest.approx(reference[0], rel=tolerance), form
    # none of these compiled another specialization of the one-call path
    assert len(kernels._arrays_call.dispatcher.signatures) == 1


def _read_only(array):
    array = array.copy()
    array.flags.writeable = False
    return array


def test_out_receives_the_gradients_and_is_returned(case):
    kernels, params, X, Y = case
    value, fresh = kernels.loss_and_grad(params, X, Y)
    out = {n: np.full_like(v, 7.0) for n, v in fresh.items()}
    value2, returned = kernels.loss_and_grad(params, X, Y, out=out)
    assert returned is out and value2 == value
    for name in fresh:
        np.testing.assert_array_equal(out[name], fresh[name])
    # the checking path fills out as well (float32 params force it)
    slow = {n: v.astype(np.float32) for n, v in params.items()}
    assert kernels.loss_and_grad(slow, X, Y, out=out)[1] is out


def test_bad_out_is_a_clear_error(case):
    kernels, params, X, Y = case
    good = kernels.loss_and_grad(params, X, Y)[1]
    with pytest.raises(SymbpropError, match=r"out\['W1'\]: expected a writable float64 array"):
        kernels.loss_and_grad(params, X, Y, out={**good, "W1": np.zeros((9, 9))})
    with pytest.raises(SymbpropError, match=r"out: expected a dict of W1, b1"):
        kernels.loss_and_grad(params, X, Y, out={"W1": good["W1"]})


def test_generated_arrays_call_reports_what_is_wrong():
    kernels = sp.compile(sp.load("examples:iris_4_16_3"))
    params = kernels.init_params()
    arrays = [params[n] for n in kernels.names]
    grads = [np.zeros_like(a) for a in arrays]
    X, Y = np.ones((2, 4)), np.array([[1.0, 0.0, 0.0], [0.0, 0.5, 0.5]])
    call = kernels.module._loss_and_grad_checked
    work = np.empty(2 * kernels.size)  # the packed parameters and their gradient
    assert call(*arrays, X, Y, *grads, work)[1] == 0
    assert call(*arrays, X, Y, *grads, work[1:])[1] == 1  # work too short
    assert call(*arrays, X[:, :3].copy(), Y, *grads, work)[1] == 1  # X has 3 columns, not 4
    assert call(*arrays, X, Y, grads[0][:2].copy(), *grads[1:], work)[1] == 1  # gW1 too short
    X[1, 2] = np.nan
    assert call(*arrays, X, Y, *grads, work)[1] == 2
    X[1, 2] = 0.0
    assert call(*arrays, X, Y * 2.0, *grads, work)[1] == 3  # rows sum to 2
    value, status = call(*arrays, X, Y * 2.0, *grads, work)
    assert status and np.isnan(value)


def test_looped_scratch_space_is_reused_across_batch_sizes():
    model = sp.mlp([6, 9, 4], activation="tanh", loss="softmax_cross_entropy", name="scratch")
    kernels = sp.compile(model, strategy="looped")
    assert kernels.module.WORK_PER_SAMPLE > 0
    params = kernels.init_params(seed=1)
    theta = kernels.flatten(params)
    for batch in (16, 3, 16, 1):
        X, Y = sample_data(model, batch, "float64", seed=batch)
        fresh, grad = kernels.module.loss_and_grad(theta, X, Y)  # allocates its own
        value, grads = kernels.loss_and_grad(params, X, Y)  # reuses the wrapper's buffer
        assert value == fresh
        np.testing.assert_array_equal(kernels.flatten(grads), grad)
        np.testing.assert_array_equal(kernels.forward(params, X),
                                      kernels.module.forward(theta, X))
        work, into = np.empty(kernels.module.WORK_PER_SAMPLE * batch), np.empty_like(grad)
        assert kernels.module.loss_and_grad_into(theta, X, Y, into, work) == fresh
        np.testing.assert_array_equal(into, grad)


def test_views_of_one_vector_are_used_in_place_not_copied():
    model = sp.mlp([70, 60, 3], activation="relu", loss="softmax_cross_entropy", name="wide")
    kernels = sp.compile(model)  # 4443 parameters: the flat-vector path
    params = kernels.init_params(seed=0)
    theta = kernels.flatten(params)
    assert np.shares_memory(theta, params["W1"])  # init_params' vector itself, no copy
    X, Y = sample_data(model, 4, "float64")
    value, grads = kernels.loss_and_grad(params, X, Y)
    before = grads["W1"].copy()
    params["W1"] += 0.01  # in place: still the same views
    value2, returned = kernels.loss_and_grad(params, X, Y, out=grads)
    assert returned is grads and value2 != value
    assert not np.array_equal(grads["W1"], before)  # written in place ...
    expected = kernels.loss_and_grad({n: v.copy() for n, v in params.items()}, X, Y)
    for name in kernels.names:  # ... with the same numbers as a fresh call on copies
        np.testing.assert_array_equal(grads[name], expected[1][name])
    params["W1"] = params["W1"].copy()  # no longer a view: flatten copies
    assert not np.shares_memory(kernels.flatten(params), params["W1"])


def test_a_shared_bias_from_init_params_takes_the_one_call_path(monkeypatch):
    model = sp.mlp([3, 4, 2], activation="tanh", loss="half_sse", bias="shared", name="shared")
    kernels = sp.compile(model)
    params = kernels.init_params(seed=1)
    assert params["b1"].shape == ()
    X, Y = sample_data(model, 3, "float64")
    reference = flat_reference(kernels, params, X, Y)
    warm(kernels, params, X, Y)

    def no_checking_path(*args):
        raise AssertionError("the checking path ran")

    monkeypatch.setattr(kernels, "flatten", no_checking_path)
    assert_same(kernels.loss_and_grad(params, X, Y), reference)
    assert_same(kernels.loss_and_grad({**params, "b1": float(params["b1"])}, X, Y), reference)


def test_the_one_call_path_is_built_once_the_checking_path_has_cost_as_much(monkeypatch,
                                                                            tmp_path):
    """A script of a few calls waits for no second compilation (it would double the first
    call's wait): the checking path runs until its time beyond the kernel's, summed over the
    calls after the first, reaches dictcall.BUDGET; then the one-call path is built, with the
    same numbers, and another Kernels of the same module takes it from its first call.  An
    empty cache of its own: a kept one may hold the one-call path already."""
    monkeypatch.setenv("SYMBPROP_CACHE_DIR", str(tmp_path))
    model = sp.mlp([3, 5, 2], activation="tanh", loss="half_sse", name="tiers")
    kernels = sp.compile(model)
    params = kernels.init_params(seed=4)
    X, Y = sample_data(model, 4, "float64")
    reference = flat_reference(kernels, params, X, Y)
    budget = 2e-3
    monkeypatch.setattr(dictcall, "BUDGET", budget)
    assert not kernels._arrays_call.ready()
    assert_same(kernels.loss_and_grad(params, X, Y), reference)
    assert kernels._arrays_call.overhead == 0.0  # the first call's checks are not charged
    calls = 1
    while kernels._arrays_call.dispatcher is None and calls < 20_000:
        spent = kernels._arrays_call.overhead
        assert_same(kernels.loss_and_grad(params, X, Y), reference)
        calls += 1
        built = kernels._arrays_call.dispatcher is not None
        assert built == (spent >= budget), (calls, spent)
        assert built or kernels._arrays_call.overhead > spent  # each checking call counts
    assert kernels._arrays_call.dispatcher is not None and calls > 3
    assert_same(kernels.loss_and_grad(params, X, Y), reference)
    again = sp.compile(model)
    assert again._arrays_call.ready()
    again.flatten = None  # the checking path would fail
    assert_same(again.loss_and_grad(params, X, Y), reference)


def test_only_numba_nets_under_view_min_have_a_one_call_path():
    small = sp.compile(sp.mlp([2, 2, 1], activation="tanh", loss="half_sse"), target="numpy")
    assert small.compile_dict_call() is None
    wide = sp.compile(sp.mlp([80, 60, 1], activation="tanh", loss="half_sse"))
    assert wide.size >= VIEW_MIN
    assert wide.compile_dict_call() is None


def test_the_one_call_path_is_python_specialised_to_the_names(case, monkeypatch):
    kernels, params, X, Y = case
    source = kernels._arrays_call.source()
    for index, name in enumerate(kernels.names):  # spec names only as string literals
        assert f'p{index} = params["{name}"]' in source
        assert f'"{name}": g{index},' in source
    reference = flat_reference(kernels, params, X, Y)
    warm(kernels, params, X, Y)
    kernels.loss_and_grad(params, X, Y)
    assert kernels._dict_call.__name__ == "loss_and_grad_dicts"  # bound once compiled

    def no_checking_path(*args):
        raise AssertionError("the checking path ran")

    with monkeypatch.context() as patch:
        patch.setattr(kernels, "flatten", no_checking_path)
        assert_same(kernels.loss_and_grad(params, X, Y), reference)
    # anything else than a plain dict of the exact names takes the checking path
    from collections import OrderedDict

    assert_same(kernels.loss_and_grad(OrderedDict(params), X, Y), reference)
    with pytest.raises(SymbpropError, match="params: unknown extra"):
        kernels.loss_and_grad({**params, "extra": 1.0}, X, Y)


def test_the_rendered_one_call_path_is_kept_so_a_second_process_needs_no_jinja2(tmp_path):
    """The first process renders the dict call from its template and keeps the text in the
    kernel cache; a second process reads it, and never imports Jinja2 (60–100 ms)."""
    import os
    import subprocess
    import sys

    script = (
        "import sys\n"
        "import symbprop as sp\n"
        "from symbprop.bench.timing import sample_data\n"
        "model = sp.load('examples:xor')\n"
        "kernels = sp.compile(model)\n"
        "params = kernels.init_params(seed=1)\n"
        "X, Y = sample_data(model, 3, 'float64')\n"
        "before = 'jinja2' in sys.modules\n"
        "ready = kernels._arrays_call.ready()\n"
        "kernels.loss_and_grad(params, X, Y)\n"
        "assert (kernels._arrays_call.dispatcher is not None) == ready\n"
        "kernels.compile_dict_call()\n"
        "print(before, 'jinja2' in sys.modules, ready)\n"
    )
    env = dict(os.environ, SYMBPROP_CACHE_DIR=str(tmp_path))

    def jinja2_loaded() -> list[str]:
        done = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True,
                              text=True, timeout=300)
        assert done.returncode == 0, done.stderr
        return done.stdout.split()

    # the first process generates the kernels, and compiles the one-call path when asked
    assert jinja2_loaded() == ["True", "True", "False"]
    kept = list((tmp_path / "dictcall").glob("xor-*.py"))
    assert len(kept) == 1
    # the next find it in Numba's cache and take it from their first call
    assert jinja2_loaded() == ["False", "False", "True"]
    kept[0].write_text(kept[0].read_text()[:-40])  # damaged: rendered afresh, and kept again
    assert jinja2_loaded() == ["False", "True", "True"]
    assert jinja2_loaded() == ["False", "False", "True"]
