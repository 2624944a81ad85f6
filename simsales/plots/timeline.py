"""A few deals side by side on one time line (``simsales trace --figure``).

One row per deal, days since a seller took it on the x axis, so deals of different dates line up
at their start. In each row: the gaps before calls as bars split by what they waited for (the
buyer's tasks, the seller's offline work, the buyer's next free slot, the seller's calendar),
each cause with its own colour *and* hatch; the buyer's own tasks as a thin bar above; calls as
marks (a cross where a step was done wrong); touches and forecast pushes as small marks; the
momentum the log knows (after calls and at stage starts) as a line across the row; and the end
as a mark whose shape says the outcome, which the row's label spells out.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from simsales.plots._style import COLOURS
from simsales.results.story import WAIT_CAUSES, DealStory

__all__ = ["MAX_TIMELINE_DEALS", "deal_timelines"]

#: Rows one figure can show and still be read.
MAX_TIMELINE_DEALS = 12

_CAUSE_LABELS = {
    "task": "waiting for the buyer's tasks",
    "work": "waiting for the seller's offline work",
    "buyer": "waiting for a slot the buyer can meet",
    "seller": "waiting for a free seller slot",
}
_CAUSE_STYLE = {  # colour, hatch: tells the causes apart in colour and in black and white
    "task": (COLOURS[1], "//"),
    "work": (COLOURS[4], "xx"),
    "buyer": ("#BBBBBB", ""),
    "seller": (COLOURS[3], ".."),
}
_OUTCOME_MARK = {  # marker of the end, and the label's word
    "won": ("*", "won"),
    "lost": ("X", "lost"),
    "no_decision": ("o", "no decision"),
    "disqualified": ("s", "disqualified"),
    "no_response": ("d", "no response"),
    "unworked": ("v", "unworked"),
    "open": (">", "open at horizon"),
}
_OUTCOME_COLOUR = {
    "won": COLOURS[2],
    "lost": COLOURS[3],
    "no_decision": "0.35",
    "disqualified": COLOURS[4],
    "no_response": "0.55",
    "unworked": "0.35",
    "open": COLOURS[0],
}
_ROW = 1.0  # height of one deal's row
_GAP = (0.08, 0.30)  # bottom and height of gap bars within a row
_TASK = (0.42, 0.10)  # buyer-task bars
_MOMENTUM = (0.55, 0.40)  # momentum line: 0 at the bottom of this band, 1 at its top


def deal_timelines(stories: Sequence[DealStory]) -> Figure:
    """One row per deal (at most ``MAX_TIMELINE_DEALS``): its calls, gaps, tasks and momentum."""
    if not stories:
        raise ValueError("no deals to draw")
    if len(stories) > MAX_TIMELINE_DEALS:
        raise ValueError(f"{len(stories)} deals: a timeline shows at most {MAX_TIMELINE_DEALS}")
    fig = Figure(figsize=(11.0, 1.5 + 0.9 * len(stories)), layout="constrained")
    ax = fig.subplots()
    labels = []
    span = 1.0
    for row, story in enumerate(stories):
        base = (len(stories) - 1 - row) * _ROW  # first deal on top
        origin = story.assigned_at if not math.isnan(story.assigned_at) else story.created_at
        span = max(span, _draw_row(ax, story, base, origin))
        word = _OUTCOME_MARK[story.outcome][1]
        labels.append((base + _ROW / 2, f"deal {story.deal_id}\n{word}"))
    ax.set_yticks([y for y, _ in labels], [text for _, text in labels])
    colour_of = {
        text: _OUTCOME_COLOUR[s.outcome] for (_, text), s in zip(labels, stories, strict=True)
    }
    for tick in ax.get_yticklabels():  # the word says it in black and white too
        tick.set_color(colour_of[tick.get_text()])
    ax.set_ylim(-0.1, len(stories) * _ROW)
    ax.set_xlim(-0.02 * span, span * 1.04)
    ax.set_xlabel("days since a seller took the deal")
    for row in range(1, len(stories)):
        ax.axhline(row * _ROW, color="0.8", linewidth=0.6)
    ax.grid(axis="x", color="0.92", linewidth=0.6)
    ax.set_axisbelow(True)
    first = stories[0]
    ax.set_title(
        f"{first.scenario_name}: the story of {len(stories)} deal{'s' if len(stories) > 1 else ''}"
        f" (seed {first.seed}, replication {first.replication})"
    )
    columns = _legend_columns([story.outcome for story in stories])
    fig.legend(
        handles=_flatten_columns(columns),
        loc="outside lower center",
        ncols=len(columns),
        fontsize="small",
        frameon=False,
    )
    return fig


def _draw_row(ax: Axes, story: DealStory, base: float, origin: float) -> float:
    """Draw one deal's row with its bottom at ``base``; return the last day drawn (from origin)."""
    last = 0.0
    mom_x: list[float] = []
    mom_y: list[float] = []
    for e in story.episodes:
        x = e.at - origin
        last = max(last, x)
        if e.kind == "gap":
            for part in e.parts:
                colour, hatch = _CAUSE_STYLE[part.cause]
                ax.broken_barh(
                    [(part.start - origin, part.days)],
                    (base + _GAP[0], _GAP[1]),
                    facecolors=colour,
                    edgecolor="black",
                    linewidth=0.4,
                    hatch=hatch,
                )
        elif e.kind == "buyer_task":
            ax.broken_barh([(x, e.days)], (base + _TASK[0], _TASK[1]), facecolors="black")
            last = max(last, x + e.days)
        elif e.kind == "call":
            y = base + _GAP[0] + _GAP[1] / 2
            if e.wrong:
                ax.plot(
                    [x],
                    [y],
                    marker="X",
                    color=COLOURS[3],
                    markersize=8,
                    markeredgecolor="black",
                    linestyle="none",
                )
            else:
                ax.plot(
                    [x],
                    [y],
                    marker="o",
                    color=COLOURS[0],
                    markersize=6,
                    markeredgecolor="black",
                    linestyle="none",
                )
        elif e.kind == "touch":
            ax.plot(
                [x],
                [base + _TASK[0] + _TASK[1] / 2],
                marker="v",
                color="white",
                markeredgecolor="black",
                markersize=5,
                linestyle="none",
            )
        elif e.kind == "forecast_pushed":
            ax.plot([x], [base + 0.02], marker="|", color="black", markersize=8, linestyle="none")
        if not math.isnan(e.momentum) and e.kind != "closed":
            mom_x.append(x)
            mom_y.append(base + _MOMENTUM[0] + _MOMENTUM[1] * e.momentum)
    if mom_x:
        ax.plot(mom_x, mom_y, color=COLOURS[2], linewidth=1.2, linestyle="-")
    end = story.closed_at if not math.isnan(story.closed_at) else story.horizon_days
    cut = _unfinished_gap(story)
    if cut is not None:  # the gap the deal did not survive, or still running at the horizon
        ax.broken_barh(
            [(cut[0] - origin, cut[1] - cut[0])],
            (base + _GAP[0], _GAP[1]),
            facecolors="white",
            edgecolor="black",
            linewidth=0.8,
            linestyle="--",
        )
    if not math.isnan(story.dark_at):
        ax.plot(
            [story.dark_at - origin] * 2,
            [base + 0.05, base + 0.95],
            color="black",
            linestyle=":",
            linewidth=1.0,
        )
    mark, _ = _OUTCOME_MARK[story.outcome]
    ax.plot(
        [end - origin],
        [base + _ROW / 2],
        marker=mark,
        color="black",
        markersize=10,
        linestyle="none",
    )
    return max(last, end - origin)


