"""Run the replications of scenarios, serially or on any ``concurrent.futures.Executor``.

Replication ``r`` always gets the random streams of ``(seed, r)``, whoever runs it and whenever it
finishes, so results do not depend on the number of workers. Metrics are computed inside the
worker: only a small dict per replication crosses the process boundary, unless the caller asks
for the records too (to stream a deal table to disk). Results are handed back in order (scenario
by scenario, replications in order), holding at most a few finished replications in memory
while waiting for a slower one.

Several scenarios (a comparison's base and variants) go through one stream of work: the next
scenario's replications start while the last ones of the previous scenario still run, so no
worker waits at a scenario boundary. On a cluster, where every task costs a round trip through
the scheduler, consecutive replications of a scenario travel together in one task (fewer as the
work runs out, so the end is not left to one worker).
"""

from __future__ import annotations

import bisect
import itertools
import os
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import (
    FIRST_COMPLETED,
    Executor,
    Future,
    ProcessPoolExecutor,
    ThreadPoolExecutor,
    wait,
)
from dataclasses import dataclass
from typing import Any, ClassVar

from simsales.experiment.store import RunStore
from simsales.experiment.workers import forgive_cancelled_futures, start_worker
from simsales.model import RunRecords, simulate
from simsales.results import metrics_from_records
from simsales.scenario import Scenario

__all__ = ["OnResult", "Replications", "executor_slots", "run_replications", "run_scenarios"]

#: Called once per replication, in replication order: (replication, records or None, metrics).
OnResult = Callable[[int, RunRecords | None, dict[str, float]], None]
#: ``run_scenarios``'s: (index of the scenario, replication, records or None, metrics).
OnEachResult = Callable[[int, int, Any, dict[str, float]], None]
Progress = Callable[[int], None]

_Outcome = tuple[int, dict[str, float], RunRecords | None]

#: Most replications sent to a cluster in one task.
MAX_CHUNK = 4


@dataclass(frozen=True)
class Replications:
    """Replications ``start .. stop - 1`` of ``scenario``."""

    scenario: Scenario
    stop: int
    start: int = 0

    def __post_init__(self) -> None:
        if not 0 <= self.start < self.stop:
            raise ValueError(
                "need 0 <= start < replications (at least one to run), "
                f"got {self.start} and {self.stop}"
            )


@dataclass(frozen=True)
class _Work:
    """One replication's job, picklable so that it can be sent to a worker process."""

    #: Sent to a cluster once and then referred to (``simsales.experiment.cluster``).
    SHIP_ONCE: ClassVar[bool] = True

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


def _run_chunk(work: _Work, replications: list[int]) -> list[_Outcome]:
    """Several replications of one scenario in one task (a cluster's round trip saved)."""
    return [work(r) for r in replications]


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
    hook = None if on_result is None else (lambda _s, r, rec, m: on_result(r, rec, m))
    (metrics,) = run_scenarios(
        [Replications(scenario, replications, start)],
        seed=seed,
        jobs=jobs,
        event_log=event_log,
        on_result=hook,
        keep_records=keep_records,
        progress=progress,
        executor=executor,
        reduce=reduce,
        store=store,
    )
    return metrics


def run_scenarios(
    batches: Sequence[Replications],
    *,
    seed: int,
    jobs: int = 1,
    event_log: bool = False,
    on_result: OnEachResult | None = None,
    keep_records: bool = True,
    progress: Progress | None = None,
    executor: Executor | None = None,
    reduce: Callable[[RunRecords], Any] | None = None,
    store: RunStore | None = None,
) -> list[list[dict[str, float]]]:
    """``run_replications`` for several scenarios at once: each batch's metrics, in order.

    The batches share the workers (one process pool for all), and ``on_result`` sees the
    results in order, batch by batch, with the batch's index first; ``progress`` counts over
    all batches. Each batch's results are those ``run_replications`` gives it alone.
    """
    if jobs < 1:
        raise ValueError(f"jobs must be at least 1, got {jobs}")
    if not batches:
        return []
    keep = keep_records and on_result is not None
    kind = _kind(keep, event_log, reduce)
    sources = [
        _Source(_Work(b.scenario, seed, event_log, keep, reduce), store, kind) for b in batches
    ]
    run = _Run(sources, _Jobs(batches), [[] for _ in batches], on_result, progress)
    if executor is None and jobs == 1:
        run.serial()
        return run.results
    # Results that carry whole records are big: fewer of them wait to be handed on.
    whole = keep and reduce is None
    depth = 2 if whole else 4
    if executor is not None:
        slots = max(jobs, executor_slots(executor))
        local = isinstance(executor, ProcessPoolExecutor | ThreadPoolExecutor)
        # a cluster gets replications in chunks, unless they carry whole records
        chunk = 1 if local or whole else MAX_CHUNK
        run.on(executor, slots=slots, max_chunk=chunk, depth=depth)
        return run.results
    # workers end with this process, however it ends (simsales.experiment.workers)
    pool = ProcessPoolExecutor(max_workers=jobs, initializer=start_worker, initargs=(os.getpid(),))
    try:
        run.on(pool, slots=jobs, max_chunk=1, depth=depth)
    except BaseException as exc:
        # A failed replication or Ctrl-C: drop the queued work, and on Ctrl-C do not wait
        # for the replications in progress either.
        workers = _workers(pool)
        forgive_cancelled_futures(pool)
        pool.shutdown(wait=False, cancel_futures=True)
        if isinstance(exc, KeyboardInterrupt):
            for process in workers:
                process.terminate()
        raise
    pool.shutdown()
    return run.results


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
    """Where a scenario's replication r comes from: the store if it holds it, else the work."""

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


