"""The process map shown: as text for the terminal, and as a flow-chart file.

``render_text`` lays out a ``ProcessMap`` (``simsales.analysis.process_map``) in plain text
wrapped to a width, so it reads the same on a terminal, in a pipe and in a file: a block per
stage with a label column (Joint, Seller, Buyer, Done wrong, Qualifies, Goes dark), then how
deals go dark, the close, the outcomes and the levers with their values. ``save_figure`` writes
the flow chart (``simsales.plots.process_map_figure``) to one file, atomically, refusing to
overwrite one unless told to.
"""

from __future__ import annotations

import io
import textwrap
from pathlib import Path
from typing import Any

from matplotlib import rc_context
from matplotlib.figure import Figure
from PIL import Image

from simsales.analysis.process_map import (
    DARK_GAP_DAYS,
    Lever,
    ProcessMap,
    StageStep,
    fmt_num,
    fmt_pct,
)
from simsales.output import OutputError, atomic_open

__all__ = ["FIGURE_DPI", "FIGURE_FORMATS", "check_figure_path", "render_text", "save_figure"]

#: Resolution of a PNG flow chart, dots per inch.
FIGURE_DPI = 110

# --- files --------------------------------------------------------------------------------------

#: The figure formats ``--figure`` writes, by file extension.
FIGURE_FORMATS = ("png", "svg", "pdf")


def check_figure_path(path: Path, force: bool) -> str:
    """The format of a figure file to write at ``path``; ``OutputError`` if it cannot be.

    Checked before any work: an unknown extension, a folder in the way, or an existing file
    without ``force`` (a figure someone may have edited by hand is not overwritten silently).
    """
    fmt = path.suffix.lower().lstrip(".")
    if fmt not in FIGURE_FORMATS:
        raise OutputError(
            f"{path}: cannot tell the figure format from the extension "
            f"{path.suffix or '(none)'!r}; "
            f"use one of {', '.join('.' + f for f in FIGURE_FORMATS)}"
        )
    if path.is_dir():
        raise OutputError(f"{path} is a folder; give a file name for the figure")
    if path.exists() and not force:
        raise OutputError(
            f"{path} already exists; choose another file or pass --force to overwrite it"
        )
    if not path.parent.is_dir():
        raise OutputError(f"cannot write {path}: the folder {path.parent} does not exist")
    return fmt


def save_figure(fig: Figure, path: Path, force: bool) -> None:
    """Write ``fig`` to ``path`` atomically (a crash leaves no half-written file), reproducibly
    (no dates in the file)."""
    from simsales.plots._style import printable_figure

    fmt = check_figure_path(path, force)
    printable_figure(fig)  # names as labels: no control character in an SVG file
    meta: dict[str, Any] = {"png": {"Software": None}, "svg": {"Date": None, "Creator": None}}.get(
        fmt, {"CreationDate": None, "Creator": None, "Producer": None}
    )
    with (
        rc_context({"svg.hashsalt": "simsales", "svg.fonttype": "path"}),
        atomic_open(path, "wb") as fh,
    ):
        if fmt != "png":
            fig.savefig(fh, format=fmt, dpi=FIGURE_DPI, metadata=meta)
            return
        # A chart of flat tints and text: a 256-colour palette looks the same at a third of
        # the size (small enough to put in a README).
        raw = io.BytesIO()
        fig.savefig(raw, format="png", dpi=FIGURE_DPI, metadata=meta)
        raw.seek(0)
        with Image.open(raw) as image:
            image.convert("RGB").quantize(colors=256).save(fh, format="png", optimize=True)


# --- text -----------------------------------------------------------------------------------------


