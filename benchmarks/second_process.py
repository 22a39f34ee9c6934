"""Where a second process's time goes (issue 20, item 1): caches warm, one fresh process per run.

    python benchmarks/second_process.py [--net examples:iris_4_16_3] [--runs 7]

The net is compiled once first (into a temporary symbprop and Numba cache, kept for the runs).
Each run, a fresh Python, times in order: ``import numpy``, ``import symbprop``, ``import
numba`` (which ``sp.compile`` imports anyway), ``sp.compile``, Numba's one-time initialisation
(the target context's ``refresh``, which the first call of any compiled function triggers,
loading a cached one too: it imports Numba's typing and lowering registries and, through
``numba.np.arraymath``, SciPy's BLAS table, loaded without the rest of ``scipy.linalg`` by
``symbprop.runtime.scipy_blas`` when ``sp.compile`` returns), the first ``loss_and_grad``
(the functions it calls, loaded from Numba's cache) and the second.  Prints the median
[min–max] of the wall and the CPU seconds of each phase (on a busy shared machine the wall
time grows with the load and the CPU time much less), and whether SymPy was imported.  A
graph (``--net examples:staged``) is called at its initial parameters.
``PYTHONDONTWRITEBYTECODE`` is honoured as it is set: without bytecode files every symbprop
module (and the generated one) is compiled from its source in every process.

Then the floor, from the shell: the wall time of whole processes, start and exit included, run
interleaved: Python doing nothing; the smallest Numba program that calls a cached compiled
function using ``np.dot`` (five lines, no symbprop), once with SciPy's BLAS table imported the
usual way and once loaded alone as ``symbprop.runtime.scipy_blas`` does; and the net's second
process (the timed child above: ``sp.compile`` and two ``loss_and_grad``).  The difference
between the last two is what symbprop itself costs a second process.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import symbprop as sp
from symbprop.bench.machine import machine_lines
from symbprop.errors import SymbpropError

ROOT = Path(__file__).resolve().parent.parent

CHILD = r"""
import json, sys, time
marks, out = [(time.perf_counter(), time.process_time())], {}
def mark(name):
    now = (time.perf_counter(), time.process_time())
    out[name] = [now[0] - marks[-1][0], now[1] - marks[-1][1]]
    marks.append(now)
import numpy as np; mark("import numpy")
import symbprop as sp; mark("import symbprop")
import numba; mark("import numba")
k = sp.compile(sys.argv[1]); mark("sp.compile")
params = k.init_params(seed=0)
if hasattr(k, "constants"):  # a graph: its values only (k.model would parse the spec)
    params.update({name: 0.5 for name in k.constants})
    data = ()
else:
    m, rng = k.model, np.random.default_rng(0)
    data = (rng.normal(size=(8, m.inputs)),
            np.eye(m.sizes[-1])[rng.integers(0, m.sizes[-1], 8)])
from numba.core.registry import cpu_target
mark("params and data")
cpu_target.target_context.refresh(); mark("Numba's one-time init")
k.loss_and_grad(params, *data); mark("first loss_and_grad (cache loads)")
k.loss_and_grad(params, *data); mark("second loss_and_grad")
out["sympy imported"] = "sympy" in sys.modules
print(json.dumps(out))
"""

#: The floor: a cached Numba function that calls ``np.dot``, with nothing of symbprop's.
#: ``{blas}`` is replaced by how SciPy's BLAS table is loaded.
FLOOR = """
import numpy as np
{blas}
from numba import njit
@njit(cache=True)
def f(a, b):
    return np.dot(a, b).sum()
