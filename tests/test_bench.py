"""The benchmark's peers compute the same loss and gradients as the kernels (so the timings
compare like with like), and ``symbprop bench`` runs."""

from __future__ import annotations

import numpy as np
import pytest
from typer.testing import CliRunner

import symbprop as sp
from symbprop.bench import peers
from symbprop.bench.timing import bench, matmul_flops, sample_data
from symbprop.cli.app import app

MODELS = ["examples:two_two_one", "examples:iris_4_16_3", "examples:xor"]
#: Measurements per implementation in these tests: the fewest allowed (they check what the rows
#: and the table say, not the times).
QUICK = 3


def test_a_measurement_takes_the_first_of_1_2_5_10_calls_that_lasts_long_enough(monkeypatch):
    from symbprop.bench import timing

    class Timer:  # 1 ms a call
        def timeit(self, number):
            return number * 1e-3

    monkeypatch.setattr(timing, "MEASURE_SECONDS", 0.1)
    assert timing.calls_per_measurement(Timer()) == 100
    monkeypatch.setattr(timing, "MEASURE_SECONDS", 0.03)
    assert timing.calls_per_measurement(Timer()) == 50
    monkeypatch.setattr(timing, "MEASURE_SECONDS", 1e-4)
    assert timing.calls_per_measurement(Timer()) == 1


def _flat(grads_pairs) -> np.ndarray:
    return np.concatenate(
        [np.ravel(np.asarray(g, dtype=float)) for pair in grads_pairs for g in pair]
    )


@pytest.mark.parametrize("spec", MODELS)
@pytest.mark.parametrize("peer", ["numpy", "torch", "jax"])
def test_peers_agree_with_the_kernels(spec, peer):
    model = sp.load(spec)
    k = sp.compile(model)
    params = k.init_params(seed=2)
    X, Y = sample_data(model, 5, "float64", seed=1)
    loss, grads = k.loss_and_grad(params, X, Y)
    make = {"numpy": peers.make_numpy, "torch": peers.make_torch, "jax": peers.make_jax}[peer]
    run = make(model, params, X, Y) if peer == "numpy" else make(model, params, X, Y, "float64")
    if run is None:
        pytest.skip(f'{peer} is not installed (the bench extra: pip install -e ".[bench]")')
    peer_loss, peer_grads = run()
    if peer == "numpy":  # output layer first
        peer_grads = list(reversed(peer_grads))
    elif peer == "torch":
        peer_grads = [
            (peer_grads[i].detach().numpy(), peer_grads[i + 1].detach().numpy())
            for i in range(0, len(peer_grads), 2)
        ]
    ours = np.concatenate([np.ravel(grads[n]) for n in k.names])
    assert float(peer_loss) == pytest.approx(loss, rel=1e-10)
    np.testing.assert_allclose(_flat(peer_grads), ours, rtol=1e-8, atol=1e-12)


def test_bench_rows_and_flops():
    model = sp.load("examples:two_two_one")
    rows = bench(model, batches=(1,), with_peers=False, repeat=QUICK)
    assert [r.impl for r in rows] == ["symbprop", "symbprop (dicts)", "symbprop (dicts, out=)"]
    assert rows[0].ratio is None and rows[1].ratio > 0
    assert matmul_flops(sp.mlp([784, 128, 10]), 1) == 2.0 * (2 * (784 * 128 + 128 * 10) + 128 * 10)


def test_bench_command():
    result = CliRunner().invoke(
        app, ["bench", "examples:two_two_one", "--batch", "1", "--no-peers", "--repeat", "3"]
    )
    assert result.exit_code == 0 and "symbprop" in result.output
    assert CliRunner().invoke(app, ["bench", "examples:nope"]).exit_code == 2


def test_bench_times_a_graphs_kernels():
    rows = bench(sp.load("examples:staged"), batches=(1, 64), with_peers=True, repeat=QUICK)
    assert [r.impl for r in rows] == ["symbprop", "symbprop (dicts)"]  # no batch, no peers
    assert all(r.seconds > 0 and r.net == "staged" for r in rows)
    assert rows[0].ratio is None and rows[1].ratio > 0


def test_bench_command_on_a_graph():
    result = CliRunner().invoke(app, ["bench", "examples:staged", "--batch", "1", "--no-peers",
                                        "--repeat", "3"])
    assert result.exit_code == 0, result.output
    assert "symbprop (dicts)" in result.output and "Traceback" not in result.output
    assert "staged is a graph" in result.output and "networks only" in result.output


@pytest.mark.parametrize("batch", [0, -3, 2.5, True])
def test_bench_refuses_a_batch_below_1(batch):
    with pytest.raises(sp.SymbpropError, match="batch: must be an integer ≥ 1"):
        bench(sp.load("examples:two_two_one"), batches=(batch,), with_peers=False)


@pytest.mark.parametrize("repeat", [2, 0, 3.5, True])
def test_bench_refuses_fewer_than_3_measurements(repeat):
    with pytest.raises(sp.SymbpropError, match="repeat: must be an integer ≥ 3"):
        bench(sp.load("examples:two_two_one"), batches=(1,), with_peers=False, repeat=repeat)
    result = CliRunner().invoke(app, ["bench", "examples:two_two_one", "--repeat", "2"])
    assert result.exit_code == 2 and "must be at least 3, got 2" in result.output


