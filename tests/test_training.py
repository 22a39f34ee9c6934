"""Training with the generated kernels: XOR, digits, schedules, stopping rule, save/load."""

from __future__ import annotations

import math
import os
import re

import numpy as np
import pytest
from typer.testing import CliRunner

import symbprop as sp
from symbprop.cli.app import app
from symbprop.training.data import load_data
from symbprop.training.loop import History, Schedule, load_params, save_params, train, train_on

XOR_X = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
XOR_Y = np.array([[0.0], [1.0], [1.0], [0.0]])
XOR_SETTINGS = {"lr": 5.0, "batch_size": 4, "seed": 1}


@pytest.fixture(scope="module")
def xor():
    model = sp.load("examples:xor")
    return model, sp.compile(model)


@pytest.fixture(scope="module")
def digits():
    model = sp.load("examples:digits_64_32_10")
    return model, sp.compile(model), load_data(model, "digits", seed=0)


# ---------------------------------------------------------------- schedules


def test_schedules():
    assert [Schedule("constant", 0.5)(e) for e in (0, 7)] == [0.5, 0.5]
    step = Schedule("step", 0.8, gamma=0.5, step_size=10)
    assert [step(e) for e in (0, 9, 10, 25)] == [0.8, 0.8, 0.4, 0.2]
    inverse = Schedule("inverse", 1.0, decay=0.5)
    assert [inverse(e) for e in (0, 2, 6)] == [1.0, 0.5, 0.25]
    exponential = Schedule("exponential", 2.0, decay=0.1)
    assert exponential(10) == pytest.approx(2.0 * math.exp(-1.0))
    assert "γ^⌊e/s⌋" in step.describe()
    for bad in ({"kind": "cosine"}, {"lr": -1.0}, {"gamma": 1.5}, {"step_size": 0}):
        with pytest.raises(sp.SymbpropError):
            Schedule(**{"kind": "step", "lr": 0.1, **bad})


# ---------------------------------------------------------------- XOR


def test_xor_converges(xor):
    model, k = xor
    params = k.init_params(XOR_SETTINGS["seed"])
    history = train(k, params, XOR_X, XOR_Y, epochs=5000, progress=False,
                    callback=lambda epoch, h, p: h.losses[-1] < 0.01, **XOR_SETTINGS)
    assert history.stopped_because == "callback" and history.final_loss < 0.01
    assert history.accuracies[-1] == 1.0
    assert np.array_equal(np.round(k.forward(params, XOR_X)), XOR_Y)
    assert history.params is params


def test_stopping_rule(xor):
    model, k = xor
    params = k.init_params(XOR_SETTINGS["seed"])
    tol = 1e-3
    history = train(k, params, XOR_X, XOR_Y, epochs=20000, tol=tol, progress=False,
                    **XOR_SETTINGS)
    assert history.stopped_because == "tol"
    steps = np.array(history.learning_rates) * np.array(history.grad_norms)
    assert steps[-1] <= tol and np.all(steps[:-1] > tol)
    _, grads = k.loss_and_grad(params, XOR_X, XOR_Y)  # ‖∇L‖ on the full set, as recorded
    norm = math.sqrt(sum(float(np.sum(g * g)) for g in grads.values()))
    assert norm == pytest.approx(history.grad_norms[-1])


def test_schedule_is_applied_per_epoch(xor):
    model, k = xor
    rates = Schedule("step", 4.0, gamma=0.5, step_size=3)
    history = train(k, k.init_params(0), XOR_X, XOR_Y, epochs=7, batch_size=4,
                    schedule=rates, progress=False)
    assert history.learning_rates == [4.0, 4.0, 4.0, 2.0, 2.0, 2.0, 1.0]
    inverse = train(k, k.init_params(0), XOR_X, XOR_Y, epochs=3, batch_size=4,
                    schedule="inverse", lr=1.0, progress=False)
    assert inverse.learning_rates == pytest.approx([1.0, 1 / 1.05, 1 / 1.1])


def test_keyboard_interrupt_keeps_last_completed_epoch(xor):
    model, k = xor
    params = k.init_params(0)
    seen = {}

    def interrupt(epoch, history, current):
        if epoch == 2:
            seen.update({n: v.copy() for n, v in current.items()})
            raise KeyboardInterrupt

    history = train(k, params, XOR_X, XOR_Y, epochs=50, progress=False, callback=interrupt,
                    **XOR_SETTINGS)
    assert history.stopped_because == "interrupted" and history.epochs == 3
    assert all(np.array_equal(params[n], seen[n]) for n in params)
    assert "Ctrl-C" in history.reason


def test_divergence_keeps_last_finite_parameters():
    model = sp.mlp([1, 1], activation="identity", loss="half_sse")
    k = sp.compile(model)
    params = {"W1": np.array([[1.0]]), "b1": np.array([0.0])}
    X = np.linspace(-100, 100, 8)[:, None]
    history = train(k, params, X, 3 * X, lr=10.0, epochs=200, batch_size=8, progress=False)
    assert history.stopped_because == "diverged"
    assert all(np.all(np.isfinite(v)) for v in params.values())
    assert all(math.isfinite(v) for v in history.losses)


