"""``sp.derive`` in time linear in depth (issue 20): layers of one form are derived once and
renamed, and the renaming (``indexing.rename``) builds exactly the tree ``xreplace`` builds.

Oracles: SymPy's ``xreplace`` for the renaming, the textbook BP2 written out by hand for every
layer of a deep net, and a derivation with empty memos for the memos' order independence."""

from __future__ import annotations

import time

import pytest
import sympy
from sympy import Idx, IndexedBase, Sum

import symbprop as sp
from symbprop.symbolic import sweep
from symbprop.symbolic.indexing import instantiate, rename

NETS = [
    sp.mlp([3, 4, 4, 2], activation="tanh"),
    sp.mlp([3, 5, 4, 3], activation="relu", loss="softmax_cross_entropy"),
    sp.mlp([2, 3, 1], activation="sigmoid", loss="bce", bias="shared"),
    sp.mlp([2, 3, 3, 2], activation=["elu", "softplus", "identity"], bias="none"),
]


def _renaming(expr) -> dict:
    """Every name of ``expr`` to a new one of the same kind, range, shape and assumptions,
    spelled so that SymPy's canonical order of the arguments changes (z..a for a..z)."""
    flip = {c: chr(ord("a") + ord("z") - ord(c)) for c in "abcdefghijklmnopqrstuvwxyz"}

    def new(name: str) -> str:
        return "Q" + "".join(flip.get(c, c) for c in name)

    mapping: dict = {}
    walk = sympy.preorder_traversal(expr)
    for node in walk:
        if isinstance(node, IndexedBase):
            mapping[node] = IndexedBase(new(node.label.name), shape=node.shape,
                                        **node.assumptions0)
            walk.skip()
        elif isinstance(node, Idx):
            mapping[node] = Idx(new(node.name), (node.lower, node.upper))
            walk.skip()
        elif isinstance(node, sympy.Symbol):
            mapping[node] = sympy.Symbol(new(node.name), **node.assumptions0)
    return mapping


def _expressions(net) -> list:
    d = sp.derive(net)
    return [a.expr for a in d.adjoints.values()] + [e.expr for e in d.program.eqns]


@pytest.mark.parametrize("net", NETS, ids=lambda n: "-".join(map(str, n.sizes)))
def test_rename_builds_what_xreplace_builds(net):
    for expr in _expressions(net):
        mapping = _renaming(expr)
        fast, slow = rename(expr, mapping), expr.xreplace(mapping)
        assert fast == slow and sympy.srepr(fast) == sympy.srepr(slow), expr
        back = {v: k for k, v in mapping.items()}
        assert rename(fast, back) == expr


def test_rename_that_is_no_renaming_is_xreplace():
    j, k = Idx("j", 3), Idx("k", 3)
    a = IndexedBase("a", shape=(3,))
    expr = Sum(a[k], (k, 0, 2)) * a[j]
    assert rename(expr, {j: sympy.Integer(1)}) == expr.xreplace({j: sympy.Integer(1)})
    assert rename(expr, {j: k}) == expr.xreplace({j: k})  # k is taken: a capture
    assert rename(expr, {j: Idx("i", 5)}) == expr.xreplace({j: Idx("i", 5)})  # other range


def test_a_scalar_form_is_expanded_once_and_is_the_sum_written_out(monkeypatch):
    """``instantiate`` remembers its forms: asked again, it answers without expanding the sum
    again; the form is the sum written out term by term."""
    j, k = Idx("j", 3), Idx("k", 4)
    w, x = IndexedBase("w", shape=(3, 4)), IndexedBase("x", shape=(4,))
    expr = Sum(w[j, k] * x[k], (k, 0, 3)) + w[j, 0]
    expansions = []
    doit = Sum.doit
    monkeypatch.setattr(Sum, "doit", lambda self, **hints: expansions.append(self)
                        or doit(self, **hints))
    first = instantiate(expr, {j: 2})
    assert first == sum(w[2, i] * x[i] for i in range(4)) + w[2, 0]
    once = len(expansions)
    assert once > 0
    assert instantiate(expr, {j: 2}) == first and len(expansions) == once
    assert instantiate(expr, {j: 1}) == sum(w[1, i] * x[i] for i in range(4)) + w[1, 0]
    assert len(expansions) > once


def test_every_layer_of_a_deep_net_is_the_textbook_bp2():
    depth, width = 40, 6
    d = sp.derive(sp.mlp([4] + [width] * depth + [3], activation="tanh"))
    rows = {row["layer"]: row for row in d.bp_equations()}
    j, k = Idx("j", width), Idx("k", width)
    for layer in range(1, depth):
        above = layer + 1
        n_above = width
        kk = Idx("k", n_above)
        a = IndexedBase(f"a{layer}", shape=(width,))
        W = IndexedBase(f"W{above}", shape=(n_above, width))
        delta_above = IndexedBase(f"delta{above}", shape=(n_above,))
        delta = IndexedBase(f"delta{layer}", shape=(width,))
        previous = IndexedBase(f"a{layer - 1}" if layer > 1 else "x",
                               shape=(width if layer > 1 else 4,))
        k_in = k if layer > 1 else Idx("k", 4)
        assert rows[layer]["BP2"] == (1 - a[j] ** 2) * Sum(W[kk, j] * delta_above[kk],
                                                           (kk, 0, n_above - 1))
        assert rows[layer]["BP3"] == delta[j]
        assert rows[layer]["BP4"] == delta[j] * previous[k_in]


def test_the_memos_do_not_depend_on_what_was_derived_before():
    nets = NETS + [sp.mlp([3] + [4] * 6 + [2], activation="tanh")]
    warm = [sp.derive(n).adjoints for n in nets for _ in range(2)][1::2]
    for net, adjoints in zip(nets, warm, strict=True):
        sweep._TERMS.clear()
        sweep._TIDIED.clear()
        cold = sp.derive(net).adjoints
        assert list(cold) == list(adjoints)
        for v in cold:
            assert cold[v].expr == adjoints[v].expr and cold[v].indices == adjoints[v].indices


def _cpu(sizes) -> float:
    model = sp.mlp(sizes, activation="tanh")
    start = time.thread_time()
    sp.derive(model)
    return time.thread_time() - start


def test_derive_is_linear_in_depth():
    """Four times the depth costs about four times the time (it was quadratic-ish: 3.8 s for
    256 layers of 32); a generous factor, the machine is shared."""
    _cpu([8, 8, 8, 2])
    short = min(_cpu([8] + [8] * 32 + [2]) for _ in range(2))
    long = min(_cpu([8] + [8] * 128 + [2]) for _ in range(2))
    assert long < 8 * short + 0.05
