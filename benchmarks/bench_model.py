"""Performance benchmark of the simsales model (issue 2, "Performance"): a benchmark, not a test.

Everything is measured in one run on the same machine, so the figures can be compared side by side:

1. **Reference** — a bare SimPy loop: ``--bare-procs`` processes doing
   ``while True: yield env.timeout(1.0)``. Events are the processed timeouts; wall time with
   ``time.perf_counter``, best of 3. This is the ceiling a SimPy model in pure Python can reach.
2. **Side by side on the baseline market** — ``scenarios/baseline.toml`` (loaded with
   ``tomllib`` and ``Scenario.model_validate``), its horizon stretched so that ``simulate`` runs for
   about ``--target-seconds``. Three things run in turn, three rounds (bare loop, plain model,
   simsales, then again), and the best wall time of each counts: the bare loop above, the **plain
   SimPy sales model** of ``plain_model.py`` (the textbook way: sellers as ``simpy.Resource``, a
   process per deal, going dark by daily polling) on the same scenario and horizon, and simsales'
   ``simulate``. Reported for each: SimPy events per second (events the environment scheduled,
   over the wall time), ratio to the bare loop, opportunities per second (rows of the deal table
   over the wall time), events per opportunity and wall time per opportunity. The issue's target
   is simsales' events/s >= 0.5 x the bare loop's; it is printed PASS / FAIL as measured. Next to
   it, simsales' opportunities/s over the plain model's: a model that books calendars with
   function calls and draws going dark as one event time does fewer but heavier events per
   opportunity, so events/s alone punishes it for doing less, while opportunities per second is
   the figure a user feels.
3. **No polling** — events per opportunity on the baseline and on variants with touches every
   3 (and 1) days and with no dark hazard (``max_hazard_per_day = 0``), next to the mean calls and
   touches per deal and the days a deal stays open. A model that polls hazards or touches day by
   day would do at least one event per deal-day; a model that draws them as event times does a
   near-constant number of events per call, however many days or touches there are.
4. **Peak memory at scale** — ``--mem-sizes`` (100k and 1M; 20k and 40k with ``--quick``)
   opportunities in one run, each in a fresh interpreter (this script re-run with a hidden
   ``--child N``), ``market.suspects_per_day`` and ``team.sellers`` raised together over a
   horizon, no warm-up, in two configurations. *Overloaded* (``--mem-horizon``, 400 days): at 1M
   the sellers are capped at the schema's 10,000, half of what the load needs, so open deals pile
   up without bound. *Realistic* (``--mem-real-horizon``, 3650 days, ten years; 0 leaves it out):
   the baseline's own load per seller (about 2,200 sellers for 1M), the way a large team would
   run. Peak RSS is printed raw and minus the
   RSS of an interpreter that imported simsales and loaded the scenario but simulated nothing (its
   current RSS after the imports: the imports' own short peak is printed too but not subtracted).
   The peak is ``VmHWM`` from /proc (``ru_maxrss`` where there is no /proc): on Linux a subprocess's
   ``ru_maxrss`` starts at the parent's RSS when it forked, so it is printed raw for reference.
   Target: 1M opportunities under 150 MB. The child also reports the bytes of the columnar deal
   table, of the sellers' hours per week (utilisation over time) and the largest number of deals
   open at once (from the table), which tell whether memory goes to the results or to the live
   deals' state.
5. **Replications kept as metrics** — a fresh interpreter runs 20 baseline replications in a loop,
   keeping a few numbers per replication and dropping the records; peak RSS after 1, 5 and 20
   replications must not grow.

The machine may be shared: the load average before and after is printed, and timings taken under
load (another process busy on the same cores) are low. Each figure is printed with its target
and a PASS / FAIL marker (``info`` where there is no target).
The script exits 0 unless it crashes. ``--json FILE`` writes every figure; ``--profile`` adds a
cProfile of the baseline run (top functions by own time).

Run from the repository root: ``python benchmarks/bench_model.py [--quick] [--json out.json]``.
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import io
import json
import math
import os
import platform
import pstats
import resource
import subprocess
import sys
import time
import tomllib
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

if str(ROOT / "benchmarks") not in sys.path:
    sys.path.insert(0, str(ROOT / "benchmarks"))

import numpy as np  # noqa: E402
import simpy  # noqa: E402
from plain_model import simulate_plain  # noqa: E402

from simsales.model.records import NO_DECISION  # noqa: E402
from simsales.model.simulation import simulate  # noqa: E402
from simsales.scenario.schema import Scenario, Team  # noqa: E402

BASELINE = ROOT / "scenarios" / "baseline.toml"
RATIO_TARGET = 0.5
SIDE_BY_SIDE_ROUNDS = 3
MEM_TARGET_MB = 150.0
MEM_TARGET_N = 1_000_000
REPS_GROWTH_MB = 5.0  # allowed growth of peak RSS from 1 to 20 replications
REP_CHECKPOINTS = (1, 5, 20)


# --------------------------------------------------------------------------------------------
# helpers


def load_dict(path: Path = BASELINE) -> dict[str, Any]:
    with path.open("rb") as f:
        return tomllib.load(f)


def set_key(d: dict[str, Any], dotted: str, value: Any) -> None:
    """Set ``d["a"]["b"]["c"] = value`` for ``"a.b.c"``, creating tables on the way."""
    *parents, last = dotted.split(".")
    for key in parents:
        d = d.setdefault(key, {})
    d[last] = value


def get_key(d: dict[str, Any], dotted: str, default: Any = None) -> Any:
    for key in dotted.split("."):
        if not isinstance(d, dict) or key not in d:
            return default
        d = d[key]
    return d


def ru_maxrss_mb() -> float:
    """``ru_maxrss`` of this process, MB (KB on Linux, bytes on macOS).

    Caveat: Linux carries the high-water mark across ``execve``, so in a subprocess it is at least
    the parent's RSS when it forked — a floor that has nothing to do with the child.
    """
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return rss / (1024 * 1024) if sys.platform == "darwin" else rss / 1024


def maxrss_mb() -> float:
    """Peak RSS of this process image, MB: ``VmHWM`` where /proc has it, else ``ru_maxrss``."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:  # pragma: no cover - not Linux
        pass
    return ru_maxrss_mb()


