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
``_outer_input(D1, X, gW1)`` (gW1 = D1 X) straight into the gradient vector (BP4) and row sums for
the biases (BP3).  The product helpers of the template call BLAS (``np.dot``: gemm) for a batch (for
one sample a one-column gemm, as fast as gemv) and a plain outer-product loop for ∂C/∂W
of one sample, where BLAS's gemm overhead would dominate.  Nothing depends on the layer widths
except the constants, so code size and compile time are the same for 2-2-1 and 784-512-512-10, and
for equal hidden layers nothing depends on the depth either: consecutive hidden layers with the same
widths, activation and bias kind (a run) are one loop over the layer number
(``symbprop.codegen.runs``), with the views of each layer at offsets from l, and their element
equations printed once, from the run's first layer (Numba's compile time grows with the code:
printed layer by layer, 64 hidden layers of 32 took 70 s to a first call, 4-10×9-3 19 s; see
``runs`` for the figures with loops).  The buffers are views into one scratch vector ``work``
(``Scratch``: WORK_PER_SAMPLE numbers per sample, forward blocks first), which callers keep between
calls.  Nothing runs on Numba's parallel backend: its OpenMP threads spin after a region and starve
OpenBLAS's threads in the next product (a one-sample call followed by a batch-64 call took 7.4 ms
instead of 0.35 ms at 784-128-10).

Names: ``X`` (n, n0) and ``Y`` (n, nL) the batch; ``W1``, ``b1`` views into ``theta``; ``gW1``,
``gb1`` views into ``grad``; ``Z1``, ``A1``, ``D1`` (n1, n) pre-activations, activations and
δ¹ (already divided by n for a mean; first W²ᵀ δ²); ``LSE2`` (n,) = log Σ exp z²;
``i`` the sample, ``j``/``k`` the neuron indices of the derivation; in the loop over a run
``l`` the layer, ``W``, ``b``, ``Z``, ``A``, ``D`` layer l's arrays and ``A_in`` = aˡ⁻¹ (see
``symbprop.codegen.runs``).
"""

from __future__ import annotations

import sympy
from sympy import Sum

import symbprop.codegen.emit as emit
from symbprop.codegen.float_type import real
from symbprop.codegen.loops import (
    Scratch,
    array_name,
    check_outer,
    delta_expression,
    element,
    loop,
    param_layout,
    views,
)
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
from symbprop.codegen.runs import NAMING as RUN_NAMING
from symbprop.codegen.runs import Run, run_params, segments
from symbprop.spec.variables import BIAS, WEIGHT, Var, marked

#: The names of the generated code, for the module docstring.
NAMING = (
    "Names (the batch at once, one matrix product and one element loop per layer): W1, b1 views",
    "into theta; gW1, gb1 views into grad; work the scratch space that holds the rest;",
    "Z1, A1 (n1, n) pre-activations and activations,",
    "column i for sample i; D1 (n1, n) = δ¹ = ∂C/∂z¹ per sample, divided by n for a mean",
    "(it holds W²ᵀ δ² until δ¹ is written over it); LSE2 (n,) = log Σ_j exp z²_j for a softmax",
    "output; i the sample, j and k the neuron indices of the derivation.",
)


def _forward_layer(pr: NumbaPrinter, layer: LayerPlan, work: Scratch) -> list[str]:
    n_, size = layer.number, layer.n_out
    product = ("_times_input(W1, X, Z1)" if n_ == 1
               else f"_times({Var(WEIGHT, n_).name}, A{n_ - 1}, Z{n_})")
    work.take(f"Z{n_}", size)
    lines = [forward_comment(layer), product]
    body = []
    if layer.bias != "none":
        bias = Var(BIAS, n_).name if layer.bias == "shared" else Var(BIAS, n_).element("j")
        body.append(f"Z{n_}[j, i] += {bias}")
    if layer.activation.is_softmax:
        return lines + (loop(body, str(size)) if body else []) + _softmax(n_, size, work)
    if layer.activation.name == "identity":
        return lines + (loop(body, str(size)) if body else []) + [f"A{n_} = Z{n_}"]
    a = layer.a
    body += element(pr, f"A{n_}[j, i]", a.expr.xreplace({a.indices[0]: sympy.Idx("j")}),
                     f"c{n_}_")
    work.take(f"A{n_}", size)
    return lines + loop(body, str(size))


def _softmax(number: int, size: int, work: Scratch) -> list[str]:
    """a = softmax(z) per sample (column), max-shifted; LSE = log Σ exp z for the loss."""
    z, a, lse = f"Z{number}", work.take(f"A{number}", size), work.take(f"LSE{number}", 0)
    return [
        "for i in range(n):",
        f"    top = {z}[0, i]",
        f"    for j in range(1, {size}):",
        f"        top = max(top, {z}[j, i])",
        f"    total = {real('0.0')}",
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
    lines = [f"# cost: {loss_text(plan, formula)}", f"total = {real('0.0')}", "for i in range(n):"]
    names = {}
    for number, term in enumerate(sums):
        (idx, lower, upper), = term.limits
        name = f"s{number}"
        names[term] = sympy.Symbol(name)
        body = pr.doprint(term.function)
        bounds = f"{upper + 1}" if lower == 0 else f"{lower}, {upper + 1}"
        lines += [f"    {name} = {real('0.0')}", f"    for {idx} in range({bounds}):",
                  f"        {name} += {body}"]
    lines.append(f"    total += {pr.doprint(expr.xreplace(names))}")
    return lines


def _backward_layer(pr: NumbaPrinter, plan: NetworkPlan, layer: LayerPlan, formula,
                    work: Scratch) -> list[str]:
    n_ = layer.number
    expr = delta_expression(plan, layer)
    lines = [delta_comment(plan, layer, formula)]
    work.take(f"D{n_}", layer.n_out)
    if layer.is_output:
        form = "({}) * scale"
    else:
        up = sup(n_ + 1)
        lines += [f"_times_transposed({Var(WEIGHT, n_ + 1).name}, D{n_ + 1}, D{n_})  "
                  f"# {marked(WEIGHT, up)}ᵀ δ{up}, for now"]
        form = "{}"
    lines += loop(element(pr, f"D{n_}[j, i]", expr, f"u{n_}_", form), str(layer.n_out))
    return lines + _grads(layer)


def _grads(layer: LayerPlan) -> list[str]:
    n_ = layer.number
    check_outer(layer)
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
    groups = segments(plan)
    offsets = {name: offset for name, offset, _ in param_layout(d)}
    loops = {group[0].number: Run(group, offsets) for group in groups if len(group) > 1}
    forward = []
    for group in groups:
        run = loops.get(group[0].number)
        forward += run.forward(work) if run else _forward_layer(printer, group[0], work)
    forward_blocks = len(work.blocks)
    backward = []
    for group in reversed(groups):
        run = loops.get(group[0].number)
        backward += (run.backward(plan, work) if run
                     else _backward_layer(printer, plan, group[0], formula, work))
    skip = run_params(groups)
    return {
        "naming": NAMING + (RUN_NAMING if loops else ()),
        "work_per_sample": work.per_sample,
        "forward_scratch": work.views(forward_blocks),
        "scratch": work.views(),
        "views": views(d, "theta", "", skip),
        "grad_views": views(d, "grad", "g", skip),
        "forward": forward,
        "output": f"A{out.number}",
        "loss": _loss(printer, plan, formula),
        "backward": backward,
        "helpers": sorted(printer.helpers.union(*(run.printer.helpers for run in loops.values()))),
        "products": emit.printed_functions("kernel_helpers.py"),
        "without_runtime": False,  # _times_input copies a small X transposed
    }
