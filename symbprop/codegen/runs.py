"""Runs of equal hidden layers in the looped lowering: one loop over the run, not one block each.

A run is a longest sequence of consecutive hidden layers l = f, …, g (2 ≤ f < g ≤ L − 1: the
first layer reads X, the output layer has the loss) with the same widths (n_in = n_out = s),
activation and bias kind.  Theta stores W^f, b^f, W^{f+1}, b^{f+1}, … row-major, so layer l's
parameters start at ``p = P + S (l − f)`` (S = s² plus the bias's size); the run's scratch
blocks are laid out the same way: Z^l then A^l at row ``r = R + 2s (l − f)`` of work (s rows
each, A^l = Z^l for the identity), δ^l at row ``q = Q + s (l − f)``.  The loops are

    A_in = A^{f−1};  for l in range(f, g + 1): views of layer l;  Z = W A_in (+ b);  A = act(Z);
                     A_in = A
    W_up, D_up = W^{g+1}, D^{g+1};  for l in range(g, f − 1, −1): D = W_upᵀ D_up;  D = δ^l;
                     gW = D A_inᵀ (A_in = A^{l−1});  gb = Σ_i D;  W_up, D_up = W, D

and the names the neighbouring layers read are bound after each loop (``A9 = A_in``,
``W2 = W_up``, ``D2 = D_up``): Numba's array types do not encode shapes, so every (rows, n)
view has one type and a loop variable can hold each layer's in turn.  The element equations
are the derivation's for layer f (its ``LayerPlan``), printed with f's labels shown as the loop's
arrays (z^f -> ``Z``, a^f -> ``A``, δ^f and W^{f+1}ᵀ δ^{f+1} -> ``D``, ``loops.renamed``): the
code of a run does not grow with its length, so neither does Numba's compile time.  Their
loops over neurons take the row count from the array (``range(Z.shape[0])``), not a constant,
so that LLVM does not unroll them (4-10×9-3: the forward and backward pass compiled in 2.7 s,
not 4.3 s).  A first process, from the spec to its first dict loss_and_grad (2 cores, load
≈ 3): 64, 64 hidden layers of 32, 10 took 3.3 s (70–128 s layer by layer); 16 hidden layers of
32, 4.1 s (10.4 s); 4-10×9-3, 3.4 s (10.3 s); digits 64-32-10 (no run) 4.2 s either way.
Per call (loss_and_grad_into with kept buffers) the loops cost little: 64 hidden layers of 32
took 79–83 µs at batch 1 and 2.0 ms at batch 64 (93–95 µs and 2.1 ms layer by layer), 16
hidden layers of 32 about 21 µs either way and 520–540 µs at batch 64 (490–500 µs).
"""

from __future__ import annotations

import sympy

from symbprop.codegen.loops import (
    Scratch,
    back_name,
    check_outer,
    delta_expression,
    element,
    loop,
    renamed,
    start,
)
from symbprop.codegen.plan import (
    LayerPlan,
    NetworkPlan,
    a_text,
    delta_comment,
    grad_comment,
    z_text,
)
from symbprop.codegen.printer import NumbaPrinter
from symbprop.spec.variables import ACT, DELTA, PRE, WEIGHT, Var

#: The names of a loop over a run of equal hidden layers f, ..., g, for the module docstring.
NAMING = (
    "Equal hidden layers f, ..., g (same widths, activation and bias; `# layers f–g`) are one",
    "loop `for l in range(f, g + 1)` over the layer number l: W, b and gW, gb are Wˡ, bˡ and",
    "their gradients (views at offset p of theta and grad), Z, A the (s, n) blocks zˡ, aˡ (at",
    "row r of work, rows of n numbers), D = δˡ (at row q), A_in = aˡ⁻¹; the backward loop runs",
    "down from g with W_up, D_up = Wˡ⁺¹, δˡ⁺¹.  After its loops, the names the layers around",
    "the run read are bound: A<g> = A_in, W<f> = W_up, D<f> = D_up.",
)