def current_rss_mb() -> float:
    try:
        with open("/proc/self/statm") as f:
            pages = int(f.read().split()[1])
        return pages * os.sysconf("SC_PAGE_SIZE") / (1024 * 1024)
    except OSError:  # pragma: no cover - not Linux
        return math.nan


def mean_rate_factor(d: dict[str, Any]) -> float:
    """Average multiplier of the arrival rate over a year (monthly factors, quarter-end push)."""
    by_month = get_key(d, "market.schedule.by_month", [1.0] * 12)
    push = float(get_key(d, "market.schedule.quarter_end_push", 1.0))
    q_days = float(get_key(d, "market.schedule.quarter_end_days", 14.0))
    return float(np.mean(by_month)) * (1.0 + (push - 1.0) * q_days / 91.25)


def max_sellers() -> int:
    for m in Team.model_fields["sellers"].metadata:
        le = getattr(m, "le", None)
        if le is not None:
            return int(le)
    return 1_000_000


# --------------------------------------------------------------------------------------------
# 1. bare SimPy loop


def bare_loop(procs: int, until: int, repeats: int = 3) -> dict[str, Any]:
    def ticker(env: simpy.Environment):  # type: ignore[no-untyped-def]
        while True:
            yield env.timeout(1.0)

    times = []
    scheduled = 0
    for _ in range(repeats):
        env = simpy.Environment()
        for _ in range(procs):
            env.process(ticker(env))
        t0 = time.perf_counter()
        env.run(until=until)
        times.append(time.perf_counter() - t0)
        scheduled = next(env._eid) - 1  # type: ignore[attr-defined]
    # the timeouts due at t = 1 .. until-1 are processed; those due at `until` are not (the
    # stop event at `until` is urgent and comes first)
    events = procs * (until - 1)
    best = min(times)
    return {
        "procs": procs,
        "until": until,
        "events": events,
        "events_scheduled": scheduled,
        "wall_s": times,
        "best_s": best,
        "events_per_s": events / best,
    }


# --------------------------------------------------------------------------------------------
# 2. and 3. the model


def run_model(sc: Scenario, *, seed: int, replication: int = 0) -> dict[str, Any]:
    t0 = time.perf_counter()
    rec = simulate(sc, seed=seed, replication=replication)
    wall = time.perf_counter() - t0
    cols = rec.deals.columns()
    n = len(rec.deals)
    end = cols["closed_at"].copy()
    end[np.isnan(end)] = rec.horizon_days
    calls = float(cols["calls"].mean()) if n else math.nan
    touches = float(cols["touches"].mean()) if n else math.nan
    return {
        "horizon_days": rec.horizon_days,
        "wall_s": wall,
        "deals": n,
        "sim_events": rec.sim_events,
        "events_per_s": rec.sim_events / wall,
        "opps_per_s": n / wall,
        "events_per_opp": rec.sim_events / n if n else math.nan,
        "calls_per_opportunity": calls,
        "touches_per_opportunity": touches,
        "days_open_per_deal": float((end - cols["created_at"]).mean()) if n else math.nan,
        "no_decision_share": float((cols["outcome"] == NO_DECISION).mean()) if n else math.nan,
    }


def calibrated_baseline(target_s: float, seed: int) -> dict[str, Any]:
    """The baseline with its horizon stretched so that one run takes about ``target_s`` seconds."""
    d = load_dict()
    probe = run_model(Scenario.model_validate(d), seed=seed)
    horizon = float(d["run"]["horizon_days"])
    warmup = float(get_key(d, "run.warmup_days", 0.0))
    # time is about proportional to the simulated days after a short fill-up
    new_h = max(horizon, horizon * target_s / max(probe["wall_s"], 1e-3))
    new_h = float(math.ceil(min(new_h, 500_000.0)))
    set_key(d, "run.horizon_days", new_h)
    set_key(d, "run.warmup_days", min(warmup, new_h / 2))
    return d


