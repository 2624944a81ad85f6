"""``report.html``: ``report.md`` as one page that any browser opens, offline, without the tool.

The page says what ``report.md`` says, built from the same results (not from the Markdown):
what was run, the tables, the findings and the figures with their captions. It adds what makes
it stand on its own: the input files' text (in a ``<details>`` block) with their SHA-256, and the
command line, seeds and versions that reproduce it. It needs nothing else: the figures are
embedded as base64 PNG ``data:`` URIs, the stylesheet is inline, there is no script, and a
Content-Security-Policy forbids loading anything from elsewhere. Every text that comes from
the user's files (names, descriptions, keys, paths, file text, the command line) goes through
``html.escape``: a scenario named ``<script>`` shows as text and runs nothing.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from simsales.experiment.compare import CRN_NOTE
from simsales.experiment.spec import key_labels
from simsales.report.figures import FIGURE_DIR, caption
from simsales.report.findings import answer_note, best_line, finding_lines, variant_details
from simsales.report.htmlpage import (
    InputFile,
    code,
    embedded_figure,
    esc,
    name_code,
    nowrap,
    page,
    read_input,
    stage_figures,
    table,
    td,
    ul,
    with_code,
)
from simsales.report.markdown import lead_figure
from simsales.report.notebook import run_summary_table
from simsales.report.sensitivity import sensitivity_lines
from simsales.report.text import STAGE_COLUMNS, cohort_line, fmt_change, fmt_summary, shown_unit
from simsales.results import stage_keys

if TYPE_CHECKING:
    from simsales.experiment import Comparison, ExperimentResult
    from simsales.experiment.answer import Answer
    from simsales.results import MetricSummary
    from simsales.scenario import Scenario

__all__ = [
    "InputFile",
    "comparison_html",
    "experiment_html",
    "read_input",
    "run_html",
    "stage_figures",
]


def experiment_html(
    result: ExperimentResult,
    answer: Answer,
    images: Mapping[str, bytes],
    *,
    document: Mapping[str, Any],
    inputs: Sequence[InputFile] = (),
) -> str:
    """The page of an experiment, its answer first; ``images`` the PNG of each figure by stem
    (as ``report.md``'s figures), ``document`` its ``experiment.json``, ``inputs`` the
    experiment and base files."""
    exp, comparison = result.experiment, result.comparison
    body = [f"<h1>{esc(exp.spec.name)}</h1>"]
    if exp.spec.description:
        body.append(f'<p class="lead">{esc(exp.spec.description)}</p>')
    lead = lead_figure(list(images), answer)
    body += _answer(answer, images, lead, exp.sweep_keys)
    items = [
        f"Experiment file: {code(exp.file)}",
        f"Base scenario: {esc(comparison.base_name)} ({code(exp.spec.base)})",
    ]
    common = [f"{k}={_value(v)}" for k, v in exp.spec.set.items()] + list(exp.overrides)
    if common:
        items.append("Set on the base and every point: " + ", ".join(map(code, common)))
    if exp.kind == "sweep":
        assert exp.spec.sweep is not None
        keys = ", ".join(code(k) for k in exp.sweep_keys)
        every = " (every combination)" if len(exp.sweep_keys) > 1 else ""
        once = "; the base is one of them, run once" if exp.base_at is not None else ""
        values = [
            f"{code(key.key)}: {esc(', '.join(_value(v) for v in key.values))}"
            for key in exp.spec.sweep.keys
        ]
        items.append(f"Sweep of {keys}: {len(exp.grid)} points{every}{once}{ul(values)}")
    elif exp.kind == "sensitivity":
        levers = [
            f"{code(lv.key)}: {esc(_value(lv.low))} ← {esc(_value(lv.base))} → "
            f"{esc(_value(lv.high))}"
            for lv in exp.levers
        ]
        items.append(
            f"Sensitivity of {len(levers)} levers, each moved one step from the base:" + ul(levers)
        )
    else:
        variants = [
            f"{esc(s.name)}: " + ", ".join(code(f"{k}={_value(v)}") for k, v in point.items())
            for s, point in zip(exp.scenarios, exp.points, strict=True)
        ]
        items.append(f"Variants ({len(exp.scenarios)}):{ul(variants)}")
    body += ["<h2>What was run</h2>", ul(items + _run_items(comparison))]
    rest = {stem: png for stem, png in images.items() if stem != lead}
    if exp.kind == "sensitivity":
        body += [*sensitivity_html(answer), *_figures(rest, ())]
        body += _reproduce(document, inputs, seed=exp.seed)
        return page(exp.spec.name, body, document)
    if exp.kind == "sweep":
        body += _results(answer, sweep_keys=exp.sweep_keys, grid=exp.grid, base_at=exp.base_at)
    else:
        body += _results(answer)
    body.append("<h2>Findings</h2>")
    if exp.kind == "sweep":
        body.append(ul([esc(best_line(b, answer.currency, answer.labels)) for b in answer.best]))
    else:
        body += _findings(answer)
    body += _figures(rest, exp.sweep_keys)
    body += _reproduce(document, inputs, seed=exp.seed)
    return page(exp.spec.name, body, document)


def comparison_html(
    comparison: Comparison,
    answer: Answer,
    images: Mapping[str, bytes],
    *,
    document: Mapping[str, Any],
    inputs: Sequence[InputFile] = (),
) -> str:
    """The page of ``simsales compare``: as ``experiment_html``, ``document`` its
    ``comparison.json`` and ``inputs`` the base's and the variants' files."""
    names = (comparison.base_name, *comparison.variant_names)
    paths = [f.path for f in inputs] if len(inputs) == len(names) else [""] * len(names)
    items = [
        f"{'Base' if i == 0 else 'Variant'}: {esc(name)}" + (f" ({code(path)})" if path else "")
        for i, (name, path) in enumerate(zip(names, paths, strict=True))
    ]
    lead = lead_figure(list(images), answer)
    body = [f"<h1>{esc(answer.title)}</h1>", *_answer(answer, images, lead, ())]
    body += ["<h2>What was run</h2>", ul(items + _run_items(comparison))]
    body += _results(answer)
    body += ["<h2>Findings</h2>", *_findings(answer)]
    body += _figures({stem: png for stem, png in images.items() if stem != lead}, ())
    body += _reproduce(document, inputs, seed=comparison.seed)
    return page(answer.title, body, document)


def run_html(
    scenario: Scenario,
    summaries: Mapping[str, MetricSummary],
    images: Mapping[str, bytes],
    *,
    document: Mapping[str, Any],
    inputs: Sequence[InputFile] = (),
) -> str:
    """The page of ``simsales run --out``: what was run and counted, the metric and stage
    tables, the figures and how to reproduce it; ``document`` its ``summary.json``."""
    run = scenario.run
    body = [
        f"<h1>{esc(scenario.name)}</h1>",
        f'<p class="lead">{run.replications} replications, seed {run.seed}, horizon '
        f"{run.horizon_days:g} days; {esc(cohort_line(scenario))}.</p>",
    ]
    if scenario.description:
        body.append(f"<p>{esc(scenario.description)}</p>")
    body += ["<h2>Metrics</h2>", "<p>Mean ± 95% confidence half-width over replications.</p>"]
    body.append(run_summary_table(scenario, summaries))
    body += ["<h2>Stages</h2>", "<p>Of the suspects a seller took on.</p>"]
    body.append(_stage_table(scenario, summaries))
    body += _figures(images, ())
    body += _reproduce(document, inputs, seed=run.seed)
    return page(scenario.name, body, document)


# --- parts of the page ---------------------------------------------------------------------------


def _answer(
    answer: Answer, images: Mapping[str, bytes], lead: str | None, sweep_keys: Sequence[str]
) -> list[str]:
    """The part the page opens with: a finding line per variant, and the lead figure."""
    out = ["<h2>The answer</h2>", ul([esc(line) for line in finding_lines(answer)])]
    out.append(f"<p><em>{esc(answer_note(answer).capitalize())}.</em></p>")
    if lead is not None:
        out += _figures({lead: images[lead]}, sweep_keys, heading=False)
    return out


def _run_items(comparison: Comparison) -> list[str]:
    run = comparison.base.run
    items = [
        f"Replications: {comparison.replications} per scenario; root seed {comparison.seed}",
        f"Each replication: {run.horizon_days:g} days simulated; suspects arriving in the first "
        f"{run.warmup_days:g} days (warm-up) and in the last {run.cohort_margin_days:g} days "
        "(cohort margin) are simulated but not counted",
        f"Paired on {esc(CRN_NOTE)}, so the differences from the base are paired replication by "
        "replication",
    ]
    if comparison.precision is not None:
        for line in comparison.precision.lines():
            if line.startswith("  ") and items:  # a continuation: nested under the line before
                items[-1] += ul([esc(line.strip())])
            else:
                items.append(esc(line))
    return items


def _results(
    answer: Answer,
    *,
    sweep_keys: Sequence[str] = (),
    grid: Sequence[tuple[Mapping[str, Any], str]] = (),
    base_at: int | None = None,
) -> list[str]:
    """The tables of ``report.md``'s Results: a metric per row for variants (few columns, so
    the page fits a screen and a printed page), a sweep point per row for a sweep."""
    level = f"{answer.level:.0%}"
    head = f"<p>Mean ± {level} confidence half-width over replications (shares in %)."
    if sweep_keys:
        return [
            "<h2>Results</h2>",
            head + "</p>",
            *_by_point(answer, sweep_keys, grid, base_at),
        ]
    return [
        "<h2>Results</h2>",
        f"{head} The paired difference from the base, {esc(answer.base)} (variant − "
        f"base; shares in percentage points), comes with its {level} interval; “no detectable "
        "difference”: the interval includes 0.</p>",
        _by_metric(answer),
    ]


def _by_metric(answer: Answer) -> str:
    """A row per metric: the base's value, then each variant's value and its change."""
    currency = answer.currency
    heads = ["metric", f"{esc(answer.base)} (base)"]
    for name in answer.variants:
        heads += [esc(name), f"change of {esc(name)}"]
    rows = []
    for m in answer.metrics:
        shown_as = m.unit_label(currency)
        cells = [td(name_code(m.name) + (f" ({esc(shown_as)})" if shown_as else ""))]
        base = answer.summaries[answer.base][m.name]
        cells.append(td(nowrap(fmt_summary(base, m.unit)), num=True))
        for name in answer.variants:
            effect = answer.effects[name][m.name]
            cells.append(td(nowrap(fmt_summary(effect.value, m.unit)), num=True))
            cells.append(_change(fmt_change(effect.change, m.unit, currency)))
        rows.append(("", cells))
    return table(heads, rows)


def _by_point(
    answer: Answer,
    sweep_keys: Sequence[str],
    grid: Sequence[tuple[Mapping[str, Any], str]],
    base_at: int | None,
) -> list[str]:
    """A row per sweep point, named by its key values (the base's point marked, a base off the
    grid first): a table of the values, then one of the changes from the base, ``≈0`` where the
    interval includes 0."""
    from simsales.report.experiment import fmt_delta  # it imports this module

    currency = answer.currency
    keys = [code(label) for label in key_labels(sweep_keys)]
    heads, change_heads = list(keys), list(keys)
    for m in answer.metrics:
        shown_as = shown_unit(m.unit, currency)
        change_as = "points" if m.unit == "share" else shown_as
        heads.append(name_code(m.name) + (f" ({esc(shown_as)})" if shown_as else ""))
        change_heads.append(name_code(m.name) + (f" ({esc(change_as)})" if change_as else ""))
    rows, changes = [], []
    if base_at is None:
        cells = [f'<td colspan="{len(keys)}">base: {esc(answer.base)}</td>']
        for m in answer.metrics:
            summary = answer.summaries[answer.base][m.name]
            cells.append(td(nowrap(fmt_summary(summary, m.unit)), num=True))
        rows.append((' class="base"', cells))
    for point, name in grid:
        at = [td(esc(_value(point[k])) if k in point else "", num=True) for k in sweep_keys]
        is_base = name == answer.base
        cells, changed = list(at), list(at)
        for m in answer.metrics:
            cells.append(td(nowrap(fmt_summary(answer.summaries[name][m.name], m.unit)), num=True))
            if is_base:
                changed.append(td("base", num=True))
                continue
            diff = answer.effects[name][m.name].change
            interval = fmt_change(diff, m.unit, currency).partition("\n")[2]
            changed.append(_change(f"{fmt_delta(diff, m.unit)}\n{interval}"))
        rows.append((' class="base"' if is_base else "", cells))
        changes.append((' class="base"' if is_base else "", changed))
    return [
        table(heads, rows),
        f"<p>Change from the base, {esc(answer.base)}, with its "
        f"{answer.level:.0%} interval (shares in percentage points; ≈0: the interval "
        "includes 0; same: equal in every replication):</p>",
        table(change_heads, changes),
    ]


def _change(text: str) -> str:
    """A cell of ``fmt_change``'s text: the change, its interval on a second, smaller line."""
    value, _, interval = text.partition("\n")
    extra = f'<br><span class="interval">{esc(interval)}</span>' if interval else ""
    return td(esc(value) + extra, num=True)


