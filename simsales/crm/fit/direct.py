"""What the export says directly: arrivals and their seasons, the team, deal values, outcomes.

These need no simulation: opportunities per day, their calendar-month pattern (with a year of
data or more), the sellers active at once, and the amounts. ``check_export`` first refuses an
export a fit would turn into nonsense, saying what cannot be estimated and why.
"""

from __future__ import annotations

import calendar
import math
from dataclasses import dataclass, field
from datetime import date, timedelta

import numpy as np

from simsales.crm.reader import CRM_OUTCOMES, CrmExport

__all__ = ["MIN_CLOSED", "DirectEstimates", "FitDataError", "check_export", "direct_estimates"]

OPEN, WON = 0, 1
#: The fewest closed opportunities a fit accepts: below this, shares and cycle quartiles have
#: errors of ten points and more, and every behavioural parameter fits any value.
MIN_CLOSED = 30
#: The fewest months of creation dates: time to an outcome is months, and a shorter export
#: sees only its fastest deals end.
MIN_MONTHS = 3
#: Months of data needed to estimate a calendar-month pattern of arrivals.
SEASON_MONTHS = 12


class FitDataError(ValueError):
    """An export a fit cannot use; the message says what cannot be estimated, and why."""


@dataclass(frozen=True)
class DirectEstimates:
    """What the export gives without simulation (``notices``: what it could not give)."""

    span_days: float
    months: float
    opportunities: int
    closed: int
    per_day: float
    by_month: list[float] | None
    sellers: int
    owners: int
    amount_p50: float
    amount_p90: float
    merge_disqualified: bool
    created_per_month: dict[str, int]
    notices: list[str] = field(default_factory=list)


def check_export(export: CrmExport, *, sellers: int | None = None) -> None:
    """Raise ``FitDataError`` for an export that cannot be fitted (see ``MIN_CLOSED``...)."""
    n = len(export)
    if n == 0:
        raise FitDataError(
            f"{export.path}: no opportunities to fit (every row left out or "
            "prospecting: see `simsales import`)"
        )
    counts = {name: int((export.outcome == code).sum()) for code, name in enumerate(CRM_OUTCOMES)}
    closed = n - counts["open"]
    if closed == 0:
        raise FitDataError(
            f"{export.path}: none of the {n} opportunities has closed: nothing shows how deals "
            "end or how long they take, so no outcome share, cycle time or behavioural "
            "parameter can be estimated; export a period long enough for deals to close"
        )
    created = float(export.created.max() - export.created.min())
    if created < MIN_MONTHS * 365.0 / 12:
        raise FitDataError(
            f"{export.path}: the opportunities were created within {created:.0f} days (less "
            f"than {MIN_MONTHS} months): so short a period shows neither the arrivals' rhythm "
            "nor the time to each outcome of deals created at different times (the seasons "
            "need a year); export at least a year"
        )
    if closed < MIN_CLOSED:
        raise FitDataError(
            f"{export.path}: only {closed} closed opportunities (a fit needs at least "
            f"{MIN_CLOSED}): with so few, the outcome shares and cycle times are too uncertain "
            "to tell any parameter value from another; export a longer period"
        )
    ended_other = counts["lost"] + counts["no_decision"] + counts["disqualified"]
    if ended_other == 0:
        raise FitDataError(
            f"{export.path}: all {closed} closed opportunities are won: with no loss and no "
            "no-decision in the data the loss and no-decision hazards cannot be estimated (only "
            "that they are small); check the mapping's [status] labels, or whether lost deals "
            "are deleted from the CRM"
        )
    if counts["won"] == 0:
        raise FitDataError(
            f"{export.path}: none of the {closed} closed opportunities is won: the chance of "
            "doing the stages right and the time to a win cannot be estimated; check the "
            "mapping's [status] labels"
        )
    if len(export.owners) == 1 and sellers is None:
        raise FitDataError(
            f"{export.path}: every opportunity has one owner ({export.owners[0]!r}): the team "
            "size (sellers at once) and how deals spread over sellers cannot be estimated from "
            "it; if the team really is one seller, or the owner column is empty, say how many "
            "sellers there are with --sellers N"
        )


