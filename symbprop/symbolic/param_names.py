"""The scalar parameter names of a program (``Derivation.params``), made on demand.

Names are spelled by ``symbprop.spec.variables.element_name`` (``"W1[0,1]"``, ``"b2"``, a
graph's ``"x"``) and read back by ``split_element``.
"""

from __future__ import annotations

import bisect
import itertools
import math
from collections.abc import Sequence

from symbprop.spec.variables import element_name, split_element
from symbprop.symbolic.ir import Program, label

#: ``Derivation.params`` is a tuple up to this many names, a lazy ``ParamNames`` beyond.
MAX_LISTED_PARAMS = 1_000_000


class ParamNames(Sequence):
    """The scalar parameter names of a program, in order, each made when it is asked for:
    ``len``, indexing, slicing, iteration and ``index`` cost nothing per parameter."""

    def __init__(self, prog: Program) -> None:
        self._blocks = [(label(b), prog.shapes.get(b, ())) for b in prog.params]
        self._starts = list(itertools.accumulate((math.prod(s) for _, s in self._blocks),
                                                 initial=0))
        self._labels = {name: i for i, (name, _) in enumerate(self._blocks)}

    @property
    def arrays(self) -> list[tuple[str, tuple[int, ...]]]:
        """(name, shape) of each parameter array, in order; shape () for a scalar."""
        return list(self._blocks)

    def __len__(self) -> int:
        return self._starts[-1]

    def __getitem__(self, position):
        if isinstance(position, slice):
            return [self[i] for i in range(*position.indices(len(self)))]
        if position < 0:
            position += len(self)
        if not 0 <= position < len(self):
            raise IndexError("parameter index out of range")
        block = bisect.bisect_right(self._starts, position) - 1
        name, shape = self._blocks[block]
        if not shape:
            return name
        indices, rest = [], position - self._starts[block]
        for size in reversed(shape):
            rest, i = divmod(rest, size)
            indices.append(i)
        return element_name(name, tuple(reversed(indices)))

    def __iter__(self):
        for name, shape in self._blocks:
            if not shape:
                yield name
                continue
            for idx in itertools.product(*(range(n) for n in shape)):
                yield element_name(name, idx)

    def index(self, name, start=0, stop=None) -> int:
        base, indices = split_element(name) or (None, ())
        block = self._labels.get(base)
        if block is not None:
            shape = self._blocks[block][1]
            fits = len(indices) == len(shape) and all(
                0 <= i < n for i, n in zip(indices, shape, strict=False))
            if fits and name == self._spelled(block, indices):
                offset = 0
                for i, n in zip(indices, shape, strict=True):
                    offset = offset * n + i
                return self._starts[block] + offset
        raise ValueError(f"{name!r} is not a parameter")

    def _spelled(self, block: int, indices) -> str:
        return element_name(self._blocks[block][0], indices)

    def __contains__(self, name) -> bool:
        try:
            self.index(name)
        except ValueError:
            return False
        return True

    def __repr__(self) -> str:
        return f"ParamNames({summary(self)})"


def summary(names, limit: int = 8) -> str:
    """The first ``limit`` names, and how many there are in all."""
    shown = ", ".join(names[:limit])
    return shown + (f", ... ({len(names)} in all)" if len(names) > limit else "")
