"""Run replications on a Dask distributed cluster (the optional extra ``simsales[dask]``).

``dask_executor(address)`` connects to a running scheduler and yields a
``concurrent.futures.Executor`` whose work runs on the cluster's workers; everything that takes
an ``executor=`` (``run_replications``, ``compare_scenarios``, ``run_experiment``) then runs
there, with the same results as a local run: replication r always draws the streams of
``(seed, r)``, wherever it runs. The workers must have ``simsales`` (same version) installed in
their environment: a replication's job is sent to them by reference to its module, not as code.

Dask is imported only here, and only when called, so ``import simsales`` never needs it.
"""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import Executor
from contextlib import contextmanager

__all__ = ["ClusterError", "dask_executor", "executor_threads"]

#: Seconds to wait for the scheduler before giving up.
CONNECT_TIMEOUT = 5.0


class ClusterError(RuntimeError):
    """The Dask extra is missing, or the scheduler cannot be reached."""


@contextmanager
def dask_executor(address: str, *, timeout: float | None = None) -> Iterator[Executor]:
    """Connect to the Dask scheduler at ``address`` (``tcp://host:8786``) and yield an executor
    on its workers; the connection is closed afterwards.

    Raises ``ClusterError`` if ``distributed`` is not installed or the scheduler does not answer
    within ``timeout`` seconds (default ``CONNECT_TIMEOUT``).
    """
    timeout = CONNECT_TIMEOUT if timeout is None else timeout
    try:
        from distributed import Client
    except ImportError as err:
        raise ClusterError(
            "--scheduler needs Dask distributed: install simsales[dask] "
            "(pip install 'simsales[dask]')"
        ) from err
    try:  # a bad address fails here, before a half-made client complains when collected
        from distributed.comm import parse_address
        from distributed.comm.registry import get_backend

        get_backend(parse_address(address)[0])
    except ValueError as err:
        raise ClusterError(f"{address!r} is not a Dask scheduler address: {err}") from err
    try:
        client = Client(address, timeout=timeout, set_as_default=False)
    except (OSError, TimeoutError, ValueError) as err:
        raise ClusterError(
            f"cannot reach the Dask scheduler at {address} within {timeout:g} s: {err}"
        ) from err
    try:
        yield client.get_executor()
    finally:
        client.close()


def executor_threads(executor: Executor, default: int = 1) -> int:
    """How many replications ``executor`` runs at once: a Dask executor's worker threads over
    the cluster (at the time of asking), else ``default``."""
    from simsales.experiment.replications import executor_slots

    return executor_slots(executor, default)
