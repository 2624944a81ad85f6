"""The fit report: Markdown and HTML from the same blocks, and the figures beside them.

What a revenue-operations analyst needs before trusting a fitted scenario: what the export
says directly; each fitted parameter, with whether the data pinned it down and which data
would; every compared summary observed and simulated side by side, with intervals; the
Kaplan–Meier curves overlaid; outcome shares and arrivals by month; and the held-out check
(fit on the first two thirds, predict the last third). Files are staged and published
together (``simsales.output.StagedFiles``): never half a report.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from simsales import __version__
from simsales.crm.fit.direct import month_name
from simsales.crm.fit.observed import Summaries, Summary, closed_outcomes
from simsales.crm.reader import CRM_OUTCOMES
from simsales.output import StagedFiles, prepare_out_dir
from simsales.report.figures import FIGURE_DIR
from simsales.report.htmlpage import code, embedded_figure, esc, page, stage_figures, table, td

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from simsales.crm.fit.stages import StageCheck
    from simsales.crm.fit.workflow import FitOutcome

__all__ = ["REPORT_FILES", "write_report"]

REPORT_FILES = ("report.md", "report.html")
Z95 = 1.96


@dataclass(frozen=True)
class _Table:
    heads: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]


Block = tuple[str, object]  # ("h2" | "p" | "ul" | "table" | "figure" | "pre", content)


def write_report(outcome: FitOutcome, folder: Path, *, force: bool) -> list[str]:
    """Write ``report.md``, ``report.html`` and ``figures/`` into ``folder``; the names
    written (relative to the current folder)."""
    out = prepare_out_dir(folder, force)
    blocks = _blocks(outcome)
    figures = _figures(outcome)
    with StagedFiles(out) as staged:
        pngs = stage_figures(staged, figures)
        staged.write_text("report.md", _markdown(blocks))
        title = f"Fit of {Path(outcome.export.path).name}"
        staged.write_text("report.html", _html(title, blocks, pngs))
        paths = staged.commit()
    return [str(p) for p in paths]


# --- the content ---------------------------------------------------------------------------------


def _blocks(o: FitOutcome) -> list[Block]:
    f, d = o.fitted, o.fitted.direct
    obs, sim = f.observed, f.simulated
    n_terms = sum(1 for s in obs.items.values() if math.isfinite(s.value))
    lead = (
        f"{o.request.out_file} extends {o.request.base_file} and sets what the fit estimated from "
        f"{o.export.path}: {d.opportunities} opportunities created over {d.months:.1f} months, "
        f"{d.closed} closed. Distance at the fit: {f.final_distance:.1f} over {n_terms} "
        f"summaries (about {n_terms} if the scenario could have written the export; each term "
        f"a squared difference in standard errors). {f.search.evaluations} evaluations of "
        f"{f.plan.replications} replications each, on common random numbers (seed "
        f"{f.plan.seed})."
    )
    blocks: list[Block] = [("h1", f"Fit of {Path(o.export.path).name}"), ("p", lead)]
    blocks += [("h2", "What the export says directly"), ("ul", _direct_lines(o))]
    blocks += [("h2", "Fitted parameters"), ("p", _ident_text(o)), ("table", _param_table(o))]
    blocks += [
        ("h2", "Observed and simulated"),
        (
            "p",
            "Observed: the export's value with a 95% interval (its standard error). Simulated: "
            f"the fitted scenario over {len(f.per_replication)} replications, pooled, with the "
            "range where one export of the team's size would fall (mean ± 1.96 sd across "
            "replications). Times are Kaplan–Meier quartiles of days from creation to each "
            "outcome, deals still open censored at their age. z: the difference in standard "
            "errors.",
        ),
        ("table", _summary_table(obs, sim, f.per_replication)),
        ("figure", "time_to_outcome"),
        ("figure", "outcome_shares"),
        ("figure", "arrivals_by_month"),
    ]
    blocks += _stage_blocks(o)
    blocks += _holdout_blocks(o)
    blocks += [
        ("h2", "Reproduce"),
        ("pre", o.request.command),
        (
            "p",
            f"simsales {__version__}. The same seed gives the same fit, with any --jobs "
            "or on a cluster.",
        ),
    ]
    return blocks


def _direct_lines(o: FitOutcome) -> list[str]:
    f, d = o.fitted, o.fitted.direct
    doc = f.document
    lines = [
        f"Opportunities: {d.per_day * 365 / 12:.1f} per month; the simulation's suspects per day "
        f"scaled x{f.rate_ratio:.3g} to {doc['market']['suspects_per_day']:g} to match "
        f"(simulated: {len(f.simulated_export) / len(f.per_replication) / d.months:.1f} per "
        "month per replication).",
        f"Sellers: {d.sellers} active at once (median over the weeks) of {d.owners} owners.",
    ]
    if d.by_month is not None:
        pattern = ", ".join(f"{month_name(i)} {v:.2f}" for i, v in enumerate(d.by_month))
        lines.append(f"Arrivals by calendar month (multipliers of the mean): {pattern}.")
    if math.isfinite(d.amount_p50):
        m, s = f.value_scale
        lines.append(
            f"Amounts: median {d.amount_p50:,.0f}, p90 {d.amount_p90:,.0f} "
            f"{o.export.currency}; the segments' deal values scaled x{m:.3g} (medians) and "
            f"x{s:.3g} (p90/median)."
        )
    shares = ", ".join(
        f"{CRM_OUTCOMES[c]} {int((o.export.outcome == c).sum())}" for c in range(len(CRM_OUTCOMES))
    )
    lines.append(f"Outcomes: {shares}.")
    lines.append(
        "Slippage (pushed close dates) is not compared: the export has each deal's "
        "last close date only, not its history."
    )
    lines += [f"Note: {n}" for n in d.notices]
    return lines


def _ident_text(o: FitOutcome) -> str:
    flat = [p for p in o.profiles if not p.pinned]
    from simsales.crm.fit.parameters import PARAMETERS

    known = {p.name: p for p in PARAMETERS}
    text = (
        "Each parameter was moved a step (an eighth of its log range) either way from the "
        "fit; it is pinned down when the distance rises by more than twice the noise of such a "
        f"rise between replication sets ({o.noise:.1f}) and by at least 1. "
    )
    if not flat:
        return text + "Every fitted parameter is pinned down by this export."
    said = (
        text
        + "Not pinned down: "
        + "; ".join(f"{p.name} (would need {known[p.name].pinned_by})" for p in flat)
        + ". Their fitted values carry the base scenario's story more than the team's."
    )
    if o.stages is not None:  # the history was given, but the search does not use it yet
        said += (
            " The stage history given here checks the fit stage by stage (below); the search "
            "itself uses the export's own summaries only."
        )
    return said


def _param_table(o: FitOutcome) -> _Table:
    f = o.fitted
    rows = []
    for p, prof in zip(f.plan.parameters, o.profiles, strict=True):
        rows.append(
            (
                p.name,
                p.key,
                f"{f.base_values[p.name]:.4g}",
                f"{f.values[p.name]:.4g}",
                f"{prof.rise_low:+.1f} / {prof.rise_high:+.1f}".replace("nan", "–"),
                "yes" if prof.pinned else "no",
                p.meaning,
            )
        )
    return _Table(
        ("parameter", "key", "base", "fitted", "rise a step down / up", "pinned down", "meaning"),
        tuple(rows),
    )


def _summary_table(obs: Summaries, sim: Summaries, per_rep: Sequence[Summaries]) -> _Table:
    rows = []
    for name, o in obs.items.items():
        s = sim.items.get(name)
        if s is None:
            continue
        spread = _spread(name, per_rep)
        z = (s.value - o.value) / math.sqrt(o.se**2 + s.se**2) if _finite(o, s) else math.nan
        rows.append(
            (
                o.label,
                _shown(o.value, o.unit, o.value - Z95 * o.se, o.value + Z95 * o.se),
                _shown(s.value, s.unit, *spread),
                f"{z:+.1f}" if math.isfinite(z) else "–",
            )
        )
    return _Table(("summary", "observed [95%]", "simulated [one export's range]", "z"), tuple(rows))


def _finite(*items: Summary) -> bool:
    return all(math.isfinite(i.value) and math.isfinite(i.se) for i in items)


def _spread(name: str, per_rep: Sequence[Summaries]) -> tuple[float, float]:
    values = np.array([r.items[name].value for r in per_rep if name in r.items])
    values = values[np.isfinite(values)]
    if values.size < 2:
        return math.nan, math.nan
    mean, sd = float(values.mean()), float(values.std(ddof=1))
    return mean - Z95 * sd, mean + Z95 * sd


def _shown(value: float, unit: str, low: float, high: float) -> str:
    if not math.isfinite(value):
        return "–"
    if unit == "share":
        main = f"{100 * value:.1f}%"
        rng = f" [{100 * max(low, 0):.1f}, {100 * min(high, 1):.1f}]" if math.isfinite(low) else ""
    else:
        main = f"{math.exp(value):.0f} d"
        rng = f" [{math.exp(low):.0f}, {math.exp(high):.0f}]" if math.isfinite(low) else ""
    return main + rng


def _stage_blocks(o: FitOutcome) -> list[Block]:
    """With a stage history: each stage's conversion and days in stage, observed and simulated."""
    if o.stages is None:
        if o.stages_skipped:
            return [
                ("h2", "Stages"),
                ("p", f"The stage history was not compared: {o.stages_skipped}."),
            ]
        return []
    check = o.stages
    text = (
        "From the stage history, counted as `simsales import` counts it, against the fitted "
        f"scenario over the export's period ({check.replications} replications, pooled). "
        "Conversion: of the opportunities that left the stage, the share that entered a later "
        "one, with its 95% interval; days in stage: the Kaplan–Meier median, the open ones "
        "censored. The search did not use these: they check it. A conversion outside its "
        "interval points at the stage's chance of doing it right (`p_right`), its gate or "
        "its qualification; a stage much slower or faster, at its buyer tasks or lags. "
        + _stage_verdict(check)
    )
    rows = tuple(
        (
            r.stage,
            str(r.entered),
            _pct(r.conversion)
            + (
                f" [{_pct(r.conversion_low)}, {_pct(r.conversion_high)}]"
                if math.isfinite(r.conversion)
                else ""
            ),
            _pct(r.simulated_conversion),
            {True: "yes", False: "no", None: "–"}[r.conversion_inside],
            _days(r.median_days),
            _days(r.simulated_median_days),
        )
        for r in check.rows
    )
    heads = (
        "stage",
        "entered",
        "conversion [95%]",
        "simulated",
        "inside",
        "median days in stage",
        "simulated",
    )
    return [("h2", "Stages"), ("p", text), ("table", _Table(heads, rows))]