def run_plain(sc: Scenario, *, seed: int) -> dict[str, Any]:
    """The plain SimPy sales model (``plain_model.py``) on the same scenario and horizon."""
    res = simulate_plain(sc, seed)
    n = res.deals
    end = res.closed_at.copy()
    end[np.isnan(end)] = res.horizon_days
    return {
        "horizon_days": res.horizon_days,
        "wall_s": res.wall_s,
        "deals": n,
        "sim_events": res.sim_events,
        "events_per_s": res.sim_events / res.wall_s,
        "opps_per_s": n / res.wall_s,
        "events_per_opp": res.sim_events / n if n else math.nan,
        "calls_per_opportunity": float(res.calls.mean()) if n else math.nan,
        "touches_per_opportunity": float(res.touches.mean()) if n else math.nan,
        "days_open_per_deal": float((end - res.created_at).mean()) if n else math.nan,
        "polls_per_deal": res.polls / n if n else math.nan,
        "no_decision_share": res.outcome_shares()["no_decision"],
    }


def side_by_side(
    d: dict[str, Any], seed: int, bare_procs: int, bare_until: int, rounds: int
) -> dict[str, Any]:
    """Bare loop, plain model and simsales in turn, ``rounds`` times; the best wall time counts.

    Alternating spreads a passing load (other processes on a shared machine) over all three, so
    their ratios are fairer than their absolute rates. The two models are deterministic for a
    seed, so every round does the same events: only the wall time varies.
    """
    sc = Scenario.model_validate(d)
    bares: list[dict[str, Any]] = []
    plains: list[dict[str, Any]] = []
    models: list[dict[str, Any]] = []
    for i in range(rounds):
        log(f"      round {i + 1}/{rounds}: bare loop, plain model, simsales ...")
        bares.append(bare_loop(bare_procs, bare_until, repeats=1))
        plains.append(run_plain(sc, seed=seed))
        models.append(run_model(sc, seed=seed))
    bare = dict(bares[0])
    bare["wall_s"] = [b["best_s"] for b in bares]
    bare["best_s"] = min(bare["wall_s"])
    bare["events_per_s"] = bare["events"] / bare["best_s"]
    plain = dict(min(plains, key=lambda r: r["wall_s"]))
    plain["wall_s_rounds"] = [r["wall_s"] for r in plains]
    model = dict(min(models, key=lambda r: r["wall_s"]))
    model["wall_s_rounds"] = [r["wall_s"] for r in models]
    for res in (plain, model):
        res["ratio_to_bare"] = res["events_per_s"] / bare["events_per_s"]
        res["us_per_opp"] = 1e6 * res["wall_s"] / max(res["deals"], 1)
    return {"bare": bare, "plain": plain, "model": model, "rounds": rounds}


SCALING_VARIANTS: tuple[tuple[str, dict[str, Any]], ...] = (
    ("baseline", {}),
    ("touch_every_days = 0", {"policies.touch_every_days": 0.0}),
    ("touch_every_days = 3", {"policies.touch_every_days": 3.0}),
    ("touch_every_days = 1", {"policies.touch_every_days": 1.0}),
    ("max_hazard_per_day = 0", {"buyers.no_decision.max_hazard_per_day": 0.0}),
)


def scaling(horizon: float, seed: int) -> list[dict[str, Any]]:
    rows = []
    for name, edits in SCALING_VARIANTS:
        d = load_dict()
        set_key(d, "run.horizon_days", horizon)
        for key, value in edits.items():
            set_key(d, key, value)
        res = run_model(Scenario.model_validate(d), seed=seed)
        if not edits:
            touch = get_key(d, "policies.touch_every_days", 0.0)
            name = f"baseline (touch_every_days = {touch:g})"
        res["variant"] = name
        res["contacts_per_deal"] = res["calls_per_opportunity"] + res["touches_per_opportunity"]
        res["events_per_call"] = res["events_per_opp"] / max(res["calls_per_opportunity"], 1e-9)
        res["events_per_deal_day"] = res["events_per_opp"] / max(res["days_open_per_deal"], 1e-9)
        rows.append(res)
    return rows


def profile_baseline(d: dict[str, Any], seed: int, top: int) -> list[dict[str, Any]]:
    sc = Scenario.model_validate(d)
    prof = cProfile.Profile()
    prof.enable()
    simulate(sc, seed=seed, replication=0)
    prof.disable()
    stats = pstats.Stats(prof, stream=io.StringIO())
    rows = []
    for (file, line, func), (_cc, ncalls, tottime, cumtime, _callers) in stats.stats.items():  # type: ignore[attr-defined]
        rows.append(
            {
                "function": f"{Path(file).name}:{line}({func})",
                "ncalls": ncalls,
                "tottime_s": tottime,
                "cumtime_s": cumtime,
            }
        )
    rows.sort(key=lambda r: r["tottime_s"], reverse=True)
    total = sum(r["tottime_s"] for r in rows)
    for r in rows:
        r["share"] = r["tottime_s"] / total if total else 0.0
    return rows[:top]