# ---------------------------------------------------------------- digits


def test_small_digits_run_reaches_sensible_accuracy(digits):
    model, k, data = digits
    params = k.init_params(0)
    history = train_on(k, params, data, lr=0.1, epochs=5, batch_size=32, seed=0,
                       progress=False)
    assert history.epochs == 5 and history.stopped_because == "epochs"
    assert history.losses[-1] < history.initial_loss / 3
    assert history.test_accuracies[-1] > 0.85
    assert len(history.test_losses) == len(history.accuracies) == 5


def test_save_then_load_gives_the_same_predictions(digits, tmp_path):
    model, k, data = digits
    params = k.init_params(3)
    train_on(k, params, data, lr=0.1, epochs=1, progress=False)
    path = save_params(tmp_path / "digits.npz", params, model, {"mean": np.zeros(64)})
    loaded, extra = load_params(path, model, with_extra=True)
    assert np.array_equal(k.forward(loaded, data.test.X), k.forward(params, data.test.X))
    assert extra["mean"].shape == (64,) and "sha256" in str(extra["meta"])


def test_load_checks_shapes_and_names(digits, tmp_path):
    model, k, _ = digits
    wrong = tmp_path / "wrong.npz"
    save_params(wrong, {**k.init_params(0), "W1": np.zeros((3, 3))})
    with pytest.raises(sp.SymbpropError, match=r"W1 has shape \(3, 3\).*needs \(32, 64\)"):
        load_params(wrong, model)
    xor_params = tmp_path / "xor.npz"
    save_params(xor_params, {"W1": np.zeros((2, 2))})
    with pytest.raises(sp.SymbpropError, match="missing b1, W2, b2"):
        load_params(xor_params, model)
    with pytest.raises(sp.SymbpropError, match="no such file"):
        load_params(tmp_path / "none.npz", model)


def test_failed_save_leaves_old_file_intact(tmp_path, monkeypatch):
    path = tmp_path / "params.npz"
    save_params(path, {"W1": np.ones((2, 2))})
    before = path.read_bytes()

    def broken_replace(src, dst):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(sp.SymbpropError, match="cannot write"):
        save_params(path, {"W1": np.zeros((2, 2))})
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["params.npz"]  # no temporary left


def test_history_plots_itself(tmp_path):
    history = History(losses=[1.0, 0.5, 0.2], accuracies=[0.5, 0.7, 0.9],
                      test_accuracies=[0.4, 0.6, 0.8], learning_rates=[0.1] * 3,
                      initial_loss=2.0)
    assert history.plot(tmp_path / "h.png").read_bytes()[:4] == b"\x89PNG"
    assert history.plot(tmp_path / "h.pdf").read_bytes()[:5] == b"%PDF-"


def test_plot_without_matplotlib_says_how_to_get_it(monkeypatch, tmp_path):
    import builtins

    real_import = builtins.__import__

    def no_matplotlib(name, *args, **kwargs):
        if name.startswith("matplotlib"):
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_matplotlib)
    with pytest.raises(sp.SymbpropError, match=r"pip install matplotlib"):
        History(losses=[1.0], initial_loss=2.0).plot(tmp_path / "x.png")


# ---------------------------------------------------------------- CLI


def test_cli_trains_xor_saves_and_plots(xor, tmp_path):
    saved, plot = tmp_path / "xor.npz", tmp_path / "xor.png"
    result = CliRunner().invoke(app, [
        "train", "examples:xor", "--data", "xor", "--epochs", "3000", "--lr", "5",
        "--batch-size", "4", "--seed", "1", "--tol", "1e-4", "--save", str(saved),
        "--plot", str(plot), "--no-progress"])
    assert result.exit_code == 0, result.output
    assert "train accuracy" in result.output and "100.00%" in result.output
    assert saved.exists() and plot.exists()
    model, k = xor
    params = load_params(saved, model)
    assert np.array_equal(np.round(k.forward(params, XOR_X)), XOR_Y)
    again = CliRunner().invoke(app, ["train", "examples:xor", "--data", "xor", "--epochs", "1",
                                     "--init", str(saved), "--no-progress"])
    assert again.exit_code == 0 and "100.00%" in again.output


def test_cli_ctrl_c_saves_then_exits_130(tmp_path, monkeypatch):
    import symbprop.training.loop as training

    real = training.train_on

    def interrupted_at_epoch_5(kernels, params, data, **options):
        def ctrl_c(epoch, history, current):
            if epoch == 5:
                raise KeyboardInterrupt
        return real(kernels, params, data, callback=ctrl_c, **options)

    monkeypatch.setattr(training, "train_on", interrupted_at_epoch_5)
    saved = tmp_path / "xor.npz"
    result = CliRunner().invoke(app, ["train", "examples:xor", "--data", "xor", "--epochs", "50",
                                      "--save", str(saved), "--no-progress"])
    assert result.exit_code == 130, result.output
    assert "interrupted (Ctrl-C)" in result.output and "epochs run        6" in result.output
    assert saved.exists()