def _stage_verdict(check: StageCheck) -> str:
    judged = [r for r in check.rows if r.conversion_inside is not None]
    inside = sum(1 for r in judged if r.conversion_inside)
    return f"{inside} of {len(judged)} stage conversions fall in the observed interval."


def _pct(value: float) -> str:
    return f"{100 * value:.0f}%" if math.isfinite(value) else "–"


def _days(value: float) -> str:
    return f"{value:.0f} d" if math.isfinite(value) else "–"


def _holdout_blocks(o: FitOutcome) -> list[Block]:
    h = o.holdout
    if h is None:
        why = (
            f"Not run: the first two thirds alone cannot be fitted ({o.holdout_skipped})."
            if o.holdout_skipped
            else "Not run (--no-holdout)."
        )
        return [("h2", "Held-out check"), ("p", why)]
    months = h.split_day / (365 / 12)
    text = (
        f"Fitted again on the opportunities created in the first {months:.1f} months (as if the "
        f"export had been pulled then; distance {h.fitted.final_distance:.1f}), then asked to "
        f"predict the {h.observed.opportunities} opportunities created in the last third. "
        "Observed with its 95% interval; predicted with the range where one export would fall."
    )
    rows, inside, counted = [], 0, 0
    for name, obs in h.observed.items.items():
        if name.startswith("open_aged"):
            continue
        pred = h.predicted.items.get(name)
        if pred is None:
            continue
        low, high = _spread(name, h.per_replication)
        judged = math.isfinite(obs.value) and math.isfinite(low)
        ok = judged and low <= obs.value <= high
        counted += judged
        inside += ok
        rows.append(
            (
                obs.label,
                _shown(obs.value, obs.unit, obs.value - Z95 * obs.se, obs.value + Z95 * obs.se),
                _shown(pred.value, pred.unit, low, high),
                ("yes" if ok else "no") if judged else "–",
            )
        )
    verdict = f"{inside} of {counted} observed values fall in the predicted range."
    table_ = _Table(
        ("last third", "observed [95%]", "predicted [one export's range]", "inside"), tuple(rows)
    )
    return [("h2", "Held-out check"), ("p", text), ("table", table_), ("p", verdict)]


