"""Results as short HTML for a notebook: what ``RunResult`` and ``CompareResult`` show in Jupyter.

A run shows its metric table; a comparison or an experiment its finding lines (the answer)
and a table of the shown metrics: the base's mean, each variant's paired change and interval.
Every text is escaped (``simsales.report.htmlpage``): names come from files.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from simsales.report.findings import answer_note, effect_text, finding_lines
from simsales.report.htmlpage import code, esc, table, td, ul
from simsales.report.text import fmt_summary
from simsales.results import table_metrics

if TYPE_CHECKING:
    from simsales.experiment.answer import Answer
    from simsales.results import MetricSummary
    from simsales.scenario import Scenario

__all__ = ["answer_summary_html", "run_summary_html", "run_summary_table"]


def run_summary_table(scenario: Scenario, summaries: Mapping[str, MetricSummary]) -> str:
    """A run's metrics by group, as the terminal's table: mean ± 95% half-width and unit."""
    rows = []
    for group, metrics in table_metrics(scenario).items():
        for i, metric in enumerate(m for m in metrics if m.name in summaries):
            cells = [
                td(esc(group) if i == 0 else ""),
                td(code(metric.name)),
                td(esc(fmt_summary(summaries[metric.name], metric.unit)), num=True),
                td(esc(metric.unit_label(scenario.currency))),
            ]
            rows.append(("", cells))
    return table(["group", "metric", "value", "unit"], rows)


def run_summary_html(scenario: Scenario, summaries: Mapping[str, MetricSummary]) -> str:
    """What was run, then ``run_summary_table``."""
    run = scenario.run
    head = (
        f"<p><b>{esc(scenario.name)}</b>: {run.replications} replications, seed {run.seed}, "
        f"horizon {run.horizon_days:g} days; mean ± 95% confidence half-width</p>"
    )
    return head + run_summary_table(scenario, summaries)


def answer_summary_html(answer: Answer) -> str:
    """The finding lines, then per shown metric the base's mean and each variant's change."""
    head = (
        f"<p><b>{esc(answer.title)}</b>: {answer.replications} replications each, seed "
        f"{answer.seed}; {esc(answer_note(answer))}</p>"
    )
    lines = ul([esc(line) for line in finding_lines(answer)])
    heads = ["metric", f"{esc(answer.base)} (base)", *(esc(v) for v in answer.variants)]
    rows = []
    for metric in answer.metrics:
        base = answer.summaries[answer.base][metric.name]
        unit = metric.unit_label(answer.currency)
        cells = [
            td(code(metric.name) + f" ({esc(unit)})"),
            td(esc(fmt_summary(base, metric.unit)), num=True),
        ]
        for variant in answer.variants:
            effect = answer.effects[variant][metric.name]
            text = effect_text(effect, answer.currency).removeprefix(metric.short).strip()
            cells.append(td(esc(text), num=True))
        rows.append(("", cells))
    return head + lines + table(heads, rows)
