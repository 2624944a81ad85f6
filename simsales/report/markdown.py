"""``report.md``: an experiment or a comparison as a Markdown page a person reads without the tool.

The answer first (a finding line per variant, and the forest plot of paired differences),
then what was asked and run (base, variants or sweep points, replications, seed, run length, common
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
from simsales.report.findings import answer_note, best_line, finding_lines, variant_details
from simsales.report.sensitivity import sensitivity_markdown, sensitivity_run_lines
from simsales.report.text import fmt_change, fmt_summary
from simsales.scenario.text import printable

if TYPE_CHECKING:
    from simsales.experiment import Comparison, ExperimentResult
    from simsales.experiment.answer import Answer

__all__ = ["comparison_markdown", "escape_md", "experiment_markdown", "lead_figure"]

#: Characters that format Markdown anywhere in a line; ``_`` only where it starts or ends a word
#: (inside one, as in ``calls_per_opportunity``, it is literal and stays unescaped, easier to read).
_SPECIAL = re.compile(r"([\\`*\[\]|~]|(?<![0-9A-Za-z])_|_(?![0-9A-Za-z]))")


def escape_md(text: str) -> str:
    """``text`` safe in Markdown prose and table cells: specials backslash-escaped, ``<`` and
    ``&`` as entities, line breaks as spaces, other control characters as escapes."""
    text = printable(" ".join(str(text).splitlines()), one_line=True)
    text = text.replace("&", "&amp;").replace("<", "&lt;")
    return _SPECIAL.sub(r"\\\1", text)


def experiment_markdown(
    result: ExperimentResult, answer: Answer, figures: Sequence[str] = ()
) -> str:
    """The report of an experiment, its answer first; ``figures`` are the stems of the figures
    written."""
    exp, comparison = result.experiment, result.comparison
    lines = [f"# {escape_md(exp.spec.name)}", ""]
    if exp.spec.description:
        lines += [escape_md(exp.spec.description), ""]
    lead = lead_figure(figures, answer)
    lines += _answer(answer, lead)
    lines += ["## What was run", ""]
    lines.append(f"- Experiment file: `{_code(exp.file)}`")
    lines.append(f"- Base scenario: {escape_md(comparison.base_name)} (`{_code(exp.spec.base)}`)")
    common = [f"{k}={_value(v)}" for k, v in exp.spec.set.items()] + list(exp.overrides)
    if common:
        lines.append("- Set on the base and every point: " + ", ".join(map(_inline, common)))
    if exp.kind == "sweep":
        keys = ", ".join(f"`{_code(k)}`" for k in exp.sweep_keys)
        lines.append(
            f"- Sweep of {keys}: {len(exp.grid)} points"
            + (" (every combination)" if len(exp.sweep_keys) > 1 else "")
            + ("; the base is one of them, run once" if exp.base_at is not None else "")
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
    rest = [stem for stem in figures if stem != lead]
    if exp.kind == "sensitivity":
        lines += ["", *sensitivity_markdown(answer, escape_md, _row)]
        lines += _figures(rest, ())
        return "\n".join(lines).rstrip() + "\n"
    grid = exp.grid if exp.kind == "sweep" else ()
    base_first = exp.kind != "sweep" or exp.base_at is None
    lines += ["", *_results(answer, sweep_keys=exp.sweep_keys, grid=grid, base_first=base_first)]
    lines += ["## Findings", ""]
    if exp.kind == "sweep":
        lines += [
            f"- {escape_md(best_line(b, answer.currency, answer.labels))}" for b in answer.best
        ]
        lines.append("")
    else:
        lines += _findings(answer)
    lines += _figures(rest, exp.sweep_keys)
    return "\n".join(lines).rstrip() + "\n"


def comparison_markdown(
    comparison: Comparison,
    answer: Answer,
    figures: Sequence[str] = (),
    *,
    files: Sequence[str] = (),
) -> str:
    """The report of ``simsales compare``, its answer first; ``files`` are the base's and the
    variants' files."""
    names = (comparison.base_name, *comparison.variant_names)
    lines = [f"# {escape_md(answer.title)}", ""]
    lead = lead_figure(figures, answer)
    lines += _answer(answer, lead)
    lines += ["## What was run", ""]
    labelled = zip(names, files, strict=True) if files else ((n, "") for n in names)
    for i, (name, file) in enumerate(labelled):
        role = "Base" if i == 0 else "Variant"
        where = f" (`{_code(file)}`)" if file else ""
        lines.append(f"- {role}: {escape_md(name)}{where}")
    lines += _run_lines(comparison)
    lines += ["", *_results(answer), "## Findings", ""]
    lines += _findings(answer)
    lines += _figures([stem for stem in figures if stem != lead], ())
    return "\n".join(lines).rstrip() + "\n"