def _figures(o: FitOutcome) -> dict[str, Figure]:
    from simsales.plots.fit import arrivals_by_month, km_overlay, outcome_share_bars

    f = o.fitted
    span, reps = f.direct.span_days, len(f.per_replication)
    merge = f.direct.merge_disqualified
    outcomes = closed_outcomes(merge)
    km = km_overlay(
        {"observed": (o.export, span, 1), "simulated": (f.simulated_export, span, reps)},
        outcomes,
        merge_disqualified=merge,
    )
    names = [CRM_OUTCOMES[c] for c in (*outcomes, 0)]
    observed, simulated = [], []
    for name in names:
        ob = f.observed.items[f"share_{name}"]
        observed.append((ob.value, ob.value - Z95 * ob.se, ob.value + Z95 * ob.se))
        low, high = _spread(f"share_{name}", f.per_replication)
        simulated.append((f.simulated.items[f"share_{name}"].value, low, high))
    shares = outcome_share_bars(names, observed, simulated)
    arrivals = arrivals_by_month(o.export.epoch, o.export, f.simulated_export, reps)
    return {"time_to_outcome": km, "outcome_shares": shares, "arrivals_by_month": arrivals}


_CAPTIONS = {
    "time_to_outcome": "Time to each outcome, the export against the fitted scenario: "
    "Kaplan–Meier over the deals that ended so or are still open (censored at their age), "
    "which is why a curve levels off below 100% where many deals are still open.",
    "outcome_shares": "How opportunities end, observed and simulated.",
    "arrivals_by_month": "Opportunities created per month, observed and simulated.",
}


