"""Run replications on a Dask distributed cluster (the optional extra ``simsales[dask]``).

``dask_executor(address)`` connects to a running scheduler and yields a
``concurrent.futures.Executor`` whose work runs on the cluster's workers; everything that takes
an ``executor=`` (``run_replications``, ``compare_scenarios``, ``run_experiment``) then runs
there, with the same results as a local run: replication r always draws the streams of
``(seed, r)``, wherever it runs. The workers must have ``simsales`` (same version) installed in
their environment: a replication's job is sent to them by reference to its module, not as code.
Connecting checks that (and has every worker import the model once, before any timing counts).

Dask is imported only here, and only when called, so ``import simsales`` never needs it.
"""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import Executor
from contextlib import contextmanager
from typing import Any

from simsales import __version__

__all__ = ["ClusterError", "dask_executor", "executor_threads", "worker_version"]

#: Seconds to wait for the scheduler before giving up.
CONNECT_TIMEOUT = 5.0


class ClusterError(RuntimeError):
    """The Dask extra is missing, or the scheduler cannot be reached."""


@contextmanager
def dask_executor(address: str, *, timeout: float | None = None) -> Iterator[Executor]:
    """Connect to the Dask scheduler at ``address`` (``tcp://host:8786``) and yield an executor
    on its workers; the connection is closed afterwards.

    Raises ``ClusterError`` if ``distributed`` is not installed, the scheduler does not answer
    within ``timeout`` seconds (default ``CONNECT_TIMEOUT``), or a worker does not run this
    version of simsales.
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
    _check_tls(address)
    try:
        client = Client(address, timeout=timeout, set_as_default=False)
    except (OSError, TimeoutError, ValueError) as err:
        raise ClusterError(
            f"cannot reach the Dask scheduler at {address} within {timeout:g} s: {err}"
        ) from err
    try:
        _check_workers(client, address)
        yield _executor(client)
    finally:
        client.close()


def _check_tls(address: str) -> None:
    """Raise ``ClusterError`` for a ``tls://`` address without this client's certificates in
    Dask's configuration (Dask itself fails with a ``TypeError`` deep in its connection code)."""
    if not address.startswith("tls://"):
        return
    from distributed.security import Security

    security = Security()  # (its attributes are set from the configuration, untyped)
    if not (getattr(security, "tls_ca_file", None) and getattr(security, "tls_client_cert", None)):
        raise ClusterError(
            f"{address} is a TLS scheduler: give this client its certificates (PEM files) in "
            "DASK_DISTRIBUTED__COMM__TLS__CA_FILE, DASK_DISTRIBUTED__COMM__TLS__CLIENT__CERT and "
            "DASK_DISTRIBUTED__COMM__TLS__CLIENT__KEY, or in Dask's configuration "
            "(distributed.comm.tls)"
        )


def _executor(client: Any) -> Executor:
    """The client's ``concurrent.futures`` executor, made cheaper per task for replications.

    Tasks are submitted with ``pure=False``: a replication's job is not hashed into its task
    key (dask's tokenize of a whole scenario costs milliseconds of this process's CPU per task);
    no two submitted tasks are alike anyway. And an argument whose class sets ``SHIP_ONCE``
    (a replication's job, which holds the scenario) is scattered to the cluster once and then
    passed by reference, instead of being pickled into every task and unpickled by the
    scheduler on the way.
    """
    from distributed.cfexecutor import ClientExecutor

    class ShippingExecutor(ClientExecutor):
        def __init__(self) -> None:
            super().__init__(client, pure=False)
            self._sent: dict[int, tuple[Any, Any]] = {}

        def submit(self, fn: Any, *args: Any, **kwargs: Any) -> Any:  # type: ignore[override]
            return super().submit(fn, *map(self._shipped, args), **kwargs)

        def _shipped(self, arg: Any) -> Any:
            if not getattr(type(arg), "SHIP_ONCE", False):
                return arg
            sent = self._sent.get(id(arg))
            if sent is None or sent[0] is not arg:  # (the object kept, so its id stays its own)
                sent = (arg, client.scatter(arg, hash=False))
                self._sent[id(arg)] = sent
            return sent[1]

    return ShippingExecutor()


def worker_version() -> str:
    """The simsales version where this runs. Called on every worker on connecting: it imports
    what a replication needs there and then, not in the first replication's time."""
    import simsales.experiment.replications  # noqa: F401

    return __version__


def _check_workers(client: Any, address: str) -> None:
    """Raise ``ClusterError`` unless every worker runs this version of simsales.

    A replication's job reaches a worker by reference to its module: a worker without simsales,
    or with another version (which may compute other numbers), must stop the run before it
    starts, with a message that says so, rather than fail or differ half-way.
    """
    try:
        versions: dict[str, str] = client.run(worker_version)
    except Exception as err:
        raise ClusterError(
            f"the workers of {address} cannot run simsales ({type(err).__name__}: {err}); "
            f"install simsales {__version__} in their environment"
        ) from err
    other = {worker: v for worker, v in versions.items() if v != __version__}
    if other:
        listed = ", ".join(f"{worker} has {v}" for worker, v in sorted(other.items()))
        raise ClusterError(
            f"the workers of {address} must run simsales {__version__}, as here: {listed}"
        )


def executor_threads(executor: Executor, default: int = 1) -> int:
    """How many replications ``executor`` runs at once: a Dask executor's worker threads over
    the cluster (at the time of asking), else ``default``."""
    from simsales.experiment.replications import executor_slots

    return executor_slots(executor, default)
