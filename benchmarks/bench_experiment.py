"""Performance benchmark of running an experiment in parallel (issue 3, "Performance (benchmark)").

A benchmark, not a test. It runs the bundled ``experiments/call_compression.toml`` (the base and
five sweep points) with ``run_experiment`` three ways, in one run and on the same machine:

1. **serial** — ``jobs=1``, in this process;
2. **2 local processes** — ``jobs=2`` (a fresh ``ProcessPoolExecutor`` per scenario, as the CLI
   does);
3. **Dask** — on a running ``distributed.LocalCluster(n_workers=2, threads_per_worker=1,
   processes=True)``, through ``simsales.experiment.cluster.dask_executor``: the same number of
   single-threaded worker processes as the local pool. The cluster is started *before* the
   timing: the figure is the overhead of sending the work to a cluster that is already up, not
   the cost of starting one. Connecting the client is timed (it is part of every
   ``--scheduler`` run).

Before any timing, each way runs the experiment once with one replication per scenario, untimed:
that warms both pools alike (the Dask workers import simsales; the local workers are forked from
this process, which has). Then each way runs ``--repeats`` times (default 3), interleaved
(serial, local, Dask, serial, ...), timed with ``time.perf_counter``. Every run's
per-replication metrics must be identical to the first serial run's (same seed, same streams:
the results must not depend on who runs them); a mismatch is reported as FAIL.

Figures and targets:

* speed-up of 2 local processes over serial: serial / local (best of the repeats), target
  >= 1.6x (two independent processes on a 2-core machine reach about 1.7x one alone);
* Dask overhead against 2 local processes: (dask - local) / local, best against best, target
  <= 10%. Because the machine may be shared, the overhead of each repeat's adjacent pair
  (local run i, Dask run i) is printed too, with their median and range: the spread says how far
  the figure can be trusted;
* CPU seconds of each way, over this process and all its child processes (the cluster's
  scheduler, nannies and workers included): less affected by other load than wall time, so the
  Dask machinery's own CPU cost shows here;
* what one task costs beyond its work, on each pool: 200 no-op tasks that carry the scenario
  (as a replication's job does), 4 in flight, in milliseconds of wall time and of this
  process's CPU.

The replication count is set with ``load_experiment(..., replications=N)`` so that the serial run
takes about 10-20 s (``--quick``: about 3 s); ``--set KEY=VALUE`` passes further overrides (for
instance ``--set run.horizon_days=800``). The load average is printed before and after: timings
taken while other processes use the same cores are unreliable (the speed-up especially).
The script exits 0 unless it crashes; ``--json FILE`` writes every figure.

Run from the repository root: ``python benchmarks/bench_experiment.py [--quick] [--json out.json]``.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import statistics
import sys
import time
from concurrent.futures import FIRST_COMPLETED, Executor, Future, ProcessPoolExecutor, wait
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from simsales.experiment.cluster import dask_executor  # noqa: E402
from simsales.experiment.spec import load_experiment  # noqa: E402
from simsales.experiment.sweep import ExperimentResult, run_experiment  # noqa: E402

EXPERIMENT = ROOT / "experiments" / "call_compression.toml"
SPEEDUP_TARGET = 1.6
DASK_OVERHEAD_TARGET = 0.10
FULL_REPLICATIONS = 16  # 6 scenarios x 16 = 96 simulations, ~13 s serially on a 2-core machine
QUICK_REPLICATIONS = 4  # 24 simulations, ~3 s
ROUND_TRIPS = 200  # no-op tasks timed for the per-task cost


def loadavg() -> str:
    try:
        return " ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:  # pragma: no cover - not Unix
        return "n/a"


def mark(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def same_value(a: float, b: float) -> bool:
    both_nan = isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b)
    return a == b or both_nan


def mismatches(ref: ExperimentResult, other: ExperimentResult) -> list[str]:
    """Where ``other``'s per-replication metrics differ from ``ref``'s (empty: identical)."""
    a, b = ref.comparison.per_replication, other.comparison.per_replication
    out: list[str] = []
    if list(a) != list(b):
        return [f"scenarios differ: {list(a)} vs {list(b)}"]
    for name in a:
        if len(a[name]) != len(b[name]):
            out.append(f"{name}: {len(a[name])} vs {len(b[name])} replications")
            continue
        for r, (ma, mb) in enumerate(zip(a[name], b[name], strict=True)):
            if set(ma) != set(mb):
                out.append(f"{name} rep {r}: metric names differ")
                continue
            bad = [k for k in ma if not same_value(ma[k], mb[k])]
            if bad:
                out.append(f"{name} rep {r}: {', '.join(bad[:3])}{' ...' if len(bad) > 3 else ''}")
    return out


def cpu_seconds() -> float:
    """CPU seconds (user + system) of this process, its reaped children, and its live descendants.

    The local pools' workers have exited (and been waited for) when a run ends, so they count in
    ``os.times()``; the cluster's nannies and workers live on, so they are read with psutil.
    """
    t = os.times()
    total = t.user + t.system + t.children_user + t.children_system
    try:
        import psutil
    except ImportError:  # pragma: no cover - psutil comes with distributed
        return total
    for child in psutil.Process().children(recursive=True):
        try:
            c = child.cpu_times()
        except psutil.Error:
            continue
        total += c.user + c.system
    return total


def timed(fn: Any) -> tuple[float, float, ExperimentResult]:
    """Wall seconds, CPU seconds (see ``cpu_seconds``) and the result of ``fn()``."""
    c0, t0 = cpu_seconds(), time.perf_counter()
    result = fn()
    return time.perf_counter() - t0, cpu_seconds() - c0, result


def echo(replication: int, scenario: Any) -> int:
    """A task that does nothing, carrying a scenario as a replication's job does."""
    return replication


