"""The process map as a flow chart: a swimlane of the stages, top to bottom.

One row per stage, between the suspect pool above and the decision below; one column (lane) per
actor: the joint activities done in calls, what a wrong step costs (with the rework loop back to
the calls), the seller's own work, the buyer's own tasks, and the exits a deal can take from the
stage (going dark into no response before the CRM opens an opportunity, no decision after it;
disqualification). A box of the lean levers and their current values closes the chart. Lanes
are told apart by their headers and boxes as well as by light tints, and exits by dashed
outlines, so the chart reads in black and white.

The layout is computed in inches (the axes span the figure one unit to the inch, y downwards):
each text is wrapped to its box's width and each row is as tall as its fullest box, so no text
overlaps whatever the number of stages or the length of the names. The figure grows with the
scenario (taller for more stages) rather than shrinking its type.
"""

from __future__ import annotations

import re
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch

if TYPE_CHECKING:  # built by simsales.analysis.process_map
    from simsales.analysis.process_map import ProcessMap, StageStep

__all__ = ["process_map_figure"]

FONT = 8.0  # points
LINE = FONT * 1.32 / 72  # inches per line of text
CHAR = FONT * 0.56 / 72  # inches per character, generous for DejaVu Sans
PAD = 0.07  # inches of padding inside a box
GAP_X = 0.3  # inches between lanes
GAP_Y = 0.32  # inches between rows (room for the flow arrows)
MARGIN = 0.25
EXIT_GAP = 0.08  # inches between stacked exit boxes

#: The lanes: header, width (inches), fill. Okabe–Ito hues, lightened.
LANES = (
    ("Stage", 1.45, "#E6E6E6"),
    ("Joint activities (calls)", 2.05, "#D5E8F4"),
    ("If a step goes wrong", 2.0, "#F8E3CF"),
    ("Seller's own work", 1.6, "#D3EFE4"),
    ("Buyer's own tasks", 1.85, "#F5E1EC"),
    ("Exits", 1.75, "#FFFFFF"),
)
STAGE, JOINT, WRONG, SELLER, BUYER, EXIT = range(len(LANES))


@dataclass(frozen=True)
class _Cell:
    """A box of text in a lane of a row; ``span`` lanes wide, ``dashed`` for an exit."""

    lane: int
    lines: tuple[str, ...]
    span: int = 1
    dashed: bool = False
    bold_first: bool = False


def _strip_keys(text: str) -> str:
    """A phrase of the text map without its ``[key.paths]`` (the chart has no room for them)."""
    return re.sub(r"\s*\[[^\]]*\]", "", text)


def _x(lane: int) -> float:
    return MARGIN + sum(w for _, w, _ in LANES[:lane]) + GAP_X * lane


def _width(lane: int, span: int = 1) -> float:
    return sum(w for _, w, _ in LANES[lane : lane + span]) + GAP_X * (span - 1)


def _wrap(lines: Sequence[str], width: float) -> tuple[str, ...]:
    chars = max(8, int((width - 2 * PAD) / CHAR))
    out: list[str] = []
    for line in lines:
        out += textwrap.wrap(line, chars, break_on_hyphens=False) or [""]
    return tuple(out)


def _cell(lane: int, lines: Sequence[str], **kw: bool | int) -> _Cell:
    span = int(kw.get("span", 1))
    return _Cell(
        lane,
        _wrap(lines, _width(lane, span)),
        span=span,
        dashed=bool(kw.get("dashed", False)),
        bold_first=bool(kw.get("bold_first", False)),
    )


def _height(cell: _Cell) -> float:
    return len(cell.lines) * LINE + 2 * PAD


