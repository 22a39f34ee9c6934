"""The three-way check: symbolic gradient vs compiled kernels vs central finite differences.

In: a model (and optionally a point).  Out: a ``CheckReport`` (``report``), one row per
parameter group and comparison, with tolerances that depend on the dtype.

- ``compare``: ``check`` itself and the finite differences.
- ``sampling``: random points that fit the model, away from kinks.
- ``report``: the report and its table.
"""