def segments(plan: NetworkPlan) -> list[tuple[LayerPlan, ...]]:
    """The layers of ``plan`` in order, grouped: a run (see the module docstring) is one group,
    every other layer a group of its own."""
    groups: list[list[LayerPlan]] = []
    for layer in plan.layers:
        first = groups[-1][0] if groups else None
        if first is not None and _runs_on(plan, first, layer):
            groups[-1].append(layer)
        else:
            groups.append([layer])
    return [tuple(group) for group in groups]


def _runs_on(plan: NetworkPlan, first: LayerPlan, layer: LayerPlan) -> bool:
    """``layer`` continues the run that starts at ``first``: both hidden, the same widths,
    activation and bias kind, and the derivation gives both the same element equations once
    their arrays are named as the loop names them (so printing layer f's is printing each)."""
    hidden = 2 <= first.number and layer.number < len(plan.layers)
    return hidden and not layer.activation.is_softmax and (
        (first.n_in, first.n_out, first.activation, first.bias)
        == (layer.n_in, layer.n_out, layer.activation, layer.bias)
    ) and _generic(plan, first) == _generic(plan, layer)


def _loop_names(number: int) -> dict[str, str]:
    """The derivation's labels of layer ``number`` -> the loop's arrays."""
    return {Var(PRE, number).name: "Z", Var(ACT, number).name: "A", Var(DELTA, number).name: "D",
            back_name(number): "D", Var(ACT, number - 1).name: "A_in"}


def _generic(plan: NetworkPlan, layer: LayerPlan) -> tuple[sympy.Expr, sympy.Expr]:
    """a^l[j] and δ^l[j] of ``layer`` (as ``delta_expression`` gives it) over the loop's arrays."""
    names = _loop_names(layer.number)

    def over_loop_arrays(expr: sympy.Expr) -> sympy.Expr:
        return expr.xreplace({e: sympy.IndexedBase(names[e.base.label.name])[e.indices]
                              for e in expr.atoms(sympy.Indexed) if e.base.label.name in names})

    a = layer.a.expr.xreplace({layer.a.indices[0]: sympy.Idx("j")})
    return over_loop_arrays(a), over_loop_arrays(delta_expression(plan, layer))


def run_params(groups: list[tuple[LayerPlan, ...]]) -> frozenset:
    """The parameter names of the layers in runs (their loops view them, not the module's
    per-parameter views)."""
    return frozenset(f"{kind}{layer.number}" for group in groups if len(group) > 1
                     for layer in group for kind in ("W", "b"))