def _workers(pool: ProcessPoolExecutor) -> list[Any]:
    """The pool's worker processes (private in Python < 3.14, which has ``terminate_workers``)."""
    return list((getattr(pool, "_processes", None) or {}).values())


class _Jobs(Sequence[tuple[int, int]]):
    """The (batch, replication) pairs of a call, in order, worked out from the job's index.

    Never a list: a million replications cost no memory before they run.
    """

    def __init__(self, batches: Sequence[Replications]) -> None:
        self._starts = [b.start for b in batches]
        sizes = [b.stop - b.start for b in batches]
        self._offsets = [0, *itertools.accumulate(sizes)]  # job index of each batch's first

    def __len__(self) -> int:
        return self._offsets[-1]

    def __getitem__(self, job: int) -> tuple[int, int]:  # type: ignore[override]
        if not 0 <= job < len(self):
            raise IndexError(job)
        batch = bisect.bisect_right(self._offsets, job) - 1
        return batch, self._starts[batch] + job - self._offsets[batch]

    def __iter__(self) -> Iterator[tuple[int, int]]:
        for batch, start in enumerate(self._starts):
            size = self._offsets[batch + 1] - self._offsets[batch]
            for r in range(start, start + size):
                yield batch, r


@dataclass
class _Run:
    """One call's jobs (``order``: (batch, replication) pairs) and what has been handed on."""

    sources: list[_Source]
    order: _Jobs
    results: list[list[dict[str, float]]]
    on_result: OnEachResult | None
    progress: Progress | None
    done: int = 0

    def finished_one(self) -> None:
        self.done += 1
        if self.progress is not None:
            self.progress(self.done)

    def hand_on(self, job: int, outcome: _Outcome) -> None:
        batch, r = self.order[job]
        _, metrics, records = outcome
        del outcome
        if self.on_result is not None:
            self.on_result(batch, r, records, metrics)
        del records  # let one replication's records go before the next is simulated
        self.results[batch].append(metrics)

    def serial(self) -> None:
        for job, (batch, r) in enumerate(self.order):
            source = self.sources[batch]
            outcome = source.stored(r)
            if outcome is None:
                outcome = source.work(r)
                source.keep(outcome)
            self.finished_one()
            self.hand_on(job, outcome)

    def on(self, executor: Executor, *, slots: int, max_chunk: int, depth: int) -> None:
        """Keep at most ``depth × slots × max_chunk`` replications submitted or waiting to be
        handed on, so memory stays bounded however many replications there are. The window must
        also be deep enough that replications finishing out of order (the next to hand on is
        slow, later ones are done) do not leave a worker without work. A replication the store
        holds is read when its turn to be submitted comes, and takes a place in that window like
        any other."""
        window = max(depth * slots * max_chunk, 2)
        total = len(self.order)
        finished: dict[int, _Outcome] = {}
        running: dict[Future[Any], list[int]] = {}
        in_flight = submitted = handed = 0
        try:
            while handed < total:
                while submitted < total and in_flight + len(finished) < window:
                    # smaller chunks as the work runs out (the last 4 × depth × slots
                    # replications one or two per task), so that no worker is left with a
                    # long chunk at the end while the others are done
                    size = min(max_chunk, (total - submitted) // (2 * depth * slots))
                    chunk, hits = self._take(submitted, max(size, 1), finished)
                    submitted += len(chunk) + hits
                    if chunk:
                        running[self._submit(executor, chunk)] = chunk
                        in_flight += len(chunk)
                if handed not in finished:
                    ready, _ = wait(running, return_when=FIRST_COMPLETED)
                    for future in ready:
                        chunk = running.pop(future)
                        in_flight -= len(chunk)
                        outcomes = future.result()
                        for job, outcome in zip(chunk, outcomes, strict=True):
                            # saved before anything else can fail or interrupt
                            self.sources[self.order[job][0]].keep(outcome)
                            finished[job] = outcome
                            self.finished_one()
                while handed in finished:
                    self.hand_on(handed, finished.pop(handed))
                    handed += 1
        finally:
            for future in running:
                future.cancel()

    def _take(self, first: int, size: int, finished: dict[int, _Outcome]) -> tuple[list[int], int]:
        """The next jobs to compute from ``first`` on, up to ``size`` of one batch, stopping
        after one the store holds (put into ``finished``); and how many the store held."""
        batch = self.order[first][0]
        chunk: list[int] = []
        job = first
        while len(chunk) < size and job < len(self.order) and self.order[job][0] == batch:
            r = self.order[job][1]
            outcome = self.sources[batch].stored(r)
            if outcome is not None:
                finished[job] = outcome
                self.finished_one()
                return chunk, 1
            chunk.append(job)
            job += 1
        return chunk, 0

    def _submit(self, executor: Executor, chunk: list[int]) -> Future[Any]:
        work = self.sources[self.order[chunk[0]][0]].work
        if len(chunk) == 1:
            return executor.submit(_as_list, work, self.order[chunk[0]][1])
        return executor.submit(_run_chunk, work, [self.order[job][1] for job in chunk])


def _as_list(work: _Work, replication: int) -> list[_Outcome]:
    """One replication, as a chunk of one."""
    return [work(replication)]
