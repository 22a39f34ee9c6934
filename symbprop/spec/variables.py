"""Variables as values: a network's quantities by role and layer, and the one place that spells
their names.

A ``Var`` is a role (``Role``: weight W, bias b, weighted input z, activation a, error delta,
input x, target y, loss C) and, for the layer roles, a layer number.  The IR
(``symbprop.symbolic.ir``) names its SymPy objects ``Var.name``; every other module that needs a
name (a params key ``"W1"``, a forward value ``"z2"``, a document's ``delta3``) asks a ``Var``
for it, and every module that reads a name back asks ``Var.parse`` (or ``Var.find``).  A
parameter's scalar element is spelled ``W1[0,1]`` (``element_name``, ``split_element``), a graph
adjoint ∂f/∂q is the Symbol ``df_dq`` (``adjoint_name``, ``parse_adjoint``).

No SymPy here: the runtime side (kernels, training, checks) names its arrays with it too.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass

from symbprop.errors import SymbpropError


class Role(enum.Enum):
    """What a variable is; the value is the letter(s) its name begins with."""

    WEIGHT = "W"
    BIAS = "b"
    PRE_ACTIVATION = "z"
    ACTIVATION = "a"
    DELTA = "delta"
    INPUT = "x"
    TARGET = "y"
    LOSS = "C"

    @property
    def layered(self) -> bool:
        """Whether a variable of this role belongs to one layer (W, b, z, a, delta)."""
        return self in LAYERED


WEIGHT, BIAS, PRE, ACT, DELTA = (Role.WEIGHT, Role.BIAS, Role.PRE_ACTIVATION, Role.ACTIVATION,
                                 Role.DELTA)
INPUT, TARGET, LOSS = Role.INPUT, Role.TARGET, Role.LOSS
LAYERED = frozenset((WEIGHT, BIAS, PRE, ACT, DELTA))
#: The parameter roles, in the order of a layer's parameters.
PARAMETERS = (WEIGHT, BIAS)

# digits without a sign; leading zeros read as the number (the printers have always shown
# W01 as W^1), so ``Var.parse("W01").name`` is ``"W1"``
_LAYERED_RE = re.compile(r"(W|b|z|a|delta)([0-9]+)")
_ELEMENT_RE = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_]*)\s*(?:\[\s*(\d+(?:\s*,\s*\d+)*)\s*\])?\s*$")
# a spec's notation key, as users may write it: a letter, digits or none, one or two indices
_KEY_RE = re.compile(r"^\s*(W|b|z|a|x)(\d*)\s*\[\s*(\d+)\s*(?:,\s*(\d+)\s*)?\]\s*\Z")
_ADJOINT_RE = re.compile(r"^d([A-Za-z][A-Za-z0-9]*)_d([A-Za-z_][A-Za-z0-9_]*)$")
_ALLOWED = "W<l>, b<l>, z<l>, a<l>, delta<l> (l a layer number), x, y or C"


class UnknownVariable(SymbpropError, ValueError):
    """A text that is not the name of a network variable."""


@dataclass(frozen=True)
class Var:
    """One variable of a network: ``Var(WEIGHT, 2)`` is W2, ``Var(INPUT)`` is x.  Layer roles
    need a layer ≥ 0 (``a0`` is how the printers read x as a layer), the others none."""

    role: Role
    layer: int | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.role, Role):
            raise TypeError(f"a Var's role is a Role, not {self.role!r}")
        if self.role.layered:
            if isinstance(self.layer, bool) or not isinstance(self.layer, int) or self.layer < 0:
                raise ValueError(f"{self.role.name} needs a layer number >= 0, not {self.layer!r}")
        elif self.layer is not None:
            raise ValueError(f"{self.role.name} belongs to no layer (got layer {self.layer!r})")

    @property
    def name(self) -> str:
        """The printed base name: ``"W1"``, ``"delta2"``, ``"x"``, ``"C"``."""
        return self.role.value + (str(self.layer) if self.role.layered else "")

    def element(self, *indices: int) -> str:
        """The name of one scalar element: ``"W1[0,1]"``, ``"b2[0]"``; the name without indices."""
        return element_name(self.name, indices)

    def scalar(self, *indices: int) -> str:
        """The name of one element as a local of generated scalar code: ``"W1_0_1"``, and
        ``"d2_0"`` for δ2[0] (short: the unrolled modules name every δ)."""
        base = f"d{self.layer}" if self.role is DELTA else self.name
        return "_".join([base, *map(str, indices)])

    @classmethod
    def find(cls, text: str) -> Var | None:
        """The variable that ``text`` names, or None for any other text (a graph's ``q``)."""
        if not isinstance(text, str):
            return None
        match = _LAYERED_RE.fullmatch(text)
        if match is not None:
            return cls(Role(match.group(1)), int(match.group(2)))
        if text in _UNLAYERED:
            return cls(Role(text))
        return None

    @classmethod
    def parse(cls, text: str) -> Var:
        """The variable that base name ``text`` names (``"b10"`` -> ``Var(BIAS, 10)``); an
        ``UnknownVariable`` error naming what is allowed for any other text."""
        found = cls.find(text)
        if found is None:
            raise UnknownVariable(f"{text!r} is not a variable name; allowed: {_ALLOWED}")
        return found

    def __str__(self) -> str:
        return self.name

    def __repr__(self) -> str:
        layer = "" if self.layer is None else f", {self.layer}"
        return f"Var({self.role.name}{layer})"


_UNLAYERED = {role.value for role in Role if not role.layered}


def layer_var(text: str) -> Var | None:
    """``Var.find(text)`` if it names a layer variable (``"W12"``), else None (x, y, C, ``q``)."""
    found = Var.find(text)
    return found if found is not None and found.role.layered else None


def neurons(layer: int) -> Var:
    """The values of layer ``layer``'s neurons: x for layer 0, a<l> otherwise."""
    return Var(INPUT) if layer == 0 else Var(ACT, layer)


def layer_input(layer: int) -> Var:
    """What layer ``layer`` reads: x for the first layer, the activations a<l-1> after it."""
    return neurons(layer - 1)


def marked(role: Role, mark) -> str:
    """The name of ``role``'s variable at a layer ``mark`` that may be a number or text: a
    superscript (``z²``, ``Wˡ⁺¹``) in the comments of generated code; ``marked(WEIGHT, 2)`` is
    ``Var(WEIGHT, 2).name``."""
    return role.value + str(mark)


def name(role: Role, layer: int | None = None) -> str:
    """``Var(role, layer).name``: the key of a params, forward or delta dictionary."""
    return Var(role, layer).name


# ---------------------------------------------------------------- scalar elements


def element_name(base: str, indices=()) -> str:
    """``"W1"``, ``(0, 1)`` -> ``"W1[0,1]"``; ``base`` itself without indices (a scalar such as
    a shared bias ``b1`` or a graph's ``x``).  Any base name, a network's or a graph's."""
    return f"{base}[{','.join(map(str, indices))}]" if len(indices) else base


def split_element(text) -> tuple[str, tuple[int, ...]] | None:
    """``"W1[0,1]"`` -> ``("W1", (0, 1))``, ``"x"`` -> ``("x", ())``, spaces allowed around the
    parts; None for text that is no element name (a number, ``"W1[a]"``, ``"W1[0"``)."""
    match = _ELEMENT_RE.match(text) if isinstance(text, str) else None
    if match is None:
        return None
    indices = tuple(int(i) for i in match.group(2).split(",")) if match.group(2) else ()
    return match.group(1), indices


def parse_key(text) -> tuple[Role, int | None, tuple[int, ...]] | None:
    """A spec's ``notation`` key as written, unchecked against a network: ``"W1[0,1]"`` ->
    ``(WEIGHT, 1, (0, 1))``; the layer None where no digits follow the letter (``x[0]``, or
    ``W[0,0]`` for the caller to refuse); only the letters W, b, z, a, x, one or two indices.
    None for anything else."""
    match = _KEY_RE.match(text) if isinstance(text, str) else None
    if match is None:
        return None
    letter, layer, first, second = match.groups()
    indices = (int(first),) if second is None else (int(first), int(second))
    return Role(letter), int(layer) if layer else None, indices


def element_var(text) -> Var | None:
    """The variable of an element name: ``"W1[0,1]"`` -> ``Var(WEIGHT, 1)``, ``"b2"`` ->
    ``Var(BIAS, 2)``; None for a graph's names and any other text."""
    parts = split_element(text)
    return None if parts is None else Var.find(parts[0])


def element_role(text) -> Role | None:
    """The role of an element name (``"W1[0,1]"`` -> ``WEIGHT``), or None."""
    var = element_var(text)
    return None if var is None else var.role


# ---------------------------------------------------------------- graph adjoints


def adjoint_name(output: str, variable: str) -> str:
    """The name of the adjoint ∂``output``/∂``variable`` of a graph: ``"df_dq"``."""
    return f"d{output}_d{variable}"


def parse_adjoint(text: str, output: str | None = None) -> tuple[str, str] | None:
    """``"df_dq"`` -> ``("f", "q")`` (∂f/∂q), or None.  With ``output`` known, the split is
    exact even when names contain underscores (``dmy_out_dq`` with output ``my_out``)."""
    if output is not None:
        prefix = adjoint_name(output, "")
        return (output, text[len(prefix):]) if text.startswith(prefix) and text != prefix else None
    match = _ADJOINT_RE.match(text)
    return (match.group(1), match.group(2)) if match else None


def looks_like_adjoint(text: str) -> bool:
    """Whether ``text`` may be an adjoint's name of some output (``d..._d...``), the output
    unknown: a loose test for what not to show the user as a value they gave."""
    return text.startswith("d") and "_d" in text


def is_adjoint_of(text: str, output: str) -> bool:
    """Whether ``text`` is (or begins) the name of an adjoint of ``output``: ``df_d...``."""
    return text.startswith(adjoint_name(output, ""))