f(np.ones((8, 4)), np.ones((4, 16)))
"""
#: ``symbprop.runtime.scipy_blas`` loaded from its file, without the ``symbprop`` package.
ALONE = """
import importlib.util
spec = importlib.util.spec_from_file_location("scipy_blas", {path!r})
module = importlib.util.module_from_spec(spec); spec.loader.exec_module(module); module.load()
"""


def _environment(folder: str) -> dict:
    """The children's environment: symbprop's and Numba's caches in ``folder``, this
    checkout's symbprop first on the path."""
    return dict(os.environ, SYMBPROP_CACHE_DIR=os.path.join(folder, "symbprop"),
                NUMBA_CACHE_DIR=os.path.join(folder, "numba"),
                PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT),
                                                         os.environ.get("PYTHONPATH")])))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--net", default="examples:iris_4_16_3", help="a spec: network or graph")
    parser.add_argument("--runs", type=int, default=7, help="fresh processes (default 7)")
    args = parser.parse_args()
    if args.runs < 1:
        parser.error(f"--runs: must be at least 1, got {args.runs}")
    try:
        sp.load(args.net)
    except SymbpropError as err:
        parser.error(f"--net: {err}")
    print("\n".join(machine_lines()), flush=True)
    with tempfile.TemporaryDirectory(prefix="symbprop-second-") as cache:
        env = _environment(cache)

        def child() -> dict:
            result = subprocess.run([sys.executable, "-c", CHILD, args.net], env=env,
                                    capture_output=True, text=True, check=True)
            return json.loads(result.stdout.splitlines()[-1])

        child()  # the first process: derives, generates and compiles
        runs = [child() for _ in range(args.runs)]
    sympy = {run.pop("sympy imported") for run in runs}
    print(f"{args.net}, {args.runs} second processes; median [min-max] seconds; SymPy "
          f"imported: {' or '.join(map(str, sorted(sympy)))}")
    print(f"{'phase':42s} {'wall':>20s} {'CPU':>20s}")
    totals = [{name: sum(run[p][i] for p in run) for i, name in enumerate(("wall", "cpu"))}
              for run in runs]
    for phase in [*runs[0], "total"]:
        cells = []
        for index, name in enumerate(("wall", "cpu")):
            values = ([t[name] for t in totals] if phase == "total"
                      else [run[phase][index] for run in runs])
            cells.append(f"{statistics.median(values):6.3f} [{min(values):.3f}-"
                         f"{max(values):.3f}]")
        print(f"{phase:42s} {cells[0]:>20s} {cells[1]:>20s}")
    print(f"load average (1 min) after: {os.getloadavg()[0]:.2f}")
    floor(args.net, args.runs)


def floor(net: str, runs: int) -> None:
    """Print the shell's wall time of whole processes: Python alone, Numba's floor and the
    net's second process, ``runs`` interleaved rounds after one warm-up round."""
    blas = ROOT / "symbprop" / "runtime" / "scipy_blas.py"
    with tempfile.TemporaryDirectory(prefix="symbprop-floor-") as folder:
        env = _environment(folder)
        scripts = {
            "Python alone (pass)": "pass",
            "NumPy, Numba, one cached function; SciPy's BLAS the usual way":
                FLOOR.format(blas="import scipy.linalg.cython_blas"),
            "the same, SciPy's BLAS table loaded alone (as symbprop does)":
                FLOOR.format(blas=ALONE.format(path=str(blas))),
            f"symbprop's second process of {net} (the timed child above)": CHILD,
        }
        paths = {}
        for index, (name, text) in enumerate(scripts.items()):
            paths[name] = Path(folder, f"script{index}.py")
            paths[name].write_text(text)

        def wall(name: str) -> float:
            start = time.perf_counter()
            subprocess.run([sys.executable, str(paths[name]), net], env=env, check=True,
                           capture_output=True)
            return time.perf_counter() - start

        for name in scripts:  # compiles into the caches
            wall(name)
        times = {name: [] for name in scripts}
        for _ in range(runs):
            for name in scripts:
                times[name].append(wall(name))
    print(f"\nWhole processes from the shell, {runs} interleaved runs; wall seconds, "
          "median [min-max]:")
    for name, values in times.items():
        print(f"{name:76s} {statistics.median(values):6.3f} [{min(values):.3f}-"
              f"{max(values):.3f}]")
    print(f"load average (1 min) after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
