"""Compiled kernels: the dict-of-arrays API, numerics, input checking, caching, training."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import symbprop as sp
from symbprop.errors import DataError, SymbpropError

REPO = Path(__file__).resolve().parent.parent


pytestmark = pytest.mark.usefixtures("kernel_cache_dir")


def example_point(name: str):
    """(model, params, X, Y, exact) for a bundled example with values."""
    model = sp.load(f"examples:{name}")
    d = sp.derive(model)
    values = __import__("yaml").safe_load(
        (REPO / "symbprop" / "examples" / f"{name}.values.yaml").read_text())
    exact = d.evaluate(values)
    params = {k: np.array(v, dtype=float) for k, v in values["params"].items()}
    X = np.atleast_2d(np.array(values.get("x", values.get("X")), dtype=float))
    Y = np.array(values.get("y", values.get("Y")), dtype=float).reshape(len(X), -1)
    return model, params, X, Y, exact


@pytest.mark.parametrize("strategy", ["unrolled", "looped"])
@pytest.mark.parametrize("name", ["two_two_one", "nielsen_232", "chain", "one_path"])
def test_loss_and_grad_match_the_symbolic_derivation(name, strategy):
    model, params, X, Y, exact = example_point(name)
    k = sp.compile(model, strategy=strategy)
    loss, grads = k.loss_and_grad(params, X, Y)
    assert loss == pytest.approx(exact["loss"], rel=1e-12)
    assert set(grads) == set(params)
    for name_, array in grads.items():
        assert array.shape == params[name_].shape and array.dtype == np.float64
        for idx in np.ndindex(*array.shape):
            key = f"{name_}[{','.join(map(str, idx))}]" if idx else name_
            assert array[idx] == pytest.approx(exact["grad"][key], rel=1e-10, abs=1e-14)


def test_float32_kernels_compute_in_float32():
    model, params, X, Y, exact = example_point("nielsen_232")
    for strategy in ("unrolled", "looped"):
        k = sp.compile(model, strategy=strategy, dtype="float32")
        loss, grads = k.loss_and_grad(params, X, Y)  # float64 inputs are cast
        assert all(g.dtype == np.float32 for g in grads.values())
        assert k.forward(params, X).dtype == np.float32
        assert loss == pytest.approx(exact["loss"], rel=1e-5)
        assert grads["W1"][0, 0] == pytest.approx(exact["grad"]["W1[0,0]"], rel=1e-4)


def test_forward_loss_sgd_step_and_unflatten():
    model, params, X, Y, exact = example_point("two_two_one")
    k = sp.compile(model)
    out = k.forward(params, X)
    assert out.shape == (1, 1) and out[0, 0] == pytest.approx(exact["forward"]["a2"][0])
    assert k.loss(params, X, Y) == pytest.approx(exact["loss"])
    before = {n: v.copy() for n, v in params.items()}
    new = k.sgd_step(params, X, Y, lr=0.5)
    assert all(np.array_equal(params[n], before[n]) for n in params)  # not changed
    for name, value in exact["step"]["params"].items():
        assert np.allclose(new[name], value, rtol=1e-12)
    stepped = k.unflatten(k.module.sgd_step(k.flatten(params), X, Y, 0.5))  # the module's own
    for name, value in exact["step"]["params"].items():
        assert np.allclose(stepped[name], value, rtol=1e-12)
    vector = k.flatten(params)
    assert vector.shape == (9,) and np.shares_memory(k.unflatten(vector)["W2"], vector)


def test_graph_kernels_take_and_return_named_floats():
    k = sp.compile(sp.load("examples:staged"))
    assert k.loss_and_grad({"x": -2.0, "y": 5.0, "z": -4.0}) == (-12.0, {"x": -4.0, "y": -4.0,
                                                                       "z": 3.0})
    assert k.forward({"x": 1, "y": 2, "z": 3}) == 9.0
    assert k.sgd_step({"x": -2.0, "y": 5.0, "z": -4.0}, lr=0.1) == pytest.approx(
        {"x": -1.6, "y": 5.4, "z": -4.3})
    k = sp.compile(sp.load("examples:quadratic"))
    params = {"x": 0.0}
    history = k.fit(params, lr=0.1, epochs=200, progress=False)
    assert params["x"] == pytest.approx(5.0, abs=1e-6) and history[0] == 25.0


def test_init_params_he_for_relu_glorot_otherwise():
    k = sp.compile(sp.mlp([400, 300, 10], activation="relu", loss="softmax_cross_entropy"))
    params = k.init_params(seed=1)
    assert params["W1"].std() == pytest.approx(np.sqrt(2 / 400), rel=0.05)
    assert np.all(params["b1"] == 0) and params["W2"].shape == (10, 300)
    assert np.array_equal(params["W1"], k.init_params(seed=1)["W1"])
    k = sp.compile(sp.mlp([2, 3, 1], activation="tanh", bias="shared", name="glorot"))
    params = k.init_params()
    assert np.abs(params["W1"]).max() <= np.sqrt(6 / 5) and params["b1"].shape == ()


# ---------------------------------------------------------------- numerics


@pytest.mark.parametrize("strategy", ["unrolled", "looped"])
@pytest.mark.parametrize("activation, loss", [
    ("sigmoid", "bce"), ("tanh", "softmax_cross_entropy"), ("sigmoid", "half_sse"),
    ("softplus", "mse"), ("elu", "half_sse"), ("gelu", "sse"), ("swish", "half_sse"),
    ("relu", "softmax_cross_entropy"), ("leaky_relu", "half_sse"),
])
def test_loss_and_gradients_are_finite_at_z_of_1e3(activation, loss, strategy):
    model = sp.mlp([1, 2, 2], activation=activation, loss=loss, name=f"big_{activation}_{loss}")
    k = sp.compile(model, strategy=strategy)
    params = {"W1": np.array([[1.0], [-1.0]]), "b1": np.zeros(2),
              "W2": np.array([[1.0, -1.0], [-1.0, 1.0]]), "b2": np.zeros(2)}
    X, Y = np.array([[1e3], [-1e3]]), np.array([[1.0, 0.0], [0.0, 1.0]])
    value, grads = k.loss_and_grad(params, X, Y)
    assert np.isfinite(value) and all(np.isfinite(g).all() for g in grads.values())


def test_bce_loss_at_saturation_is_exact_not_log_of_rounded_sigmoid():
    k = sp.compile(sp.mlp([1, 1], activation="sigmoid", loss="bce", name="bce_sat"))
    params = {"W1": np.array([[1.0]]), "b1": np.zeros(1)}
    loss, grads = k.loss_and_grad(params, np.array([[-800.0]]), np.array([[1.0]]))
    assert loss == pytest.approx(800.0)  # softplus(800), where log(σ(−800)) would be −inf
    assert grads["W1"][0, 0] == pytest.approx(800.0)  # (σ(z) − y)·x = (0 − 1)(−800)


@pytest.mark.parametrize("strategy", ["unrolled", "looped"])
def test_relu_derivative_at_zero_is_zero(strategy):
    k = sp.compile(sp.mlp([1, 1], activation="relu", name="relu_kink"), strategy=strategy)
    loss, grads = k.loss_and_grad({"W1": np.zeros((1, 1)), "b1": np.zeros(1)},
                                  np.ones((1, 1)), np.ones((1, 1)))
    assert loss == 0.5 and grads["W1"][0, 0] == 0.0 and grads["b1"][0] == 0.0


def test_looped_bias_gradient_sums_keep_nan_and_inf():
    """_row_sums adds in any order (fastmath reassoc, to vectorize): still the sum up to
    rounding, and NaN and ±inf are not lost."""
    model = sp.mlp([3, 4, 2], activation="tanh", loss="half_sse", name="row_sums")
    row_sums = sp.compile(model, strategy="looped").module._row_sums
    D, out = np.random.default_rng(0).normal(size=(3, 37)), np.empty(3)
    row_sums(D, out)
    np.testing.assert_allclose(out, D.sum(axis=1), rtol=1e-13, atol=1e-14)
    D[0, 5], D[1, 36], D[2, 0] = np.nan, np.inf, -np.inf
    row_sums(D, out)
    assert np.isnan(out[0]) and out[1] == np.inf and out[2] == -np.inf


@settings(max_examples=25, deadline=None)
@given(data=st.data())
def test_lowerings_agree_on_random_batches(data):
    model = sp.mlp([3, 4, 2], activation="tanh", loss="softmax_cross_entropy", name="agree")
    unrolled, looped = sp.compile(model, "unrolled"), sp.compile(model, "looped")
    batch = data.draw(st.integers(1, 9))
    floats = st.floats(-50, 50, allow_nan=False)
    values = data.draw(st.lists(floats, min_size=3 * batch, max_size=3 * batch))
    X = np.array(values).reshape(batch, 3)
    labels = data.draw(st.lists(st.integers(0, 1), min_size=batch, max_size=batch))
    Y = np.eye(2)[labels]
    params = unrolled.init_params(seed=data.draw(st.integers(0, 100)))
    a, b = unrolled.loss_and_grad(params, X, Y), looped.loss_and_grad(params, X, Y)
    assert a[0] == pytest.approx(b[0], rel=1e-12, abs=1e-12)
    for name in params:
        np.testing.assert_allclose(a[1][name], b[1][name], rtol=1e-9, atol=1e-12)


# ---------------------------------------------------------------- bad inputs


@pytest.fixture(scope="module")
def k221():
    return sp.compile(sp.load("examples:two_two_one"))


def test_bad_params_are_clear_errors(k221):
    good = k221.init_params()
    with pytest.raises(SymbpropError, match=r"params: missing b2; expected W1, b1, W2, b2"):
        k221.loss_and_grad({n: v for n, v in good.items() if n != "b2"}, np.ones((1, 2)), [[1.0]])
    with pytest.raises(SymbpropError, match=r"params: unknown W3"):
        k221.loss_and_grad({**good, "W3": 1.0}, np.ones((1, 2)), [[1.0]])
    with pytest.raises(SymbpropError, match=r"params\['W1'\]: shape \(2, 3\), expected \(2, 2\)"):
        k221.loss_and_grad({**good, "W1": np.ones((2, 3))}, np.ones((1, 2)), [[1.0]])
    with pytest.raises(SymbpropError, match=r"params\['b1'\]: dtype complex128 is not a real"):
        k221.loss_and_grad({**good, "b1": np.ones(2) * 1j}, np.ones((1, 2)), [[1.0]])
    with pytest.raises(SymbpropError, match=r"params\['W2'\]: contains NaN or infinity"):
        k221.loss_and_grad({**good, "W2": np.array([[np.nan, 1.0]])}, np.ones((1, 2)), [[1.0]])
    with pytest.raises(SymbpropError, match=r"params: expected a dict"):
        k221.loss_and_grad([1, 2], np.ones((1, 2)), [[1.0]])


def test_bad_data_are_clear_errors(k221):
    params = k221.init_params()
    with pytest.raises(DataError, match=r"X: shape \(1, 3\), expected \(batch, 2\)"):
        k221.loss_and_grad(params, np.ones((1, 3)), [[1.0]])
    with pytest.raises(DataError, match=r"for one sample use X.reshape\(1, -1\)"):
        k221.forward(params, np.ones(2))
    with pytest.raises(DataError, match=r"Y: 2 samples, but X has 1"):
        k221.loss_and_grad(params, np.ones((1, 2)), [1.0, 2.0])
    with pytest.raises(DataError, match=r"X: dtype <U1 is not a real number type"):
        k221.loss_and_grad(params, [["a", "b"]], [[1.0]])
    with pytest.raises(DataError, match=r"X: row 1 contains NaN or infinity"):
        k221.loss_and_grad(params, [[1.0, 2.0], [np.inf, 0.0]], [[1.0], [0.0]])
    with pytest.raises(DataError, match="batch >= 1"):
        k221.loss_and_grad(params, np.ones((0, 2)), np.ones((0, 1)))
    k = sp.compile(sp.load("examples:iris_4_16_3"))
    with pytest.raises(DataError, match="must sum to 1 per sample"):
        k.loss_and_grad(k.init_params(), np.ones((1, 4)), [[1.0, 1.0, 0.0]])


def test_of_several_problems_the_first_is_reported(k221):
    """loss_and_grad checks parameters, then X, then Y, then softmax target sums, and reports
    the first problem even when a later one is found first (NaN and infinity are tested in one
    compiled call after the shapes)."""
    params, nan = k221.init_params(), np.nan
    bad = {**params, "W2": np.array([[nan, 1.0]])}
    for args, error, message in (
        ((bad, np.ones((1, 3)), [[1.0]]), SymbpropError, r"params\['W2'\]: contains NaN"),
        ((bad, np.ones((1, 2)), np.ones((1, 2))), SymbpropError, r"params\['W2'\]: contains"),
        ((bad, [[nan, 1.0]], [[nan]]), SymbpropError, r"params\['W2'\]: contains NaN"),
        ((params, [[nan, 1.0]], np.ones((1, 2))), DataError, r"X: row 0 contains NaN"),
        ((params, [[1.0, 1.0], [nan, 1.0]], [[1.0]]), DataError, r"X: row 1 contains NaN"),
        ((params, [[1.0, 1.0], [nan, 1.0]], [[1.0], [nan]]), DataError, r"X: row 1 contains"),
        ((params, [[1.0, 1.0], [1.0, 1.0]], [[1.0], [np.inf]]), DataError, r"Y: row 1 contains"),
    ):
        with pytest.raises(error, match=message):
            k221.loss_and_grad(*args)
    k = sp.compile(sp.load("examples:iris_4_16_3"))
    with pytest.raises(DataError, match=r"Y: row 0 contains NaN"):
        k.loss_and_grad(k.init_params(), np.ones((1, 4)), [[nan, 1.0, 1.0]])


def test_a_new_process_checks_a_call_in_one_compiled_function():
    """The first loss_and_grad of a process that takes the checking path loads one check
    function from Numba's cache (batch_problem), not all_finite for each array and
    row_sum_error for softmax targets.  X is a list: the one compiled dict call, which a
    process takes at once where Numba's cache holds it (another test may have built it),
    takes arrays only."""
    script = (
        "import numpy as np, symbprop as sp\n"
        "from symbprop.runtime import input_checks as checks\n"
        "k = sp.compile('examples:iris_4_16_3')\n"
        "k.loss_and_grad(k.init_params(), np.ones((2, 4)).tolist(), np.eye(3)[:2])\n"
        "print([len(getattr(checks, name).overloads) for name in\n"
        "       ('batch_problem', 'all_finite', 'row_sum_error')],\n"
        "      sum(checks.batch_problem.stats.cache_hits.values()))\n"
    )
    for _ in range(2):  # the first may compile batch_problem; the second loads it
        result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
        assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["[1,", "0,", "0]", "1"]


def test_integer_and_list_inputs_are_cast(k221):
    params = {n: v.tolist() for n, v in k221.init_params().items()}
    loss, grads = k221.loss_and_grad(params, [[1, 0]], [1])
    assert np.isfinite(loss) and grads["W1"].dtype == np.float64


# ---------------------------------------------------------------- training


def test_fit_learns_xor_reproducibly_and_in_place():
    k = sp.compile(sp.load("examples:xor"))
    X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=float)
    Y = np.array([[0], [1], [1], [0]], dtype=float)
    params = k.init_params(seed=3)
    first = {n: v.copy() for n, v in params.items()}
    history = k.fit(params, X, Y, lr=2.0, epochs=3000, batch_size=4, seed=0, progress=False)
    assert history.shape == (3000,) and history[-1] < 0.01 < history[0]
    assert np.allclose(k.forward(params, X), Y, atol=0.15)
    again = {n: v.copy() for n, v in first.items()}
    history2 = k.fit(again, X, Y, lr=2.0, epochs=3000, batch_size=4, seed=0, progress=True)
    assert np.array_equal(history, history2)  # chunked for the progress bar: the same run
    assert all(np.array_equal(params[n], again[n]) for n in params)


def test_fit_history_plots_itself(tmp_path):
    pytest.importorskip("matplotlib")
    k = sp.compile(sp.load("examples:quadratic"))
    history = k.fit({"x": 0.0}, lr=0.1, epochs=20, progress=False)
    path = history.plot(tmp_path / "loss.png")
    assert path.stat().st_size > 1000 and path.read_bytes()[:4] == b"\x89PNG"


def test_train_shuffles_with_a_seed_and_resumes():
    k = sp.compile(sp.load("examples:two_two_one"))
    rng = np.random.default_rng(0)
    X, Y = rng.standard_normal((10, 2)), rng.standard_normal((10, 1))
    theta = k.flatten(k.init_params())
    full, h_full = k.module.train(theta, X, Y, 0.1, 6, 3, 7)
    half, h1 = k.module.train(theta, X, Y, 0.1, 3, 3, 7)
    rest, h2 = k.module.train(half, X, Y, 0.1, 3, 3, 7, 3)
    assert np.array_equal(full, rest) and np.array_equal(h_full, np.concatenate([h1, h2]))
    other, _ = k.module.train(theta, X, Y, 0.1, 6, 3, 8)
    assert not np.array_equal(full, other)
    order = np.empty(10, np.int64)
    k.module._permutation(order, 7, 0)
    assert sorted(order) == list(range(10))


# ---------------------------------------------------------------- caching


def test_a_second_process_reuses_the_generated_file_and_numbas_cache(tmp_path):
    script = (
        "import time, numpy as np\n"
        "t0 = time.perf_counter()\n"
        "import symbprop as sp\n"
        "k = sp.compile(sp.load('examples:xor'))\n"
        "k.loss_and_grad(k.init_params(), np.ones((1, 2)), np.ones((1, 1)))\n"
        "print(time.perf_counter() - t0, k.path)\n"
    )
    env = {**os.environ, "SYMBPROP_CACHE_DIR": str(tmp_path)}
    runs = []
    for _ in range(2):
        result = subprocess.run([sys.executable, "-c", script], cwd=REPO, env=env,
                                capture_output=True, text=True, check=True)
        seconds, path = result.stdout.split()
        runs.append((float(seconds), Path(path), Path(path).stat().st_mtime_ns))
    (first, path, mtime), (second, path2, mtime2) = runs
    assert path == path2 and mtime == mtime2  # the file was not written again
    assert list(path.parent.glob("__pycache__/*.nbi"))  # Numba's cache index
    assert second < max(first, 3.0)


def test_processes_compiling_the_same_spec_at_once_share_one_module(tmp_path):
    """Data-loader workers or parallel test runners may compile at the same moment into one
    empty cache: each writes atomically, so every process imports a whole module."""
    script = (
        "import numpy as np, symbprop as sp\n"
        "k = sp.compile(sp.load('examples:two_two_one'))\n"
        "loss, _ = k.loss_and_grad(k.init_params(seed=1), np.ones((3, 2)), np.ones((3, 1)))\n"
        "print(repr(loss), k.path)\n"
    )
    env = {**os.environ, "SYMBPROP_CACHE_DIR": str(tmp_path)}
    runs = [subprocess.Popen([sys.executable, "-c", script], cwd=REPO, env=env,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            for _ in range(3)]
    outputs = [run.communicate(timeout=300) for run in runs]
    assert all(run.returncode == 0 for run in runs), [err for _, err in outputs]
    assert len({out for out, _ in outputs}) == 1  # same loss, same file
    assert [p.name for p in tmp_path.iterdir()] == [Path(outputs[0][0].split()[1]).parent.name]
    assert not [p for p in tmp_path.rglob(".kernels.py.*")]  # no temporary file left behind


def _loss_in_worker(k, params, X, Y):
    return k.loss_and_grad(params, X, Y)[0]


def test_kernels_pickle_and_run_in_a_spawned_worker():
    """multiprocessing, joblib and concurrent.futures pickle what they send: Kernels come back
    compiled (from the cache) with the same lowering, dtype and results."""
    import concurrent.futures
    import multiprocessing
    import pickle

    k = sp.compile(sp.load("examples:iris_4_16_3"), strategy="looped", dtype="float32")
    again = pickle.loads(pickle.dumps(k))
    assert (again.path, again.strategy, again.dtype) == (k.path, "looped", np.float32)
    graph = pickle.loads(pickle.dumps(sp.compile(sp.load("examples:staged"))))
    assert graph.loss_and_grad({"x": -2, "y": 5, "z": -4}) == (-12.0, {"x": -4.0, "y": -4.0,
                                                                       "z": 3.0})
    params = k.init_params(seed=2)
    X, Y = np.ones((3, 4), np.float32), np.eye(3, dtype=np.float32)
    context = multiprocessing.get_context("spawn")  # a fresh interpreter, as on macOS/Windows
    with concurrent.futures.ProcessPoolExecutor(1, mp_context=context) as pool:
        remote = pool.submit(_loss_in_worker, k, params, X, Y).result(timeout=300)
    assert remote == k.loss_and_grad(params, X, Y)[0]


def test_a_flat_vector_for_params_is_a_clear_error(k221):
    theta = k221.flatten(k221.init_params())
    with pytest.raises(SymbpropError, match=r"params: expected a dict of W1, b1, W2, b2, got "
                                            r"ndarray; a flat parameter vector goes to"):
        k221.loss_and_grad(theta, np.ones((1, 2)), [[1.0]])
    with pytest.raises(SymbpropError, match=r"got ndarray"):
        k221.forward(theta, np.ones((1, 2)))


@pytest.mark.parametrize("strategy", ["unrolled", "looped"])
def test_outside_a_functions_domain_the_kernels_give_inf_and_nan_not_exceptions(strategy):
    """error_model="numpy": 1/0 is inf and log(-1) NaN inside compiled code, as in NumPy;
    Numba's default would raise ZeroDivisionError from the middle of a kernel."""
    graph = sp.compile(sp.expression("log(x) + sqrt(y) + 1/z", params=["x", "y", "z"],
                                     name="domains"))
    value, grads = graph.loss_and_grad({"x": 1.0, "y": 0.0, "z": 0.0})
    assert value == np.inf and grads["y"] == np.inf and grads["z"] == -np.inf
    value, grads = graph.loss_and_grad({"x": -1.0, "y": 1.0, "z": 1.0})
    assert np.isnan(value) and grads["x"] == -1.0
    model = sp.mlp([1, 1], activation="identity", loss={"formula": "-y*log(a)"}, name="neg_log")
    k = sp.compile(model, strategy=strategy)
    params = {"W1": np.array([[1.0]]), "b1": np.zeros(1)}
    loss, grads = k.loss_and_grad(params, np.array([[0.0]]), np.array([[1.0]]))
    assert loss == np.inf and grads["b1"][0] == -np.inf and np.isnan(grads["W1"][0, 0])
    loss, grads = k.loss_and_grad(params, np.array([[-1.0]]), np.array([[1.0]]))
    assert np.isnan(loss) and grads["W1"][0, 0] == -1.0