def render_text(pm: ProcessMap, width: int = 100) -> str:
    """The process map as plain text, wrapped to ``width`` columns (good in pipes and files)."""
    width = max(60, width)
    lines: list[str] = [f"Process map of {pm.name}"]
    if pm.description:
        lines += textwrap.wrap(pm.description, width)
    lines += textwrap.wrap(
        "Inputs of the scenario, not simulated results. [key.paths] can be changed with "
        "--set KEY=VALUE.",
        width,
    )
    lines += ["", "0  SUSPECT POOL  [market]"]
    for phrase in pm.pool:
        lines += _item("", phrase, width)
    for st in pm.stages:
        lines += ["", f"{st.number}  {st.name.upper()}  [{st.key}]"]
        lines += _stage_lines(pm, st, width)
    lines += [
        "",
        f"If every step goes right a deal needs {pm.calls_all_right} calls at "
        f"{pm.activities_per_call} activit{'y' if pm.activities_per_call == 1 else 'ies'} per call "
        "(a call runs on into the next stage when no buyer task or seller work blocks it).",
    ]
    lines = lines[:-1] + textwrap.wrap(lines[-1], width)
    lines += ["", "GOING DARK (before the opening: no response; after it: no decision)"]
    for phrase in pm.dark:
        lines += _item("", phrase, width)
    head = " / ".join(f"{fmt_num(d)} d" for d in DARK_GAP_DAYS)
    lines += _item(
        "",
        f"chance of going dark in a gap of {head} without a call, from momentum "
        f"{pm.dark_start_momentum:.2f} (after a first good call), {pm.dark_touches}:",
        width,
    )
    name_w = max(len(st.name) for st in pm.stages)
    for st in pm.stages:
        risks = " / ".join(f"{fmt_pct(r):>4}" for r in st.dark_risk)
        lines.append(
            f"      {st.name:<{name_w}}  {risks}   (half-life {fmt_num(st.half_life_days)} d)"
        )
    lines += ["", "THE CLOSE"]
    points = ", ".join(f"{p.label}: {fmt_pct(p.probability)}" for p in pm.consensus)
    if pm.people:
        lines += _item(
            "",
            "a group whose members but the champion were never met passes every gate, by "
            f"group size: {points} (meeting them and doing it right is what lifts this)",
            width,
        )
    else:
        lines += _item("", f"purchase likelihood by group size: {points}", width)
    for phrase in pm.close:
        lines += _item("", phrase, width)
    lines += ["", "HOW OPPORTUNITIES END"]
    for phrase in pm.outcomes:
        lines += _item("", phrase, width)
    if pm.accounts:
        lines += ["", "AFTER THE SALE: the account lifecycle of won deals [accounts]"]
        for phrase in pm.accounts:
            lines += _item("", phrase, width)
    lines += ["", "LEAN LEVERS (current values; change with --set KEY=VALUE)"]
    value_w = min(14, max(len(lv.value) for lv in pm.levers))
    for lv in pm.levers:
        lines += _lever_lines(lv, value_w, width)
    return "\n".join(lines) + "\n"


def _item(label: str, text: str, width: int, label_w: int = 0) -> list[str]:
    """A bullet (or a labelled line), wrapped with a hanging indent."""
    first = f"   {label:<{label_w}}  " if label_w else "   - "
    return textwrap.wrap(
        text,
        width,
        initial_indent=first,
        subsequent_indent=" " * len(first),
        break_on_hyphens=False,
    )


def _stage_lines(pm: ProcessMap, st: StageStep, width: int) -> list[str]:
    lw = 12
    apc = pm.activities_per_call
    if st.activities:
        joint = (
            f"{st.activities} activities → {st.calls} call{'s' if st.calls != 1 else ''} at "
            f"{apc} per call [{st.key}.activities, policies.activities_per_call]; attendees: "
            f"about {st.attendees} of a typical buying group ({fmt_pct(st.attendee_share)} of it, "
            f"more with a bigger agenda) [{st.key}.attendee_share]; each activity done right "
            f"{fmt_pct(st.p_right)} of the time by a seller of skill 1 [{st.key}.p_right], "
            f"{fmt_pct(st.p_right_typical)} by an average seller at a full agenda; the whole stage "
            f"without a wrong step: {fmt_pct(st.p_stage_clean)}"
        )
    else:
        joint = f"no calls [{st.key}.activities]"
    seller = (
        f"{fmt_num(st.seller_work_hours)} h of offline work after the calls (a proposal) "
        f"[{st.key}.seller_work_hours]"
        if st.seller_work_hours
        else "no offline work"
    )
    if st.sets_forecast:
        seller += "; sets the forecast close date [forecast]"
    buyer = (
        "; ".join(f"{t.name}: {t.duration}" for t in st.buyer_tasks)
        + f" [{st.key}.buyer_tasks] (× the deal's pace; the next call waits for it)"
        if st.buyer_tasks
        else "no tasks of its own"
    )
    out = _item("Joint", joint, width, lw) + _item("Seller", seller, width, lw)
    out += _item("Buyer", buyer, width, lw)
    out += _item("Done wrong", "; ".join(st.wrong), width, lw)
    if st.qualification:
        out += _item("Qualifies", st.qualification, width, lw)
    dark = f"in the gaps (half-life {fmt_num(st.half_life_days)} d [{st.key}.half_life_factor])" + (
        f"; the group may stall after it ({fmt_pct(st.consensus_share)} of the consensus penalty "
        f"[{st.key}.consensus_share])"
        if st.consensus_share
        else ""
    )
    if st.gate:
        dark += (
            f"; after it each stakeholder may block the deal: {fmt_num(st.gate)} × (1 − their "
            f"alignment) [{st.key}.gate]"
        )
    out += _item("Goes dark", dark, width, lw)
    return out


def _lever_lines(lv: Lever, value_w: int, width: int) -> list[str]:
    hang = " " * (value_w + 5)
    text = f"{lv.meaning} [{lv.key}]"
    if len(lv.value) > value_w:  # a long value (a distribution) gets a line of its own
        head = textwrap.wrap(lv.value, width, initial_indent="   ", subsequent_indent=hang)
        return head + textwrap.wrap(text, width, initial_indent=hang, subsequent_indent=hang)
    first = f"   {lv.value:<{value_w}}  "
    return textwrap.wrap(text, width, initial_indent=first, subsequent_indent=hang)
