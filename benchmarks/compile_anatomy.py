"""Where one net's first compile goes (issue 20): every function Numba compiles, and the passes.

    python benchmarks/compile_anatomy.py [--net 4,10,10,3] [--strategy looped] [--used]

One fresh Python process, with an empty symbprop cache and an empty Numba cache (``--used``:
Numba's cache of the shared helpers and input checks is filled by another net first, as on a
machine that compiled a net before), compiles a tanh + softmax cross-entropy net (or
a bundled network, ``--net examples:NAME``) and makes the first ``loss_and_grad`` call.  Prints:

- each function Numba compiled during that call, indented under the function whose compile
  needed it, with its seconds (a function loaded from Numba's cache shows about 0);
- for the net's ``loss_and_grad_into``: the seconds of Numba's own passes (type inference,
  which includes compiling the functions it calls, and lowering, which includes LLVM) and of
  LLVM's (``NUMBA_LLVM_PASS_TIMINGS``): the function passes over the body alone, the full
  optimisation of the final module (the body and every compiled callee linked into it) and
  machine code ("Finalize object").

The child runs with ``SYMBPROP_PARALLEL_COMPILE=0``: on a machine's first looped net,
``sp.compile`` would otherwise compile the shared helpers and the input check before the first
call, half of them in a second process (``symbprop.runtime.first_compile``), and they would not
show here.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from symbprop.bench.machine import machine_lines

ROOT = Path(__file__).resolve().parent.parent

CHILD = r"""
import json, sys, time
import numpy as np
from numba.core import dispatcher
compiled, depth = [], [0]
original = dispatcher.Dispatcher.compile
def compile(self, sig):
    entry = [depth[0], self.py_func.__qualname__, 0.0]
    compiled.append(entry)  # in the order the compiles start: a caller before its callees
    depth[0] += 1
    start = time.perf_counter()
    try:
        return original(self, sig)
    finally:
        depth[0] -= 1
        entry[2] = time.perf_counter() - start
dispatcher.Dispatcher.compile = compile
import symbprop as sp
net, strategy = sys.argv[1], sys.argv[2]
spec = net if net.startswith("examples:") else sp.mlp(
    json.loads(net), activation="tanh", loss="softmax_cross_entropy")
k = sp.compile(spec, strategy=strategy)
params, rng = k.init_params(seed=0), np.random.default_rng(0)
X = rng.normal(size=(8, k.model.inputs))
Y = np.eye(k.model.sizes[-1])[rng.integers(0, k.model.sizes[-1], 8)]
start = time.perf_counter()
k.loss_and_grad(params, X, Y)
first = time.perf_counter() - start
kernel = k.module.loss_and_grad_into
meta = kernel.get_metadata(kernel.signatures[0])
passes = {name: t.run for name, t in meta["pipeline_times"]["nopython"].items()}
def what(name):
    if " on " not in name:
        return name
    target = name.split(" on ", 1)[1]
    part = ("its CPython wrapper" if "cpython" in target[:20]
            else "its C wrapper" if target.startswith("'cfunc") else "the body")
    return name.split(" on ")[0] + " on " + part
llvm = [(what(r.name), r.timings.get_total_time()) for r in meta.get("llvm_pass_timings") or []]
print(json.dumps({"first": first, "strategy": k.strategy, "compiled": compiled,
                  "passes": passes, "llvm": llvm}))
"""


def run(net: str, strategy: str, numba_cache: str, symbprop_cache: str) -> dict:
    env = dict(os.environ, SYMBPROP_CACHE_DIR=symbprop_cache, NUMBA_CACHE_DIR=numba_cache,
               NUMBA_LLVM_PASS_TIMINGS="1", SYMBPROP_PARALLEL_COMPILE="0",
               PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT),
                                                        os.environ.get("PYTHONPATH")])))
    result = subprocess.run([sys.executable, "-c", CHILD, net, strategy], env=env,
                            capture_output=True, text=True, check=True)
    return json.loads(result.stdout.splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--net", default="4,10,10,10,10,10,10,10,10,10,3",
                        help="layer sizes, comma-separated, or examples:NAME")
    parser.add_argument("--strategy", default="auto", help="auto, unrolled or looped")
    parser.add_argument("--used", action="store_true",
                        help="fill Numba's cache with another net's compile first")
    args = parser.parse_args()
    net = args.net if args.net.startswith("examples:") else json.dumps(
        [int(size) for size in args.net.split(",")])
    print("\n".join(machine_lines()), flush=True)
    with tempfile.TemporaryDirectory(prefix="symbprop-anatomy-") as folder:
        numba_cache = os.path.join(folder, "numba")
        if args.used:
            run("[3, 40, 2]", "looped", numba_cache, os.path.join(folder, "other"))
            run("examples:xor", "auto", numba_cache, os.path.join(folder, "other"))
        record = run(net, args.strategy, numba_cache, os.path.join(folder, "symbprop"))
    machine = "used machine" if args.used else "fresh machine"
    print(f"{args.net} ({record['strategy']}), {machine}: first loss_and_grad "
          f"{record['first']:.2f} s")
    print("functions compiled (seconds, each including those indented under it):")
    for depth, name, seconds in record["compiled"]:
        if seconds >= 0.005:
            print(f"  {'  ' * depth}{name} {seconds:.3f}")
    print("loss_and_grad_into, Numba's passes (seconds; type inference includes compiling the "
          "functions it calls):")
    for name, seconds in sorted(record["passes"].items(), key=lambda item: -item[1])[:4]:
        print(f"  {name.split('_', 1)[1]:28s} {seconds:.3f}")
    print("loss_and_grad_into, LLVM (seconds):")
    for name, seconds in record["llvm"]:
        print(f"  {name:50s} {seconds:.3f}")
    print(f"load average (1 min) after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