def direct_estimates(export: CrmExport, *, sellers: int | None = None) -> DirectEstimates:
    """The direct estimates of an export that passed ``check_export``."""
    span = export.end_day
    months = span / (365.0 / 12)
    n = len(export)
    notices: list[str] = []
    by_month = _season(export, span)
    if by_month is None:
        notices.append(
            f"the export covers {months:.1f} months (less than {SEASON_MONTHS}): the arrivals' "
            "calendar-month pattern cannot be estimated; the base scenario's is kept"
        )
    owners = len(export.owners)
    team = sellers if sellers is not None else _sellers_at_once(export, span)
    if sellers is not None:
        notices.append(f"the team size is {sellers} seller(s), as --sellers says (not estimated)")
    amounts = export.amount[np.isfinite(export.amount) & (export.amount > 0)]
    if amounts.size < 10:
        notices.append("fewer than 10 amounts: the base scenario's deal values are kept")
        p50 = p90 = math.nan
    else:
        p50, p90 = (float(x) for x in np.quantile(amounts, (0.5, 0.9)))
    disq = int((export.outcome == CRM_OUTCOMES.index("disqualified")).sum())
    if disq == 0:
        notices.append(
            "no opportunity is booked disqualified: simulated disqualifications are "
            "counted as lost, as this CRM seems to book them"
        )
    created = [export.epoch + timedelta(days=float(d)) for d in export.created]
    per_month: dict[str, int] = {}
    for d in sorted(created):
        key = f"{d.year}-{d.month:02d}"
        per_month[key] = per_month.get(key, 0) + 1
    return DirectEstimates(
        span_days=span,
        months=months,
        opportunities=n,
        closed=int((export.outcome != OPEN).sum()),
        per_day=n / span,
        by_month=by_month,
        sellers=team,
        owners=owners,
        amount_p50=p50,
        amount_p90=p90,
        merge_disqualified=disq == 0,
        created_per_month=per_month,
        notices=notices,
    )


def _season(export: CrmExport, span: float) -> list[float] | None:
    """Opportunities created per day in each calendar month over the days of that month the
    export covers, as multipliers of mean 1 (January first); None before a year of data."""
    if span < SEASON_MONTHS * 365.0 / 12 - 1:
        return None
    exposure = np.zeros(12)
    day = export.epoch
    for _ in range(math.floor(span)):
        exposure[day.month - 1] += 1
        day += timedelta(days=1)
    counts = np.zeros(12)
    for d in export.created:
        counts[(export.epoch + timedelta(days=float(d))).month - 1] += 1
    rate = counts / np.maximum(exposure, 1)
    if exposure.min() < 15 or rate.mean() <= 0:
        return None
    factors = rate / rate.mean()
    return [round(float(max(f, 0.05)), 3) for f in factors]


def _sellers_at_once(export: CrmExport, span: float) -> int:
    """Owners active at once (median over the weeks): an owner is active from their first
    opportunity created to the last day one of theirs was created or closed."""
    first = np.full(len(export.owners), np.inf)
    last = np.full(len(export.owners), -np.inf)
    ends = np.where(np.isfinite(export.closed), export.closed, export.created)
    np.minimum.at(first, export.owner, export.created)
    np.maximum.at(last, export.owner, np.maximum(ends, export.created))
    weeks = np.arange(0.0, max(span, 1.0), 7.0)
    active = ((first[None, :] <= weeks[:, None]) & (last[None, :] >= weeks[:, None])).sum(axis=1)
    return max(1, round(float(np.median(active))))


def month_name(i: int) -> str:
    return calendar.month_abbr[i + 1]


def day_of_year(day: date) -> int:
    """0-based day of the year (the model's year starts on 1 January)."""
    return day.timetuple().tm_yday - 1
