"""The ``unrolled`` lowering: straight-line scalar code per sample, from the per-weight form.

Every element of every layer gets its own line, instantiated from the derivation's index form
(``z1_0 = W1_0_0*x_0 + W1_0_1*x_1 + b1_0``, ``d1_0 = (1 - a1_0)*a1_0*(W2_0_0*d2_0)``), with
common subexpressions eliminated per block (SymPy ``cse``; temporaries ``t<l>_<n>`` in the
forward pass, ``u<l>_<n>`` in the backward pass of layer l, ``tc_<n>`` in the cost).  Parameters
are loaded into locals once per call; gradients accumulate in locals (``gW1_0_1``) for a small
net and in ``grad`` itself (``grad[1] += d1_0*x_1  # W1_0_1``) above ``LOCAL_GRADIENTS_MAX``
parameters, which compiles faster and runs faster there (see the constant).  Fastest per call
for small nets; code size and Numba compile time grow with the number of weights (see
``symbprop.codegen.options.AUTO_UNROLL_MAX``).

Names: ``x_k``, ``y_j`` one sample's input and target; ``W1_j_k``, ``b1_j`` (``b1`` if shared)
parameters; ``z1_j``, ``a1_j`` pre-activations and activations; ``d1_j`` = δ¹_j = ∂C/∂z¹_j;
``lse2`` = log Σ exp z² for a softmax output; ``cost`` the sample's C.
"""

from __future__ import annotations

import re

import sympy
from sympy import Indexed, IndexedBase

from symbprop.codegen.plan import (
    LayerPlan,
    NetworkPlan,
    delta_comment,
    forward_comment,
    grad_comment,
    loss_text,
    lse_symbol,
    stable_loss,
)
from symbprop.codegen.printer import NumbaPrinter, assignment
from symbprop.spec.variables import ACT, PRE, Var
from symbprop.symbolic.indexing import index_values, instantiate

#: Up to this many parameters, gradients accumulate in locals (``gW1_0_1 += ...``), stored into
#: ``grad`` after the batch; above, in ``grad`` itself (``grad[1] += ...``).  Locals are faster
#: for small nets at a batch (64 samples: 2-2-1 1.38 against 1.73 µs, 4-8-3 10.3 against
#: 11.5 µs), but every local carried round the batch loop costs Numba's SSA pass and type
#: inference, and the call slows down once they outnumber the registers (4-16-3: compile 2.7
#: against 2.0 s, batch 1 0.60 against 0.54 µs, batch 64 17.0 against 16.6 µs).
LOCAL_GRADIENTS_MAX = 100

#: The names of the generated code, for the module docstring.
NAMING = (
    "Names (one sample i at a time, every element on its own line): x_k, y_j the sample's input",
    "and target; W1_j_k, b1_j (b1 if shared) the parameters, loaded from theta once per call;",
    "z1_j, a1_j pre-activation and activation of neuron j of layer 1; d1_j = δ¹_j = ∂C/∂z¹_j;",
    "gW1_j_k, gb1_j gradient accumulators (or grad[p] += ..., the comment naming the parameter);",
    "lse2 = log Σ_j exp z²_j for a softmax output; cost = C",
    "of the sample; t<l>_<n>, u<l>_<n>, tc_<n> common subexpressions (forward, backward, cost).",
)


def scalar_name(element: Indexed) -> str:
    """``W1[0, 1]`` -> ``W1_0_1``; ``delta2[0]`` -> ``d2_0``."""
    label = element.base.label.name
    var = Var.find(label)
    if var is not None:
        return var.scalar(*element.indices)
    return "_".join([label, *(str(i) for i in element.indices)])


class _Emitter:
    """Lines of ``name = expr`` printed by one ``NumbaPrinter`` (which collects helpers)."""

    def __init__(self, printer: NumbaPrinter) -> None:
        self.printer = printer

    def assign(self, target: str, expr: sympy.Expr, op: str = "=") -> str:
        return assignment(target, self.printer.doprint(expr), op)

    def block(self, targets: list[str], exprs: list[sympy.Expr], prefix: str) -> list[str]:
        """``target = expr`` for each pair, after common subexpression elimination."""
        temps, reduced = sympy.cse(exprs, symbols=sympy.numbered_symbols(prefix), order="canonical")
        lines = [self.assign(str(t), e) for t, e in temps]
        return lines + [self.assign(t, e) for t, e in zip(targets, reduced, strict=True)]


def _elements(eqn_or_adjoint) -> list[tuple[dict, tuple[int, ...]]]:
    indices = eqn_or_adjoint.indices
    return [(dict(zip(indices, v, strict=True)), v) for v in index_values(indices)]


def _forward_layer(emit: _Emitter, layer: LayerPlan) -> list[str]:
    lines = [forward_comment(layer)]
    z_base, a_base = layer.z.out.base, layer.a.out.base
    for values, idx in _elements(layer.z):
        lines.append(emit.assign(scalar_name(z_base[idx]), instantiate(layer.z.expr, values)))
    if layer.activation.is_softmax:
        return lines + _softmax_lines(layer)
    for values, idx in _elements(layer.a):
        lines.append(emit.assign(scalar_name(a_base[idx]), instantiate(layer.a.expr, values)))
    return lines


