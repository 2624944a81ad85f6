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

import base64
import math
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from simsales.experiment.compare import CRN_NOTE
from simsales.experiment.sensitivity import sensitivity_effects
from simsales.experiment.spec import key_labels
from simsales.report.figures import FIGURE_DIR, caption
from simsales.report.htmlpage import (
    InputFile,
    code,
    esc,
    name_code,
    nowrap,
    page,
    png_size,
    read_input,
    stage_figures,
    table,
    td,
    ul,
    with_code,
)
from simsales.report.sensitivity import sensitivity_lines
from simsales.report.text import (
    best_lines,
    comparison_catalogue,
    comparison_units,
    findings,
    fmt_change,
    fmt_summary,
    metric_units,
    shown_unit,
)

if TYPE_CHECKING:
    from simsales.experiment import Comparison, ExperimentResult

__all__ = ["InputFile", "comparison_html", "experiment_html", "read_input", "stage_figures"]


def experiment_html(
    result: ExperimentResult,
    images: Mapping[str, bytes],
    *,
    document: Mapping[str, Any],
    inputs: Sequence[InputFile] = (),
) -> str:
    """The page of an experiment; ``images`` the PNG of each figure by stem (as ``report.md``'s
    figures), ``document`` its ``experiment.json``, ``inputs`` the experiment and base files."""
    exp, comparison = result.experiment, result.comparison
    body = [f"<h1>{esc(exp.spec.name)}</h1>"]
    if exp.spec.description:
        body.append(f'<p class="lead">{esc(exp.spec.description)}</p>')
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
        values = [
            f"{code(key.key)}: {esc(', '.join(_value(v) for v in key.values))}"
            for key in exp.spec.sweep.keys
        ]
        items.append(f"Sweep of {keys}: {len(exp.scenarios)} points{every}{ul(values)}")
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
    if exp.kind == "sensitivity":
        body += [*sensitivity_html(result), *_figures(images, ())]
        body += _reproduce(document, inputs, seed=exp.seed)
        return page(exp.spec.name, body, document)
    body += _results(comparison, result.metrics, sweep_keys=exp.sweep_keys, points=exp.points)
    body.append("<h2>Findings</h2>")
    if exp.kind == "sweep":
        lines = best_lines(result, result.metrics, comparison_catalogue(comparison))
        body.append(ul([esc(line) for line in lines]))
    else:
        body += _findings(comparison, result.metrics)
    body += _figures(images, exp.sweep_keys)
    body += _reproduce(document, inputs, seed=exp.seed)
    return page(exp.spec.name, body, document)


def comparison_html(
    comparison: Comparison,
    metrics: Sequence[str],
    images: Mapping[str, bytes],
    *,
    document: Mapping[str, Any],
    inputs: Sequence[InputFile] = (),
) -> str:
    """The page of ``simsales compare``: as ``comparison_html`` for an experiment, ``document``
    its ``comparison.json`` and ``inputs`` the base's and the variants' files."""
    names = (comparison.base_name, *comparison.variant_names)
    title = f"{comparison.base_name} against {', '.join(comparison.variant_names)}"
    paths = [f.path for f in inputs] if len(inputs) == len(names) else [""] * len(names)
    items = [
        f"{'Base' if i == 0 else 'Variant'}: {esc(name)}" + (f" ({code(path)})" if path else "")
        for i, (name, path) in enumerate(zip(names, paths, strict=True))
    ]
    body = [f"<h1>{esc(title)}</h1>", "<h2>What was run</h2>"]
    body.append(ul(items + _run_items(comparison)))
    body += _results(comparison, metrics)
    body += ["<h2>Findings</h2>", *_findings(comparison, metrics)]
    body += _figures(images, ())
    body += _reproduce(document, inputs, seed=comparison.seed)
    return page(title, body, document)


# --- parts of the page ---------------------------------------------------------------------------


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
    comparison: Comparison,
    metrics: Sequence[str],
    *,
    sweep_keys: Sequence[str] = (),
    points: Sequence[Mapping[str, Any]] = (),
) -> list[str]:
    """The tables of ``report.md``'s Results: a metric per row for variants (few columns, so
    the page fits a screen and a printed page), a sweep point per row for a sweep."""
    level = f"{comparison.level:.0%}"
    shown = [m for m in metrics if m in comparison.metrics]
    head = f"<p>Mean ± {level} confidence half-width over replications (shares in %)."
    if sweep_keys:
        return [
            "<h2>Results</h2>",
            head + "</p>",
            *_by_point(comparison, shown, sweep_keys, points),
        ]
    return [
        "<h2>Results</h2>",
        f"{head} The paired difference from the base, {esc(comparison.base_name)} (variant − "
        f"base; shares in percentage points), comes with its {level} interval; “no detectable "
        "difference”: the interval includes 0.</p>",
        _by_metric(comparison, shown),
    ]


def _by_metric(comparison: Comparison, shown: Sequence[str]) -> str:
    """A row per metric: the base's value, then each variant's value and its change."""
    catalogue, currency = comparison_catalogue(comparison), comparison.base.currency
    units = {name: m.unit for name, m in catalogue.items()}
    heads = ["metric", f"{esc(comparison.base_name)} (base)"]
    for name in comparison.variant_names:
        heads += [esc(name), f"change of {esc(name)}"]
    rows = []
    for m in shown:
        found, unit = comparison.metrics[m], units.get(m, "")
        shown_as = catalogue[m].unit_label(currency)
        cells = [td(name_code(m) + (f" ({esc(shown_as)})" if shown_as else ""))]
        cells.append(td(nowrap(fmt_summary(found.summaries[comparison.base_name], unit)), num=True))
        for name in comparison.variant_names:
            cells.append(td(nowrap(fmt_summary(found.summaries[name], unit)), num=True))
            cells.append(_change(fmt_change(found.differences[name], unit, currency)))
        rows.append(("", cells))
    return table(heads, rows)