# --------------------------------------------------------------------------------------------
# 4. and 5. memory, in fresh interpreters


def mem_scenario(n: int, horizon: float, assignment: str | None) -> tuple[dict[str, Any], int]:
    """The baseline scaled to about ``n`` opportunities over ``horizon`` days, no warm-up."""
    d = load_dict()
    base_rate = float(d["market"]["suspects_per_day"])
    base_sellers = int(get_key(d, "team.sellers", 8))
    rate = n / (horizon * mean_rate_factor(d))
    wanted = max(1, round(base_sellers * rate / base_rate))
    sellers = min(wanted, max_sellers())
    set_key(d, "run.horizon_days", horizon)
    set_key(d, "run.warmup_days", 0.0)
    set_key(d, "market.suspects_per_day", rate)
    set_key(d, "team.sellers", sellers)
    if assignment:
        set_key(d, "team.assignment", assignment)
    return d, wanted


def child_memory(n: int, horizon: float, assignment: str | None, seed: int) -> dict[str, Any]:
    """Runs in a fresh interpreter: one run of about n opportunities (n = 0: nothing simulated)."""
    if n <= 0:
        Scenario.model_validate(load_dict())  # same imports and scenario, no run
        gc.collect()
        return {
            "maxrss_mb": maxrss_mb(),
            "ru_maxrss_mb": ru_maxrss_mb(),
            "rss_mb": current_rss_mb(),
        }
    d, wanted = mem_scenario(n, horizon, assignment)
    sc = Scenario.model_validate(d)
    before = maxrss_mb()
    t0 = time.perf_counter()
    rec = simulate(sc, seed=seed, replication=0)
    wall = time.perf_counter() - t0
    peak = maxrss_mb()  # read first: the analysis below allocates
    ru_peak = ru_maxrss_mb()
    week_hours = rec.seller_week_hours
    history_mb = week_hours.nbytes / 1e6 if week_hours is not None else 0.0
    deals = rec.deals
    table_bytes = sum(b.buffer_info()[1] * b.itemsize for b in deals.cols.values())
    table_bytes += deals.stage_entered.buffer_info()[1] * deals.stage_entered.itemsize
    cols = deals.columns()
    start = cols["created_at"]
    end = cols["closed_at"].copy()
    end[np.isnan(end)] = rec.horizon_days
    times = np.concatenate([start, end])
    steps = np.concatenate([np.ones(len(start)), -np.ones(len(end))])
    order = np.lexsort((steps, times))  # ends before starts at equal times
    peak_open = int(np.cumsum(steps[order]).max()) if len(order) else 0
    outcomes = np.bincount(cols["outcome"], minlength=6)
    return {
        "n_target": n,
        "deals": len(deals),
        "horizon_days": horizon,
        "suspects_per_day": d["market"]["suspects_per_day"],
        "sellers": d["team"]["sellers"],
        "sellers_wanted": wanted,
        "assignment": d["team"].get("assignment", "least_loaded"),
        "wall_s": wall,
        "sim_events": rec.sim_events,
        "maxrss_before_run_mb": before,
        "maxrss_mb": peak,
        "ru_maxrss_mb": ru_peak,
        "table_mb": table_bytes / 1e6,
        "table_bytes_per_deal": table_bytes / max(len(deals), 1),
        "seller_week_hours_mb": history_mb,
        "peak_open_deals": peak_open,
        "open_at_horizon": int(outcomes[0]),
    }


def child_reps(reps: int, seed: int) -> dict[str, Any]:
    """Runs in a fresh interpreter: replications kept only as a few metrics each."""
    sc = Scenario.model_validate(load_dict())
    summaries: list[tuple[float, ...]] = []
    checkpoints = []
    t0 = time.perf_counter()
    for r in range(reps):
        rec = simulate(sc, seed=seed, replication=r)
        cols = rec.deals.columns()
        summaries.append(
            (
                float(len(rec.deals)),
                float(cols["calls"].mean()),
                float((cols["outcome"] == 1).mean()),
                float(np.nanmean(cols["gap_days"])),
            )
        )
        del rec, cols
        gc.collect()
        if r + 1 in REP_CHECKPOINTS or r + 1 == reps:
            checkpoints.append(
                {
                    "replications": r + 1,
                    "maxrss_mb": maxrss_mb(),
                    "ru_maxrss_mb": ru_maxrss_mb(),
                    "rss_mb": current_rss_mb(),
                    "py_blocks": sys.getallocatedblocks(),
                }
            )
    return {
        "wall_s": time.perf_counter() - t0,
        "checkpoints": checkpoints,
        "mean_deals_per_rep": float(np.mean([s[0] for s in summaries])),
    }


