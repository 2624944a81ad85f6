"""Cycle-time distributions: Kaplan–Meier CDFs per scenario, won and not won apart.

A deal still open at the horizon has an unknown cycle time, known only to exceed its age then.
Dropping open deals would drop exactly the slow ones, so the curve over all opportunities is the
Kaplan–Meier estimate with open deals right-censored at their age (as ``results.survival`` does
for the reported quantiles). An open deal's outcome is unknown too, so the won and not-won curves
can only be over closed deals: with a ``run.cohort_margin_days`` of a few cycle times nearly every
counted deal has closed, and the difference is small.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import numpy as np
from matplotlib.figure import Figure
from numpy.typing import ArrayLike

from simsales.model.records import OPEN, WON
from simsales.plots._style import km_step, new_figure, percent_axis
from simsales.results import DealTable

__all__ = ["Cycles", "cycle_ecdf", "cycles_from_tables"]

#: (cycle days, censored flags) or (cycle days, censored flags, outcome codes of ``OUTCOMES``).
Cycles = tuple[ArrayLike, ArrayLike] | tuple[ArrayLike, ArrayLike, ArrayLike]


def cycles_from_tables(tables: Iterable[DealTable]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Cycle days, censored flags and outcome codes of the opportunities of one or more tables.

    Cycle time runs from the opportunity's opening to the CRM close, or to the horizon for one
    still open (censored), as in the reported cycle metrics. Replications are pooled: pass every
    table of a scenario to draw its distribution over all of them.
    """
    days, censored, outcomes = [], [], []
    for table in tables:
        opp = table.opportunities
        outcome = table["outcome"]
        is_open = outcome == OPEN
        age = np.where(is_open, table.horizon_days, table["closed_at"]) - table.opened_at
        keep = opp & np.isfinite(age)
        days.append(age[keep].astype(float))
        censored.append(is_open[keep])
        outcomes.append(outcome[keep].astype(int))
    if not days:
        raise ValueError("no deal tables given")
    return np.concatenate(days), np.concatenate(censored), np.concatenate(outcomes)


def cycle_ecdf(cycles_by_scenario: Mapping[str, Cycles]) -> Figure:
    """Share of deals closed by each day, per scenario: Kaplan–Meier CDFs of cycle time.

    ``cycles_by_scenario`` maps a scenario name to ``(days, censored)``, where ``censored[i]``
    marks ``days[i]`` as a lower bound (still open at the horizon), or to ``(days, censored,
    outcomes)`` with outcome codes of ``simsales.model.records.OUTCOMES`` (``cycles_from_tables``
    makes these). With outcomes for every scenario, two more panels show closed deals split into
    won and not won (lost, no decision, disqualified). A dotted line marks the median.
    """
    if not cycles_by_scenario:
        raise ValueError("nothing to plot: no scenarios given")
    samples = {name: tuple(np.asarray(a) for a in c) for name, c in cycles_by_scenario.items()}
    split = {len(s) for s in samples.values()}
    if split not in ({2}, {3}):
        raise ValueError("give outcome codes for every scenario or for none")
    with_outcomes = split == {3}
    panels = 3 if with_outcomes else 1
    fig = new_figure(4.2 * panels + 1.0, 4.6, ncols=panels, sharey=True)
    axes = fig.axes
    for i, (name, sample) in enumerate(samples.items()):
        days, censored = sample[0].astype(float), sample[1].astype(bool)
        if days.shape != censored.shape:
            raise ValueError(f"{name!r}: cycle days and censored flags differ in length")
        km_step(axes[0], days, censored, i, f"{name} (n = {days.size})")
        if with_outcomes:
            outcome = sample[2]
            closed = ~censored
            km_step(axes[1], days[closed & (outcome == WON)], None, i, None)
            km_step(axes[2], days[closed & (outcome != WON)], None, i, None)
    axes[0].set_title("All opportunities\n(Kaplan–Meier, open deals censored)")
    axes[0].set_ylabel("share of deals closed by then (%)")
    if with_outcomes:
        axes[1].set_title("Won deals")
        axes[2].set_title("Not won, closed\n(lost, no decision, disqualified)")
    for ax in axes:
        ax.axhline(0.5, color="0.4", linestyle=":", linewidth=1)
        ax.set_xlabel("cycle time, assigned to CRM close (days)")
        ax.set_xlim(left=0)
        ax.set_ylim(0, 1.02)
        percent_axis(ax)
        ax.grid(alpha=0.4)
    axes[0].text(
        0.99,
        0.5,
        "median",
        transform=axes[0].get_yaxis_transform(),
        ha="right",
        va="bottom",
        fontsize=8,
        color="0.3",
    )
    fig.suptitle("How long do deals take? Cumulative share closed by cycle day")
    fig.legend(loc="outside lower center", ncols=min(len(samples), 4), title="scenario")
    return fig
