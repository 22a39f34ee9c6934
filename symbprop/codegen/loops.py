"""The pieces the looped lowering prints with: array names, element loops, the scratch layout.

``array_name`` is the ``indexed`` setting of the lowering's printer (an element of the derivation
-> an element of a feature-major buffer: ``z1[j]`` -> ``Z1[j, i]``); ``renamed`` is the same with
some of the derivation's labels shown as other arrays (a run of layers prints layer f's
equations over the loop's arrays ``Z``, ``A``, ``D``, ``A_in``: ``symbprop.codegen.runs``).
``element`` prints one element equation, ``loop`` wraps it in the loops over neurons and samples,
``Scratch`` lays out the work buffer, ``views`` the parameters' views into theta or grad.
``replace_back_product`` and ``check_in_place`` turn δ^l's sum Σ_k W^{l+1}_kj δ^{l+1}_k into one
matrix product written into δ^l's own buffer, where that is safe.
"""

from __future__ import annotations

from collections.abc import Callable

import sympy
from sympy import Indexed, IndexedBase, Sum

from symbprop.errors import SymbpropError
from symbprop.spec.variables import (
    ACT,
    DELTA,
    INPUT,
    PRE,
    TARGET,
    WEIGHT,
    Var,
    layer_input,
)
from symbprop.symbolic.ir import label


class LoweringError(SymbpropError):
    """The derivation has a form the looped lowering does not know (use ``unrolled``)."""


#: The loop's arrays of a layer's variables (and of back<l> = W^{l+1}ᵀ δ^{l+1}, into D).
ARRAYS = {DELTA: "D", PRE: "Z", ACT: "A"}
#: back<l>: the label of W^{l+1}ᵀ δ^{l+1}, BP2's sum as ``replace_back_product`` names it (every
#: network lowering reads it through ``back_name`` and ``back_layer``).
BACK = "back"


def back_name(number: int) -> str:
    """The label of back<l> for layer ``number``: ``back2``."""
    return f"{BACK}{number}"


def back_layer(label_: str) -> int | None:
    """The layer of a back<l> label (``"back2"`` -> 2), or None for any other label."""
    rest = label_.removeprefix(BACK)
    return int(rest) if rest != label_ and rest.isdigit() else None


def array_name(element: Indexed) -> str:
    """``x[k]`` -> ``X[i, k]``, ``z1[j]`` -> ``Z1[j, i]``, ``W2[k, j]`` -> ``W2[k, j]``."""
    label_ = element.base.label.name
    idx = ", ".join(str(i) for i in element.indices)
    var = Var.find(label_)
    if var is not None and var.role in (INPUT, TARGET):
        return f"{label_.upper()}[i, {idx}]"
    if var is not None and var.role in ARRAYS:
        return f"{ARRAYS[var.role]}{var.layer}[{idx}, i]"
    if (layer := back_layer(label_)) is not None:
        return f"D{layer}[{idx}, i]"
    return f"{label_}[{idx}]"


def renamed(arrays: dict[str, str]) -> Callable[[Indexed], str]:
    """``array_name``, except that an element whose label is a key of ``arrays`` (``z2``) is an
    element of the buffer named by its value (``Z``: ``z2[j]`` -> ``Z[j, i]``)."""
    def name(element: Indexed) -> str:
        array = arrays.get(element.base.label.name)
        if array is None:
            return array_name(element)
        return f"{array}[{', '.join(str(i) for i in element.indices)}, i]"
    return name


def loop(body: list[str], rows: str, j: str = "j") -> list[str]:
    """``for j in range(rows): for i in range(n): body``."""
    return [f"for {j} in range({rows}):", "    for i in range(n):", *("        " + b for b in body)]


def param_layout(d) -> list[tuple[str, int, tuple]]:
    """(name, offset in theta, shape) of each parameter, in the order theta stores them."""
    layout, offset = [], 0
    for base in d.program.params:
        shape = tuple(int(s) for s in d.program.shapes[base])
        layout.append((label(base), offset, shape))
        offset += int(sympy.prod(shape)) if shape else 1
    return layout


def start(name: str) -> str:
    """The module constant that holds where parameter ``name`` starts in theta (``W1_AT``; the
    network templates define one per parameter, from ``emit.packing``)."""
    return f"{name}_AT"