def sensitivity_html(answer: Answer) -> list[str]:
    """A sensitivity run's Results and Findings, as ``report.md``'s: per metric a table of
    the levers sorted by swing (|change down| + |change up|), then the lever that leads each."""
    currency = answer.currency
    level = f"{answer.level:.0%}"
    out = [
        "<h2>Results</h2>",
        f"<p>Each setting's paired difference from the base with its {level} interval (shares "
        "in percentage points); levers sorted by swing, |change down| + |change up|, the "
        "largest first. “no detectable difference”: the interval includes 0.</p>",
    ]
    for metric in answer.metrics:
        unit = metric.unit
        shown = shown_unit(unit, currency)
        base = fmt_summary(answer.summaries[answer.base][metric.name], unit)
        swing_unit = "points" if unit == "share" else shown
        heads = ["lever", "base", "one step down", "one step up"]
        heads.append("swing" + (f" ({esc(swing_unit)})" if swing_unit else ""))
        rows = []
        for effect in answer.levers[metric.name]:
            lever = effect.lever
            cells = [td(esc(lever.label)), td(esc(_value(lever.base)), num=True)]
            for setting, diff in ((lever.low, effect.down), (lever.high, effect.up)):
                if setting is None or diff is None:
                    cells.append(td("–", num=True))
                    continue
                text = fmt_change(diff, unit, currency)
                cells.append(_change(f"{_value(setting)}: {text}"))
            scale = 100.0 if unit == "share" else 1.0
            finite = any(d is not None and math.isfinite(d.mean) for d in (effect.down, effect.up))
            swing = f"{effect.swing * scale:.3g}" if finite else "–"
            cells.append(td(esc(swing), num=True))
            rows.append(("", cells))
        unit_text = f"{base}{shown}" if shown == "%" else f"{base} {shown}".rstrip()
        out += [f"<h3>{code(metric.name)}: base {esc(unit_text)}</h3>", table(heads, rows)]
    out += ["<h2>Findings</h2>", ul([esc(x) for x in sensitivity_lines(answer)])]
    out.append(
        f"<p>Each interval is {level} on its own: of many differences that are really zero, "
        "about 1 in 20 will still look detectable.</p>"
    )
    return out