def test_looped_modules_share_the_blas_helpers_and_their_cache_loads_anywhere(tmp_path):
    """sp.compile rebinds a looped module's copies of the kernel_helpers functions to the
    originals (compiled once per process, not once per module and dtype); the file on disk still
    defines its own; and Numba's cache of the module loads in a fresh process, through
    sp.compile or by importing the file alone, with the same numbers."""
    from symbprop.codegen import kernel_helpers
    from symbprop.codegen.loader import import_file

    env = dict(os.environ)  # the run's kernel cache: whether compiled here or loaded, the same
    call = ("theta = np.linspace(-0.5, 0.5, m.N_PARAMS)\n"
            "X = np.linspace(-1, 1, 12).reshape(3, 4); Y = np.eye(3)\n"
            "grad = np.empty_like(theta)\n"
            "loss = m.loss_and_grad_into(theta, X, Y, grad, np.empty(m.WORK_PER_SAMPLE * 3))\n")
    compiled = ("import numpy as np, symbprop as sp\n"
                "from symbprop.codegen import kernel_helpers\n"
                "k = sp.compile('examples:iris_4_16_3', strategy='looped')\n"
                "m = k.module\n"
                "assert m._times_input is kernel_helpers._times_input\n"
                "assert m._row_sums is kernel_helpers._row_sums\n"
                + call + "print(repr(float(loss)), repr(float(grad.sum())), k.path)\n")
    runs = [subprocess.run([sys.executable, "-c", compiled], cwd=REPO, env=env,
                           capture_output=True, text=True, timeout=300) for _ in range(2)]
    assert all(run.returncode == 0 for run in runs), runs[0].stderr + runs[1].stderr
    assert runs[0].stdout == runs[1].stdout
    loss, total, path = runs[0].stdout.split()
    assert "def _times_input" in Path(path).read_text()  # the file stands alone
    alone = ("import importlib.util, numpy as np\n"
             f"spec = importlib.util.spec_from_file_location('anything', {path!r})\n"
             "m = importlib.util.module_from_spec(spec); spec.loader.exec_module(m)\n"
             + call +
             "hits = sum(m.loss_and_grad_into.stats.cache_hits.values())\n"
             "print(repr(float(loss)), repr(float(grad.sum())), hits)\n")
    plain = subprocess.run([sys.executable, "-c", alone], cwd=tmp_path, env=env,
                           capture_output=True, text=True, timeout=300)
    assert plain.returncode == 0, plain.stderr
    assert plain.stdout.split() == [loss, total, "1"]  # loaded from Numba's cache, not compiled
    standalone = import_file(path, "standalone_copy_of_iris_looped")
    assert standalone._times_input is not kernel_helpers._times_input


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_the_matrix_view_is_the_reshaped_slice_and_writes_through(dtype):
    """``_matrix(v, start, rows, cols)``, every 2-D view of the looped kernels, is
    ``v[start:start + rows * cols].reshape((rows, cols))``: the same numbers and a view of ``v``
    (a write goes through), for runtime sizes as for constant ones; it keeps ``v``'s memory
    alive after ``v`` is gone, and a read-only ``v`` gives a read-only view."""
    from numba import njit

    from symbprop.codegen.kernel_helpers import _matrix

    @njit
    def view_and_write(v, start, rows, cols):
        m = _matrix(v, start, rows, cols)
        m[rows - 1, 0] = -1.0
        return m

    @njit
    def constant_view(v):
        return _matrix(v, 3, 2, 5)

    @njit
    def view_of_a_new_vector(n):
        return _matrix(np.arange(n).astype(np.float64), 1, 3, 2)

    v = np.arange(20, dtype=dtype)
    expected = v[2:14].reshape((4, 3)).copy()
    expected[3, 0] = -1.0
    m = view_and_write(v, 2, 4, 3)
    assert m.dtype == dtype and m.shape == (4, 3) and m.flags.c_contiguous
    assert np.array_equal(m, expected) and v[11] == -1.0
    assert np.array_equal(constant_view(v), v[3:13].reshape((2, 5)))
    kept = view_of_a_new_vector(10)
    assert kept.base is not None  # it holds the vector's memory
    for _ in range(3):
        view_of_a_new_vector(10)  # would reuse the memory, had it been freed
    assert np.array_equal(kept, np.arange(1.0, 7.0).reshape((3, 2)))
    frozen = np.arange(6, dtype=dtype)
    frozen.flags.writeable = False
    assert np.array_equal(constant_view(np.arange(13, dtype=dtype)), np.arange(3, 13).reshape(2, 5))
    with pytest.raises(Exception, match="readonly"):
        view_and_write(frozen, 0, 2, 3)