def views(d, source: str, prefix: str, skip: frozenset = frozenset(),
          reshape: bool = False) -> list[str]:
    """``W1 = _matrix(theta, W1_AT, 3, 2)``, ``b1 = theta[b1_AT:b1_AT + 3]``, ... (prefix ``g``
    for grad), except the parameters named in ``skip`` (those of runs, which their loops view).
    ``reshape``: ``W1 = theta[W1_AT:W1_AT + 6].reshape((3, 2))``, for NumPy."""
    lines = []
    for name, _, shape in param_layout(d):
        if name in skip:
            continue
        size = int(sympy.prod(shape)) if shape else 1
        view = f"{source}[{start(name)}:{start(name)} + {size}]"
        if len(shape) == 2 and reshape:
            view += f".reshape(({shape[0]}, {shape[1]}))"
        elif len(shape) == 2:
            view = f"_matrix({source}, {start(name)}, {shape[0]}, {shape[1]})"
        elif not shape:
            view = f"{source}[{start(name)}]" if source == "theta" else view
        lines.append(f"{prefix}{name} = {view}")
    return lines


class Scratch:
    """The layout of the work buffer: one (rows, n) block per temporary, in order of first use,
    so that the forward pass's blocks are a prefix that ``forward`` and ``loss`` share.  A block
    without a name (``region``) is space a loop views itself (a run's layers)."""

    def __init__(self) -> None:
        self.blocks: list[tuple[str | None, int]] = []

    def take(self, name: str, rows: int) -> str:
        """Reserve ``name`` ((rows, n), or (n,) for ``rows == 0``); returns ``name``."""
        self.blocks.append((name, rows))
        return name

    def region(self, rows: int) -> int:
        """Reserve ``rows`` rows of n numbers without a view; returns the first row."""
        start = self.per_sample
        self.blocks.append((None, rows))
        return start

    @property
    def per_sample(self) -> int:
        return sum(max(rows, 1) for _, rows in self.blocks)

    def views(self, count: int | None = None) -> list[str]:
        """``Z1 = _matrix(work, 0, 128, n)``, ... for the first ``count`` blocks."""
        lines, start = [], 0
        for name, rows in self.blocks[:count]:
            stop = start + max(rows, 1)
            if name is not None:
                lines.append(f"{name} = _matrix(work, {_times_n(start)}, {rows}, n)" if rows
                             else f"{name} = work[{_times_n(start)}:{_times_n(stop)}]")
            start = stop
        return lines


def _times_n(rows: int) -> str:
    return "0" if rows == 0 else "n" if rows == 1 else f"{rows} * n"


def element(pr, target: str, expr: sympy.Expr, prefix: str, form: str = "{}") -> list[str]:
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


def check_in_place(expr: sympy.Expr, number: int) -> None:
    """δ^l[j] may be written over W^{l+1}ᵀ δ^{l+1} only if it reads that sum at j alone."""
    reads = {e.indices for e in expr.atoms(Indexed) if e.base.label.name == back_name(number)}
    if reads - {(sympy.Idx("j"),)}:
        raise LoweringError(f"looped lowering: δ{number} reads "
                            f"{Var(WEIGHT, number + 1).name}ᵀδ{number + 1} "
                            f"at other neurons: {expr}")


def replace_back_product(expr: sympy.Expr, nxt) -> sympy.Expr:
    """Σ_k W^{l+1}[k, j] δ^{l+1}[k] -> back<l>[j] (computed by one np.dot); ``nxt``: the
    ``LayerPlan`` of layer l + 1."""
    w_base, d_base = nxt.grad_w.variable, nxt.delta.symbol
    back = IndexedBase(back_name(nxt.number - 1))

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


def delta_expression(plan, layer) -> sympy.Expr:
    """δ^l[j] of ``layer`` as the derivation gives it, with Σ_k W^{l+1}_kj δ^{l+1}_k as back<l>[j]
    (one product into δ^l's buffer); ``LoweringError`` if a sum is left or δ^l[j] reads
    back<l> at other neurons."""
    delta, number = layer.delta, layer.number
    expr = delta.expr.xreplace({delta.indices[0]: sympy.Idx("j")})
    if not layer.is_output:
        expr = replace_back_product(expr, plan.layers[number])
        check_in_place(expr, number)
    if expr.has(Sum):
        raise LoweringError(f"looped lowering: δ{number} has a sum it cannot loop over: {expr}")
    return expr


def check_outer(layer) -> None:
    """``LoweringError`` unless ∂C/∂W^l[j, k] = δ^l[j] a^{l−1}[k] (x[k] for l = 1): one product."""
    number = layer.number
    j, k = layer.grad_w.indices
    prev = layer_input(number).name
    factors = sorted((f.base.label.name, f.indices)
                     for f in sympy.Mul.make_args(layer.grad_w.expr) if isinstance(f, Indexed))
    if len(sympy.Mul.make_args(layer.grad_w.expr)) != 2 or factors != sorted(
        [(Var(DELTA, number).name, (j,)), (prev, (k,))]
    ):
        raise LoweringError(f"looped lowering: unexpected ∂C/∂{Var(WEIGHT, number).name} = "
                            f"{layer.grad_w.expr}")
