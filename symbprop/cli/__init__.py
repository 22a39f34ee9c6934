"""The ``symbprop`` command line: a thin layer over the Python API (the README is its reference).

In: argv.  Out: files and console text; exit status 0, or 2 with a one-line message for bad input.

- ``app``: the Typer application and ``main``.
- ``derive``, ``generate``, ``check``, ``train``, ``exercise``, ``bench``, ``examples``: one module
  per command.
- ``train_run``: the runs of ``train`` (a network on data, descent on an expression) and their
  reports.
- ``distributed``: ``train --scheduler``, training on a Dask cluster.
- ``options``: checks of command-line options, done before any work.
- ``console``: where commands print (rich on a terminal, plain lines elsewhere).
"""
