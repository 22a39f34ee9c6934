"""What a benchmark's figures were measured on, printed beside every table.

``machine_lines()``: the CPU model, its cores (and those this process may use), the SIMD flags
that matter for BLAS kernels, the load average, each BLAS library loaded in the process with the
kernel (core type) it runs, its version and thread count, which of them the compiled kernels
call, and any environment variable that changes what OpenBLAS runs
(``OPENBLAS_CORETYPE=Haswell`` slows small products by a quarter to a third on AVX-512 CPUs).
Linux reads ``/proc/cpuinfo``; elsewhere the model is ``platform.processor()`` and the flags
are left out.
"""

from __future__ import annotations

import os
import platform
from pathlib import Path

from symbprop.runtime.threads import usable_cpus

#: The SIMD flags shown (those the BLAS kernels and Numba's vector code choose by), in order.
SIMD_FLAGS = ("sse4_2", "avx", "avx2", "fma", "avx512f", "avx512dq", "avx512bw", "avx512vl",
              "avx512_vnni", "avx512_bf16", "amx_tile")
#: Environment variables that change which BLAS kernel runs or how many threads it uses.
BLAS_ENVIRONMENT = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE", "OPENBLAS_NUM_THREADS",
                    "OMP_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS")


def cpu() -> tuple[str, list[str]]:
    """(model name, the ``SIMD_FLAGS`` it has)."""
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return platform.processor() or platform.machine(), []
    fields: dict[str, str] = {}
    for line in text.splitlines():
        key, _, value = line.partition(":")
        fields.setdefault(key.strip(), value.strip())
        if key.strip() == "flags":
            break
    model = fields.get("model name") or platform.processor() or platform.machine()
    if fields.get("cpu family"):  # a virtual machine may name only "AMD EPYC"
        model += f" (family {fields['cpu family']}, model {fields.get('model', '?')})"
    flags = set(fields.get("flags", "").split())
    return model, [flag for flag in SIMD_FLAGS if flag in flags]


def blas_libraries() -> list[dict]:
    """threadpoolctl's record of each BLAS (and OpenMP) library loaded, SciPy's included, with
    ``kernels: True`` on the one the compiled kernels' ``np.dot`` calls."""
    # Imported here: threadpoolctl and SciPy load only when a benchmark describes its machine.
    from threadpoolctl import threadpool_info

    # Imported here: the kernels' BLAS is found (and SciPy's BLAS loaded) only when asked for.
    from symbprop.runtime.threads import kernels_blas

    ours = kernels_blas()  # loads SciPy's BLAS first, so that it is listed
    ours_path = None if ours is None else os.path.realpath(ours.filepath)
    return [dict(info, kernels=os.path.realpath(info["filepath"]) == ours_path)
            for info in threadpool_info()]


def owner(filepath: str) -> str:
    """Who brought a shared library: the package it lies in under site-packages (``numpy`` for
    ``numpy.libs/``, ``torch`` for ``torch/lib/``), else its folder."""
    parts = Path(filepath).parts
    if "site-packages" in parts[:-1]:
        package = parts[parts.index("site-packages") + 1]
        return "NumPy" if package.startswith("numpy") else package.removesuffix(".libs")
    return Path(filepath).parent.name


def machine_lines() -> list[str]:
    """The lines that say what a table was measured on (see the module docstring)."""
    model, flags = cpu()
    cores = os.cpu_count() or 0
    usable = usable_cpus()
    load = " ".join(f"{value:.2f}" for value in os.getloadavg())
    lines = [f"CPU: {model}; {cores} cores ({usable} usable); SIMD: {' '.join(flags) or '?'}",
             f"load average (1, 5, 15 min): {load}"]
    for info in blas_libraries():
        who = "the kernels' np.dot (SciPy's BLAS)" if info["kernels"] else owner(info["filepath"])
        kernel = info.get("architecture") or info.get("threading_layer")
        count = info["num_threads"]
        lines.append(f"{info['internal_api']} {info.get('version') or '?'}"
                     f"{f', kernel {kernel}' if kernel else ''}, "
                     f"{count} thread{'' if count == 1 else 's'}: {who} "
                     f"({Path(info['filepath']).name})")
    settings = [f"{name}={os.environ[name]}" for name in BLAS_ENVIRONMENT if name in os.environ]
    if settings:
        lines.append("environment: " + " ".join(settings))
    return lines