def test_repeat_is_the_number_of_measurements(monkeypatch):
    from symbprop.bench import timing as bench_module

    counts: list[int] = []
    real_summary = bench_module.summary
    monkeypatch.setattr(bench_module, "summary",
                        lambda values: counts.append(len(values)) or real_summary(values))
    bench(sp.load("examples:two_two_one"), batches=(1,), with_peers=False, repeat=4)
    assert counts == [4, 4, 4]  # ours, dicts, dicts with out=


def test_every_implementation_is_warmed_up_then_timed_by_a_low_percentile(monkeypatch):
    """Untimed calls first (JIT, first touch of buffers), then a low percentile of ≥ 7
    measurements, with its spread; no assertion on the times themselves."""
    import timeit

    from symbprop.bench import timing as bench_module

    real_summary = bench_module.summary
    calls: list[int] = []
    before_timing: list[int] = []
    measurements: list[int] = []

    class Timer(timeit.Timer):
        def __init__(self, stmt, *args, **kwargs):
            before_timing.append(len(calls))
            super().__init__(stmt, *args, **kwargs)

    def summary(values):
        values = list(values)
        measurements.append(len(values))
        return real_summary(values)

    monkeypatch.setattr(bench_module.timeit, "Timer", Timer)
    monkeypatch.setattr(bench_module, "summary", summary)
    assert bench_module.time_call(lambda: calls.append(1)) > 0
    assert before_timing and before_timing[0] >= 5
    assert measurements == [bench_module.REPEAT] and bench_module.REPEAT >= 7
    assert bench_module.summary([4.0, 1.0, 2.0, 3.0, 5.0]) == pytest.approx((1.8, 4.2 / 1.8))


def test_the_samples_of_the_implementations_are_interleaved():
    order: list[str] = []
    from symbprop.bench.timing import time_calls

    results = time_calls([lambda: order.append("a"), lambda: order.append("b")], repeat=3)
    assert len(results) == 2 and all(low > 0 and spread >= 1 for low, spread in results)
    runs = "".join(order).replace("aa", "a").replace("bb", "b")  # calls within a measurement
    while "aa" in runs or "bb" in runs:
        runs = runs.replace("aa", "a").replace("bb", "b")
    assert runs.count("ab") >= 3  # a round of a, then b, three times (after the warm-ups)


def test_bench_rows_carry_the_thread_count_of_the_kernels_blas():
    from symbprop.runtime.threads import blas_threads

    rows = bench(sp.load("examples:two_two_one"), batches=(1,), with_peers=False, threads=2,
                 repeat=QUICK)
    assert {r.threads for r in rows} == {2} and blas_threads() == 2
    rows = bench(sp.load("examples:two_two_one"), batches=(1,), with_peers=False, repeat=QUICK)
    assert {r.threads for r in rows} == {2}  # auto: an unrolled net (no BLAS) leaves it
    rows = bench(sp.load("examples:iris_4_16_3"), batches=(8,), with_peers=False, threads=1,
                 repeat=QUICK)
    assert {r.threads for r in rows} == {1} and blas_threads() == 1


def test_bench_command_prints_the_machine():
    result = CliRunner().invoke(app, ["bench", "examples:two_two_one", "--batch", "1",
                                      "--no-peers", "--threads", "1", "--threads", "2",
                                      "--repeat", "3"])
    assert result.exit_code == 0, result.output
    for text in ("CPU: ", "cores", "SIMD: ", "load average", "the kernels' np.dot",
                 "BLAS threads: 1", "BLAS threads: 2", "20th percentile of 3,", "spread"):
        assert text in result.output, text  # of the 3 measurements asked for, not the default


@pytest.mark.parametrize("path, who", [
    ("/v/lib/python3.11/site-packages/numpy.libs/libscipy_openblas64_-32a4.so", "NumPy"),
    ("/v/lib/python3.11/site-packages/torch/lib/libgomp-a34b3233.so.1", "torch"),
    ("/v/lib/python3.11/site-packages/scipy.libs/libscipy_openblas-6cdc.so", "scipy"),
    ("/usr/lib/x86_64-linux-gnu/libgomp.so.1", "x86_64-linux-gnu"),
])
def test_a_library_line_names_the_package_that_brought_it(path, who):
    from symbprop.bench.machine import owner

    assert owner(path) == who


@pytest.mark.parametrize("arguments, message", [
    (["--net", "examples:nope"], "--net: examples:nope: no such example"),
    (["--net", "missing.yaml"], "--net: missing.yaml: no such file"),
    (["--runs", "0"], "--runs: must be at least 1, got 0"),
])
def test_second_process_benchmark_refuses_bad_arguments_in_one_line(arguments, message, tmp_path):
    """``benchmarks/second_process.py`` checks its net and run count before it starts a child:
    exit status 2, argparse's usage line and one error line naming the option, no traceback,
    nothing left in the folder."""
    import subprocess
    import sys
    from pathlib import Path

    script = Path(__file__).resolve().parent.parent / "benchmarks" / "second_process.py"
    result = subprocess.run([sys.executable, str(script), *arguments], cwd=tmp_path,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 2 and result.stdout == ""
    usage, error = result.stderr.strip().splitlines()
    assert usage.startswith("usage: second_process.py")
    assert error.startswith(f"second_process.py: error: {message}")
    assert "Traceback" not in result.stderr and list(tmp_path.iterdir()) == []
