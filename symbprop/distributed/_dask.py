"""Dask, imported only when asked for: the clear error without it, the client of a call, and
``--scheduler ADDRESS|local[:N]``."""

from __future__ import annotations

import contextlib
import logging
import os
import re

from symbprop.errors import SymbpropError

INSTALL = 'pip install -e ".[dask]"'  # the checkout's extra; from an index: symbprop[dask]
SCHEDULER_HELP = "ADDRESS (tcp://host:8786) or local[:N] (N worker processes on this machine)"


def require(what: str = "Dask"):
    """``dask.distributed``, or a ``SymbpropError`` naming the install command."""
    try:  # Dask is optional (the [dask] extra): imported only when asked for
        import dask  # noqa: F401
        import dask.array  # noqa: F401
        import distributed
    except ImportError as err:
        raise SymbpropError(f"{what} needs Dask (dask.distributed), which is not installed "
                            f"({err.name} missing); install it with {INSTALL}") from None
    return distributed


def client_for(client):
    """``client`` (a ``distributed.Client``), or the current default client, or an error."""
    distributed = require("training on a cluster")
    if client is not None:
        if not isinstance(client, distributed.Client):
            raise SymbpropError(f"client: expected a dask.distributed.Client, got "
                                f"{type(client).__name__}")
        return client
    try:
        return distributed.default_client()
    except ValueError:
        raise SymbpropError("client: no Dask client; pass client=Client(...) (or "
                            "LocalCluster) or create one before calling") from None


def parse_scheduler(text: str) -> tuple[str, int | str | None]:
    """``("local", N or None)`` for ``local[:N]``, ``("address", ADDRESS)`` otherwise."""
    text = str(text).strip()
    match = re.fullmatch(r"local(?::(\w*))?", text)
    if match:
        count = match.group(1)
        if count is None:
            return "local", None
        if not count.isdigit() or int(count) < 1:
            raise SymbpropError(f"--scheduler: {text!r}: N in local:N must be a whole number "
                                f">= 1; expected {SCHEDULER_HELP}")
        return "local", int(count)
    if re.fullmatch(r"([a-z]+://)?[\w.\-\[\]:]+:\d+", text):
        return "address", text
    raise SymbpropError(f"--scheduler: {text!r}: expected {SCHEDULER_HELP}")


@contextlib.contextmanager
def connect(text: str, timeout: float = 20.0):
    """A ``Client`` for ``--scheduler`` text; a local cluster is closed on leaving."""
    kind, value = parse_scheduler(text)
    distributed = require("--scheduler")
    if kind == "address":
        try:
            client = distributed.Client(value, timeout=timeout)
        except (OSError, TimeoutError) as err:
            raise SymbpropError(f"--scheduler: cannot reach the Dask scheduler at {value} "
                                f"({type(err).__name__}: {err})") from None
        with client:
            yield client
        return
    workers = value or os.cpu_count() or 1
    with local_cluster(workers) as cluster, distributed.Client(cluster) as client:
        yield client


def local_cluster(workers: int, **options):
    """``LocalCluster`` of ``workers`` single-threaded processes (BLAS single-threaded, as the
    Nanny sets), no dashboard, with ``SYMBPROP_CACHE_DIR`` passed to the workers."""
    distributed = require("a local cluster")
    env = {name: os.environ[name] for name in ("SYMBPROP_CACHE_DIR", "NUMBA_CACHE_DIR")
           if name in os.environ}
    options = {"n_workers": workers, "threads_per_worker": 1, "processes": True,
               "dashboard_address": None, "env": env, "silence_logs": logging.CRITICAL, **options}
    return distributed.LocalCluster(**options)
