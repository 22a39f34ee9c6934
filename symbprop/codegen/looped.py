"""The ``looped`` lowering: per-layer BLAS products and element loops, from the layer form.

The code is the derivation's index form with the batch as a second index: buffers are
feature-major, ``Z1[j, i]`` = z¹_j of sample i, so that each layer is one matrix product
(``_times_input(W1, X, Z1)``: Z1 = W1 Xᵀ) followed by one elementwise loop that prints the
derivation's element equation (``A1[j, i] = (Z1[j, i] if Z1[j, i] > 0.0 else 0.0)``).  The backward
pass follows the four equations: δ^L elementwise (BP1, with the batch mean 1/n folded in),
``_times_transposed(W2, D2, D1)`` for Σ_k W²_kj δ²_k, then δ¹ elementwise in place (BP2: each
element reads only its own Σ, so D1 needs no second buffer, and the loop streams two arrays, not
three: the whole 784-128-10 call at batch 1024 took 3.65 ms with a separate buffer, 3.50 ms
without),
``_outer_input(D1, X, gW1)`` (gW1 = D1 X) straight into the gradient vector (BP4) and row sums
for the biases (BP3).  The product helpers of the template call BLAS (``np.dot``: gemm) for a
batch and use a matrix-vector product (gemv) or a plain outer-product loop for one sample, where
BLAS's gemm overhead would dominate.  Nothing depends on the layer widths except the constants,
so code size and compile time are the same for 2-2-1 and 784-512-512-10.  The buffers are views
into one scratch vector ``work`` (``Scratch``: WORK_PER_SAMPLE numbers per sample, forward blocks
first), which callers keep between calls.  Nothing runs on Numba's parallel backend: its OpenMP
threads spin after a region and starve OpenBLAS's threads in the next product (a one-sample
call followed by a batch-64 call took 7.4 ms instead of 0.35 ms at 784-128-10).

Names: ``X`` (n, n0) and ``Y`` (n, nL) the batch; ``W1``, ``b1`` views into ``theta``; ``gW1``,
``gb1`` views into ``grad``; ``Z1``, ``A1``, ``D1`` (n1, n) pre-activations, activations and
δ¹ (already divided by n for a mean; first W²ᵀ δ²); ``LSE2`` (n,) = log Σ exp z²;
``i`` the sample, ``j``/``k`` the neuron indices of the derivation.
"""

from __future__ import annotations

import functools
from pathlib import Path

import sympy
from sympy import Indexed, IndexedBase, Sum

from symbprop.codegen.plan import (
    LayerPlan,
    NetworkPlan,
    delta_comment,
    forward_comment,
    grad_comment,
    loss_text,
    lse_symbol,
    stable_loss,
    sup,
)
from symbprop.codegen.printer import NumbaPrinter
from symbprop.errors import SymbpropError
from symbprop.symbolic.ir import label

#: The names of the generated code, for the module docstring.
NAMING = (
    "Names (the batch at once, one matrix product and one element loop per layer): W1, b1 views",
    "into theta; gW1, gb1 views into grad; work the scratch space that holds the rest;",
    "Z1, A1 (n1, n) pre-activations and activations,",
    "column i for sample i; D1 (n1, n) = δ¹ = ∂C/∂z¹ per sample, divided by n for a mean",
    "(it holds W²ᵀ δ² until δ¹ is written over it); LSE2 (n,) = log Σ_j exp z²_j for a softmax",
    "output; i the sample, j and k the neuron indices of the derivation.",
)


class LoweringError(SymbpropError):
    """The derivation has a form the looped lowering does not know (use ``unrolled``)."""


def array_name(element: Indexed) -> str:
    """``x[k]`` -> ``X[i, k]``, ``z1[j]`` -> ``Z1[j, i]``, ``W2[k, j]`` -> ``W2[k, j]``."""
    label = element.base.label.name
    idx = ", ".join(str(i) for i in element.indices)
    if label in ("x", "y"):
        return f"{label.upper()}[i, {idx}]"
    # back<l> = W^{l+1}ᵀ δ^{l+1} lives in δ^l's own buffer (see _backward_layer)
    for prefix, array in (("delta", "D"), ("back", "D"), ("z", "Z"), ("a", "A")):
        if label.startswith(prefix) and label[len(prefix):].isdigit():
            return f"{array}{label[len(prefix):]}[{idx}, i]"
    return f"{label}[{idx}]"


def _loop(body: list[str], rows: str, j: str = "j") -> list[str]:
    """``for j in range(rows): for i in range(n): body``."""
    return [f"for {j} in range({rows}):", "    for i in range(n):", *("        " + b for b in body)]


def _views(d, source: str, prefix: str) -> list[str]:
    lines, offset = [], 0
    for base in d.program.params:
        shape = d.program.shapes[base]
        size = int(sympy.prod(shape)) if shape else 1
        name = label(base)
        view = f"{source}[{offset}:{offset + size}]"
        if len(shape) == 2:
            view += f".reshape(({shape[0]}, {shape[1]}))"
        elif not shape:
            view = f"{source}[{offset}]" if source == "theta" else view
        lines.append(f"{prefix}{name} = {view}")
        offset += size
    return lines


