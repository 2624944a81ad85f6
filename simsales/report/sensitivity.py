"""Reports of a sensitivity (tornado) run: per metric, the levers ranked by how far they move it.

Each lever's low and high settings are variants of one comparison on common random numbers, so
each change is a paired difference from the base with its interval. The terminal gets one table
per metric, levers sorted by swing (|change down| + |change up|), the largest first, as in the
tornado figure; ``report.md`` gets the same tables in Markdown. A change whose interval includes 0
is shown as such ("≈0" in the terminal, "no detectable difference" in the report), so that a
ranking among noise is not read as an effect.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from simsales.analysis import PairedDifference
from simsales.experiment.compare import CRN_NOTE
from simsales.experiment.sensitivity import LeverEffect, LeverRun
from simsales.report.text import fit_console, fmt_change, fmt_summary, print_precision, shown_unit
from simsales.results import Metric

if TYPE_CHECKING:
    from simsales.experiment import ExperimentResult
    from simsales.experiment.answer import Answer

__all__ = [
    "print_sensitivity",
    "sensitivity_lines",
    "sensitivity_markdown",
    "sensitivity_run_lines",
    "sensitivity_table",
]


def _value(value: Any) -> str:
    if value is None:
        return "–"
    if isinstance(value, bool):
        return "true" if value else "false"
    return f"{value:g}" if isinstance(value, float) else str(value)


def _with_unit(text: str, unit: str) -> str:
    return text + unit if unit == "%" else f"{text} {unit}".rstrip()


def _swing(effect: LeverEffect, unit: str) -> str:
    scale = 100.0 if unit == "share" else 1.0
    sides = [d for d in (effect.down, effect.up) if d is not None and math.isfinite(d.mean)]
    if not sides:
        return "–"
    return f"{effect.swing * scale:.3g}"


def _change(diff: PairedDifference | None, unit: str, currency: str) -> str:
    return "–" if diff is None else fmt_change(diff, unit, currency)


def _short(diff: PairedDifference | None, unit: str, currency: str) -> str:
    """``_change`` for the terminal's narrow columns: ``≈0`` for no detectable difference."""
    return _change(diff, unit, currency).replace("no detectable difference", "≈0")


def _base_text(answer: Answer, metric: Metric) -> str:
    """The base's value with its unit: ``61.3 ± 2.1%``, ``108 ± 7 days``."""
    base = answer.summaries[answer.base][metric.name]
    return _with_unit(fmt_summary(base, metric.unit), shown_unit(metric.unit, answer.currency))


def sensitivity_table(answer: Answer, metric: Metric) -> Table:
    """One row per lever, sorted by swing: base, low and high settings with their changes."""
    unit, currency = metric.unit, answer.currency
    shown = shown_unit(unit, currency)
    title = f"{metric.name} (base {_base_text(answer, metric)})"
    table = Table(title=escape(title), title_justify="left")
    table.add_column("lever")
    table.add_column("base", justify="right")
    table.add_column("one step down", justify="right", no_wrap=True)
    table.add_column("one step up", justify="right", no_wrap=True)
    table.add_column("swing" + (f" ({'points' if unit == 'share' else shown})" if shown else ""))
    for effect in answer.levers[metric.name]:
        lever = effect.lever
        down = f"{_value(lever.low)}: " + _short(effect.down, unit, currency)
        up = f"{_value(lever.high)}: " + _short(effect.up, unit, currency)
        table.add_row(
            escape(lever.label),
            escape(_value(lever.base)),
            escape(down if lever.low is not None else "–"),
            escape(up if lever.high is not None else "–"),
            _swing(effect, unit),
            end_section=True,
        )
    return table


