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
import hashlib
import html
import re
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from simsales.experiment.compare import CRN_NOTE
from simsales.output import StagedFiles
from simsales.report.figures import FIGURE_DIR, caption, save_figures
from simsales.report.text import (
    best_lines,
    findings,
    fmt_change,
    fmt_summary,
    metric_units,
    shown_unit,
)

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from simsales.experiment import Comparison, ExperimentResult

__all__ = ["InputFile", "comparison_html", "experiment_html", "read_input", "stage_figures"]

#: No request leaves the page: images only from ``data:``, styles only inline, no script.
_CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'; base-uri 'none'"

_STYLE = """
:root { color-scheme: light; }
body { margin: 0; background: #fff; color: #1a1a1a; font: 16px/1.5 system-ui, -apple-system,
  "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; }
main { max-width: 60rem; margin: 0 auto; padding: 2rem 1.5rem 3rem; }
h1 { font-size: 1.8rem; line-height: 1.25; margin: 0 0 .5rem; }
h2 { font-size: 1.3rem; margin: 2.2rem 0 .6rem; padding-bottom: .2rem;
  border-bottom: 1px solid #ccc; }
h3 { font-size: 1.05rem; margin: 1.4rem 0 .4rem; }
p.lead { font-size: 1.1rem; color: #333; }
code, pre { font-family: ui-monospace, "SFMono-Regular", Menlo, Consolas, monospace;
  font-size: .88em; }
code { background: #f3f3f3; padding: 0 .2em; border-radius: 3px; }
pre { background: #f6f6f6; border: 1px solid #ddd; padding: .8rem; overflow-x: auto;
  white-space: pre-wrap; overflow-wrap: anywhere; }
.table-wrap { overflow-x: auto; margin: .6rem 0 1rem; }
table { border-collapse: collapse; font-size: .9rem; }
td:first-child { min-width: 8rem; }
th, td { border: 1px solid #bbb; padding: .3rem .55rem; vertical-align: top; }
th { background: #eee; text-align: left; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
td.num span { white-space: nowrap; }
span.interval { color: #555; font-size: .85em; }
tr.base td { font-weight: 600; }
figure { margin: 1.5rem 0 2rem; break-inside: avoid; page-break-inside: avoid; }
figure img { display: block; max-width: 100%; height: auto; border: 1px solid #e2e2e2; }
figcaption { margin-top: .4rem; font-style: italic; color: #333; }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: .25rem 1rem; }
dl.facts dt { font-weight: 600; }
dl.facts dd { margin: 0; overflow-wrap: anywhere; }
dl.facts pre.command { margin: 0; padding: .3rem .5rem; }
details { margin: .6rem 0; }
summary { cursor: pointer; }
footer { margin-top: 3rem; font-size: .85rem; color: #666; }
@media print {
  body { font-size: 11pt; }
  main { max-width: none; padding: 0; }
  h2 { break-after: avoid; page-break-after: avoid; }
  tr { break-inside: avoid; page-break-inside: avoid; }
  pre { white-space: pre-wrap; }
  code { background: none; }
}
"""


@dataclass(frozen=True, kw_only=True)
class InputFile:
    """A file the results came from, as the report shows it: its text and SHA-256.

    ``text`` is ``None`` (and ``error`` says why) when the file could not be read again after
    the run; the report says so instead of failing, since the results are already computed.
    """

    role: str
    path: str
    text: str | None
    sha256: str = ""
    size: int = 0
    error: str = ""


def read_input(path: str, role: str) -> InputFile:
    """Read ``path`` for the report: its text (undecodable bytes replaced) and SHA-256."""
    try:
        data = Path(path).read_bytes()
    except OSError as err:
        return InputFile(role=role, path=path, text=None, error=err.strerror or str(err))
    return InputFile(
        role=role,
        path=path,
        text=data.decode("utf-8", errors="replace"),
        sha256=hashlib.sha256(data).hexdigest(),
        size=len(data),
    )