def _findings(answer: Answer) -> list[str]:
    out = []
    for name in answer.variants:
        lines = variant_details(answer, name)
        out += [f"<h3>{esc(name)} against the base</h3>", ul([esc(x) for x in lines])]
    out.append(
        f"<p>Each interval is {answer.level:.0%} on its own: of many differences that are "
        "really zero, about 1 in 20 will still look detectable.</p>"
    )
    return out


def _figures(
    images: Mapping[str, bytes], sweep_keys: Sequence[str], *, heading: bool = True
) -> list[str]:
    if not images:
        return []
    out = []
    if heading:
        out += [
            "<h2>Figures</h2>",
            f"<p>Each figure is also in {code(FIGURE_DIR + '/')} as PNG and SVG.</p>",
        ]
    keys = [k.replace("`", "'") for k in sweep_keys]
    for stem, png in images.items():
        text = caption(stem, sweep_keys=keys)
        shown = f"{with_code(text)} ({code(f'{FIGURE_DIR}/{stem}.png')})"
        out.append(embedded_figure(png, text.replace("`", ""), shown, figure_id=f"figure-{stem}"))
    return out


def _reproduce(document: Mapping[str, Any], inputs: Sequence[InputFile], *, seed: int) -> list[str]:
    """The command line, seeds, versions and input files (hash and text) of the results."""
    seeds = document.get("seeds")
    rule = seeds.get("rule") if isinstance(seeds, Mapping) else None
    facts = [
        ("Command", f'<pre class="command">{esc(document.get("command", ""))}</pre>'),
        ("Root seed", f"{seed}; {esc(rule or CRN_NOTE)}"),
    ]
    versions = document.get("versions")
    if isinstance(versions, Mapping) and versions:
        facts.append(("Versions", ", ".join(f"{esc(k)} {esc(v)}" for k, v in versions.items())))
    elif "simsales_version" in document:
        facts.append(("Version", f"simsales {esc(document['simsales_version'])}"))
    out = [
        "<h2>How to reproduce</h2>",
        '<dl class="facts">',
        *(f"<dt>{name}</dt><dd>{value}</dd>" for name, value in facts),
        "</dl>",
    ]
    if not inputs:
        return out
    rows = []
    for f in inputs:
        digest = f"<code>{f.sha256}</code>" if f.text is not None else esc(f"unreadable: {f.error}")
        size = f"{f.size:,}" if f.text is not None else "–"
        cells = [td(esc(f.role)), td(code(f.path)), td(digest), td(size, num=True)]
        rows.append(("", cells))
    out += [
        "<h3>Input files</h3>",
        "<p>As read when this report was written; the SHA-256 identifies the exact text.</p>",
        table(["role", "file", "SHA-256", "bytes"], rows),
    ]
    for f in inputs:
        if f.text is not None:
            out.append(
                f"<details><summary>{esc(f.role)}: {code(f.path)}</summary>"
                f"<pre>{esc(f.text)}</pre></details>"
            )
    return out


# --- small helpers -------------------------------------------------------------------------------


def _value(value: Any) -> str:
    if value is None:  # a lever without that side
        return "–"
    if isinstance(value, bool):
        return "true" if value else "false"
    return f"{value:g}" if isinstance(value, float) else str(value)


def _stage_table(scenario: Scenario, summaries: Mapping[str, MetricSummary]) -> str:
    """A row per stage: reach, conversion, days in the stage and WIP, as the terminal's."""
    heads = ["stage", "reach (%)", "conversion (%)", "days_in (days)", "wip"]
    names = [stage.name for stage in scenario.stages]
    units = {"reach": "share", "conversion": "share", "days_in": "days", "wip": "count"}
    rows = []
    for key, name in zip(stage_keys(names), names, strict=True):
        cells = [td(esc(name))]
        for column in STAGE_COLUMNS:
            found = summaries.get(f"{column}_{key}")
            text = "" if found is None else fmt_summary(found, units[column])
            cells.append(td(nowrap(text), num=True))
        rows.append(("", cells))
    return table(heads, rows)