def spawn_child(extra: list[str], timeout: float) -> dict[str, Any]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH")) if p)
    proc = subprocess.run(
        [sys.executable, str(Path(__file__).resolve()), *extra],
        capture_output=True,
        text=True,
        env=env,
        timeout=timeout,
        check=False,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"child {extra} failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


# --------------------------------------------------------------------------------------------
# report


class Report:
    """Rows of (metric, value, target, status), section titles and free-form sub-tables."""

    def __init__(self) -> None:
        self.items: list[tuple[str, Any]] = []

    def section(self, title: str) -> None:
        self.items.append(("section", title))

    def add(self, metric: str, value: str, target: str = "", status: str = "info") -> None:
        self.items.append(("row", (metric, value, target, status)))

    def note(self, text: str) -> None:
        self.items.append(("note", text))

    def table(self, header: list[str], rows: list[list[str]]) -> None:
        self.items.append(("table", (header, rows)))

    @property
    def rows(self) -> list[tuple[str, ...]]:
        out: list[tuple[str, ...]] = []
        for kind, item in self.items:
            if kind in ("section", "note"):
                out.append((f"== {item}" if kind == "section" else item,))
            elif kind == "row":
                out.append(item)
            else:
                out.extend(tuple(r) for r in [item[0], *item[1]])
        return out

    def render(self) -> str:
        rows = [item for kind, item in self.items if kind == "row"]
        w = [max((len(r[i]) for r in rows), default=0) for i in range(3)]
        out: list[str] = []
        for kind, item in self.items:
            if kind == "section":
                out += ["", f"== {item}"]
            elif kind == "note":
                out.append(f"  {item}")
            elif kind == "row":
                metric, value, target, status = item
                line = f"  {metric:<{w[0]}}  {value:>{w[1]}}  {target:<{w[2]}}  {status}"
                out.append(line.rstrip() if status == "info" and not target else line)
            else:
                header, body = item
                cw = [max(len(r[i]) for r in [header, *body]) for i in range(len(header))]
                fmt = [f"{{:<{c}}}" if i == 0 else f"{{:>{c}}}" for i, c in enumerate(cw)]
                for r in [header, *body]:
                    out.append("  " + "  ".join(f.format(x) for f, x in zip(fmt, r, strict=True)))
        return "\n".join(out)


def verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def fmt_rate(x: float) -> str:
    return f"{x / 1e6:.3f} M/s" if x >= 1e6 else f"{x / 1e3:.1f} k/s"


def fmt_n(n: int) -> str:
    return f"{n / 1e6:g}M" if n >= 1_000_000 else f"{n / 1e3:g}k"


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        description="Benchmark the simsales model against a bare SimPy loop (issue 2).",
        epilog="Run from the repository root: PYTHONPATH=. python benchmarks/bench_model.py",
    )
    ap.add_argument("--quick", action="store_true", help="smoke mode, under 20 s")
    ap.add_argument("--json", metavar="FILE", help="also write every figure to this JSON file")
    ap.add_argument("--profile", action="store_true", help="cProfile the baseline run too")
    ap.add_argument("--seed", type=int, default=None, help="seed (default: the scenario's)")
    ap.add_argument("--target-seconds", type=float, default=None, help="model run length")
    ap.add_argument("--bare-procs", type=int, default=100)
    ap.add_argument(
        "--mem-sizes", type=int, nargs="+", default=None, help="opportunities per memory run"
    )
    ap.add_argument(
        "--mem-horizon", type=float, default=400.0, help="days of an overloaded memory run"
    )
    ap.add_argument(
        "--mem-real-horizon",
        type=float,
        default=3650.0,
        help="days of a realistic memory run (the baseline's load per seller; 0: none)",
    )
    ap.add_argument(
        "--mem-assignment",
        default="round_robin",
        help="assignment rule in the memory runs ('scenario' keeps the scenario's); least_loaded "
        "scans every seller per deal, which dominates the wall time at thousands of sellers",
    )
    ap.add_argument("--reps", type=int, default=max(REP_CHECKPOINTS), help=argparse.SUPPRESS)
    ap.add_argument("--child", type=int, default=None, help=argparse.SUPPRESS)
    ap.add_argument("--child-reps", type=int, default=None, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)

    seed = args.seed if args.seed is not None else int(get_key(load_dict(), "run.seed", 12345))
    assignment = None if args.mem_assignment == "scenario" else args.mem_assignment

    if args.child is not None:
        print(json.dumps(child_memory(args.child, args.mem_horizon, assignment, seed)))
        return 0
    if args.child_reps is not None:
        print(json.dumps(child_reps(args.child_reps, seed)))
        return 0

    quick = args.quick
    target_s = args.target_seconds or (1.5 if quick else 6.0)
    mem_sizes = args.mem_sizes or ([20_000, 40_000] if quick else [100_000, MEM_TARGET_N])
    started = time.perf_counter()
    results: dict[str, Any] = {
        "mode": "quick" if quick else "full",
        "machine": {
            "python": platform.python_version(),
            "simpy": simpy.__version__,
            "numpy": np.__version__,
            "platform": platform.platform(),
            "cpus": os.cpu_count(),
        },
        "loadavg_start": os.getloadavg()[0],
        "seed": seed,
    }

    # 1. and 2. side by side: the bare SimPy loop, the plain SimPy sales model and simsales, in
    # turn, on the same machine, the two models on the same scenario and horizon
    log(f"[1-2/5] calibrating the baseline's horizon to a ~{target_s:g} s simsales run ...")
    base_dict = calibrated_baseline(target_s, seed)
    log(f"[1-2/5] bare loop, plain model and simsales side by side, best of {SIDE_BY_SIDE_ROUNDS}")
    sbs = side_by_side(
        base_dict, seed, args.bare_procs, 3_000 if quick else 10_000, SIDE_BY_SIDE_ROUNDS
    )
    results["bare"] = sbs["bare"]
    results["plain"] = sbs["plain"]
    results["model"] = sbs["model"]
    results["rounds"] = sbs["rounds"]

    # 3. no polling
    log("[3/5] scaling variants ...")
    scale_h = float(get_key(load_dict(), "run.horizon_days", 1095.0)) * (1 if quick else 3)
    results["scaling"] = scaling(scale_h, seed)

    profile = None
    if args.profile:
        log("      cProfile of the baseline run ...")
        profile = profile_baseline(base_dict, seed, top=15)
        results["profile"] = profile

    # 4. and 5. memory, each in a fresh interpreter; they run side by side (RSS is per process,
    # and all timing figures above are already taken)
    log(f"[4/5] memory: {', '.join(fmt_n(n) for n in mem_sizes)} opportunities ...")
    log(f"[5/5] memory: {args.reps} replications kept as metrics ...")
    common = ["--mem-assignment", args.mem_assignment, "--seed", str(seed)]
    configs = [("overloaded", args.mem_horizon)]
    if args.mem_real_horizon > 0:
        configs.insert(0, ("realistic", args.mem_real_horizon))
    runs = [(label, h, n) for label, h in configs for n in mem_sizes]
    # the biggest runs first: they are the long poles, the others share the second worker
    jobs = [
        (f"{label}{n}", ["--child", str(n), "--mem-horizon", str(h), *common])
        for label, h, n in sorted(runs, key=lambda r: -r[2])
    ]
    jobs += [("idle", ["--child", "0", *common])]
    jobs += [("reps", ["--child-reps", str(args.reps), *common])]
    with ThreadPoolExecutor(max_workers=2) as pool:
        futures = {name: pool.submit(spawn_child, extra, 7200.0) for name, extra in jobs}
        child = {name: f.result() for name, f in futures.items()}
    # the run's peak sits on top of what the interpreter holds once the imports are done (the
    # imports themselves have a short-lived peak of their own, which is not what a run adds to)
    idle = child["idle"]["rss_mb"]
    results["memory"] = {
        "idle_interpreter_maxrss_mb": child["idle"]["maxrss_mb"],
        "idle_interpreter_ru_maxrss_mb": child["idle"]["ru_maxrss_mb"],
        "idle_interpreter_rss_mb": idle,
        "runs": [child[f"{label}{n}"] for label, _, n in runs],
    }
    for (label, _, _), run in zip(runs, results["memory"]["runs"], strict=True):
        run["config"] = label
        run["net_mb"] = run["maxrss_mb"] - idle
    results["replications"] = child["reps"]
    results["elapsed_s"] = time.perf_counter() - started
    results["loadavg_end"] = os.getloadavg()[0]

    rep = build_report(results, profile)
    text = rep.render()
    print(text)
    results["table"] = [list(r) for r in rep.rows]
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2))
        print(f"\nwrote {args.json}")
    return 0


