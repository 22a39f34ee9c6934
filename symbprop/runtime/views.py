"""Recognising parameter (or gradient) dicts that are views of one flat vector.

``Kernels.unflatten`` and ``init_params`` hand out ``{name: view}`` dicts over one vector; when
such a dict comes back (the parameters of the next step, or ``out=``), the kernels can use the
vector itself instead of copying every array into a new one.  ``VectorViews.vector_of(arrays)``
answers in two ways:

- identity with views it handed out (a few hundred nanoseconds; weak references to the views,
  so nothing outlives them), which is the common case;
- otherwise by address: every array a C-contiguous view of the same base vector at its offset
  (a few microseconds: NumPy's ``ctypes`` attribute is slow).  The base may also be the byte
  buffer of a 64-byte-aligned vector (``symbprop.runtime.aligned``), which owns the memory of every
  view of such a vector.
"""

from __future__ import annotations

import weakref

import numpy as np


class VectorViews:
    def __init__(self, size: int, dtype: np.dtype, offsets: list[int], shapes: list[tuple]):
        self.size, self.dtype = size, dtype
        self.offsets, self.shapes = offsets, shapes
        # id(first view) -> (weak first view, vector, weak views); an entry leaves when its first
        # view is garbage-collected, so ids are never confused.  The vector is held: an aligned
        # one is a view of a byte buffer, which its views keep alive, but not the vector object.
        self._handed_out: dict[int, tuple] = {}

    def remember(self, vector: np.ndarray, views: list[np.ndarray]) -> None:
        """Note that ``views`` (in parameter order) are views of ``vector``."""
        key = id(views[0])
        first = weakref.ref(views[0], lambda _, key=key: self._handed_out.pop(key, None))
        self._handed_out[key] = (first, vector, [weakref.ref(v) for v in views])

    def vector_of(self, arrays: list) -> np.ndarray | None:
        """The vector whose views ``arrays`` are, in parameter order and with their shapes;
        None if they are not (then the caller copies)."""
        entry = self._handed_out.get(id(arrays[0]))
        if entry is not None and entry[0]() is arrays[0]:
            vector = entry[1]
            if all(a is ref() for a, ref in zip(arrays, entry[2])) \
                    and all(a.shape == s for a, s in zip(arrays, self.shapes)):  # noqa: B905
                return vector
        return self._by_address(arrays)
    def writable_vector(self, out, names) -> np.ndarray | None:
        """The writable vector whose views the arrays of the dict ``out`` are, if they are (as
        the gradients of an earlier call): the kernel can write into it, with nothing copied."""
        if type(out) is not dict or len(out) != len(names):
            return None
        arrays = [out.get(name) for name in names]
        if all(type(a) is np.ndarray and a.dtype is self.dtype for a in arrays):
            vector = self.vector_of(arrays)
            if vector is not None and vector.flags.writeable:
                return vector
        return None

    def _by_address(self, arrays: list) -> np.ndarray | None:
        base = arrays[0].base
        if type(base) is not np.ndarray or base.ndim != 1 or not base.flags.c_contiguous:
            return None
        itemsize = self.dtype.itemsize
        start = arrays[0].ctypes.data - self.offsets[0] * itemsize
        for a, offset, shape in zip(arrays, self.offsets, self.shapes):  # noqa: B905
            if a.base is not base or a.dtype is not self.dtype or a.shape != shape \
                    or not a.flags.c_contiguous or a.ctypes.data != start + offset * itemsize:
                return None
        first = start - base.ctypes.data
        if base.dtype is self.dtype:
            return base if base.shape == (self.size,) and first == 0 else None
        if base.dtype == np.uint8 and 0 <= first <= base.size - self.size * itemsize:
            return base[first:first + self.size * itemsize].view(self.dtype)
        return None