def _unfinished_gap(story: DealStory) -> tuple[float, float] | None:
    """From the last contact (call, or start) to going dark or the horizon, if no call ended it."""
    if story.outcome not in ("no_decision", "no_response", "open") or math.isnan(story.assigned_at):
        return None
    end = story.dark_at if not math.isnan(story.dark_at) else story.horizon_days
    starts = [e.at for e in story.episodes if e.kind in ("call", "stage", "assigned")]
    start = max((t for t in starts if t <= end), default=story.assigned_at)
    return (start, end) if end > start else None


def _flatten_columns(columns: list[list[Line2D | Patch]]) -> list[Line2D | Patch]:
    """The legend's entries in the order a legend fills its columns (top to bottom, then the
    next column), each column padded with blank entries to the longest: every column then holds
    its own group, so the legend's width never depends on how many ends the deals had."""
    rows = max(len(column) for column in columns)
    blank = Line2D([], [], linestyle="none", label="")
    return [entry for column in columns for entry in column + [blank] * (rows - len(column))]


def _legend_columns(outcomes: Sequence[str]) -> list[list[Line2D | Patch]]:
    """The legend in four groups, one a column: the gaps' causes; the buyer's tasks, calls and
    touches; pushes, momentum and going dark; the ends the deals shown had."""
    waits: list[Line2D | Patch] = [
        Patch(
            facecolor=_CAUSE_STYLE[c][0],
            hatch=_CAUSE_STYLE[c][1],
            edgecolor="black",
            label=_CAUSE_LABELS[c],
        )
        for c in WAIT_CAUSES
    ]
    contacts: list[Line2D | Patch] = [
        Patch(facecolor="black", label="the buyer's own task"),
        Line2D(
            [],
            [],
            marker="o",
            color=COLOURS[0],
            markeredgecolor="black",
            linestyle="none",
            label="call",
        ),
        Line2D(
            [],
            [],
            marker="X",
            color=COLOURS[3],
            markeredgecolor="black",
            markersize=8,
            linestyle="none",
            label="call with a step done wrong",
        ),
        Line2D(
            [],
            [],
            marker="v",
            color="white",
            markeredgecolor="black",
            linestyle="none",
            label="touch",
        ),
    ]
    signals: list[Line2D | Patch] = [
        Line2D(
            [],
            [],
            marker="|",
            color="black",
            markersize=8,
            linestyle="none",
            label="forecast date pushed",
        ),
        Line2D(
            [],
            [],
            color=COLOURS[2],
            linewidth=1.2,
            label="momentum (row's top = 1), where known",
        ),
        Patch(
            facecolor="white",
            edgecolor="black",
            linestyle="--",
            label="gap no call ended (dark, or horizon)",
        ),
        Line2D([], [], color="black", linestyle=":", label="buyer went dark"),
    ]
    ends: list[Line2D | Patch] = [
        Line2D(
            [], [], marker=mark, color="black", linestyle="none", markersize=9, label=f"end: {word}"
        )
        for outcome, (mark, word) in _OUTCOME_MARK.items()
        if outcome in outcomes
    ]
    return [waits, contacts, signals, ends]
