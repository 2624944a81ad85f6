"""What an export holds, as a revenue-operations analyst checks it before trusting a fit.

Counts per outcome, the period covered and opportunities per month, how many are still open
(right-censored: their time to an end is only known to exceed their age), the owners, and the
amounts by quantile. ``export_summary`` returns plain data; ``summary_lines`` words it.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import numpy as np

from simsales.crm.reader import CRM_OUTCOMES, CrmExport

__all__ = ["ExportSummary", "export_summary", "summary_lines"]


@dataclass(frozen=True)
class ExportSummary:
    """What ``export_summary`` found; see the module docstring."""

    path: str
    rows_read: int
    opportunities: int
    prospects: int
    left_out: int
    warnings: int
    outcomes: dict[str, int]
    first_day: date | None
    last_day: date | None
    per_month: dict[str, int]
    owners: dict[str, int]
    amount_quantiles: dict[str, float]
    amount_missing: int
    currency: str

    def to_dict(self) -> dict[str, Any]:
        out = dict(vars(self))
        out["first_day"] = self.first_day.isoformat() if self.first_day else None
        out["last_day"] = self.last_day.isoformat() if self.last_day else None
        return out


def export_summary(export: CrmExport) -> ExportSummary:
    counts = Counter(CRM_OUTCOMES[int(c)] for c in export.outcome)
    created = [export.epoch + timedelta(days=float(d)) for d in export.created]
    last = export.epoch + timedelta(days=export.end_day) if len(export) else None
    per_month = Counter(f"{d.year}-{d.month:02d}" for d in created)
    months = _months(min(created), max(created)) if created else []
    owners = Counter(export.owners[int(i)] for i in export.owner)
    amounts = export.amount[np.isfinite(export.amount)]
    quantiles = (
        {f"p{q}": float(np.quantile(amounts, q / 100)) for q in (10, 50, 90)}
        if amounts.size
        else {}
    )
    return ExportSummary(
        path=export.path,
        rows_read=export.rows_read,
        opportunities=len(export),
        prospects=export.prospects,
        left_out=len(export.errors),
        warnings=len(export.warnings),
        outcomes={name: counts.get(name, 0) for name in CRM_OUTCOMES},
        first_day=min(created) if created else None,
        last_day=last,
        per_month={m: per_month.get(m, 0) for m in months},
        owners=dict(owners.most_common()),
        amount_quantiles=quantiles,
        amount_missing=int(np.sum(~np.isfinite(export.amount))),
        currency=export.currency,
    )


def _months(first: date, last: date) -> list[str]:
    out, year, month = [], first.year, first.month
    while (year, month) <= (last.year, last.month):
        out.append(f"{year}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return out


def summary_lines(s: ExportSummary, *, width: int = 100) -> list[str]:
    """The summary in plain lines for the terminal."""
    n = s.opportunities
    lines = [
        f"{s.path}: {s.rows_read} rows read",
        f"  {n} opportunities, {s.prospects} prospecting rows (not opportunities yet), "
        f"{s.left_out} left out"
        + (" (each named above, with its line)" if s.left_out else "")
        + (f", {s.warnings} kept with a warning" if s.warnings else ""),
    ]
    if not n:
        return lines
    shares = ", ".join(
        f"{name} {count} ({100 * count / n:.0f}%)" for name, count in s.outcomes.items() if count
    )
    lines.append(f"outcomes: {shares}")
    still_open = s.outcomes.get("open", 0)
    lines.append(
        f"still open: {still_open} ({100 * still_open / n:.0f}%): right-censored, their time to "
        "an end only known to exceed their age"
    )
    lines.append(f"period: {s.first_day} to {s.last_day} ({len(s.per_month)} months)")
    lines += _per_month(s.per_month, width)
    lines.append(f"owners: {len(s.owners)}, with their opportunities:")
    shown = [f"{name} ({count})" for name, count in list(s.owners.items())[:12]]
    if len(s.owners) > 12:
        shown.append(f"and {len(s.owners) - 12} more")
    line = ""
    for item in shown:  # filled to 100 columns, never wider
        if line and len(line) + 2 + len(item) > 98:
            lines.append("  " + line)
            line = ""
        line = f"{line}, {item}" if line else item
    if line:
        lines.append("  " + line)
    if s.amount_quantiles:
        q = s.amount_quantiles
        lines.append(
            f"amounts ({s.currency}): p10 {q['p10']:,.0f}, median {q['p50']:,.0f}, "
            f"p90 {q['p90']:,.0f}"
            + (f"; {s.amount_missing} without an amount" if s.amount_missing else "")
        )
    return lines


def _per_month(per_month: dict[str, int], width: int) -> list[str]:
    """Opportunities created per month, a bar each (a sparkline's worth of seasonality)."""
    if not per_month:
        return []
    top = max(per_month.values()) or 1
    room = max(10, min(50, width - 24))
    return ["opportunities created per month:"] + [
        f"  {month}  {count:5d}  {'#' * round(room * count / top)}"
        for month, count in per_month.items()
    ]