def stage_figures(staged: StagedFiles, figures: Mapping[str, Figure]) -> dict[str, bytes]:
    """``save_figures`` into ``staged``, keeping each PNG's bytes (by stem) for the page.

    The figures are saved once, into a scratch folder, then copied into ``staged``: the page
    embeds exactly the PNG files of ``figures/`` without drawing anything twice.
    """
    pngs: dict[str, bytes] = {}
    with tempfile.TemporaryDirectory(prefix="simsales-figures-") as scratch:
        with StagedFiles(scratch) as drawn:
            names = save_figures(drawn, figures)
            drawn.commit()
        for name in names:
            data = (Path(scratch) / name).read_bytes()
            staged.open(name, binary=True).write(data)
            stem, _, ext = name.removeprefix(f"{FIGURE_DIR}/").rpartition(".")
            if ext == "png":
                pngs[stem] = data
    return pngs


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
    body = [f"<h1>{_e(exp.spec.name)}</h1>"]
    if exp.spec.description:
        body.append(f'<p class="lead">{_e(exp.spec.description)}</p>')
    items = [
        f"Experiment file: {_code(exp.file)}",
        f"Base scenario: {_e(comparison.base_name)} ({_code(exp.spec.base)})",
    ]
    common = [f"{k}={_value(v)}" for k, v in exp.spec.set.items()] + list(exp.overrides)
    if common:
        items.append("Set on the base and every point: " + ", ".join(map(_code, common)))
    if exp.kind == "sweep":
        assert exp.spec.sweep is not None
        keys = ", ".join(_code(k) for k in exp.sweep_keys)
        every = " (every combination)" if len(exp.sweep_keys) > 1 else ""
        values = [
            f"{_code(key.key)}: {_e(', '.join(_value(v) for v in key.values))}"
            for key in exp.spec.sweep.keys
        ]
        items.append(f"Sweep of {keys}: {len(exp.scenarios)} points{every}{_list(values)}")
    else:
        variants = [
            f"{_e(s.name)}: " + ", ".join(_code(f"{k}={_value(v)}") for k, v in point.items())
            for s, point in zip(exp.scenarios, exp.points, strict=True)
        ]
        items.append(f"Variants ({len(exp.scenarios)}):{_list(variants)}")
    body += ["<h2>What was run</h2>", _list(items + _run_items(comparison))]
    body += _results(comparison, result.metrics, sweep_keys=exp.sweep_keys, points=exp.points)
    body.append("<h2>Findings</h2>")
    if exp.kind == "sweep":
        lines = best_lines(result, result.metrics, _units(comparison))
        body.append(_list([_e(line) for line in lines]))
    else:
        body += _findings(comparison, result.metrics)
    body += _figures(images, exp.sweep_keys)
    body += _reproduce(document, inputs, seed=exp.seed)
    return _page(exp.spec.name, body, document)


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
        f"{'Base' if i == 0 else 'Variant'}: {_e(name)}" + (f" ({_code(path)})" if path else "")
        for i, (name, path) in enumerate(zip(names, paths, strict=True))
    ]
    body = [f"<h1>{_e(title)}</h1>", "<h2>What was run</h2>"]
    body.append(_list(items + _run_items(comparison)))
    body += _results(comparison, metrics)
    body += ["<h2>Findings</h2>", *_findings(comparison, metrics)]
    body += _figures(images, ())
    body += _reproduce(document, inputs, seed=comparison.seed)
    return _page(title, body, document)


# --- parts of the page ---------------------------------------------------------------------------


def _page(title: str, body: Sequence[str], document: Mapping[str, Any]) -> str:
    version = document.get("simsales_version", "")
    footer = f"<footer>Written by simsales {_e(version)}; the same report as report.md.</footer>"
    return "\n".join(
        [
            "<!DOCTYPE html>",
            '<html lang="en">',
            "<head>",
            '<meta charset="utf-8">',
            f'<meta http-equiv="Content-Security-Policy" content="{_CSP}">',
            '<meta name="viewport" content="width=device-width, initial-scale=1">',
            f"<title>{_e(title)}</title>",
            f"<style>{_STYLE}</style>",
            "</head>",
            "<body>",
            "<main>",
            *body,
            footer,
            "</main>",
            "</body>",
            "</html>",
            "",
        ]
    )


def _run_items(comparison: Comparison) -> list[str]:
    run = comparison.base.run
    items = [
        f"Replications: {comparison.replications} per scenario; root seed {comparison.seed}",
        f"Each replication: {run.horizon_days:g} days simulated; suspects arriving in the first "
        f"{run.warmup_days:g} days (warm-up) and in the last {run.cohort_margin_days:g} days "
        "(cohort margin) are simulated but not counted",
        f"Paired on {_e(CRN_NOTE)}, so the differences from the base are paired replication by "
        "replication",
    ]
    if comparison.precision is not None:
        for line in comparison.precision.lines():
            if line.startswith("  ") and items:  # a continuation: nested under the line before
                items[-1] += _list([_e(line.strip())])
            else:
                items.append(_e(line))
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
        f"{head} The paired difference from the base, {_e(comparison.base_name)} (variant − "
        f"base; shares in percentage points), comes with its {level} interval; “no detectable "
        "difference”: the interval includes 0.</p>",
        _by_metric(comparison, shown),
    ]