class Scratch:
    """The layout of the work buffer: one (rows, n) block per temporary, in order of first use,
    so that the forward pass's blocks are a prefix that ``forward`` and ``loss`` share."""

    def __init__(self) -> None:
        self.blocks: list[tuple[str, int]] = []

    def take(self, name: str, rows: int) -> str:
        """Reserve ``name`` ((rows, n), or (n,) for ``rows == 0``); returns ``name``."""
        self.blocks.append((name, rows))
        return name

    @property
    def per_sample(self) -> int:
        return sum(max(rows, 1) for _, rows in self.blocks)

    def views(self, count: int | None = None) -> list[str]:
        """``Z1 = work[0:128 * n].reshape((128, n))``, ... for the first ``count`` blocks."""
        lines, start = [], 0
        for name, rows in self.blocks[:count]:
            stop = start + max(rows, 1)
            view = f"work[{_times_n(start)}:{_times_n(stop)}]"
            lines.append(f"{name} = {view}.reshape(({rows}, n))" if rows else f"{name} = {view}")
            start = stop
        return lines


def _times_n(rows: int) -> str:
    return "0" if rows == 0 else "n" if rows == 1 else f"{rows} * n"


def _forward_layer(pr: NumbaPrinter, layer: LayerPlan, work: Scratch) -> list[str]:
    n_, size = layer.number, layer.n_out
    product = "_times_input(W1, X, Z1)" if n_ == 1 else f"_times(W{n_}, A{n_ - 1}, Z{n_})"
    work.take(f"Z{n_}", size)
    lines = [forward_comment(layer), product]
    body = []
    if layer.bias != "none":
        bias = f"b{n_}" if layer.bias == "shared" else f"b{n_}[j]"
        body.append(f"Z{n_}[j, i] += {bias}")
    if layer.activation.is_softmax:
        return lines + (_loop(body, str(size)) if body else []) + _softmax(n_, size, work)
    if layer.activation.name == "identity":
        return lines + (_loop(body, str(size)) if body else []) + [f"A{n_} = Z{n_}"]
    a = layer.a
    body += _element(pr, f"A{n_}[j, i]", a.expr.xreplace({a.indices[0]: sympy.Idx("j")}),
                     f"c{n_}_")
    work.take(f"A{n_}", size)
    return lines + _loop(body, str(size))


def _softmax(number: int, size: int, work: Scratch) -> list[str]:
    """a = softmax(z) per sample (column), max-shifted; LSE = log Σ exp z for the loss."""
    z, a, lse = f"Z{number}", work.take(f"A{number}", size), work.take(f"LSE{number}", 0)
    return [
        "for i in range(n):",
        f"    top = {z}[0, i]",
        f"    for j in range(1, {size}):",
        f"        top = max(top, {z}[j, i])",
        "    total = 0.0",
        f"    for j in range({size}):",
        f"        e = math.exp({z}[j, i] - top)",
        f"        {a}[j, i] = e",
        "        total += e",
        f"    for j in range({size}):",
        f"        {a}[j, i] /= total",
        f"    {lse}[i] = top + math.log(total)",
    ]


def _loss(pr: NumbaPrinter, plan: NetworkPlan, formula: sympy.Expr | None) -> list[str]:
    """``total`` = Σ_i C(sample i); each Σ_j of the loss becomes a loop."""
    expr = stable_loss(plan.loss.expr, plan)
    sums = sorted(expr.atoms(Sum), key=sympy.default_sort_key)
    lines = [f"# cost: {loss_text(plan, formula)}", "total = 0.0", "for i in range(n):"]
    names = {}
    for number, term in enumerate(sums):
        (idx, lower, upper), = term.limits
        name = f"s{number}"
        names[term] = sympy.Symbol(name)
        body = pr.doprint(term.function)
        bounds = f"{upper + 1}" if lower == 0 else f"{lower}, {upper + 1}"
        lines += [f"    {name} = 0.0", f"    for {idx} in range({bounds}):",
                  f"        {name} += {body}"]
    lines.append(f"    total += {pr.doprint(expr.xreplace(names))}")
    return lines


def _backward_layer(pr: NumbaPrinter, plan: NetworkPlan, layer: LayerPlan, formula,
                    work: Scratch) -> list[str]:
    n_ = layer.number
    delta = layer.delta
    expr = delta.expr.xreplace({delta.indices[0]: sympy.Idx("j")})
    lines = [delta_comment(plan, layer, formula)]
    work.take(f"D{n_}", layer.n_out)
    if layer.is_output:
        form = "({}) * scale"
    else:
        nxt = plan.layers[n_]
        expr = _replace_back_product(expr, nxt)
        _check_in_place(expr, n_)
        up = sup(n_ + 1)
        lines += [f"_times_transposed(W{n_ + 1}, D{n_ + 1}, D{n_})  # W{up}ᵀ δ{up}, for now"]
        form = "{}"
    if expr.has(Sum):
        raise LoweringError(f"looped lowering: δ{n_} has a sum it cannot loop over: {expr}")
    lines += _loop(_element(pr, f"D{n_}[j, i]", expr, f"u{n_}_", form), str(layer.n_out))
    return lines + _grads(layer)


