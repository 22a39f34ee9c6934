"""Training speed: ``symbprop train`` against the same loop written in plain PyTorch.

    python benchmarks/train_digits.py [--epochs 30] [--lr 0.1] [--batch-size 32] [--seed 0]
                                      [--repeats 3] [--threads N|auto] [--no-cli]

1. digits, 64-32-10 relu + softmax cross-entropy, mini-batch SGD with the same epochs, batch size,
   learning rate, initial weights (``k.init_params(seed)``) and held-out split:
   - symbprop: ``symbprop.training.loop.train_on`` — what ``symbprop train`` runs, including its
     per-epoch loss and accuracy on the full training and held-out sets, without the bar;
   - the same run end to end as a command (``python -m symbprop train``: start-up, imports,
     kernels from the cache, training, summary);
   - PyTorch (``torch.set_num_threads`` with the count the kernels' BLAS runs: ``--threads``,
     or what ``auto`` picks, one thread for this net): ``nn.Linear``/``ReLU``/``CrossEntropyLoss``/
     ``optim.SGD``, shuffled mini-batches, in float64 (the dtype of the kernels) and float32;
2. XOR, 2-2-1 sigmoid, half_sse: wall time until the loss is below 0.01 (target: within 1 s);
3. time per sample-step (one sample's forward + backward + update inside an SGD step) of the
   fused generated ``train`` loop and of the PyTorch loop.

Wall times are medians over ``--repeats`` runs, after one warm-up run (Numba's JIT and cache
loading are reported separately: they happen once per process).
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import symbprop as sp  # noqa: E402
from symbprop.bench.machine import machine_lines  # noqa: E402
from symbprop.runtime.threads import blas_threads, parse_threads  # noqa: E402
from symbprop.training.data import load_data  # noqa: E402
from symbprop.training.loop import train, train_on  # noqa: E402


def median_time(function, repeats: int):
    """(median seconds, last result) over ``repeats`` calls."""
    times, result = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        result = function()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def thread_count(kernels) -> int:
    """The BLAS thread count ``kernels`` run with (``--threads``, or what auto chose, else the
    BLAS's own count): the count PyTorch gets, so that both sides use as many threads."""
    return kernels.threads or blas_threads() or 1


# ---------------------------------------------------------------- symbprop


def symbprop_digits(args, model, data):
    started = time.perf_counter()
    k = sp.compile(model, threads=args.threads)
    train_on(k, k.init_params(args.seed), data, lr=args.lr, epochs=1,
             batch_size=args.batch_size, seed=args.seed, progress=False)  # JIT / cache load
    first = time.perf_counter() - started

    def run():
        return train_on(k, k.init_params(args.seed), data, lr=args.lr, epochs=args.epochs,
                        batch_size=args.batch_size, seed=args.seed, progress=False)

    seconds, history = median_time(run, args.repeats)
    theta = k.flatten(k.init_params(args.seed))
    X, Y = data.train.X, data.train.Y
    fused, _ = median_time(lambda: k.module.train(theta, X, Y, args.lr, args.epochs,
                                                  args.batch_size, args.seed, 0), args.repeats)
    return {"seconds": seconds, "accuracy": history.test_accuracies[-1], "first": first,
            "fused": fused, "loss": history.losses[-1], "strategy": k.strategy,
            "threads": thread_count(k)}


def symbprop_cli(args):
    command = [sys.executable, "-m", "symbprop", "train", "examples:digits_64_32_10", "--data",
               "digits", "--epochs", str(args.epochs), "--lr", str(args.lr), "--batch-size",
               str(args.batch_size), "--seed", str(args.seed), "--no-progress", "--threads",
               "auto" if args.threads is None else str(args.threads)]
    env = {**os.environ, "PYTHONPATH": str(ROOT), "COLUMNS": "120"}
    start = time.perf_counter()
    result = subprocess.run(command, capture_output=True, text=True, env=env, check=True)
    seconds = time.perf_counter() - start
    match = re.search(r"test accuracy\s+([\d.]+)%", result.stdout)
    return seconds, float(match.group(1)) / 100 if match else float("nan")


# ---------------------------------------------------------------- PyTorch


def torch_digits(args, model, data, dtype_name: str, threads: int):
    import torch

    torch.set_num_threads(threads)
    dtype = getattr(torch, dtype_name)
    init = sp.compile(model).init_params(args.seed)
    X = torch.tensor(data.train.X, dtype=dtype)
    y = torch.tensor(data.train.labels)
    X_test = torch.tensor(data.test.X, dtype=dtype)

    def run():
        net = torch.nn.Sequential(torch.nn.Linear(64, 32), torch.nn.ReLU(),
                                  torch.nn.Linear(32, 10)).to(dtype)
        with torch.no_grad():
            for layer, number in ((net[0], 1), (net[2], 2)):
                layer.weight.copy_(torch.tensor(init[f"W{number}"]))
                layer.bias.copy_(torch.tensor(init[f"b{number}"]))
        optimiser = torch.optim.SGD(net.parameters(), lr=args.lr)
        loss_function = torch.nn.CrossEntropyLoss()
        generator = torch.Generator().manual_seed(args.seed)
        for _ in range(args.epochs):
            order = torch.randperm(len(X), generator=generator)
            for start in range(0, len(X), args.batch_size):
                rows = order[start:start + args.batch_size]
                optimiser.zero_grad()
                loss = loss_function(net(X[rows]), y[rows])
                loss.backward()
                optimiser.step()
        with torch.no_grad():
            predicted = net(X_test).argmax(dim=1).numpy()
        return float(np.mean(predicted == data.test.labels))

    run()  # warm-up
    seconds, accuracy = median_time(run, args.repeats)
    return {"seconds": seconds, "accuracy": accuracy}


def torch_xor_step_time(threads: int, steps: int = 2000) -> float:
    """Seconds per SGD step of a 2-2-1 sigmoid net on the 4 XOR samples in PyTorch, with
    ``threads`` threads."""
    import torch

    torch.set_num_threads(threads)
    X = torch.tensor([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]], dtype=torch.float64)
    Y = torch.tensor([[0.0], [1.0], [1.0], [0.0]], dtype=torch.float64)
    net = torch.nn.Sequential(torch.nn.Linear(2, 2), torch.nn.Sigmoid(), torch.nn.Linear(2, 1),
                              torch.nn.Sigmoid()).double()
    optimiser = torch.optim.SGD(net.parameters(), lr=5.0)
    start = time.perf_counter()
    for _ in range(steps):
        optimiser.zero_grad()
        loss = 0.5 * ((net(X) - Y) ** 2).sum(dim=1).mean()
        loss.backward()
        optimiser.step()
    return (time.perf_counter() - start) / steps