class Run:
    """One run: its layers, where their parameters are, and the printer of its equations."""

    def __init__(self, layers: tuple[LayerPlan, ...], offsets: dict[str, int]) -> None:
        self.first, self.last = layers[0], layers[-1]
        f, s = self.first.number, self.first.n_out
        self.width = s
        self.bias = {"per_neuron": s, "shared": 1, "none": 0}[self.first.bias]
        self.theta = start(Var(WEIGHT, f).name)  # the name of its offset, offsets["W<f>"]
        self.stride = s * s + self.bias
        self.printer = NumbaPrinter({"indexed": renamed(_loop_names(f))})

    @property
    def identity(self) -> bool:
        return self.first.activation.name == "identity"

    def _offset(self, name: str, start: int | str, step: int, what: str) -> str:
        return f"{name} = {start} + {step} * (l - {self.first.number})  # {what}"

    def _params(self, source: str, prefix: str) -> list[str]:
        s, end = self.width, self.width * self.width
        lines = [f"{prefix}W = _matrix({source}, p, {s}, {s})"]
        if self.bias == 1 and source == "theta":
            lines.append(f"b = theta[p + {end}]")
        elif self.bias:
            lines.append(f"{prefix}b = {source}[p + {end}:p + {end + self.bias}]")
        return lines

    def _header(self, descending: bool = False) -> str:
        f, g = self.first.number, self.last.number
        if descending:
            f, g = g, f
        return f"# layers {f}–{g} (l = {f}, …, {g})"

    def forward(self, work: Scratch) -> list[str]:
        """The forward loop over the run, reserving its Z and A blocks in ``work``."""
        f, g, s = self.first.number, self.last.number, self.width
        rows = s if self.identity else 2 * s
        start = work.region(rows * (g - f + 1))
        lines = [f"{self._header()}: {z_text(self.first, True)},  {a_text(self.first, True)}",
                 f"A_in = A{f - 1}", f"for l in range({f}, {g + 1}):"]
        body = [self._offset("p", self.theta, self.stride, "Wˡ in theta"),
                self._offset("r", start, rows, "zˡ in work (rows of n numbers)"),
                *self._params("theta", ""), f"Z = _matrix(work, r * n, {s}, n)"]
        if self.identity:
            body.append("A = Z")
        else:
            body.append(f"A = _matrix(work, (r + {s}) * n, {s}, n)")
        body.append("_times(W, A_in, Z)")
        elements = []
        if self.bias:
            elements.append("Z[j, i] += " + ("b" if self.bias == 1 else "b[j]"))
        if not self.identity:
            a = self.first.a
            expr = a.expr.xreplace({a.indices[0]: sympy.Idx("j")})
            elements += element(self.printer, "A[j, i]", expr, f"c{f}_")
        body += (loop(elements, "Z.shape[0]") if elements else []) + ["A_in = A"]
        self._forward_start = start
        return lines + ["    " + b for b in body] + [f"A{g} = A_in"]

    def backward(self, plan: NetworkPlan, work: Scratch) -> list[str]:
        """The backward loop over the run (from layer g down), reserving its δ blocks."""
        f, g, s = self.first.number, self.last.number, self.width
        expr = delta_expression(plan, self.first)
        check_outer(self.first)
        reads = {e.base.label.name for e in expr.atoms(sympy.Indexed)}
        rows = s if self.identity else 2 * s
        start = work.region(s * (g - f + 1))
        lines = [f"{self._header(True)}, from the top:",
                 delta_comment(plan, self.first, generic=True), grad_comment(self.first, True),
                 f"W_up = {Var(WEIGHT, g + 1).name}", f"D_up = D{g + 1}",
                 f"for l in range({g}, {f - 1}, -1):"]
        body = [self._offset("p", self.theta, self.stride, "Wˡ in theta, ∂C/∂Wˡ in grad"),
                self._offset("r", self._forward_start, rows, "zˡ in work"),
                self._offset("q", start, s, "δˡ in work"),
                *self._params("theta", "")[:1], *self._params("grad", "g")]
        if Var(PRE, f).name in reads:
            body.append(f"Z = _matrix(work, r * n, {s}, n)")
        if Var(ACT, f).name in reads:
            a0 = "r" if self.identity else f"(r + {s})"
            body.append(f"A = _matrix(work, {a0} * n, {s}, n)")
        body += [f"D = _matrix(work, q * n, {s}, n)",
                 f"if l == {f}:", f"    A_in = A{f - 1}", "else:",
                 f"    A_in = _matrix(work, (r - {s}) * n, {s}, n)  # aˡ⁻¹",
                 "_times_transposed(W_up, D_up, D)  # Wˡ⁺¹ᵀ δˡ⁺¹, for now",
                 *loop(element(self.printer, "D[j, i]", expr, f"u{f}_"), "D.shape[0]"),
                 "_outer(D, A_in, gW)"]
        if self.bias == s:
            body.append("_row_sums(D, gb)")
        elif self.bias == 1:
            body.append("gb[0] = D.sum()")
        body += ["W_up = W", "D_up = D"]
        return (lines + ["    " + b for b in body]
                + [f"{Var(WEIGHT, f).name} = W_up", f"D{f} = D_up"])
