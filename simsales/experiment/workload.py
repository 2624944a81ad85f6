"""What a run will cost, worked out before it starts, and the limits that refuse a runaway.

Every value of a scenario can be valid and the run still never end: ten thousand suspects a day
for a hundred years, a billion replications, a grid of ten thousand points. A run, a comparison,
an experiment or a trace is therefore estimated first, from its resolved scenarios alone, and
refused (by the CLI, with exit code 2) when the estimate passes a limit:

- **work**: the suspects to simulate, over every replication of every scenario: each scenario's
  expected arrivals (its rate times the year's mean multiplier, times the horizon; with an account
  lifecycle, the expansion and change opportunities its accounts may bring), times the
  replications. A suspect costs about 130 µs of one core, so the default limit of a billion
  (``DEFAULT_MAX_WORK``) is a day and a half of one core's time.
- **memory**: the peak of one replication's tables (the deal table and its working copies, the
  event log, the sellers' weekly hours), times the replications that run at once, plus what is kept
  of every replication for the results (its metrics; an experiment's cycle times). The default
  limit is 80% of this machine's memory.

The estimates are expected values with a margin, not bounds: they are there to catch a runaway
before it starts, not to predict a run to the byte.
"""

from __future__ import annotations

import math
import os
import re
from array import array
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from simsales.model.market import DAYS_PER_MONTH, DAYS_PER_QUARTER, DAYS_PER_YEAR
from simsales.model.records import DAYS_PER_WEEK, DEAL_FIELDS
from simsales.scenario import Scenario

__all__ = [
    "DEFAULT_MAX_WORK",
    "WorkLimits",
    "Workload",
    "default_max_memory",
    "estimate_workload",
    "expected_suspects",
    "format_bytes",
    "mean_arrival_rate",
    "parse_amount",
    "parse_bytes",
]

#: Most suspects a command simulates unless told otherwise (``--max-work``): at about 130 µs a
#: suspect (the bundled scenarios on one core), a day and a half of one core's time.
DEFAULT_MAX_WORK = 1e9

#: Peak bytes of one replication per byte of a deal table row: the row itself, the table's
#: working copies in double precision while metrics are computed, and the state of the deals
#: still open (measured on the bundled scenarios: 4 to 6 times the row).
_PEAK_PER_ROW_BYTE = 6.0
#: Event-log rows per suspect (about 20 to 30 on the bundled scenarios, more with touches), and
#: the peak bytes of each (34 stored, then read back and sorted).
_EVENTS_PER_SUSPECT = 30.0
_PEAK_PER_EVENT = 90.0
#: Bytes kept per replication of each scenario for the results: its metrics (about a hundred
#: named floats), and for an experiment each counted opportunity's cycle time (10 bytes).
_METRICS_BYTES = 8_000.0
_CYCLE_BYTES = 10.0
#: Bytes of a kept deal table per byte of a stored row: its days are read as float64.
_KEPT_PER_ROW_BYTE = 1.6
#: Share of suspects that become accounts, for the opportunities accounts bring: an upper guess
#: (the bundled scenarios win 5-15% of suspects).
_ACCOUNT_SHARE = 0.25
#: Days a seller's calendar keeps ahead of the present, at 9 bytes a day.
_CALENDAR_DAYS = 365


#: Points of the year at which the seasonal rate is averaged (ten a day).
_YEAR = (np.arange(3_650) + 0.5) * (DAYS_PER_YEAR / 3_650)


def mean_arrival_rate(scenario: Scenario) -> float:
    """The arrival rate's mean over a year (suspects per day): ``market.arrival_rate``,
    vectorised, as every point of a large sweep needs it."""
    market = scenario.market
    sched = market.schedule
    months = np.minimum((_YEAR / DAYS_PER_MONTH).astype(int), 11)
    rate = market.suspects_per_day * np.asarray(sched.by_month, dtype=float)[months]
    if sched.quarter_end_push != 1.0:
        late = DAYS_PER_QUARTER - sched.quarter_end_days <= _YEAR % DAYS_PER_QUARTER
        rate = np.where(late, rate * sched.quarter_end_push, rate)
    return float(rate.mean())


def expected_suspects(scenario: Scenario) -> float:
    """Suspects expected in one replication: the seasonal rate's yearly mean times the horizon,
    plus the opportunities an account lifecycle may add (an upper guess)."""
    horizon = scenario.run.horizon_days
    suspects = mean_arrival_rate(scenario) * horizon
    accounts = scenario.accounts
    if accounts is not None:
        per_year = accounts.expansion.per_year + accounts.change.per_year
        # accounts live half the horizon on average
        suspects *= 1.0 + _ACCOUNT_SHARE * per_year * horizon / 2 / DAYS_PER_YEAR
    return suspects