def _by_metric(comparison: Comparison, shown: Sequence[str]) -> str:
    """A row per metric: the base's value, then each variant's value and its change."""
    units, currency = _units(comparison), comparison.base.currency
    heads = ["metric", f"{_e(comparison.base_name)} (base)"]
    for name in comparison.variant_names:
        heads += [_e(name), f"change of {_e(name)}"]
    rows = []
    for m in shown:
        found, unit = comparison.metrics[m], units.get(m, "")
        shown_as = shown_unit(unit, currency)
        cells = [_td(_name(m) + (f" ({_e(shown_as)})" if shown_as else ""))]
        cells.append(_td(_span(fmt_summary(found.summaries[comparison.base_name], unit)), num=True))
        for name in comparison.variant_names:
            cells.append(_td(_span(fmt_summary(found.summaries[name], unit)), num=True))
            cells.append(_change(fmt_change(found.differences[name], unit, currency)))
        rows.append(("", cells))
    return _table(heads, rows)


def _by_point(
    comparison: Comparison,
    shown: Sequence[str],
    sweep_keys: Sequence[str],
    points: Sequence[Mapping[str, Any]],
) -> list[str]:
    """A row per sweep point, named by its key values (the base first): a table of the values,
    then one of the changes from the base, ``≈0`` where the interval includes 0."""
    from simsales.report.experiment import fmt_delta  # it imports this module

    units, currency = _units(comparison), comparison.base.currency
    keys = [_code(k.rsplit(".", 1)[-1]) for k in sweep_keys]
    base = f'<td colspan="{len(keys)}">base: {_e(comparison.base_name)}</td>'
    heads, change_heads = list(keys), list(keys)
    for m in shown:
        unit = units.get(m, "")
        shown_as = shown_unit(unit, currency)
        change_as = "points" if unit == "share" else shown_as
        heads.append(_name(m) + (f" ({_e(shown_as)})" if shown_as else ""))
        change_heads.append(_name(m) + (f" ({_e(change_as)})" if change_as else ""))
    cells = [base]
    for m in shown:
        summary = comparison.metrics[m].summaries[comparison.base_name]
        cells.append(_td(_span(fmt_summary(summary, units.get(m, ""))), num=True))
    rows = [(' class="base"', cells)]
    changes = []
    for name, point in zip(comparison.variant_names, points, strict=True):
        at = [_td(_e(_value(point[k])) if k in point else "", num=True) for k in sweep_keys]
        cells, changed = list(at), list(at)
        for m in shown:
            found, unit = comparison.metrics[m], units.get(m, "")
            cells.append(_td(_span(fmt_summary(found.summaries[name], unit)), num=True))
            diff = found.differences[name]
            interval = fmt_change(diff, unit, currency).partition("\n")[2]
            changed.append(_change(f"{fmt_delta(diff, unit)}\n{interval}"))
        rows.append(("", cells))
        changes.append(("", changed))
    return [
        _table(heads, rows),
        f"<p>Change from the base, {_e(comparison.base_name)}, with its "
        f"{comparison.level:.0%} interval (shares in percentage points; ≈0: the interval "
        "includes 0; same: equal in every replication):</p>",
        _table(change_heads, changes),
    ]


def _change(text: str) -> str:
    """A cell of ``fmt_change``'s text: the change, its interval on a second, smaller line."""
    value, _, interval = text.partition("\n")
    extra = f'<br><span class="interval">{_e(interval)}</span>' if interval else ""
    return _td(_e(value) + extra, num=True)