def lead_figure(figures: Sequence[str], answer: Answer) -> str | None:
    """The figure shown with the answer: the paired differences, or a sensitivity run's first
    tornado."""
    if "differences" in figures:
        return "differences"
    tornados = [stem for stem in figures if stem.startswith("tornado_")]
    return tornados[0] if tornados else None


def _answer(answer: Answer, lead: str | None) -> list[str]:
    """The section the report opens with: a finding line per variant, and the lead figure."""
    lines = ["## The answer", ""]
    lines += [f"- {escape_md(line)}" for line in finding_lines(answer)]
    lines += ["", f"*{escape_md(answer_note(answer)).capitalize()}.*", ""]
    if lead is not None:
        lines += [f"![{lead}]({FIGURE_DIR}/{lead}.png)", "", f"*{caption(lead)}*", ""]
    return lines


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
    answer: Answer,
    *,
    sweep_keys: Sequence[str] = (),
    grid: Sequence[tuple[dict[str, Any], str]] = (),
    base_first: bool = True,
) -> list[str]:
    currency = answer.currency
    heads = [f"`{m.name}` ({m.unit_label(currency)})" for m in answer.metrics]
    keys = [f"`{_code(label)}`" for label in key_labels(sweep_keys)]
    level = f"{answer.level:.0%}"
    lines = [
        "## Results",
        "",
        f"Mean ± {level} confidence half-width over replications (shares in %).",
        "",
        _row(["scenario", *keys, *heads]),
        _row(["---"] * (1 + len(keys) + len(heads))),
    ]
    rows: list[tuple[dict[str, Any], str]] = list(grid) or [({}, v) for v in answer.variants]
    if base_first:
        rows.insert(0, ({}, answer.base))
    for point, name in rows:
        cells = [escape_md(name) + (" (base)" if name == answer.base else "")]
        cells += [escape_md(_value(point[k])) if k in point else "" for k in sweep_keys]
        cells += [fmt_summary(answer.summaries[name][m.name], m.unit) for m in answer.metrics]
        lines.append(_row(cells))
    lines += [
        "",
        f"Paired difference from the base, {escape_md(answer.base)} "
        f"(variant − base; shares in percentage points), with its {level} interval. "
        '"no detectable difference": the interval includes 0.',
        "",
        _row(["scenario", *[f"`{m.name}`" for m in answer.metrics]]),
        _row(["---"] * (1 + len(answer.metrics))),
    ]
    for name in answer.variants:
        cells = [escape_md(name)]
        for m in answer.metrics:
            diff = answer.effects[name][m.name].change
            cells.append(fmt_change(diff, m.unit, currency).replace("\n", " "))
        lines.append(_row(cells))
    return [*lines, ""]


def _findings(answer: Answer) -> list[str]:
    lines = []
    for name in answer.variants:
        lines.append(f"**{escape_md(name)}** against the base:")
        lines.append("")
        lines += [f"- {escape_md(line)}" for line in variant_details(answer, name)]
        lines.append("")
    lines.append(
        f"Each interval is {answer.level:.0%} on its own: of many differences that are really "
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
