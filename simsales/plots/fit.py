"""Figures of a fit: observed against simulated, in the style of every simsales figure.

Each takes the export and the simulated export (pooled replications) and returns a
``Figure``; the report saves them. Observed is always the first series style, simulated the
second, so that the two read the same way in every figure.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, timedelta

import numpy as np
from matplotlib.figure import Figure

from simsales.crm.fit.observed import seen_on
from simsales.crm.reader import CRM_OUTCOMES, CrmExport
from simsales.plots._style import km_step, new_figure, percent_axis, series_style

__all__ = ["arrivals_by_month", "km_overlay", "outcome_share_bars"]


def km_overlay(
    sides: Mapping[str, tuple[CrmExport, float, int]],
    outcomes: Sequence[int],
    *,
    merge_disqualified: bool = False,
) -> Figure:
    """Kaplan–Meier curves of time to each outcome, one panel per outcome, one line per side.

    ``sides`` maps a label ("observed", "simulated") to (export, its last day, replications
    pooled in it). For outcome k the deals that ended k are the events, deals still open are
    censored at their age, other outcomes are left out: the same curves ``summarise`` reads its
    quartiles from (with ``merge_disqualified``, disqualified deals count as lost).
    """
    fig = new_figure(3.6 * len(outcomes) + 0.6, 4.2, ncols=len(outcomes), sharey=True)
    for ax, code in zip(fig.axes, outcomes, strict=True):
        for i, (label, (export, end_day, reps)) in enumerate(sides.items()):
            outcome, is_open, age = seen_on(export, end_day, merge_disqualified)
            event = outcome == code
            use = event | is_open
            n = int(event.sum())
            km_step(
                ax,
                np.maximum(age[use], 0.0),
                is_open[use],
                i,
                f"{label} ({n / reps:.0f} ended per replication)"
                if reps > 1
                else f"{label} ({n} ended)",
                markersize=4,
            )
        ax.set_title(f"Time to {CRM_OUTCOMES[code].replace('_', ' ')}")
        ax.set_xlabel("days from creation")
        ax.set_xlim(left=0)
        ax.set_ylim(0, 1.02)
        ax.axhline(0.5, color="0.4", linestyle=":", linewidth=1)
        percent_axis(ax)
        ax.grid(alpha=0.4)
        ax.legend(loc="lower right", fontsize=8)
    fig.axes[0].set_ylabel("share ended by then\n(Kaplan–Meier)")
    fig.suptitle("Time to each outcome: the export against the fitted scenario")
    return fig


def outcome_share_bars(
    names: Sequence[str],
    observed: Sequence[tuple[float, float, float]],
    simulated: Sequence[tuple[float, float, float]],
) -> Figure:
    """Share of each outcome, observed and simulated side by side, each (value, low, high)."""
    fig = new_figure(7.0, 4.0)
    ax = fig.axes[0]
    x = np.arange(len(names))
    width = 0.38
    for i, (label, rows) in enumerate((("observed", observed), ("simulated", simulated))):
        style = series_style(i)
        values = np.array([r[0] for r in rows])
        errors = np.array([[r[0] - r[1] for r in rows], [r[2] - r[0] for r in rows]])
        ax.bar(
            x + (i - 0.5) * width,
            values,
            width,
            color=style.colour,
            hatch=style.hatch,
            edgecolor="black",
            label=label,
            yerr=np.maximum(errors, 0),
            capsize=3,
        )
    ax.set_xticks(x, [n.replace("_", " ") for n in names])
    percent_axis(ax)
    ax.set_ylabel("share of opportunities")
    ax.set_title("How opportunities end (95% intervals)")
    ax.grid(axis="y", alpha=0.4)
    ax.legend()
    return fig


def arrivals_by_month(
    epoch: date, observed: CrmExport, simulated: CrmExport, replications: int
) -> Figure:
    """Opportunities created per month: the export's, and the simulation's mean per
    replication."""
    months = _month_keys(epoch, observed.end_day)
    fig = new_figure(max(6.0, 0.28 * len(months) + 2), 3.8)
    ax = fig.axes[0]
    x = np.arange(len(months))
    for i, (label, export, reps) in enumerate(
        (("observed", observed, 1), ("simulated (mean per replication)", simulated, replications))
    ):
        counts = _per_month(epoch, export, months) / reps
        style = series_style(i)
        ax.plot(
            x,
            counts,
            color=style.colour,
            linestyle=style.linestyle,
            marker=style.marker,
            markeredgecolor="black",
            markersize=4,
            label=label,
        )
    step = max(1, len(months) // 12)
    ax.set_xticks(x[::step], months[::step], rotation=45, ha="right")
    ax.set_ylabel("opportunities created")
    ax.set_ylim(bottom=0)
    ax.set_title("Opportunities created per month (the last month may be partial)")
    ax.grid(alpha=0.4)
    ax.legend()
    return fig


def _month_keys(epoch: date, span: float) -> list[str]:
    last = epoch + timedelta(days=span)
    keys, year, month = [], epoch.year, epoch.month
    while (year, month) <= (last.year, last.month):
        keys.append(f"{year}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return keys


def _per_month(epoch: date, export: CrmExport, months: list[str]) -> np.ndarray:
    index = {m: i for i, m in enumerate(months)}
    counts = np.zeros(len(months))
    for d in export.created:
        day = epoch + timedelta(days=float(d))
        i = index.get(f"{day.year}-{day.month:02d}")
        if i is not None:
            counts[i] += 1
    return counts