def build_report(res: dict[str, Any], profile: list[dict[str, Any]] | None) -> Report:
    rep = Report()
    m = res["machine"]
    bare, model = res["bare"], res["model"]

    rep.section(
        f"simsales benchmark ({res['mode']} mode) — Python {m['python']}, SimPy {m['simpy']}, "
        f"{m['cpus']} CPUs, seed {res['seed']}"
    )
    load = res["loadavg_start"]
    rep.note(
        f"load average (1 min) at start {load:.2f}, at end {res['loadavg_end']:.2f}"
        + ("  -- WARNING: the machine was busy, timings are low" if load > 0.5 else "")
    )
    plain = res["plain"]
    rounds = res["rounds"]
    rep.section("1. Reference: bare SimPy loop")
    rep.add(
        f"events/s ({bare['procs']} procs x timeout(1), best of {rounds})",
        fmt_rate(bare["events_per_s"]),
        "(issue: ~0.75 M/s)",
    )
    rep.add("events / best wall time", f"{bare['events']:,} / {bare['best_s']:.2f} s")

    rep.section(
        f"2. Side by side on the baseline market (horizon {model['horizon_days']:g} days, "
        f"alternating, best of {rounds})"
    )
    rep.table(
        ["", "wall s", "events", "events/s", "x bare", "opps", "opps/s", "ev/opp", "us/opp"],
        [
            [
                "bare SimPy loop",
                f"{bare['best_s']:.2f}",
                f"{bare['events']:,}",
                fmt_rate(bare["events_per_s"]),
                "1.000",
                "-",
                "-",
                "-",
                "-",
            ],
            *[
                [
                    name,
                    f"{r['wall_s']:.2f}",
                    f"{r['sim_events']:,}",
                    fmt_rate(r["events_per_s"]),
                    f"{r['ratio_to_bare']:.3f}",
                    f"{r['deals']:,}",
                    f"{r['opps_per_s']:,.0f}",
                    f"{r['events_per_opp']:.1f}",
                    f"{r['us_per_opp']:.0f}",
                ]
                for name, r in (("plain SimPy model", plain), ("simsales", model))
            ],
        ],
    )
    spread = [
        f"{name} {min(w):.2f}..{max(w):.2f} s"
        for name, w in (
            ("bare", bare["wall_s"]),
            ("plain", plain["wall_s_rounds"]),
            ("simsales", model["wall_s_rounds"]),
        )
    ]
    rep.note(f"(wall times over the rounds: {', '.join(spread)})")
    rep.note(
        "(same market: calls/deal plain {:.2f} vs simsales {:.2f}; days open {:.1f} vs {:.1f}; "
        "no decision {:.0%} vs {:.0%} of all deal rows; plain polls {:.1f} days per deal)".format(
            plain["calls_per_opportunity"],
            model["calls_per_opportunity"],
            plain["days_open_per_deal"],
            model["days_open_per_deal"],
            plain["no_decision_share"],
            model["no_decision_share"],
            plain["polls_per_deal"],
        )
    )
    rep.add(
        "simsales events/s / bare loop's (issue target)",
        f"{model['ratio_to_bare']:.3f}",
        f">= {RATIO_TARGET}",
        verdict(model["ratio_to_bare"] >= RATIO_TARGET),
    )
    rep.add(
        "plain model events/s / bare loop's",
        f"{plain['ratio_to_bare']:.3f}",
        "(issue: a plain model ~0.5)",
    )
    rep.add(
        "simsales opportunities/s / plain model's",
        f"x{model['opps_per_s'] / plain['opps_per_s']:.2f}",
        "(> 1: simsales is faster per opportunity)",
    )
    rep.add(
        "simsales events per opportunity / plain model's",
        f"x{model['events_per_opp'] / plain['events_per_opp']:.2f}",
        "(fewer, heavier events)",
    )
    rep.add(
        "bare-loop events per simsales opportunity time",
        f"{bare['events_per_s'] / model['opps_per_s']:.0f}",
        "(wall time of 1 opp in bare events)",
    )

    rep.section("3. No polling: events per opportunity vs calls, touches and days")
    rows = res["scaling"]
    rep.table(
        [
            "variant",
            "ev/opp",
            "calls",
            "touches",
            "calls+touches",
            "days open",
            "ev/call",
            "ev/deal-day",
        ],
        [
            [
                r["variant"],
                f"{r['events_per_opp']:.2f}",
                f"{r['calls_per_opportunity']:.2f}",
                f"{r['touches_per_opportunity']:.2f}",
                f"{r['contacts_per_deal']:.2f}",
                f"{r['days_open_per_deal']:.1f}",
                f"{r['events_per_call']:.2f}",
                f"{r['events_per_deal_day']:.3f}",
            ]
            for r in rows
        ],
    )
    base = next(r for r in rows if r["variant"] == "touch_every_days = 0")
    touch3 = next(r for r in rows if r["variant"] == "touch_every_days = 3")
    per_call = [r["events_per_call"] for r in rows]
    per_day = max(r["events_per_deal_day"] for r in rows)
    touch_growth = touch3["events_per_opp"] / base["events_per_opp"]
    rep.add(
        "ev/opp, touches every 3 d vs none",
        f"x{touch_growth:.2f}",
        "~x1 (touches x"
        f"{touch3['touches_per_opportunity'] / max(base['touches_per_opportunity'], 1e-9):.0f}"
        if base["touches_per_opportunity"] > 0
        else f"~x1 (touches 0 -> {touch3['touches_per_opportunity']:.1f})",
        verdict(touch_growth < 1.25),
    )
    rep.add(
        "spread of ev/call over variants",
        f"{min(per_call):.2f}..{max(per_call):.2f}",
        "max/min <= 1.5",
        verdict(max(per_call) / min(per_call) <= 1.5),
    )
    rep.add(
        "max events per deal-day",
        f"{per_day:.3f}",
        "<< 1 (polling >= 1)",
        verdict(per_day < 0.5),
    )

    mem = res["memory"]
    rep.section("4. Peak memory, N opportunities in one run (fresh interpreter each)")
    rep.add("idle interpreter (simsales imported): RSS", f"{mem['idle_interpreter_rss_mb']:.1f} MB")
    rep.add(
        "idle interpreter (simsales imported): peak RSS",
        f"{mem['idle_interpreter_maxrss_mb']:.1f} MB",
        f"(transient while importing; ru_maxrss {mem['idle_interpreter_ru_maxrss_mb']:.1f} MB)",
    )
    body = []
    for run in mem["runs"]:
        n = run["n_target"]
        capped = "*" if run["sellers"] < run["sellers_wanted"] else ""
        other = run["net_mb"] - run["table_mb"] - run["seller_week_hours_mb"]
        target, status = "", "info"
        if n >= MEM_TARGET_N:
            target = f"< {MEM_TARGET_MB:g} MB"
            status = verdict(run["net_mb"] < MEM_TARGET_MB)
        body.append(
            [
                run["config"],
                f"{run['horizon_days']:g}",
                fmt_n(n),
                f"{run['deals']:,}",
                f"{run['suspects_per_day']:.0f}",
                f"{run['sellers']}{capped}",
                f"{run['wall_s']:.1f}",
                f"{run['deals'] / run['wall_s']:,.0f}",
                f"{run['sim_events'] / run['wall_s'] / 1e3:.1f}k",
                f"{run['ru_maxrss_mb']:.1f}",
                f"{run['maxrss_mb']:.1f}",
                f"{run['net_mb']:.1f}",
                f"{run['table_mb']:.1f}",
                f"{run['table_bytes_per_deal']:.0f}",
                f"{run['seller_week_hours_mb']:.1f}",
                f"{other:.1f}",
                f"{run['peak_open_deals']:,}",
                f"{other * 1e3 / max(run['peak_open_deals'], 1):.1f}",
                target,
                status,
            ]
        )
    rep.table(
        [
            "config",
            "days",
            "N",
            "deals",
            "susp/d",
            "sellers",
            "run s",
            "opp/s",
            "ev/s",
            "ru_maxrss",
            "peak MB",
            "-idle MB",
            "table MB",
            "B/deal",
            "hours MB",
            "rest MB",
            "peak open",
            "kB/open",
            "target",
            "",
        ],
        body,
    )
    first = mem["runs"][0]
    rep.note(
        f"(no warm-up, assignment {first['assignment']}; realistic = the baseline's load per "
        "seller; overloaded = a 400-day horizon: at 1M the sellers are capped and open deals "
        "pile up; "
        "-idle = peak minus the idle interpreter's RSS; table = columnar deal table (B/deal its "
        "bytes per deal); hours = sellers' booked hours per week (utilisation over time); "
        "rest = live deals, SimPy and calendars; * = sellers capped at the schema maximum)"
    )
    rep.note(
        "(peak = VmHWM of the child's own image; ru_maxrss, printed raw, also counts the parent's "
        "RSS at fork on Linux, so it is only trusted when larger than the parent's)"
    )
    if not any(r["n_target"] >= MEM_TARGET_N for r in mem["runs"]):
        biggest = max(mem["runs"], key=lambda r: r["n_target"])
        per_deal = biggest["net_mb"] / max(biggest["deals"], 1)
        rep.add(
            f"1M extrapolated linearly from {fmt_n(biggest['n_target'])} ({biggest['config']})",
            f"~{per_deal * MEM_TARGET_N:.0f} MB",
            f"< {MEM_TARGET_MB:g} MB (estimate)",
            verdict(per_deal * MEM_TARGET_N < MEM_TARGET_MB) + " (est.)",
        )

    reps = res["replications"]
    cps = reps["checkpoints"]
    rep.section("5. Replications kept only as metrics (fresh interpreter, baseline)")
    rep.table(
        ["replications", "peak RSS MB", "ru_maxrss MB", "current RSS MB", "Python blocks"],
        [
            [
                str(cp["replications"]),
                f"{cp['maxrss_mb']:.1f}",
                f"{cp['ru_maxrss_mb']:.1f}",
                f"{cp['rss_mb']:.1f}",
                f"{cp['py_blocks']:,}",
            ]
            for cp in cps
        ],
    )
    last = cps[-1]["replications"]
    for label, key in (("peak RSS", "maxrss_mb"), ("current RSS", "rss_mb")):
        growth = cps[-1][key] - cps[0][key]
        rep.add(
            f"{label} growth from 1 to {last} replications",
            f"{growth:+.1f} MB",
            f"<= {REPS_GROWTH_MB:g} MB",
            verdict(growth <= REPS_GROWTH_MB),
        )
    blocks = cps[-1]["py_blocks"] - cps[0]["py_blocks"]
    rep.add(f"Python heap blocks growth, 1 to {last}", f"{blocks:+,}", "(live objects kept)")

    if profile:
        rep.section("cProfile of the baseline run: top functions by own time")
        rep.table(
            ["function", "tottime s", "share", "calls", "cumtime s"],
            [
                [
                    p["function"],
                    f"{p['tottime_s']:.3f}",
                    f"{p['share']:.1%}",
                    f"{p['ncalls']:,}",
                    f"{p['cumtime_s']:.2f}",
                ]
                for p in profile
            ],
        )

    rep.section(f"total benchmark time {res['elapsed_s']:.1f} s")
    return rep


if __name__ == "__main__":
    sys.exit(main())
