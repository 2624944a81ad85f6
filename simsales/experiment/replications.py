"""Run the replications of one scenario, serially or on any ``concurrent.futures.Executor``.

Replication ``r`` always gets the random streams of ``(seed, r)``, whoever runs it and whenever it
finishes, so results do not depend on the number of workers. Metrics are computed inside the
worker: only a small dict per replication crosses the process boundary, unless the caller asks
for the records too (to stream a deal table to disk). Results are handed back in replication
order, holding at most a few finished replications in memory while waiting for a slower one.
"""

from __future__ import annotations

import signal
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Executor, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass
from typing import Any

from simsales.experiment.store import RunStore
from simsales.model import RunRecords, simulate
from simsales.results import metrics_from_records
from simsales.scenario import Scenario

__all__ = ["OnResult", "executor_slots", "run_replications"]

#: Called once per replication, in replication order: (replication, records or None, metrics).
OnResult = Callable[[int, RunRecords | None, dict[str, float]], None]
Progress = Callable[[int], None]

_Outcome = tuple[int, dict[str, float], RunRecords | None]


@dataclass(frozen=True)
class _Work:
    """One replication's job, picklable so that it can be sent to a worker process."""

    scenario: Scenario
    seed: int
    event_log: bool
    keep_records: bool
    reduce: Callable[[RunRecords], Any] | None = None

    def __call__(self, replication: int) -> _Outcome:
        records = simulate(
            self.scenario, seed=self.seed, replication=replication, event_log=self.event_log
        )
        metrics = metrics_from_records(records)
        if not self.keep_records:
            return replication, metrics, None
        # reduced in the worker: only what the caller needs crosses the process boundary
        return replication, metrics, records if self.reduce is None else self.reduce(records)


def run_replications(
    scenario: Scenario,
    *,
    replications: int,
    seed: int,
    start: int = 0,
    jobs: int = 1,
    event_log: bool = False,
    on_result: OnResult | None = None,
    keep_records: bool = True,
    progress: Progress | None = None,
    executor: Executor | None = None,
    reduce: Callable[[RunRecords], Any] | None = None,
    store: RunStore | None = None,
) -> list[dict[str, float]]:
    """Run replications ``start .. replications - 1`` and return their metrics in that order.

    ``jobs == 1`` without an ``executor`` runs in this process; otherwise the work goes to
    ``executor`` or to a new ``ProcessPoolExecutor(max_workers=jobs)``. ``on_result`` sees each
    replication's records (``None`` if ``keep_records`` is false: the records then never leave
    the worker) and metrics, in replication order. ``progress`` is called with the number of
    replications finished so far (in this call). Same scenario and seed, same results, for any
    ``jobs``; and for any ``start``: replication r is the same whether it runs alone or with
    others, which lets ``--replications auto`` add rounds. With ``reduce`` (a picklable
    function), each replication's records are reduced in the worker and ``on_result`` receives
    ``reduce(records)`` instead: a cluster then ships a small summary, not the whole deal table.

    With a ``store`` (``simsales.experiment.store``), a replication found there is served from
    it instead of computed, and each computed one is saved as soon as this process receives it
    (whatever its order), so an interrupted call loses only the replications in progress.
    """
    if not 0 <= start < replications:
        raise ValueError(
            f"need 0 <= start < replications (at least one to run), got {start} and {replications}"
        )
    if jobs < 1:
        raise ValueError(f"jobs must be at least 1, got {jobs}")
    keep = keep_records and on_result is not None
    work = _Work(scenario, seed, event_log, keep, reduce)
    runs = _Source(work, store, _kind(keep, event_log, reduce))
    if executor is None and jobs == 1:
        return _run_serial(runs, start, replications, on_result, progress)
    if executor is not None:
        window = 2 * max(jobs, executor_slots(executor))
        return _run_on(executor, runs, start, replications, on_result, progress, window=window)
    pool = ProcessPoolExecutor(max_workers=jobs, initializer=_ignore_interrupts)
    try:
        metrics = _run_on(pool, runs, start, replications, on_result, progress, window=2 * jobs)
    except BaseException as exc:
        # A failed replication or Ctrl-C: drop the queued work, and on Ctrl-C do not wait
        # for the replications in progress either.
        workers = _workers(pool)
        pool.shutdown(wait=False, cancel_futures=True)
        if isinstance(exc, KeyboardInterrupt):
            for process in workers:
                process.terminate()
        raise
    pool.shutdown()
    return metrics


