"""A comparison in the terminal: the answer first, then the table, then the details.

``print_comparison`` opens with one finding line per variant (``simsales.report.findings``):
the question answered, with intervals. Then what was run and counted, the table of the shown
metrics (each scenario's mean ± 95% half-width, under each variant its paired change and
interval), split into tables of at most 100 columns rather than wrapped, and per variant the
changes that stand out from the noise and the metrics that do not.
"""

from __future__ import annotations

import textwrap
from collections.abc import Sequence

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from simsales.experiment import Comparison
from simsales.experiment.answer import Answer
from simsales.experiment.compare import CRN_NOTE
from simsales.report.findings import answer_note, variant_details, wrapped_finding
from simsales.report.text import (
    cohort_line,
    fit_console,
    fmt_change,
    fmt_summary,
    plain,
    print_precision,
    split_to_fit,
)

__all__ = ["comparison_tables", "print_answer", "print_comparison"]


def comparison_tables(answer: Answer, console: Console) -> list[Table]:
    """One row per shown metric; a column per scenario, under each variant's value its change.
    Variants beyond what fits 100 columns go to further tables (each with the base)."""

    def build(variants: Sequence[str]) -> Table:
        table = Table()
        table.add_column("metric", no_wrap=True)
        table.add_column("unit")
        for name in (answer.base, *variants):
            table.add_column(escape(name), justify="right", no_wrap=True)
        for metric in answer.metrics:
            unit = metric.unit
            base = answer.summaries[answer.base][metric.name]
            cells = [metric.name, metric.unit_label(answer.currency), fmt_summary(base, unit)]
            for name in variants:
                effect = answer.effects[name][metric.name]
                change = fmt_change(effect.change, unit, answer.currency)
                cells.append(f"{fmt_summary(effect.value, unit)}\n{change}")
            table.add_row(*plain(*cells), end_section=True)
        return table

    return split_to_fit(answer.variants, build, console)


def print_answer(console: Console, answer: Answer) -> None:
    """The finding lines, each wrapped at the console's width between its effects, and what
    their numbers are."""
    for finding in answer.findings:
        text = wrapped_finding(finding, answer.currency, console.width)
        console.print(text, markup=False, soft_wrap=True)
    note = textwrap.fill(f"({answer_note(answer)})", console.width)
    console.print(note, markup=False, soft_wrap=True)


def print_comparison(console: Console, answer: Answer, comparison: Comparison) -> None:
    """The answer, what was compared, the table of shown metrics, and each variant's details.

    When ``console`` is not a terminal (a file or a pipe) it is widened to the table's width, at
    least 80 columns, so that no line of the table is broken.
    """
    tables = comparison_tables(answer, console)
    piped = fit_console(console, tables)
    run = comparison.base.run
    n = comparison.replications
    console.print(
        f"[bold]{escape(answer.base)}[/bold] vs {escape(', '.join(answer.variants))}: "
        f"{n} replication{'s' if n != 1 else ''} each, seed {comparison.seed}, "
        f"horizon {run.horizon_days:g} days",
        soft_wrap=piped,
    )
    print_answer(console, answer)
    console.print(escape(cohort_line(comparison.base)), soft_wrap=piped)
    for v in comparison.variants:
        if (v.run.horizon_days, v.run.warmup_days) != (run.horizon_days, run.warmup_days):
            console.print(
                f"note: {escape(v.name)} runs a horizon of {v.run.horizon_days:g} days, "
                f"warm-up {v.run.warmup_days:g} days"
            )
    console.print(CRN_NOTE)
    console.print(
        f"mean ± 95% half-width; under each variant its change from {escape(answer.base)}: "
        "the paired difference and its [95% interval]"
    )
    for table in tables:
        console.print(table)
    for variant in answer.variants:
        console.print(f"[bold]{escape(variant)}[/bold] against {escape(answer.base)}:")
        for line in variant_details(answer, variant):
            wrapped = textwrap.fill(
                line, console.width, initial_indent="  ", subsequent_indent="    "
            )
            console.print(wrapped, markup=False, soft_wrap=True)
    print_precision(console, comparison)
    print_interval_note(console, comparison, piped)


def print_interval_note(console: Console, comparison: Comparison, piped: bool) -> None:
    """Why a few detectable differences may be noise; or that one replication has no interval."""
    if comparison.replications < 2:
        console.print("With one replication there is no interval: run at least 2 (-r).")
    else:
        console.print(
            "Each interval is 95% on its own: of many differences that are really zero, "
            "about 1 in 20 will still look detectable.",
            soft_wrap=piped,
        )