def _by_point(
    comparison: Comparison,
    shown: Sequence[str],
    sweep_keys: Sequence[str],
    points: Sequence[Mapping[str, Any]],
) -> list[str]:
    """A row per sweep point, named by its key values (the base first): a table of the values,
    then one of the changes from the base, ``≈0`` where the interval includes 0."""
    from simsales.report.experiment import fmt_delta  # it imports this module

    units, currency = comparison_units(comparison), comparison.base.currency
    keys = [code(label) for label in key_labels(sweep_keys)]
    base = f'<td colspan="{len(keys)}">base: {esc(comparison.base_name)}</td>'
    heads, change_heads = list(keys), list(keys)
    for m in shown:
        unit = units.get(m, "")
        shown_as = shown_unit(unit, currency)
        change_as = "points" if unit == "share" else shown_as
        heads.append(name_code(m) + (f" ({esc(shown_as)})" if shown_as else ""))
        change_heads.append(name_code(m) + (f" ({esc(change_as)})" if change_as else ""))
    cells = [base]
    for m in shown:
        summary = comparison.metrics[m].summaries[comparison.base_name]
        cells.append(td(nowrap(fmt_summary(summary, units.get(m, ""))), num=True))
    rows = [(' class="base"', cells)]
    changes = []
    for name, point in zip(comparison.variant_names, points, strict=True):
        at = [td(esc(_value(point[k])) if k in point else "", num=True) for k in sweep_keys]
        cells, changed = list(at), list(at)
        for m in shown:
            found, unit = comparison.metrics[m], units.get(m, "")
            cells.append(td(nowrap(fmt_summary(found.summaries[name], unit)), num=True))
            diff = found.differences[name]
            interval = fmt_change(diff, unit, currency).partition("\n")[2]
            changed.append(_change(f"{fmt_delta(diff, unit)}\n{interval}"))
        rows.append(("", cells))
        changes.append(("", changed))
    return [
        table(heads, rows),
        f"<p>Change from the base, {esc(comparison.base_name)}, with its "
        f"{comparison.level:.0%} interval (shares in percentage points; ≈0: the interval "
        "includes 0; same: equal in every replication):</p>",
        table(change_heads, changes),
    ]


def _change(text: str) -> str:
    """A cell of ``fmt_change``'s text: the change, its interval on a second, smaller line."""
    value, _, interval = text.partition("\n")
    extra = f'<br><span class="interval">{esc(interval)}</span>' if interval else ""
    return td(esc(value) + extra, num=True)


def sensitivity_html(result: ExperimentResult) -> list[str]:
    """A sensitivity run's Results and Findings, as ``report.md``'s: per metric a table of
    the levers sorted by swing (|change down| + |change up|), then the lever that leads each."""
    comparison = result.comparison
    units, currency = metric_units(comparison.base), comparison.base.currency
    level = f"{comparison.level:.0%}"
    out = [
        "<h2>Results</h2>",
        f"<p>Each setting's paired difference from the base with its {level} interval (shares "
        "in percentage points); levers sorted by swing, |change down| + |change up|, the "
        "largest first. “no detectable difference”: the interval includes 0.</p>",
    ]
    for metric in result.metrics:
        unit = units.get(metric, "")
        shown = shown_unit(unit, currency)
        base = fmt_summary(comparison.metrics[metric].summaries[comparison.base_name], unit)
        swing_unit = "points" if unit == "share" else shown
        heads = ["lever", "base", "one step down", "one step up"]
        heads.append("swing" + (f" ({esc(swing_unit)})" if swing_unit else ""))
        rows = []
        for effect in sensitivity_effects(result, metric):
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
        out += [f"<h3>{code(metric)}: base {esc(unit_text)}</h3>", table(heads, rows)]
    out += ["<h2>Findings</h2>", ul([esc(x) for x in sensitivity_lines(result, result.metrics)])]
    out.append(
        f"<p>Each interval is {level} on its own: of many differences that are really zero, "
        "about 1 in 20 will still look detectable.</p>"
    )
    return out


def _findings(comparison: Comparison, metrics: Sequence[str]) -> list[str]:
    units = comparison_units(comparison)
    shown = [m for m in metrics if m in comparison.metrics]
    out = []
    for name in comparison.variant_names:
        lines = findings(comparison, name, shown, units)
        out += [f"<h3>{esc(name)} against the base</h3>", ul([esc(x) for x in lines])]
    out.append(
        f"<p>Each interval is {comparison.level:.0%} on its own: of many differences that are "
        "really zero, about 1 in 20 will still look detectable.</p>"
    )
    return out


def _figures(images: Mapping[str, bytes], sweep_keys: Sequence[str]) -> list[str]:
    if not images:
        return []
    out = [
        "<h2>Figures</h2>",
        f"<p>Each figure is also in {code(FIGURE_DIR + '/')} as PNG and SVG.</p>",
    ]
    keys = [k.replace("`", "'") for k in sweep_keys]
    for stem, png in images.items():
        text = caption(stem, sweep_keys=keys)
        size = png_size(png)
        dims = f' width="{size[0]}" height="{size[1]}"' if size else ""
        data = base64.b64encode(png).decode("ascii")
        out.append(
            f'<figure id="figure-{esc(stem)}">'
            f'<img src="data:image/png;base64,{data}" alt="{esc(text.replace("`", ""))}"{dims}>'
            f"<figcaption>{with_code(text)} ({code(f'{FIGURE_DIR}/{stem}.png')})</figcaption>"
            "</figure>"
        )
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