def _element(pr: NumbaPrinter, target: str, expr: sympy.Expr, prefix: str,
             form: str = "{}") -> list[str]:
    """``target = form(expr)``, after the subexpressions ``expr`` repeats (not its array
    elements) are bound to ``<prefix>0``, ...: printed code then stays linear in the expression
    (the derivative of an activation nested d deep repeats its inner levels)."""
    elements = sorted(expr.atoms(Indexed), key=sympy.default_sort_key)
    hidden = {e: sympy.Symbol(f"_element{k}") for k, e in enumerate(elements)}
    shown = {v: e for e, v in hidden.items()}
    temps, (reduced,) = sympy.cse([expr.xreplace(hidden)], order="canonical",
                                  symbols=sympy.numbered_symbols(prefix))
    lines = [f"{t} = {pr.doprint(e.xreplace(shown))}" for t, e in temps]
    return lines + [f"{target} = {form.format(pr.doprint(reduced.xreplace(shown)))}"]


def _check_in_place(expr: sympy.Expr, number: int) -> None:
    """δ^l[j] may be written over W^{l+1}ᵀ δ^{l+1} only if it reads that sum at j alone."""
    reads = {e.indices for e in expr.atoms(Indexed) if e.base.label.name == f"back{number}"}
    if reads - {(sympy.Idx("j"),)}:
        raise LoweringError(f"looped lowering: δ{number} reads W{number + 1}ᵀδ{number + 1} "
                            f"at other neurons: {expr}")


def _replace_back_product(expr: sympy.Expr, nxt: LayerPlan) -> sympy.Expr:
    """Σ_k W^{l+1}[k, j] δ^{l+1}[k] -> back<l>[j] (computed by one np.dot)."""
    w_base, d_base = nxt.grad_w.variable, nxt.delta.symbol
    back = IndexedBase(f"back{nxt.number - 1}")

    def is_back(e):
        if not isinstance(e, Sum) or len(e.limits) != 1:
            return False
        k = e.limits[0][0]
        return any(e.function == w_base[k, j] * d_base[k] for j in e.free_symbols
                   if isinstance(j, sympy.Idx))

    def to_back(e):
        k = e.limits[0][0]
        w = next(f for f in e.function.args if isinstance(f, Indexed) and f.base == w_base)
        return back[w.indices[1] if w.indices[0] == k else w.indices[0]]

    return expr.replace(is_back, to_back)


def _grads(layer: LayerPlan) -> list[str]:
    n_ = layer.number
    j, k = layer.grad_w.indices
    prev = "x" if n_ == 1 else f"a{n_ - 1}"
    factors = sorted(
        (f.base.label.name, f.indices) for f in sympy.Mul.make_args(layer.grad_w.expr)
        if isinstance(f, Indexed)
    )
    if len(sympy.Mul.make_args(layer.grad_w.expr)) != 2 or factors != sorted(
        [(f"delta{n_}", (j,)), (prev, (k,))]
    ):
        raise LoweringError(f"looped lowering: unexpected ∂C/∂W{n_} = {layer.grad_w.expr}")
    product = "_outer_input(D1, X, gW1)" if n_ == 1 else f"_outer(D{n_}, A{n_ - 1}, gW{n_})"
    lines = [grad_comment(layer), product]
    if layer.bias == "per_neuron":
        lines += [f"_row_sums(D{n_}, gb{n_})"]
    elif layer.bias == "shared":
        lines += [f"gb{n_}[0] = D{n_}.sum()"]
    return lines


def context(d, plan: NetworkPlan) -> dict:
    """Template context of ``kernels_looped.py.j2`` (each value: lines of printed code)."""
    out = plan.output
    symbols = {str(lse_symbol(out.number)): f"LSE{out.number}[i]"}
    printer = NumbaPrinter({"indexed": array_name, "symbols": symbols})
    net = d.model
    formula = net.loss.expr if net.loss.is_custom else None
    work = Scratch()
    forward = [line for layer in plan.layers for line in _forward_layer(printer, layer, work)]
    forward_blocks = len(work.blocks)
    backward = []
    for layer in reversed(plan.layers):
        backward += _backward_layer(printer, plan, layer, formula, work)
    return {
        "work_per_sample": work.per_sample,
        "forward_scratch": work.views(forward_blocks),
        "scratch": work.views(),
        "views": _views(d, "theta", ""),
        "grad_views": _views(d, "grad", "g"),
        "forward": forward,
        "output": f"A{out.number}",
        "loss": _loss(printer, plan, formula),
        "backward": backward,
        "helpers": sorted(printer.helpers),
        "products": products_text(),
        "without_runtime": False,  # _times_input copies a small X transposed
    }


@functools.lru_cache(maxsize=1)
def products_text() -> str:
    """The functions of ``kernel_helpers.py`` as text, read rather than imported (generating
    code needs no Numba)."""
    text = (Path(__file__).parent / "kernel_helpers.py").read_text(encoding="utf-8")
    return text[text.index("\n@njit") + 1:].rstrip("\n")
