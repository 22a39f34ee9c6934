"""The bench's tables: times per call, ratios to symbprop, and the rich table of ``bench`` rows."""

from __future__ import annotations

from symbprop.bench.timing import PERCENTILE, Row


def format_time(seconds: float) -> str:
    if seconds < 1e-3:
        return f"{seconds * 1e6:.2f} µs"
    return f"{seconds * 1e3:.2f} ms"


def format_ratio(ratio: float) -> str:
    """A peer's time over ours, with two decimals below 2× where one cannot tell ahead (1.04×)
    from behind (0.96×), and none from 20× on."""
    return f"{ratio:.0f}×" if ratio >= 20 else f"{ratio:.1f}×" if ratio >= 2 else f"{ratio:.2f}×"


def table(rows: list[Row], roofline: float | None = None):
    """A rich table: time per call (the low percentile) and its spread, and how many times
    slower than symbprop each peer is; the title says the BLAS thread count of the rows."""
    # Imported here: rich loads only when a table is printed.
    from rich.table import Table

    counts = sorted({str(row.threads or "default") for row in rows})
    samples = "/".join(str(n) for n in sorted({row.samples for row in rows})) or "?"
    out = Table(title=f"loss and every gradient, per call ({PERCENTILE}th percentile of "
                      f"{samples}, interleaved); BLAS threads: {', '.join(counts) or '?'}")
    for column in ("net", "batch", "dtype", "implementation", "time", "spread", "× symbprop",
                   "GFLOP/s"):
        out.add_column(
            column, justify="right" if column not in ("net", "implementation") else "left"
        )
    for row in rows:
        ratio = "1" if row.ratio is None else format_ratio(row.ratio)
        gflops = "" if row.gflops is None else f"{row.gflops:.1f}"
        if row.gflops is not None and roofline and row.impl == "symbprop" \
                and row.dtype == "float64":
            gflops += f" ({100 * row.gflops / roofline:.0f}%)"
        out.add_row(row.net, str(row.batch), row.dtype, row.impl, format_time(row.seconds),
                    f"+{100 * (row.spread - 1):.0f}%", ratio, gflops)
    return out