def _stage_cells(pm: ProcessMap, st: StageStep) -> tuple[list[_Cell], list[_Cell]]:
    """The boxes of a stage's row, and its exit boxes (stacked in the exits lane)."""
    calls = f"{st.calls} call{'s' if st.calls != 1 else ''}"
    apc = pm.activities_per_call
    joint = (
        [
            f"{st.activities} activit{'y' if st.activities == 1 else 'ies'} → {calls}",
            f"({apc} activit{'y' if apc == 1 else 'ies'} per call)",
            f"each done right: {st.p_right_typical:.0%}",
            f"~{st.attendees} of the group attend{'s' if st.attendees == 1 else ''}",
        ]
        if st.activities
        else ["no calls"]
    )
    seller = []
    if st.seller_work_hours:
        seller.append(f"offline work: {st.seller_work_hours:g} h (a proposal)")
    if st.qualification:
        seller.append(f"qualifies: reads the buyer's fit; disqualifies below {st.strictness:g}")
    if st.sets_forecast:
        seller.append("sets the forecast close date")
    buyer = [f"{t.name}: {t.duration}" for t in st.buyer_tasks]
    if st.consensus_share:
        buyer.append(f"group agrees to go on ({st.consensus_share:.0%} of the consensus penalty)")
    if st.gate:
        buyer.append(f"each stakeholder may block: {st.gate:g} × (1 − alignment)")
    cells = [
        _cell(STAGE, [f"{st.number}  {st.name}"], bold_first=True),
        _cell(JOINT, joint),
        _cell(SELLER, seller or ["—"]),
        _cell(BUYER, buyer or ["—"]),
    ]
    if st.activities:  # a stage without calls has no step to get wrong, and no rework
        cells.append(_cell(WRONG, [f"↺ {st.wrong_short[0]}", *st.wrong_short[1:]]))
    gap = pm.dark_gap_days[len(pm.dark_gap_days) // 2]
    risk = st.dark_risk[len(pm.dark_gap_days) // 2]
    exits = [
        _cell(
            EXIT,
            [
                f"goes dark: {'no decision' if st.number >= pm.opens_at else 'no response'}",
                f"momentum half-life {st.half_life_days:.3g} d",
                f"{gap:g} d without a call: {risk:.0%}",
            ],
            dashed=True,
            bold_first=True,
        )
    ]
    if st.qualification:
        exits.append(
            _cell(
                EXIT,
                ["disqualified", f"fit read below {st.strictness:g}"],
                dashed=True,
                bold_first=True,
            )
        )
    return cells, exits


def _draw_cell(ax: Axes, cell: _Cell, top: float, height: float) -> tuple[float, float, float]:
    """Draw a box and its text; returns its left, right and vertical middle (inches)."""
    x, w = _x(cell.lane), _width(cell.lane, cell.span)
    ax.add_patch(
        FancyBboxPatch(
            (x, top),
            w,
            height,
            boxstyle="round,pad=0,rounding_size=0.05",
            facecolor=LANES[cell.lane][2] if not cell.dashed else "white",
            edgecolor="black",
            linewidth=0.8,
            linestyle="--" if cell.dashed else "-",
        )
    )
    for i, line in enumerate(cell.lines):
        ax.text(
            x + PAD,
            top + PAD + i * LINE,
            line,
            fontsize=FONT,
            va="top",
            ha="left",
            fontweight="bold" if (cell.bold_first and i == 0) else "normal",
        )
    return x, x + w, top + height / 2


def _arrow(ax: Axes, start: tuple[float, float], end: tuple[float, float], **kw: object) -> None:
    ax.add_patch(
        FancyArrowPatch(
            start,
            end,
            arrowstyle="-|>",
            mutation_scale=9,
            linewidth=0.9,
            color="black",
            shrinkA=0,
            shrinkB=0,
            **kw,  # type: ignore[arg-type]
        )
    )


def process_map_figure(pm: ProcessMap) -> Figure:
    """The scenario's process map as a swimlane flow chart (a ``Figure``; the caller saves it)."""
    rows = _rows(pm)
    width = _x(EXIT) + _width(EXIT) + MARGIN
    notes = _wrap(
        [
            "Going dark. " + "; ".join(_strip_keys(d) for d in pm.dark[:2]) + ".",
            "→ the flow; ⇄ a wrong step and its rework; dashed boxes and arrows: the ways out. "
            "The risk of days without a call starts from momentum "
            f"{pm.dark_start_momentum:.2f} (a first good call), {pm.dark_touches}.",
        ],
        width - 2 * MARGIN,
    )
    ncol = 3
    levers = [
        f"{lv.key} = {lv.value}" + (f" ({lv.zero_means})" if lv.zero_means else "")
        for lv in pm.levers
    ]
    per_col = -(-len(levers) // ncol)
    col_w = (width - 2 * MARGIN) / ncol
    columns = [_wrap(levers[i * per_col : (i + 1) * per_col], col_w) for i in range(ncol)]
    legend_h = (len(notes) + 1 + max(len(c) for c in columns)) * LINE + 3 * PAD

    headers = [_wrap([name], _width(lane)) for lane, (name, _, _) in enumerate(LANES)]
    title_h, header_h = 0.5, max(len(h) for h in headers) * LINE + PAD
    heights = [
        max(
            [_height(c) for c in cells]
            + [sum(_height(e) for e in exits) + EXIT_GAP * max(0, len(exits) - 1)]
        )
        for cells, exits in rows
    ]
    height = (
        MARGIN + title_h + header_h + GAP_Y * len(rows) + sum(heights) + legend_h + MARGIN + PAD
    )

    fig = Figure(figsize=(width, height))
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_xlim(0, width)
    ax.set_ylim(height, 0)
    ax.axis("off")
    ax.text(MARGIN, MARGIN, f"Process map: {pm.name}", fontsize=13, fontweight="bold", va="top")
    ax.text(
        MARGIN,
        MARGIN + 0.27,
        "The scenario's inputs, not simulated results: each row is a stage, in order; each column "
        "says who does what.",
        fontsize=FONT,
        va="top",
    )
    y = MARGIN + title_h
    for lane, header in enumerate(headers):
        ax.text(
            _x(lane) + _width(lane) / 2,
            y + header_h / 2,
            "\n".join(header),
            fontsize=FONT + 0.5,
            fontweight="bold",
            ha="center",
            va="center",
        )
    y += header_h + PAD
    above: tuple[float, float] | None = None
    for r, ((cells, exits), h) in enumerate(zip(rows, heights, strict=True)):
        sides = {cell.lane: _draw_cell(ax, cell, y, h) for cell in cells}
        left, right, _ = sides[STAGE]
        if above is not None:  # the flow, from the row above into this one
            _arrow(ax, ((left + right) / 2, above[1]), ((left + right) / 2, y))
        above = ((left + right) / 2, y + h)
        _draw_exits(ax, exits, y, h, max(s[1] for s in sides.values()), last=r == len(rows) - 1)
        if JOINT in sides and WRONG in sides:  # a wrong step, and the rework back into a call
            jr, wl = sides[JOINT][1], sides[WRONG][0]
            _arrow(ax, (jr, y + 0.3 * h), (wl, y + 0.3 * h))
            _arrow(ax, (wl, y + 0.7 * h), (jr, y + 0.7 * h))
        y += h + GAP_Y
    _legend(ax, y, width, legend_h, notes, columns, col_w)
    return fig


def _rows(pm: ProcessMap) -> list[tuple[list[_Cell], list[_Cell]]]:
    """The rows of the chart: the pool, each stage, the decision; each with its exits."""
    pool = [_strip_keys(p) for p in pm.pool]
    pool_exits = (
        [_cell(EXIT, ["unworked", "no seller took it in time"], dashed=True, bold_first=True)]
        if any("unworked" in p for p in pool)
        else []
    )
    rows = [([_cell(STAGE, ["0  suspect pool"], bold_first=True), _cell(JOINT, pool, span=4)],
             pool_exits)]  # fmt: skip
    rows += [_stage_cells(pm, st) for st in pm.stages]
    consensus = ", ".join(f"{p.label}: {p.probability:.0%}" for p in pm.consensus)
    agrees = (
        f"a group none of whose members but the champion were met passes every gate: {consensus}"
        if pm.people
        else f"the buying group agrees to buy, by group size: {consensus} (at average fit; wrong "
        "steps cut it further)"
    )
    close = [agrees, *(_strip_keys(c) for c in pm.close[1:])]
    outcomes = [
        _cell(EXIT, ["won", "they choose us"], bold_first=True),
        _cell(EXIT, ["lost (No Go)", "they choose another"], bold_first=True),
        _cell(EXIT, ["no decision", "the group never decides"], dashed=True, bold_first=True),
    ]
    rows.append(
        ([_cell(STAGE, ["decision"], bold_first=True), _cell(JOINT, close, span=4)], outcomes)
    )
    return rows


def _draw_exits(
    ax: Axes, exits: list[_Cell], top: float, height: float, row_right: float, *, last: bool
) -> None:
    """The exit boxes of a row, stacked, each reached by an arrow from the row."""
    natural = [_height(e) for e in exits]
    spare = height - sum(natural) - EXIT_GAP * max(0, len(exits) - 1)
    for e, eh in zip(exits, natural, strict=True):
        eh += spare / len(exits) if (last or len(exits) == 1) else 0.0
        _, _, mid = _draw_cell(ax, e, top, eh)
        _arrow(ax, (row_right, mid), (_x(EXIT), mid), linestyle="--" if e.dashed else "-")
        top += eh + EXIT_GAP


def _legend(
    ax: Axes,
    top: float,
    width: float,
    height: float,
    notes: Sequence[str],
    columns: list[tuple[str, ...]],
    col_w: float,
) -> None:
    """The box under the chart: how deals go dark, the symbols, and the levers' values."""
    ax.add_patch(
        FancyBboxPatch(
            (MARGIN, top),
            width - 2 * MARGIN,
            height,
            boxstyle="round,pad=0,rounding_size=0.05",
            facecolor="#F2F2F2",
            edgecolor="black",
            linewidth=0.8,
        )
    )
    y = top + PAD
    for line in notes:
        ax.text(MARGIN + PAD, y, line, fontsize=FONT, va="top")
        y += LINE
    y += PAD
    ax.text(
        MARGIN + PAD,
        y,
        "Lean levers and their current values (change one with --set KEY=VALUE):",
        fontsize=FONT,
        fontweight="bold",
        va="top",
    )
    for i, col in enumerate(columns):
        for j, line in enumerate(col):
            ax.text(MARGIN + PAD + i * col_w, y + (j + 1) * LINE, line, fontsize=FONT, va="top")