def _findings(comparison: Comparison, metrics: Sequence[str]) -> list[str]:
    units = _units(comparison)
    shown = [m for m in metrics if m in comparison.metrics]
    out = []
    for name in comparison.variant_names:
        lines = findings(comparison, name, shown, units)
        out += [f"<h3>{_e(name)} against the base</h3>", _list([_e(x) for x in lines])]
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
        f"<p>Each figure is also in {_code(FIGURE_DIR + '/')} as PNG and SVG.</p>",
    ]
    keys = [k.replace("`", "'") for k in sweep_keys]
    for stem, png in images.items():
        text = caption(stem, sweep_keys=keys)
        size = _png_size(png)
        dims = f' width="{size[0]}" height="{size[1]}"' if size else ""
        data = base64.b64encode(png).decode("ascii")
        out.append(
            f'<figure id="figure-{_e(stem)}">'
            f'<img src="data:image/png;base64,{data}" alt="{_e(text.replace("`", ""))}"{dims}>'
            f"<figcaption>{_with_code(text)} ({_code(f'{FIGURE_DIR}/{stem}.png')})</figcaption>"
            "</figure>"
        )
    return out


def _reproduce(document: Mapping[str, Any], inputs: Sequence[InputFile], *, seed: int) -> list[str]:
    """The command line, seeds, versions and input files (hash and text) of the results."""
    seeds = document.get("seeds")
    rule = seeds.get("rule") if isinstance(seeds, Mapping) else None
    facts = [
        ("Command", f'<pre class="command">{_e(document.get("command", ""))}</pre>'),
        ("Root seed", f"{seed}; {_e(rule or CRN_NOTE)}"),
    ]
    versions = document.get("versions")
    if isinstance(versions, Mapping) and versions:
        facts.append(("Versions", ", ".join(f"{_e(k)} {_e(v)}" for k, v in versions.items())))
    elif "simsales_version" in document:
        facts.append(("Version", f"simsales {_e(document['simsales_version'])}"))
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
        digest = f"<code>{f.sha256}</code>" if f.text is not None else _e(f"unreadable: {f.error}")
        size = f"{f.size:,}" if f.text is not None else "–"
        cells = [_td(_e(f.role)), _td(_code(f.path)), _td(digest), _td(size, num=True)]
        rows.append(("", cells))
    out += [
        "<h3>Input files</h3>",
        "<p>As read when this report was written; the SHA-256 identifies the exact text.</p>",
        _table(["role", "file", "SHA-256", "bytes"], rows),
    ]
    for f in inputs:
        if f.text is not None:
            out.append(
                f"<details><summary>{_e(f.role)}: {_code(f.path)}</summary>"
                f"<pre>{_e(f.text)}</pre></details>"
            )
    return out


# --- small helpers -------------------------------------------------------------------------------


def _e(text: Any) -> str:
    """Text from anywhere, safe between tags and in attribute values."""
    return html.escape(str(text), quote=True)


def _code(text: str) -> str:
    return f"<code>{_e(text)}</code>"


def _name(text: str) -> str:
    """A metric name as code that may wrap after its underscores (narrow table headers)."""
    return "<code>" + _e(text).replace("_", "_<wbr>") + "</code>"


def _span(text: str) -> str:
    """Text kept on one line, in a table cell that may otherwise wrap."""
    return f"<span>{_e(text)}</span>"


def _with_code(text: str) -> str:
    """Escaped ``text`` with its Markdown code spans (```metric```) as ``<code>``."""
    return re.sub(r"`([^`]*)`", r"<code>\1</code>", _e(text))


def _list(items: Sequence[str]) -> str:
    """A ``<ul>`` of items that are already HTML."""
    return "<ul>" + "".join(f"<li>{item}</li>" for item in items) + "</ul>"


def _table(heads: Sequence[str], rows: Sequence[tuple[str, Sequence[str]]]) -> str:
    """A table: ``heads`` are HTML, each row its ``<tr>`` attributes and its ``<td>`` cells."""
    head = "".join(f'<th scope="col">{h}</th>' for h in heads)
    body = "".join(f"<tr{attrs}>{''.join(cells)}</tr>" for attrs, cells in rows)
    table = f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
    return f'<div class="table-wrap">{table}</div>'


def _td(inner: str, *, num: bool = False) -> str:
    """A table cell of HTML ``inner``; ``num``: a number, right-aligned."""
    return f'<td class="num">{inner}</td>' if num else f"<td>{inner}</td>"


def _png_size(png: bytes) -> tuple[int, int] | None:
    """Width and height in pixels from a PNG's header, or ``None`` if it is not one."""
    if png[:8] != b"\x89PNG\r\n\x1a\n" or png[12:16] != b"IHDR":
        return None
    return int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")


def _units(comparison: Comparison) -> dict[str, str]:
    units: dict[str, str] = {}
    for scenario in (comparison.base, *comparison.variants):
        units = metric_units(scenario) | units
    return units


def _value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return f"{value:g}" if isinstance(value, float) else str(value)