def _row_bytes(scenario: Scenario) -> float:
    """Bytes of one deal table row: every column, and the day each stage was entered."""
    return sum(array(code).itemsize for code, _ in DEAL_FIELDS.values()) + 4 * len(scenario.stages)


def _replication_bytes(scenario: Scenario, suspects: float, event_log: bool) -> float:
    """Peak memory of one replication of ``scenario`` with ``suspects`` suspects."""
    peak = suspects * _row_bytes(scenario) * _PEAK_PER_ROW_BYTE
    if event_log:
        peak += suspects * _EVENTS_PER_SUSPECT * _PEAK_PER_EVENT
    sellers = scenario.team.sellers
    weeks = math.ceil(scenario.run.horizon_days / DAYS_PER_WEEK)
    return peak + sellers * 8.0 * weeks + sellers * 9.0 * _CALENDAR_DAYS


@dataclass(frozen=True, kw_only=True)
class Workload:
    """The estimated cost of running ``replications`` of each of ``scenarios``.

    ``suspects`` is the work: suspects simulated over everything. The costliest scenario
    (``largest``) sets ``per_replication`` (its suspects in one replication) and
    ``replication_bytes`` (its peak memory in one); ``at_once`` replications run side by side, and
    ``kept_bytes`` is what the results keep of all of them.
    """

    scenarios: int
    replications: int
    suspects: float
    largest: Scenario
    per_replication: float
    replication_bytes: float
    at_once: int
    kept_bytes: float

    @property
    def memory_bytes(self) -> float:
        """Peak memory: the replications running at once, and what the results keep."""
        return self.replication_bytes * self.at_once + self.kept_bytes

    def problems(self, limits: WorkLimits) -> list[str]:
        """What passes ``limits``, one sentence each (empty: within them)."""
        out = []
        if self.suspects > limits.max_work:
            sc = self.largest
            rate = sc.market.suspects_per_day
            what = (
                f"{format_amount(rate)} a day × {sc.run.horizon_days:,g} days"
                if self.scenarios == 1 and sc.accounts is None
                else f"{'up to ' if self.scenarios > 1 else ''}"
                f"{format_amount(self.per_replication)} per replication"
            )
            reps = f"{self.replications:,} replication{'s' if self.replications != 1 else ''}"
            n = f"{self.scenarios:,} scenario{'s' if self.scenarios != 1 else ''}"
            out.append(
                f"it would simulate about {format_amount(self.suspects)} suspects ({what} × "
                f"{reps} × {n}), {_times(self.suspects, limits.max_work)} the limit of "
                f"{format_amount(limits.max_work)} (--max-work)"
            )
        if self.memory_bytes > limits.max_memory:
            at_once = f", {self.at_once} at once" if self.at_once > 1 else ""
            out.append(
                f"its tables would need about {format_bytes(self.memory_bytes)} of memory "
                f"({format_bytes(self.replication_bytes)} per replication{at_once}, "
                f"{format_bytes(self.kept_bytes)} kept for the results), "
                f"{_times(self.memory_bytes, limits.max_memory)} the limit of "
                f"{format_bytes(limits.max_memory)} (--max-memory)"
            )
        return out

    def advice(self, limits: WorkLimits) -> str:
        """How to get under ``limits``, or past them: the keys to check, the options to raise."""
        raise_to = []
        if self.suspects > limits.max_work:
            raise_to.append(f"--max-work {_round_up(self.suspects)}")
        if self.memory_bytes > limits.max_memory:
            size = format_bytes(_round_up_bytes(self.memory_bytes), sep="")
            raise_to.append(f"--max-memory {size}")
        return (
            "Check run.horizon_days, market.suspects_per_day, market.schedule and the "
            "replications (or the number of points); to run it anyway: " + " ".join(raise_to) + "."
        )


@dataclass(frozen=True, kw_only=True)
class WorkLimits:
    """The most work (suspects) and memory (bytes) a command may take on."""

    max_work: float = DEFAULT_MAX_WORK
    max_memory: float = field(default_factory=lambda: default_max_memory())


#: Where a Linux container's memory limit is written (cgroup v2, then v1).
_CGROUP_LIMITS = ("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes")


def default_max_memory() -> float:
    """80% of this machine's physical memory, or of its container's limit if that is lower (8 GB
    where the system does not say)."""
    try:
        total = float(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))
    except (AttributeError, ValueError, OSError):
        total = 0.0
    for path in _CGROUP_LIMITS:
        try:
            with open(path, encoding="ascii") as fh:
                limit = float(fh.read().strip())  # "max": no limit (ValueError)
        except (OSError, ValueError):
            continue
        if 0 < limit < (total or math.inf):
            total = limit
    return 0.8 * total if total > 0 else 8e9