def round_trip(executor: Executor, scenario: Any, n: int = ROUND_TRIPS) -> tuple[float, float]:
    """Milliseconds of wall time and of this process's CPU per no-op task, ``2 x 2`` in flight.

    What one task costs beyond its work: sending it, running it, returning its result. With a
    LocalCluster the scheduler runs in this process, so its CPU counts here too.
    """
    for r in range(4):  # warm
        executor.submit(echo, r, scenario).result()
    c0, t0 = time.process_time(), time.perf_counter()
    running: set[Future[int]] = set()
    for r in range(n):
        if len(running) >= 4:
            _, running = wait(running, return_when=FIRST_COMPLETED)
        running.add(executor.submit(echo, r, scenario))
    wait(running)
    return (time.perf_counter() - t0) / n * 1e3, (time.process_time() - c0) / n * 1e3


def spread(values: list[float]) -> str:
    """``median (min .. max)`` of relative figures, as percentages."""
    if not values:
        return "n/a"
    return f"{statistics.median(values):+.1%} ({min(values):+.1%} .. {max(values):+.1%})"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--quick", action="store_true", help="short run (~3 s per serial run)")
    p.add_argument("--json", metavar="FILE", help="write every figure to FILE as JSON")
    p.add_argument(
        "--replications",
        type=int,
        default=None,
        help=f"replications per scenario (default {FULL_REPLICATIONS}, "
        f"{QUICK_REPLICATIONS} with --quick)",
    )
    p.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="extra scenario override for the base and every point (repeatable)",
    )
    p.add_argument("--repeats", type=int, default=3, help="runs of each way (default 3)")
    p.add_argument("--experiment", type=Path, default=EXPERIMENT, help="experiment file")
    args = p.parse_args(argv)
    reps = args.replications or (QUICK_REPLICATIONS if args.quick else FULL_REPLICATIONS)

    load_before = loadavg()
    print("simsales experiment benchmark (issue 3, Performance)")
    print(
        f"python {platform.python_version()} on {platform.machine()}, "
        f"{os.cpu_count()} CPUs, load average {load_before}"
    )
    exp = load_experiment(args.experiment, args.overrides, replications=reps)
    warm = load_experiment(args.experiment, args.overrides, replications=1)
    n_scen = 1 + len(exp.scenarios)
    print(
        f"experiment {exp.spec.name}: {n_scen} scenarios x {exp.replications} replications "
        f"= {n_scen * exp.replications} simulations, seed {exp.seed}, "
        f"horizon {exp.base.run.horizon_days} days"
        + (f", overrides {args.overrides}" if args.overrides else "")
    )

    from distributed import LocalCluster

    t0 = time.perf_counter()
    cluster = LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None, host="127.0.0.1"
    )
    cluster_start = time.perf_counter() - t0
    print(
        f"LocalCluster (2 workers x 1 thread, processes) up in {cluster_start:.1f} s "
        f"at {cluster.scheduler_address} (not timed)"
    )

    def on_dask(experiment: Any) -> ExperimentResult:
        with dask_executor(cluster.scheduler_address) as ex:
            return run_experiment(experiment, executor=ex)

    ways = {
        "serial": lambda e: run_experiment(e, jobs=1),
        "local2": lambda e: run_experiment(e, jobs=2),
        "dask2": on_dask,
    }
    times: dict[str, list[float]] = {k: [] for k in ways}
    cpus: dict[str, list[float]] = {k: [] for k in ways}
    ref: ExperimentResult | None = None
    diffs: dict[str, list[str]] = {k: [] for k in ways}
    try:
        t0 = time.perf_counter()
        for fn in ways.values():
            fn(warm)
        print(f"  warm-up of every way, 1 replication each: {time.perf_counter() - t0:.1f} s")
        for i in range(args.repeats):
            for name, fn in ways.items():
                dt, cpu, res = timed(lambda fn=fn: fn(exp))
                times[name].append(dt)
                cpus[name].append(cpu)
                if ref is None:
                    ref = res
                else:
                    diffs[name] += [f"run {i + 1}: {m}" for m in mismatches(ref, res)]
                print(f"  run {i + 1} {name:<7} {dt:7.2f} s  cpu {cpu:7.2f} s", flush=True)
        with ProcessPoolExecutor(max_workers=2) as pool:
            per_task = {"local2": round_trip(pool, exp.base)}
        with dask_executor(cluster.scheduler_address) as ex:
            per_task["dask2"] = round_trip(ex, exp.base)
    finally:
        cluster.close()

    best = {k: min(v) for k, v in times.items()}
    speedup = best["serial"] / best["local2"]
    overhead = (best["dask2"] - best["local2"]) / best["local2"]
    paired = [d / lo - 1 for d, lo in zip(times["dask2"], times["local2"], strict=True)]
    cpu_extra = [d / lo - 1 for d, lo in zip(cpus["dask2"], cpus["local2"], strict=True)]
    identical = {k: not v for k, v in diffs.items()}
    load_after = loadavg()

    print()
    print(f"{'way':<34} {'runs (s)':<24} {'best (s)':>9} {'cpu (s)':>8}  {'identical':>9}")
    labels = {
        "serial": "serial (jobs=1)",
        "local2": "2 local processes (jobs=2)",
        "dask2": "Dask LocalCluster 2x1 (running)",
    }
    for k in ways:
        runs = " ".join(f"{t:.2f}" for t in times[k])
        print(
            f"{labels[k]:<34} {runs:<24} {best[k]:9.2f} {min(cpus[k]):8.2f}  "
            f"{mark(identical[k]):>9}"
        )
    print()
    print(f"{'figure':<40} {'value':>9}  {'target':<10} result")
    print(
        f"{'speed-up 2 local processes / serial':<40} {speedup:8.2f}x  "
        f"{'>= ' + format(SPEEDUP_TARGET, '.1f') + 'x':<10} {mark(speedup >= SPEEDUP_TARGET)}"
    )
    print(
        f"{'Dask overhead vs 2 local processes':<40} {overhead:+8.1%}  "
        f"{'<= ' + format(DASK_OVERHEAD_TARGET, '.0%'):<10} "
        f"{mark(overhead <= DASK_OVERHEAD_TARGET)}"
    )
    print(
        f"{'results identical (per-replication)':<40} {'':>9}  {'all':<10} "
        f"{mark(all(identical.values()))}"
    )
    print(f"Dask overhead, run by run (median, range): {spread(paired)}")
    print(f"Dask extra CPU seconds, run by run (median, range): {spread(cpu_extra)}")
    for k, (wall, cpu) in per_task.items():
        print(
            f"one no-op task carrying the scenario, {labels[k]}: {wall:.2f} ms wall, "
            f"{cpu:.2f} ms CPU in this process"
        )
    for k, v in diffs.items():
        for line in v[:5]:
            print(f"  mismatch {k}: {line}")
    print()
    print(
        f"load average: before {load_before}, after {load_after} "
        f"(timings under load are unreliable)"
    )

    if args.json:
        out = {
            "experiment": exp.spec.name,
            "scenarios": n_scen,
            "replications": exp.replications,
            "overrides": args.overrides,
            "quick": args.quick,
            "cpus": os.cpu_count(),
            "cluster_start_s": cluster_start,
            "times_s": times,
            "cpu_s": cpus,
            "best_s": best,
            "speedup_local2_over_serial": speedup,
            "speedup_target": SPEEDUP_TARGET,
            "speedup_pass": speedup >= SPEEDUP_TARGET,
            "dask_overhead_vs_local2": overhead,
            "dask_overhead_paired": paired,
            "dask_extra_cpu_paired": cpu_extra,
            "per_task_ms_wall_and_cpu": per_task,
            "dask_overhead_target": DASK_OVERHEAD_TARGET,
            "dask_overhead_pass": overhead <= DASK_OVERHEAD_TARGET,
            "identical": identical,
            "mismatches": diffs,
            "loadavg_before": load_before,
            "loadavg_after": load_after,
        }
        Path(args.json).write_text(json.dumps(out, indent=2) + "\n")
        print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