def sensitivity_lines(answer: Answer) -> list[str]:
    """Per metric, the lever with the largest detectable swing, or that none was detectable."""
    lines = []
    for metric in answer.metrics:
        effects = answer.levers[metric.name]
        moving = [
            e for e in effects if any(d is not None and d.distinguishable for d in (e.down, e.up))
        ]
        if not moving:
            lines.append(f"{metric.name}: no lever moved it detectably")
            continue
        top = moving[0]
        best = max(
            (d for d in (top.down, top.up) if d is not None and d.distinguishable),
            key=lambda d: abs(d.mean),
        )
        setting = top.lever.low if best is top.down else top.lever.high
        change = fmt_change(best, metric.unit, answer.currency, prose=True)
        others = ", ".join(e.lever.label for e in moving[1:3])
        lines.append(
            f"{metric.name}: moved most by {top.lever.label} ({change} at {_value(setting)})"
            + (f"; then {others}" if others else "")
        )
    return lines


def print_sensitivity(console: Console, result: ExperimentResult, answer: Answer) -> None:
    """What was run, the answer, a table per metric (levers by swing), the lever that leads
    each."""
    from simsales.report.compare_text import print_answer

    exp, comparison = result.experiment, result.comparison
    tables = [sensitivity_table(answer, m) for m in answer.metrics]
    piped = fit_console(console, tables)
    run = comparison.base.run
    console.print(
        f"[bold]{escape(exp.spec.name)}[/bold]: sensitivity of {len(exp.levers)} levers, "
        f"{len(exp.scenarios)} settings, from base {escape(comparison.base_name)}; "
        f"{comparison.replications} replications each, seed {comparison.seed}, "
        f"horizon {run.horizon_days:g} days, warm-up {run.warmup_days:g} days",
        soft_wrap=piped,
    )
    print_answer(console, answer)
    console.print(CRN_NOTE, soft_wrap=piped)
    console.print(
        "each setting: the paired difference from the base and its [95% interval] "
        "(shares in points); levers sorted by swing = |change down| + |change up|",
        soft_wrap=piped,
    )
    for table in tables:
        console.print(table)
    for line in sensitivity_lines(answer):
        console.print(escape(line), soft_wrap=True)
    print_precision(console, comparison)


def sensitivity_run_lines(levers: Sequence[LeverRun], escape_md: Any, code: Any) -> list[str]:
    """The "What was run" items of the levers: key, base value and the settings run."""
    lines = [f"- Sensitivity of {len(levers)} levers, each moved one step from the base:"]
    for lever in levers:
        lines.append(
            f"  - `{code(lever.key)}`: {escape_md(_value(lever.low))} ← "
            f"{escape_md(_value(lever.base))} → {escape_md(_value(lever.high))}"
        )
    return lines


def sensitivity_markdown(answer: Answer, escape_md: Any, row: Any) -> list[str]:
    """The Results section: a table per metric, levers by swing, and the findings."""
    currency = answer.currency
    level = f"{answer.level:.0%}"
    lines = [
        "## Results",
        "",
        f"Each setting's paired difference from the base with its {level} interval (shares in "
        "percentage points); levers sorted by swing, |change down| + |change up|, the largest "
        'first. "no detectable difference": the interval includes 0.',
        "",
    ]
    for metric in answer.metrics:
        unit = metric.unit
        lines += [
            f"### `{metric.name}`: base {_base_text(answer, metric)}",
            "",
            row(["lever", "base", "one step down", "one step up", "swing"]),
            row(["---"] * 5),
        ]
        for effect in answer.levers[metric.name]:
            lever = effect.lever
            cells = [escape_md(lever.label), escape_md(_value(lever.base))]
            for setting, diff in ((lever.low, effect.down), (lever.high, effect.up)):
                text = _change(diff, unit, currency).replace("\n", " ")
                cells.append("–" if setting is None else escape_md(f"{_value(setting)}: {text}"))
            cells.append(_swing(effect, unit))
            lines.append(row(cells))
        lines.append("")
    lines += ["## Findings", ""]
    lines += [f"- {escape_md(line)}" for line in sensitivity_lines(answer)]
    lines += [
        "",
        f"Each interval is {level} on its own: of many differences that are really zero, about "
        "1 in 20 will still look detectable.",
        "",
    ]
    return lines