def test_cli_init_with_wrong_shapes_exits_2(tmp_path):
    path = tmp_path / "p.npz"
    save_params(path, {"W1": np.zeros((2, 2)), "b1": np.zeros(2)})
    result = CliRunner().invoke(app, ["train", "examples:xor", "--data", "xor", "--init",
                                      str(path)])
    assert result.exit_code == 2 and "missing W2, b2" in result.output


def test_cli_refuses_several_rates_for_a_network():
    result = CliRunner().invoke(app, ["train", "examples:xor", "--data", "xor", "--lr", "1",
                                      "--lr", "2"])
    assert result.exit_code == 2 and "one learning rate" in result.output


# ------------------------------------------------ CLI: paths checked first, plain output


@pytest.mark.parametrize("option, name, expected", [
    ("--plot", "x.xyz", "--plot {path}: unknown suffix '.xyz'; allowed: .png, .pdf, .svg"),
    ("--plot", "dir/", "--plot {path}: ends in '/', so it names a folder, and no such folder"),
    ("--save", "dir/", "--save {path}: ends in '/', so it names a folder, and no such folder"),
    ("--save", "params.npy", "--save {path}: unknown suffix '.npy'; allowed: .npz"),
    ("--save", "afile/x.npz", "cannot write ({tmp}/afile is not a directory)"),
    ("--plot", "afile/sub/x.png", "cannot write ({tmp}/afile is not a directory)"),
])
def test_cli_checks_output_paths_before_training(tmp_path, option, name, expected):
    (tmp_path / "afile").write_text("a regular file")
    path = f"{tmp_path}/{name}"
    result = CliRunner().invoke(app, ["train", "examples:xor", "--data", "xor", "--epochs", "2",
                                      option, path])
    assert result.exit_code == 2, result.output
    assert expected.format(path=path, tmp=tmp_path) in result.output
    assert "train loss" not in result.output and "epoch" not in result.output  # nothing ran
    assert sorted(p.name for p in tmp_path.iterdir()) == ["afile"]


def test_cli_output_is_not_wrapped_when_not_a_terminal():
    result = CliRunner().invoke(app, [
        "train", "examples:iris_4_16_3", "--data", "iris", "--standardize", "--epochs", "2",
        "--batch-size", "16", "--schedule", "inverse", "--lr", "0.2", "--decay", "0.05"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert ("iris_4_16_3 on iris: 120 training samples / 30 held out; batch 16; inverse "
            "η/(1 + k·e), η = 0.2, k = 0.05") in lines
    assert any(line.startswith("  wall time") and line.endswith("load the kernels)")
               for line in lines)
    assert all(line == line.rstrip() for line in lines)
    bar = [line for line in lines if line.startswith("epoch 2/2")]  # drawn once, whole
    assert len(bar) == 1
    assert re.search(r"loss \S+  acc \S+%  test \S+%  η 0.19 \d:\d\d:\d\d \d:\d\d:\d\d$", bar[0])


def _readme_permutation(n: int, seed: int, epoch: int) -> list[int]:
    """The shuffle as the README states it, in Python integers: the oracle for the kernels'."""
    mask, golden = 2**64 - 1, 0x9E3779B97F4A7C15
    state = (seed * golden & mask) ^ (epoch * 0xD1B54A32D192ED03 & mask)
    order = list(range(n))
    for p in range(n - 1, 0, -1):
        state = (state + golden) & mask
        z = state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & mask
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & mask
        z ^= z >> 31
        q = z % (p + 1)
        order[p], order[q] = order[q], order[p]
    return order


@pytest.mark.parametrize("seed, epoch", [(0, 0), (1, 7), (2**63 - 1, 12345)])
def test_the_shuffle_is_the_one_the_readme_states(xor, seed, epoch):
    _, kernels = xor
    order = np.empty(37, np.int64)
    kernels.module._permutation(order, seed, epoch)
    assert order.tolist() == _readme_permutation(37, seed, epoch)


def test_complex_or_masked_parameters_are_refused_on_load_and_save(xor, tmp_path):
    model, kernels = xor
    params = kernels.init_params(seed=0)
    file = tmp_path / "c.npz"
    np.savez(file, **{**params, "W1": params["W1"] + 1j})
    with pytest.raises(sp.SymbpropError, match=r"c.npz: W1 holds complex numbers \(complex128\)"):
        load_params(file, model)
    with pytest.raises(sp.SymbpropError, match=r"params\['b1'\] holds complex numbers"):
        save_params(tmp_path / "s.npz", {**params, "b1": params["b1"] + 0j}, model)
    masked = np.ma.masked_array(params["W1"], mask=[[0, 1], [0, 0]])
    with pytest.raises(sp.SymbpropError, match=r"params\['W1'\] is a masked array"):
        save_params(tmp_path / "s.npz", {**params, "W1": masked}, model)
    assert not (tmp_path / "s.npz").exists()
