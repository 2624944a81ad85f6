"""``report.md``: an experiment or a comparison as a Markdown page a person reads without the tool.

What was asked and run (base, variants or sweep points, replications, seed, run length, common
random numbers), the results as tables (means ± 95% half-width, then the paired differences from
the base), the plain statements (where a metric is best, what changed, what is lost in noise),
and the figures with a caption each. Text from scenario and experiment files is escaped, so a
``|`` in a name cannot break a table nor a ``<`` open an HTML tag. The page is deterministic: the
same results give the same bytes (dates and versions are in the JSON files).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from simsales.experiment.compare import CRN_NOTE
from simsales.experiment.spec import key_labels
from simsales.report.figures import FIGURE_DIR, caption
from simsales.report.sensitivity import sensitivity_markdown, sensitivity_run_lines
from simsales.report.text import (
    best_lines,
    comparison_catalogue,
    comparison_units,
    findings,
    fmt_change,
    fmt_summary,
)
from simsales.scenario.text import printable

if TYPE_CHECKING:
    from simsales.experiment import Comparison, ExperimentResult

__all__ = ["comparison_markdown", "escape_md", "experiment_markdown"]

#: Characters that format Markdown anywhere in a line; ``_`` only where it starts or ends a word
#: (inside one, as in ``calls_per_opportunity``, it is literal and stays unescaped, easier to read).
_SPECIAL = re.compile(r"([\\`*\[\]|~]|(?<![0-9A-Za-z])_|_(?![0-9A-Za-z]))")


def escape_md(text: str) -> str:
    """``text`` safe in Markdown prose and table cells: specials backslash-escaped, ``<`` and
    ``&`` as entities, line breaks as spaces, other control characters as escapes."""
    text = printable(" ".join(str(text).splitlines()), one_line=True)
    text = text.replace("&", "&amp;").replace("<", "&lt;")
    return _SPECIAL.sub(r"\\\1", text)


def experiment_markdown(result: ExperimentResult, figures: Sequence[str] = ()) -> str:
    """The report of an experiment; ``figures`` are the stems of the figures written."""
    exp, comparison = result.experiment, result.comparison
    lines = [f"# {escape_md(exp.spec.name)}", ""]
    if exp.spec.description:
        lines += [escape_md(exp.spec.description), ""]
    lines += ["## What was run", ""]
    lines.append(f"- Experiment file: `{_code(exp.file)}`")
    lines.append(f"- Base scenario: {escape_md(comparison.base_name)} (`{_code(exp.spec.base)}`)")
    common = [f"{k}={_value(v)}" for k, v in exp.spec.set.items()] + list(exp.overrides)
    if common:
        lines.append("- Set on the base and every point: " + ", ".join(map(_inline, common)))
    if exp.kind == "sweep":
        keys = ", ".join(f"`{_code(k)}`" for k in exp.sweep_keys)
        lines.append(
            f"- Sweep of {keys}: {len(exp.scenarios)} points"
            + (" (every combination)" if len(exp.sweep_keys) > 1 else "")
        )
        assert exp.spec.sweep is not None
        for key in exp.spec.sweep.keys:
            values = ", ".join(_value(v) for v in key.values)
            lines.append(f"  - `{_code(key.key)}`: {escape_md(values)}")
    elif exp.kind == "sensitivity":
        lines += sensitivity_run_lines(exp.levers, escape_md, _code)
    else:
        lines.append(f"- Variants ({len(exp.scenarios)}):")
        for scenario, point in zip(exp.scenarios, exp.points, strict=True):
            change = ", ".join(_inline(f"{k}={_value(v)}") for k, v in point.items())
            lines.append(f"  - {escape_md(scenario.name)}: {change}")
    lines += _run_lines(comparison)
    if exp.kind == "sensitivity":
        lines += ["", *sensitivity_markdown(result, result.metrics, escape_md, _row)]
        lines += _figures(figures, ())
        return "\n".join(lines).rstrip() + "\n"
    lines += [
        "",
        *_results(comparison, result.metrics, sweep_keys=exp.sweep_keys, points=exp.points),
    ]
    lines += ["## Findings", ""]
    if exp.kind == "sweep":
        catalogue = comparison_catalogue(comparison)
        lines += [f"- {escape_md(line)}" for line in best_lines(result, result.metrics, catalogue)]
        lines.append("")
    else:
        lines += _findings(comparison, result.metrics)
    lines += _figures(figures, exp.sweep_keys)
    return "\n".join(lines).rstrip() + "\n"


def comparison_markdown(
    comparison: Comparison,
    metrics: Sequence[str],
    figures: Sequence[str] = (),
    *,
    files: Sequence[str] = (),
) -> str:
    """The report of ``simsales compare``; ``files`` are the base's and the variants' files."""
    names = (comparison.base_name, *comparison.variant_names)
    title = f"{comparison.base_name} against {', '.join(comparison.variant_names)}"
    lines = [f"# {escape_md(title)}", "", "## What was run", ""]
    labelled = zip(names, files, strict=True) if files else ((n, "") for n in names)
    for i, (name, file) in enumerate(labelled):
        role = "Base" if i == 0 else "Variant"
        where = f" (`{_code(file)}`)" if file else ""
        lines.append(f"- {role}: {escape_md(name)}{where}")
    lines += _run_lines(comparison)
    lines += ["", *_results(comparison, metrics), "## Findings", ""]
    lines += _findings(comparison, metrics)
    lines += _figures(figures, ())
    return "\n".join(lines).rstrip() + "\n"


def _run_lines(comparison: Comparison) -> list[str]:
    run = comparison.base.run
    return [
        f"- Replications: {comparison.replications} per scenario; root seed {comparison.seed}",
        f"- Each replication: {run.horizon_days:g} days simulated; suspects arriving in the first "
        f"{run.warmup_days:g} days (warm-up) and in the last {run.cohort_margin_days:g} days "
        "(cohort margin) are simulated but not counted",
        f"- Paired on {CRN_NOTE}, so the differences from the base are paired replication by "
        "replication",
    ] + ([] if comparison.precision is None else _precision_lines(comparison.precision.lines()))


def _precision_lines(lines: list[str]) -> list[str]:
    """``--replications auto``'s statement as list items (continuation lines nested)."""
    return [
        f"  - {escape_md(x.strip())}" if x.startswith("  ") else f"- {escape_md(x)}" for x in lines
    ]


