"""Training with the generated kernels, and gradient descent made visible.

In: a network and its data (CSV, NPZ or a bundled set), or an expression/graph and a start
point.  Out: trained parameters and a history (loss, accuracy, learning rate per epoch), or the
steps of gradient descent on the expression itself.

- ``loop``: ``train``: epochs, schedules, a stopping rule, the history.
- ``data``: training data read, validated and split.
- ``schedules``: learning rates per epoch and the checks of descent settings.
- ``history``: what a run records per epoch.
- ``progress``: the progress bar of a run (also ``Kernels.fit``'s).
- ``descent``: gradient descent on an expression or graph model (seed 003).

Scale-out on a Dask cluster is ``symbprop.distributed``.
"""
