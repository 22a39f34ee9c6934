"""Variables as values (issue 16, item 4): ``symbprop.spec.variables`` is the one place that
spells a network variable's name (``W1``, ``delta2``, ``df_dq``) or reads one back.

(a) ``Var`` names and parses every role at layers 1..12 and back (``b1`` is not ``b10``);
(b) a scan of the package's source with ``ast`` fails on a module that builds such a name from a
role letter and a number (``f"W{l}"``, ``"b" + str(l)``, ``f"d{out}_d{q}"``) or parses one
(``name.startswith("W")``, ``lstrip("Wb")``, ``[len("delta"):]``, a regex ``(W|b|z)(\\d+)``,
an element name split at its ``[``);
the scanner is shown to find each pattern in planted source.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from symbprop.spec.variables import (
    ACT,
    BIAS,
    DELTA,
    INPUT,
    LAYERED,
    LOSS,
    PRE,
    TARGET,
    WEIGHT,
    Role,
    UnknownVariable,
    Var,
    adjoint_name,
    element_name,
    layer_input,
    neurons,
    parse_adjoint,
    split_element,
)

PACKAGE = Path(__file__).resolve().parent.parent / "symbprop"
ROLES = ("W", "b", "z", "a", "delta")
#: Modules that may spell and read names, and why.
ALLOWED = {
    "spec/variables.py": "the one place that spells and parses names",
}
#: Single findings that are no variable names: (module, finding without its line) -> why.
NOT_NAMES = {
    ("render/reverse_network.py", "builds an adjoint d{...}_d{...}"):
        "TikZ node ids d<layer>_<j> of the backward diagram, never printed",
}

# ---------------------------------------------------------------- (a) Var


@pytest.mark.parametrize("role", sorted(LAYERED, key=lambda r: r.value))
@pytest.mark.parametrize("layer", range(1, 13))
def test_a_layer_variable_round_trips_through_its_name(role, layer):
    var = Var(role, layer)
    assert var.name == f"{role.value}{layer}"
    assert Var.parse(var.name) == var
    assert Var.parse(var.name).layer == layer  # b1 is not b10, nor b10 b1 and 0


@pytest.mark.parametrize(("role", "text"), [(INPUT, "x"), (TARGET, "y"), (LOSS, "C")])
def test_a_variable_of_no_layer_round_trips(role, text):
    assert Var(role).name == text
    assert Var.parse(text) == Var(role)


def test_every_role_is_covered():
    assert {*LAYERED, INPUT, TARGET, LOSS} == set(Role)


def test_similar_names_are_told_apart():
    assert Var.parse("b10") == Var(BIAS, 10) != Var.parse("b1")
    assert Var.parse("delta12") == Var(DELTA, 12)
    assert Var.parse("W01") == Var(WEIGHT, 1)  # a notation key's W01 is W1
    assert Var.parse("a0") == Var(ACT, 0) != neurons(0)  # a0 names the printers read; x is x
    assert neurons(0) == layer_input(1) == Var(INPUT)
    assert layer_input(3) == Var(ACT, 2)


@pytest.mark.parametrize("text", ["q", "W", "w1", "W1[0,0]", "deltas1", "d1", "z-1", "x1", "",
                                  " W1", "W1 ", "C2", "W١"])
def test_parse_refuses_other_text(text):
    assert Var.find(text) is None
    with pytest.raises(UnknownVariable, match="is not a variable name; allowed: W<l>"):
        Var.parse(text)


@pytest.mark.parametrize(("role", "layer"), [(WEIGHT, None), (WEIGHT, -1), (PRE, True),
                                             (INPUT, 1), (LOSS, 0), ("W", 1)])
def test_a_var_refuses_a_wrong_layer(role, layer):
    with pytest.raises((TypeError, ValueError)):
        Var(role, layer)


def test_elements_and_adjoints_round_trip():
    assert Var(WEIGHT, 10).element(0, 1) == "W10[0,1]"
    assert Var(BIAS, 2).element() == "b2"
    assert split_element("W10[0,1]") == ("W10", (0, 1))
    assert split_element(" b2 [ 3 ] ") == ("b2", (3,))
    assert split_element(element_name("q", ())) == ("q", ())
    assert split_element("W1[0") is None and split_element(3) is None
    assert adjoint_name("f", "q") == "df_dq"
    assert parse_adjoint("df_dq") == ("f", "q")
    assert parse_adjoint(adjoint_name("my_out", "q_2"), output="my_out") == ("my_out", "q_2")
    assert parse_adjoint("q") is None


def test_the_ir_carries_its_variables_as_values():
    import symbprop as sp

    d = sp.derive(sp.mlp([2, 3, 3, 1], activation="tanh", loss="half_sse"))
    variables = d.program.variables
    assert {v for v in variables if v.role.layered} == {
        Var(role, layer) for role in (WEIGHT, BIAS, PRE, ACT) for layer in (1, 2, 3)}
    for var, base in variables.items():
        assert (d.program.output if var.role is LOSS else d.base(var.name)) is base
        assert d.role_of(base) == var == d.role_of(var.name)
    for layer in (1, 2, 3):
        assert d.variable(DELTA, layer) is d.adjoints[d.variable(PRE, layer)].symbol
        assert d.role_of(d.variable(DELTA, layer)) == Var(DELTA, layer)
    assert d.role_of("q") is None


def test_each_equation_says_what_it_defines_as_an_eqn_role():
    import symbprop as sp
    from symbprop.symbolic.ir import EqnRole

    net = sp.derive(sp.mlp([2, 3, 1], activation="tanh", loss="half_sse")).program
    assert [(e.role, e.layer, e.base) for e in net.eqns] == [
        (EqnRole.PRE, 1, net.variables[Var(PRE, 1)]), (EqnRole.ACT, 1, net.variables[Var(ACT, 1)]),
        (EqnRole.PRE, 2, net.variables[Var(PRE, 2)]), (EqnRole.ACT, 2, net.variables[Var(ACT, 2)]),
        (EqnRole.LOSS, 2, net.output)]
    graph = sp.derive(sp.expression("(x + y) * z")).program
    assert graph.eqns and {e.role for e in graph.eqns} == {EqnRole.NODE}


# ---------------------------------------------------------------- (b) the source scan

_ROLE_END = re.compile(r"(?:^|[^\w\\{}])(W|b|z|a|delta)$")  # a role letter ending a literal
_ADJOINT_END = re.compile(r"(?:^|[^\w\\{}])d$")
_ROLE_GROUP = re.compile(r"\((?:\?:)?(?:W|b|z|a|delta)(?:\|\w+)+\)|\b(?:W|b|z|a|delta)\)?\(\\d")


def _text(node) -> str | None:
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


def _leading(node) -> str | None:
    """The literal a string expression begins with: ``"W"``, or ``"W"`` of ``f"W{l}["``."""
    if (text := _text(node)) is not None:
        return text
    if isinstance(node, ast.JoinedStr) and node.values:
        return _text(node.values[0])
    return None


def findings(source: str) -> list[str]:
    """``line: what`` for each place in ``source`` that builds or parses a variable name."""
    found = []
    for node in ast.walk(ast.parse(source)):
        line = getattr(node, "lineno", 0)
        if isinstance(node, ast.JoinedStr):
            parts = node.values
            for before, after in zip(parts, parts[1:], strict=False):
                text = _text(before)
                if text is None or not isinstance(after, ast.FormattedValue):
                    continue
                if _ROLE_END.search(text):
                    found.append(f"{line}: builds {text[-5:]!r}{{...}}")
                elif _ADJOINT_END.search(text):
                    found.append(f"{line}: builds an adjoint d{{...}}_d{{...}}")
        elif isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
            text = _text(node.left)
            if text is not None and _ROLE_END.search(text) and _text(node.right) is None:
                found.append(f"{line}: builds {text!r} + ...")
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            method = node.func.attr
            arg = _leading(node.args[0]) if node.args else None
            if method in ("startswith", "removeprefix") and arg is not None and (
                    arg in ROLES or re.fullmatch(r"(W|b|z|a|delta)\d*\[?|d", arg)):
                found.append(f"{line}: parses with {method}({arg!r})")
            elif method in ("lstrip", "strip") and arg and set(arg) <= set("Wbzadelt"):
                found.append(f"{line}: parses with {method}({arg!r})")
            elif method in ("partition", "split", "index", "find") and arg == "[":
                found.append(f"{line}: parses an element name with {method}('[')")
        elif isinstance(node, ast.Subscript) and isinstance(node.slice, ast.Slice):
            lower = node.slice.lower
            if (isinstance(lower, ast.Call) and getattr(lower.func, "id", "") == "len"
                    and lower.args and _text(lower.args[0]) in ROLES):
                found.append(f"{line}: parses with [len({_text(lower.args[0])!r}):]")
        if (text := _text(node)) is not None and _ROLE_GROUP.search(text):
            found.append(f"{line}: parses with the pattern {text[:40]!r}")
    return found


def scan(package: Path = PACKAGE) -> dict[str, list[str]]:
    """{module path: findings} for the modules of ``package`` outside ``ALLOWED``."""
    result = {}
    for path in sorted(package.rglob("*.py")):
        module = path.relative_to(package).as_posix()
        if module in ALLOWED:
            continue
        found = [f for f in findings(path.read_text(encoding="utf-8"))
                 if (module, f.split(": ", 1)[1]) not in NOT_NAMES]
        if found:
            result[module] = found
    return result


PLANTED = '''
import re
def f(l, name, out, q, layer):
    a = f"W{l}"
    b = "b" + str(l)
    c = f"d{out}_d{q}"
    d = {"x": 1}[f"delta{l + 1}"]
    e = name.startswith("W")
    g = name.startswith(f"W{layer}[")
    h = int(name.lstrip("Wb"))
    i = name[len("delta"):]
    j = re.compile(r"^(W|b|z|a|delta)(\\d+)$")
    k = "x" if l == 0 else f"a{l}"
    m = name.partition("[")[0]
'''
#: Text that is no variable name: words, LaTeX, an f-string's {{, other letters.
INNOCENT = '''
def f(l, s, n):
    a = f"Layer {l}: {n} neurons"
    b = f"\\\\delta{s}" + f"{{b}}{l}" + f"D{l}" + f"sub{l}"
    c = s.startswith("-") or s.startswith("http")
    d = "a" + "b"
'''


def test_the_scanner_finds_each_planted_pattern():
    found = findings(PLANTED)
    lines = sorted({int(f.split(":")[0]) for f in found})
    assert lines == list(range(4, 15)), found


def test_the_scanner_leaves_other_text_alone():
    assert findings(INNOCENT) == []


def test_only_the_variables_module_spells_variable_names():
    assert scan() == {}