# --- the two renderings --------------------------------------------------------------------------


def _markdown(blocks: Sequence[Block]) -> str:
    out: list[str] = []
    for kind, content in blocks:
        if kind == "h1":
            out += [f"# {content}", ""]
        elif kind == "h2":
            out += [f"## {content}", ""]
        elif kind == "p":
            out += [str(content), ""]
        elif kind == "pre":
            out += ["```", str(content), "```", ""]
        elif kind == "ul":
            out += [f"- {line}" for line in content] + [""]  # type: ignore[attr-defined]
        elif kind == "table":
            t = content
            assert isinstance(t, _Table)
            out.append("| " + " | ".join(t.heads) + " |")
            out.append("|" + "|".join("---" for _ in t.heads) + "|")
            out += ["| " + " | ".join(c.replace("|", "\\|") for c in row) + " |" for row in t.rows]
            out.append("")
        elif kind == "figure":
            out += [f"![{_CAPTIONS[str(content)]}]({FIGURE_DIR}/{content}.png)", ""]
    return "\n".join(out)


def _html(title: str, blocks: Sequence[Block], pngs: dict[str, bytes]) -> str:
    body: list[str] = []
    for kind, content in blocks:
        if kind in ("h1", "h2"):
            body.append(f"<{kind}>{esc(content)}</{kind}>")
        elif kind == "p":
            body.append(f"<p>{esc(content)}</p>")
        elif kind == "pre":
            body.append(f"<pre>{esc(content)}</pre>")
        elif kind == "ul":
            body.append("<ul>" + "".join(f"<li>{esc(x)}</li>" for x in content) + "</ul>")  # type: ignore[attr-defined]
        elif kind == "table":
            t = content
            assert isinstance(t, _Table)
            rows = [
                ("", [td(esc(c), num=i > 0 and _numeric(c)) for i, c in enumerate(r)])
                for r in t.rows
            ]
            body.append(table([esc(h) for h in t.heads], rows))
        elif kind == "figure":
            stem = str(content)
            png = pngs.get(stem)
            if png is None:
                continue
            shown = f"{esc(_CAPTIONS[stem])} ({code(f'{FIGURE_DIR}/{stem}.png')})"
            body.append(embedded_figure(png, _CAPTIONS[stem], shown))
    return page(title, body, {"simsales_version": __version__})


def _numeric(text: str) -> bool:
    return bool(text) and (text[0].isdigit() or text[0] in "+-–")


def outcome_lines(o: FitOutcome) -> list[str]:
    """What ``simsales fit`` prints: the fit in a few lines, then the files."""
    f = o.fitted
    lines = [
        f"fitted {len(f.plan.parameters)} parameter(s) to {f.direct.opportunities} "
        f"opportunities ({f.direct.closed} closed, {f.direct.months:.1f} months): distance "
        f"{f.final_distance:.1f} over {len(f.observed.items)} summaries, "
        f"{f.search.evaluations} evaluations",
    ]
    for p, prof in zip(f.plan.parameters, o.profiles, strict=True):
        verdict = "pinned down" if prof.pinned else "NOT pinned down by this export"
        lines.append(
            f"  {p.key}: {f.values[p.name]:.4g} (base {f.base_values[p.name]:.4g}), {verdict}"
        )
    lines.append(
        f"  set directly: {f.direct.sellers} sellers, "
        f"market.suspects_per_day {f.document['market']['suspects_per_day']:g}"
        + (", arrivals by month" if f.direct.by_month is not None else "")
        + (", deal values" if f.value_scale != (1.0, 1.0) else "")
    )
    if o.stages is not None:
        lines.append(f"stage history: {_stage_verdict(o.stages)}")
    elif o.stages_skipped:
        lines.append(f"stage history not compared: {o.stages_skipped}")
    if o.holdout is not None:
        held = _holdout_blocks(o)[-1][1]
        lines.append(f"held-out check (last third predicted from the first two): {held}")
    elif o.holdout_skipped:
        lines.append(f"held-out check skipped: the first two thirds alone: {o.holdout_skipped}")
    lines.append(
        f"written: {', '.join(o.written[:1])} and the fit report in "
        f"{o.request.report_folder}/ (report.md, report.html, figures/)"
    )
    return lines