def _softmax_lines(layer: LayerPlan) -> list[str]:
    """a = softmax(z), max-shifted; ``lse`` = log Σ exp z for the loss."""
    n, number = layer.n_out, layer.number
    zs = [Var(PRE, number).scalar(j) for j in range(n)]
    lines = [f"m{number} = max({', '.join(zs)})" if n > 1 else f"m{number} = {zs[0]}"]
    lines += [f"e{number}_{j} = math.exp({z} - m{number})" for j, z in enumerate(zs)]
    lines.append(assignment(f"s{number}", " + ".join(f"e{number}_{j}" for j in range(n))))
    lines += [f"{Var(ACT, number).scalar(j)} = e{number}_{j} / s{number}" for j in range(n)]
    lines.append(f"{lse_symbol(number)} = m{number} + math.log(s{number})")
    return lines


def _loss_lines(emit: _Emitter, plan: NetworkPlan, formula: sympy.Expr | None) -> list[str]:
    cost = stable_loss(instantiate(plan.loss.expr, {}), plan)
    return [f"# cost: {loss_text(plan, formula)}", *emit.block(["cost"], [cost], "tc_")]


def _backward_layer(emit: _Emitter, plan: NetworkPlan, layer: LayerPlan, formula,
                    slots: dict[str, int] | None) -> list[str]:
    """δ of ``layer`` and its gradient terms, added into ``grad[slots[name]]`` or, without
    ``slots``, into the local ``g<name>``."""
    lines = [delta_comment(plan, layer, formula)]
    delta = layer.delta
    targets, exprs = [], []
    for values, idx in _elements(delta):
        targets.append(scalar_name(delta.symbol[idx]))
        exprs.append(instantiate(delta.expr, values))
    lines += emit.block(targets, exprs, f"u{layer.number}_")
    lines.append(grad_comment(layer))
    for adjoint in (layer.grad_w, layer.grad_b):
        if adjoint is None:
            continue
        for values, idx in _elements(adjoint):
            name = scalar_name(adjoint.variable[idx]) if idx else adjoint.variable.name
            expr = instantiate(adjoint.expr, values)
            if slots is None:
                lines.append(emit.assign(f"g{name}", expr, "+="))
            else:
                lines.append(emit.assign(f"grad[{slots[name]}]", expr, "+=") + f"  # {name}")
    return lines


_ASSIGNMENT = re.compile(r"^(\w+) = ")
_NAME = re.compile(r"[A-Za-z_]\w*")


def _names_read(lines: list[str]) -> set[str]:
    """Every identifier the code lines read (comments left out)."""
    return {name for line in lines if not line.startswith("#")
            for name in _NAME.findall(line.split(" = ", 1)[-1])}


def _live(lines: list[str], later: list[str]) -> list[str]:
    """``lines`` without the assignments that neither ``later`` nor a kept line reads: the
    forward pass of ``forward`` needs no log-sum-exp, that of ``loss`` no softmax outputs.
    (LLVM would drop them anyway; a reader should not have to wonder.)"""
    needed = _names_read(later)
    kept = []
    for line in reversed(lines):
        assigned = _ASSIGNMENT.match(line)
        if assigned and assigned.group(1) not in needed:
            continue
        kept.append(line)
        needed |= _names_read([line])
    return kept[::-1]


def _param_elements(d) -> list[tuple[str, str]]:
    """(local name, scalar parameter name) for every parameter element, in theta order."""
    result = []
    for base in d.program.params:
        shape = d.program.shapes[base]
        if not shape:
            result.append((base.name, base.name))
            continue
        for idx in index_values(tuple(sympy.Idx("i", n) for n in shape)):
            result.append((scalar_name(base[idx]), f"{base.label.name}{list(idx)}"))
    return result


def context(d, plan: NetworkPlan) -> dict:
    """Template context of ``kernels_unrolled.py.j2`` (each value: lines of printed code)."""
    printer = NumbaPrinter({"indexed": scalar_name})
    emit = _Emitter(printer)
    net = d.model
    formula = net.loss.expr if net.loss.is_custom else None
    params = _param_elements(d)
    in_locals = len(params) <= LOCAL_GRADIENTS_MAX
    slots = None if in_locals else {local: p for p, (local, _) in enumerate(params)}
    forward = [line for layer in plan.layers for line in _forward_layer(emit, layer)]
    backward = []
    for layer in reversed(plan.layers):
        backward += _backward_layer(emit, plan, layer, formula, slots)
    out = plan.output
    x, y = IndexedBase("x"), IndexedBase("y")
    store_out = [f"out[i, {j}] = {Var(ACT, out.number).scalar(j)}" for j in range(out.n_out)]
    loss = _loss_lines(emit, plan, formula)
    return {
        "work_per_sample": 0,
        "load_params": [f"{local} = theta[{p}]" for p, (local, _) in enumerate(params)],
        "gradient_locals": [local for local, _ in params] if in_locals else [],
        "load_x": [f"{scalar_name(x[k])} = X[i, {k}]" for k in range(net.inputs)],
        "load_y": [f"{scalar_name(y[j])} = Y[i, {j}]" for j in range(out.n_out)],
        "forward": _live(forward, loss + backward),
        "forward_to_output": _live(forward, store_out),
        "forward_to_loss": _live(forward, loss),
        "store_out": store_out,
        "loss": loss,
        "backward": backward,
        "helpers": sorted(printer.helpers),
        "without_runtime": True,  # nothing in the hot functions allocates
    }