# ---------------------------------------------------------------- XOR


def xor(args, threads: int):
    model = sp.load("examples:xor")
    k = sp.compile(model, threads=args.threads)
    X = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    Y = np.array([[0.0], [1.0], [1.0], [0.0]])
    settings = {"lr": 5.0, "batch_size": 4, "seed": 1, "progress": False}
    train(k, k.init_params(1), X, Y, epochs=1, **settings)  # JIT / cache load

    def converge():
        return train(k, k.init_params(1), X, Y, epochs=100_000,
                     callback=lambda epoch, h, p: h.losses[-1] < 0.01, **settings)

    seconds, history = median_time(converge, args.repeats)
    theta = k.flatten(k.init_params(1))
    k.module.train(theta, X, Y, 5.0, 1, 4, 1, 0)
    fused, _ = median_time(lambda: k.module.train(theta, X, Y, 5.0, 10_000, 4, 1, 0),
                           args.repeats)
    return {"seconds": seconds, "epochs": history.epochs, "loss": history.final_loss,
            "ns_per_sample_step": fused / (10_000 * 4) * 1e9,
            "torch_ns_per_sample_step": torch_xor_step_time(threads) / 4 * 1e9}


# ---------------------------------------------------------------- report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--lr", type=float, default=0.1)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=parse_threads, default=None, metavar="N|auto",
                        help="BLAS threads of the kernels (sp.compile's threads=; default "
                             "auto) and PyTorch's thread count (the kernels' count)")
    parser.add_argument("--no-cli", action="store_true", help="skip the end-to-end command run")
    args = parser.parse_args()
    try:
        import torch  # noqa: F401
    except ImportError:
        sys.exit("train_digits.py compares symbprop with a PyTorch loop, and torch is not "
                 'installed: pip install -e ".[bench]"  (torch==2.13.0 CPU build, jax[cpu])')

    model = sp.load("examples:digits_64_32_10")
    data = load_data(model, "digits", seed=args.seed)
    ours = symbprop_digits(args, model, data)
    torch64 = torch_digits(args, model, data, "float64", ours["threads"])
    torch32 = torch_digits(args, model, data, "float32", ours["threads"])
    cli = None if args.no_cli else symbprop_cli(args)
    xor_result = xor(args, ours["threads"])

    samples = args.epochs * len(data.train)
    print("\n".join(machine_lines()))
    print(f"digits 64-32-10 relu/softmax-CE: {len(data.train)} training / {len(data.test)} "
          f"held-out samples, {args.epochs} epochs, batch {args.batch_size}, lr {args.lr}, "
          f"seed {args.seed}; median of {args.repeats}; {ours['threads']} BLAS and PyTorch "
          f"thread{'' if ours['threads'] == 1 else 's'}")
    print()
    print("| run | wall time | test accuracy | per sample-step | vs symbprop train |")
    print("|---|---:|---:|---:|---:|")
    rows = [
        (f"symbprop train (kernels: {ours['strategy']}, with per-epoch evaluation)",
         ours["seconds"], ours["accuracy"]),
        ("  fused generated `train` alone (no evaluation)", ours["fused"], None),
        ("PyTorch loop, float64", torch64["seconds"], torch64["accuracy"]),
        ("PyTorch loop, float32", torch32["seconds"], torch32["accuracy"]),
    ]
    if cli is not None:
        rows.append(("`python -m symbprop train` end to end (start-up, imports, cached kernels)",
                     cli[0], cli[1]))
    for name, seconds, accuracy in rows:
        shown = "" if accuracy is None else f"{accuracy:.2%}"
        print(f"| {name} | {seconds:.3f} s | {shown} | {seconds / samples * 1e9:,.0f} ns | "
              f"{seconds / ours['seconds']:.1f}× |")
    print()
    print(f"first run in this process (kernel JIT or cache load + 1 epoch): {ours['first']:.2f} s")
    print(f"PyTorch float64 / symbprop train: {torch64['seconds'] / ours['seconds']:.1f}× "
          f"(target ≥ 3×); test accuracy {ours['accuracy']:.2%} (target ≥ 95%)")
    print()
    print(f"XOR 2-2-1 sigmoid (lr 5, batch 4, seed 1): loss {xor_result['loss']:.4f} < 0.01 "
          f"after {xor_result['epochs']} epochs in {xor_result['seconds'] * 1e3:.1f} ms "
          f"(target < 1 s)")
    print(f"XOR fused train, 10 000 epochs: {xor_result['ns_per_sample_step']:.0f} ns per "
          f"sample-step; PyTorch: {xor_result['torch_ns_per_sample_step']:,.0f} ns "
          f"({xor_result['torch_ns_per_sample_step'] / xor_result['ns_per_sample_step']:,.0f}×)")


if __name__ == "__main__":
    main()