def executor_slots(executor: Executor, default: int = 1) -> int:
    """How many replications ``executor`` runs at once: a process or thread pool's workers, a
    Dask executor's worker threads over the cluster (when asked), else ``default``."""
    workers = getattr(executor, "_max_workers", None)
    if isinstance(workers, int) and workers > 0:
        return workers
    client: Any = getattr(executor, "_client", None)
    if client is None:
        return default
    try:
        threads = sum(client.nthreads().values())
    except Exception:
        return default
    return max(int(threads), 1)


def _kind(keep: bool, event_log: bool, reduce: Callable[[RunRecords], Any] | None) -> str:
    """What is kept of a replication, as the store's key says it."""
    if not keep:
        return "metrics"
    if reduce is None:
        return "records+events" if event_log else "records"
    return f"reduced:{getattr(reduce, '__module__', '?')}.{getattr(reduce, '__qualname__', '?')}"


@dataclass
class _Source:
    """Where replication r comes from: the store if it holds it, else the work."""

    work: _Work
    store: RunStore | None
    kind: str

    def key(self, replication: int) -> str:
        assert self.store is not None
        return self.store.key(
            self.work.scenario,
            seed=self.work.seed,
            replication=replication,
            kind=self.kind,
            reduce=self.work.reduce,
        )

    def stored(self, replication: int) -> _Outcome | None:
        if self.store is None:
            return None
        found = self.store.load(self.key(replication))
        return None if found is None else (replication, found[0], found[1])

    def keep(self, outcome: _Outcome) -> None:
        """Save a computed replication (its records only if the caller keeps them)."""
        if self.store is not None:
            r, metrics, payload = outcome
            self.store.save(self.key(r), metrics, payload)


def _ignore_interrupts() -> None:
    """Workers leave Ctrl-C to the parent, which cancels the run (and prints no tracebacks)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _workers(pool: ProcessPoolExecutor) -> list[Any]:
    """The pool's worker processes (private in Python < 3.14, which has ``terminate_workers``)."""
    return list((getattr(pool, "_processes", None) or {}).values())


def _run_serial(
    runs: _Source,
    start: int,
    replications: int,
    on_result: OnResult | None,
    progress: Progress | None,
) -> list[dict[str, float]]:
    results = []
    for r in range(start, replications):
        outcome = runs.stored(r)
        if outcome is None:
            outcome = runs.work(r)
            runs.keep(outcome)
        _, metrics, records = outcome
        del outcome
        if on_result is not None:
            on_result(r, records, metrics)
        del records  # let one replication's records go before the next is simulated
        results.append(metrics)
        if progress is not None:
            progress(r + 1 - start)
    return results


def _run_on(
    executor: Executor,
    runs: _Source,
    start: int,
    replications: int,
    on_result: OnResult | None,
    progress: Progress | None,
    *,
    window: int,
) -> list[dict[str, float]]:
    """Keep at most ``window`` replications submitted or waiting to be handed on, so memory
    stays bounded however many replications there are and however unevenly they finish.

    A replication the store holds is read when its turn to be submitted comes, into an
    already finished future: it takes a place in the window like any other."""
    window = max(window, 2)
    results: list[dict[str, float]] = []
    finished: dict[int, _Outcome] = {}
    running: set[Future[_Outcome]] = set()
    submitted, done = start, 0
    try:
        while start + len(results) < replications:
            while submitted < replications and len(running) + len(finished) < window:
                outcome = runs.stored(submitted)
                if outcome is None:
                    running.add(executor.submit(runs.work, submitted))
                else:
                    finished[submitted] = outcome
                    done += 1
                    if progress is not None:
                        progress(done)
                submitted += 1
            if running and start + len(results) not in finished:
                ready, running = wait(running, return_when=FIRST_COMPLETED)
                for future in ready:
                    outcome = future.result()
                    runs.keep(outcome)  # saved before anything else can fail or interrupt
                    finished[outcome[0]] = outcome
                    done += 1
                    if progress is not None:
                        progress(done)
            while start + len(results) in finished:
                r, metrics, records = finished.pop(start + len(results))
                if on_result is not None:
                    on_result(r, records, metrics)
                del records
                results.append(metrics)
    finally:
        for future in running:
            future.cancel()
    return results