def _results(
    comparison: Comparison,
    metrics: Sequence[str],
    *,
    sweep_keys: Sequence[str] = (),
    points: Sequence[dict[str, Any]] = (),
) -> list[str]:
    catalogue = comparison_catalogue(comparison)
    units = {name: m.unit for name, m in catalogue.items()}
    currency = comparison.base.currency
    shown = [m for m in metrics if m in comparison.metrics]
    heads = [f"`{m}` ({catalogue[m].unit_label(currency)})" for m in shown]
    keys = [f"`{_code(label)}`" for label in key_labels(sweep_keys)]
    level = f"{comparison.level:.0%}"
    lines = [
        "## Results",
        "",
        f"Mean ± {level} confidence half-width over replications (shares in %).",
        "",
        _row(["scenario", *keys, *heads]),
        _row(["---"] * (1 + len(keys) + len(heads))),
    ]
    names = (comparison.base_name, *comparison.variant_names)
    rows_points = [{}, *points] if points else [{} for _ in names]
    for name, point in zip(names, rows_points, strict=True):
        cells = [escape_md(name) + (" (base)" if name == comparison.base_name else "")]
        cells += [escape_md(_value(point[k])) if k in point else "" for k in sweep_keys]
        cells += [
            fmt_summary(comparison.metrics[m].summaries[name], units.get(m, "")) for m in shown
        ]
        lines.append(_row(cells))
    lines += [
        "",
        f"Paired difference from the base, {escape_md(comparison.base_name)} "
        f"(variant − base; shares in percentage points), with its {level} interval. "
        '"no detectable difference": the interval includes 0.',
        "",
        _row(["scenario", *[f"`{m}`" for m in shown]]),
        _row(["---"] * (1 + len(shown))),
    ]
    for name in comparison.variant_names:
        cells = [escape_md(name)]
        for m in shown:
            diff = comparison.metrics[m].differences[name]
            cells.append(fmt_change(diff, units.get(m, ""), currency).replace("\n", " "))
        lines.append(_row(cells))
    return [*lines, ""]


def _findings(comparison: Comparison, metrics: Sequence[str]) -> list[str]:
    units = comparison_units(comparison)
    shown = [m for m in metrics if m in comparison.metrics]
    lines = []
    for name in comparison.variant_names:
        lines.append(f"**{escape_md(name)}** against the base:")
        lines.append("")
        lines += [f"- {escape_md(line)}" for line in findings(comparison, name, shown, units)]
        lines.append("")
    lines.append(
        f"Each interval is {comparison.level:.0%} on its own: of many differences that are really "
        "zero, about 1 in 20 will still look detectable."
    )
    return [*lines, ""]


def _figures(stems: Sequence[str], sweep_keys: Sequence[str]) -> list[str]:
    if not stems:
        return []
    lines = ["## Figures", "", f"Each figure is in `{FIGURE_DIR}/` as PNG and SVG.", ""]
    for stem in stems:
        lines += [
            f"![{stem}]({FIGURE_DIR}/{stem}.png)",
            "",
            f"*{caption(stem, sweep_keys=[_code(k) for k in sweep_keys])}*",
            "",
        ]
    return lines


def _row(cells: Sequence[str]) -> str:
    return "| " + " | ".join(cells) + " |"


def _code(text: str) -> str:
    """Text for an inline code span: a backtick or line break could end it."""
    return printable(" ".join(str(text).splitlines()), one_line=True).replace("`", "'")


def _inline(text: str) -> str:
    return f"`{_code(text)}`"


def _value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return f"{value:g}" if isinstance(value, float) else str(value)