def estimate_workload(
    scenarios: Sequence[Scenario],
    *,
    replications: int,
    at_once: int = 1,
    event_log: bool = False,
    cycles: bool = False,
    deals: bool = False,
) -> Workload:
    """Estimate the cost of ``replications`` of every scenario, ``at_once`` of them side by side.

    ``event_log``: the replications keep their event logs (``run --events``, ``trace``);
    ``cycles``: every counted opportunity's cycle time is kept (an experiment); ``deals``: every
    replication's deal table is kept (a library run's ``RunResult.deals``).
    """
    if not scenarios:
        raise ValueError("estimate_workload needs at least one scenario")
    suspects = [expected_suspects(s) for s in scenarios]
    costs = [_replication_bytes(s, n, event_log) for s, n in zip(scenarios, suspects, strict=True)]
    largest = int(np.argmax(costs))
    kept = replications * sum(
        _METRICS_BYTES
        + (_CYCLE_BYTES * n if cycles else 0.0)
        + (_KEPT_PER_ROW_BYTE * _row_bytes(s) * n if deals else 0.0)
        for s, n in zip(scenarios, suspects, strict=True)
    )
    return Workload(
        scenarios=len(scenarios),
        replications=replications,
        suspects=replications * sum(suspects),
        largest=scenarios[largest],
        per_replication=suspects[largest],
        replication_bytes=costs[largest],
        at_once=max(1, min(at_once, replications)),
        kept_bytes=kept,
    )


# --- amounts and sizes as people write them -------------------------------------------------------

_UNITS = {
    "": 1.0,
    "b": 1.0,
    "kb": 1e3,
    "mb": 1e6,
    "gb": 1e9,
    "tb": 1e12,
    "kib": 2.0**10,
    "mib": 2.0**20,
    "gib": 2.0**30,
    "tib": 2.0**40,
}
_SIZE = re.compile(r"\s*([0-9][0-9_]*(?:\.[0-9]*)?(?:[eE][+-]?[0-9]+)?)\s*([A-Za-z]*)\s*")


def parse_amount(text: str) -> float:
    """A positive count written as ``1000000``, ``1_000_000``, ``1e6`` or ``2.5e9``."""
    try:
        value = float(text.replace("_", "").replace(",", ""))
    except ValueError:
        raise ValueError(f"{text!r} is not a number (write e.g. 1e9 or 500000000)") from None
    if not (value > 0 and math.isfinite(value)):
        raise ValueError(f"{text!r} is not a positive number")
    return value


def parse_bytes(text: str) -> float:
    """A size in bytes written as ``16GB``, ``512 MB``, ``1.5TB``, ``8GiB`` or a plain number."""
    found = _SIZE.fullmatch(text)
    unit = found[2].lower() if found else ""
    if found is None or unit not in _UNITS:
        raise ValueError(f"{text!r} is not a size (write e.g. 16GB, 512MB or 2TB)")
    value = float(found[1].replace("_", "")) * _UNITS[unit]
    if not (value > 0 and math.isfinite(value)):
        raise ValueError(f"{text!r} is not a positive size")
    return value


def format_amount(value: float) -> str:
    """``1,275`` up to a million, then ``3.7e9``: readable at any size, and as ``--max-work``
    reads it."""
    return f"{value:,.0f}" if value < 1e6 else f"{value:.2g}".replace("e+0", "e").replace("e+", "e")


def format_bytes(value: float, sep: str = " ") -> str:
    """``512 MB``, ``2.1 GB``, ``3 TB`` (decimal units, as ``parse_bytes`` reads them)."""
    for unit, size in (("TB", 1e12), ("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if value >= size:
            return f"{value / size:.3g}{sep}{unit}"
    return f"{value:.0f}{sep}B"


def _times(value: float, limit: float) -> str:
    ratio = value / limit
    return f"{ratio:,.0f} times" if ratio >= 10 else f"{ratio:.1f} times"


def _round_up(value: float) -> str:
    """A round number above ``value``: its first two digits, rounded up (``1.4e11``)."""
    exponent = max(math.floor(math.log10(value)) - 1, 0)
    rounded = float(math.ceil(value / 10**exponent) * 10**exponent)
    return f"{rounded:.0f}" if rounded < 1e6 else format_amount(rounded)


def _round_up_bytes(value: float) -> float:
    exponent = math.floor(math.log10(value)) - 1
    return float(math.ceil(value / 10**exponent) * 10**exponent)
