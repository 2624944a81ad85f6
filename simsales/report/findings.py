"""The answer as sentences: the finding lines every report opens with, and where a sweep is best.

``simsales.experiment.answer`` works the answer out; this module only words it, the same way
for the terminal, ``report.md``, ``report.html`` and a notebook:

    call-compression: time to a win −54 d [−61, −48] (−46%); no decision −1.2 pts [−1.9, −0.5]

Each effect is the paired difference from the base with its 95% interval and its size relative
to the base; shares change in percentage points (``pts``). A change whose interval includes 0
says so (``not detectable``), so that noise is not read as an effect. A sweep says "best at"
only where the best point is told apart from the runner-up; otherwise it names both.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

from simsales.analysis import PairedDifference
from simsales.experiment.answer import Answer, Best, Effect, Finding
from simsales.report.text import fmt_change, fmt_summary, shown_unit
from simsales.results import MetricSummary

__all__ = [
    "answer_note",
    "best_line",
    "effect_text",
    "finding_line",
    "finding_lines",
    "signed",
    "variant_details",
    "wrapped_finding",
]


def signed(value: float, digits: int) -> str:
    """``+1.2`` or ``−1.2`` (a true minus sign), with thousands separators."""
    return f"{value:+,.{digits}f}".replace("-", "−")


def _digits(half: float, mean: float) -> int:
    """Decimals of a finding: one significant digit of the half-width, two where it starts
    with 1, 2 or 3 (below 3.5: one digit would round it by up to a third), at most 3."""
    if math.isfinite(half) and half > 0:
        power = math.floor(math.log10(half))
        extra = 1 if half / 10**power < 3.5 else 0
        return max(0, min(3, extra - power))
    return 0 if not mean or abs(mean) >= 10 else 1


def effect_text(effect: Effect, currency: str) -> str:
    """One effect: ``time to a win −54 d [−61, −48] (−46%)``."""
    metric, diff = effect.metric, effect.change
    name = metric.short
    if not effect.known:
        return f"{name}: no interval (fewer than 2 replications with a value)"
    scale = 100.0 if metric.unit == "share" else 1.0
    mean, half = diff.mean * scale, diff.half_width * scale
    if half == 0 and mean == 0:
        return f"{name}: no change in any replication"
    digits = _digits(half, mean)
    unit = currency if metric.unit == "currency" else metric.change_unit
    text = f"{name} {signed(mean, digits)}" + (f" {unit}" if unit else "")
    text += f" [{signed(diff.low * scale, digits)}, {signed(diff.high * scale, digits)}]"
    if math.isfinite(diff.relative):
        percent = 100 * diff.relative
        text += f" ({signed(percent, 0 if abs(percent) >= 10 else 1)}%)"
    return text if effect.distinguishable else f"{text}, not detectable"


def finding_line(finding: Finding, currency: str) -> str:
    """A variant's line: its name, then its effect on each headline metric."""
    effects = "; ".join(effect_text(e, currency) for e in finding.effects)
    return f"{finding.variant}: {effects}"


def wrapped_finding(finding: Finding, currency: str, width: int) -> str:
    """``finding_line`` in lines of at most ``width`` where it can: broken after the name or
    after an effect's ``;``, never inside a number or an interval; continuations indented."""
    line = finding_line(finding, currency)
    if len(line) <= width:
        return line
    texts = [effect_text(e, currency) for e in finding.effects]
    first = f"{finding.variant}: {texts[0]}" if texts else f"{finding.variant}:"
    lines = [first] if len(first) + 1 <= width else [f"{finding.variant}:", f"    {texts[0]}"]
    for text in texts[1:]:
        if len(lines[-1]) + 2 + len(text) <= width:
            lines[-1] += "; " + text
        else:
            lines[-1] += ";"
            lines.append("    " + text)
    return "\n".join(lines)


def finding_lines(answer: Answer) -> list[str]:
    """One line per variant, in order."""
    return [finding_line(f, answer.currency) for f in answer.findings]


def answer_note(answer: Answer) -> str:
    """What the finding lines' numbers are."""
    return (
        f"each: the paired difference from {answer.base} with its {answer.level:.0%} interval "
        "and its change relative to the base (pts: percentage points); not detectable: the "
        "interval includes 0"
    )


def best_line(best: Best, currency: str, labels: Mapping[str, str] | None = None) -> str:
    """Where a metric is best over a sweep's points, said as far as the intervals allow;
    ``labels`` names scenarios (the base's point by its values)."""
    labels = labels or {}
    metric = best.metric
    name, unit = metric.name, metric.unit
    if best.best is None or best.value is None:
        return f"{name}: no value at any point"
    unit_text = "" if unit == "count" else shown_unit(unit, currency)

    def at(scenario: str | None, value: MetricSummary | None) -> str:
        name = labels.get(str(scenario), str(scenario))
        if value is None:
            return name
        return f"{name} ({_with_unit(fmt_summary(value, unit), unit_text)})"

    if best.direction == "neither":
        low = at(best.lowest, best.lowest_value)
        return f"{name}: highest at {at(best.best, best.value)}, lowest at {low}"
    word = best.direction
    if best.runner_up is None or best.gap is None:
        return f"{name}: {word} at {at(best.best, best.value)}"
    if not best.distinguishable:
        gap = _gap(best.gap, unit, currency)
        return (
            f"{name}: {word} at {at(best.best, best.value)}, not told apart from "
            f"{at(best.runner_up, best.runner_value)}, {gap}: no single best point"
        )
    summary = _with_unit(fmt_summary(best.value, unit), unit_text)
    against = (
        "it is the base"
        if best.change is None
        else "against the base: " + fmt_change(best.change, unit, currency, prose=True)
    )
    return f"{name}: best ({word}) at {labels.get(best.best, best.best)}: {summary}; {against}"


def _with_unit(text: str, unit: str) -> str:
    return text + unit if unit == "%" else f"{text} {unit}".rstrip()


def _gap(gap: PairedDifference, unit: str, currency: str) -> str:
    """The runner-up's paired difference from the best point, with its interval."""
    scale = 100.0 if unit == "share" else 1.0
    digits = _digits(gap.half_width * scale, gap.mean * scale)
    word = {"share": "pts", "currency": currency, "count": ""}.get(unit, shown_unit(unit, ""))
    text = signed(gap.mean * scale, digits) + (f" {word}" if word else "")
    low, high = signed(gap.low * scale, digits), signed(gap.high * scale, digits)
    return f"runner-up {text} [{low}, {high}]"


def variant_details(answer: Answer, variant: str) -> list[str]:
    """A variant's detectable changes on every shown metric, then those lost in noise."""
    changes, noise, unknown = [], [], []
    for metric in answer.metrics:
        effect = answer.effects[variant][metric.name]
        if not effect.known:
            unknown.append(metric.name)
        elif effect.distinguishable:
            text = fmt_change(effect.change, metric.unit, answer.currency, prose=True)
            changes.append(f"{metric.name} {text}")
        else:
            noise.append(metric.name)
    lines = [f"changed: {', '.join(changes)}"] if changes else []
    if noise:
        lines.append(f"no detectable difference: {', '.join(noise)}")
    if unknown:
        lines.append(f"no interval (fewer than 2 replications with a value): {', '.join(unknown)}")
    return lines
