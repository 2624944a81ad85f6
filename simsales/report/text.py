"""Results as text for the terminal: a run's metric and stage tables, a comparison's table and
findings, and the number formatting they share.

Each number is shown as ``mean ± half-width`` to the precision its 95% interval supports, shares
in percent. The functions print to a ``rich.console.Console`` they are given, or return ``rich``
tables; the JSON and CSV files (``simsales.report.serialize``, ``simsales.report.files``) hold
every metric at full precision.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

from rich.console import Console, ConsoleOptions, ConsoleRenderable, RenderHook, RenderResult
from rich.markup import escape
from rich.segment import Segment
from rich.table import Table
from rich.text import Text

from simsales.analysis import PairedDifference
from simsales.experiment import Comparison
from simsales.results import MetricSummary, catalogue_for, stage_keys, table_metrics
from simsales.results.catalogue import COMPARE_METRICS
from simsales.scenario import Scenario
from simsales.scenario.text import CONTROL_CHARACTERS, printable

__all__ = [
    "COMPARE_METRICS",
    "MAX_WIDTH",
    "STAGE_COLUMNS",
    "decimals",
    "fit_console",
    "fmt_change",
    "fmt_summary",
    "metric_units",
    "plain",
    "print_precision",
    "print_run",
    "run_table",
    "shown_unit",
    "split_to_fit",
    "stage_table",
    "terminal_console",
]

#: Per-stage metrics, shown as the columns of the stage table.
STAGE_COLUMNS = ("reach", "conversion", "days_in", "wip")


# --- numbers and units ---------------------------------------------------------------------------


def metric_units(scenario: Scenario) -> dict[str, str]:
    """Each metric's unit (``share``, ``days``, ``count``, ...), from the catalogue."""
    return {name: metric.unit for name, metric in catalogue_for(scenario).items()}


def shown_unit(unit: str, currency: str) -> str:
    """A unit as a figure's axis shows it: ``%`` for a share, the currency code for money."""
    return "%" if unit == "share" else currency if unit == "currency" else unit.replace("_", " ")


def decimals(mean: float, half: float) -> int:
    """Decimals to show: two significant digits of the half-width (three of the mean if none)."""
    if math.isfinite(half) and half > 0:
        digits = 1 - math.floor(math.log10(half))
    else:
        digits = 2 - math.floor(math.log10(abs(mean))) if mean else 0
    return max(0, min(digits, 4))


def fmt_summary(summary: MetricSummary, unit: str) -> str:
    """``mean ± half-width``, to the precision the half-width supports (shares in percent)."""
    scale = 100.0 if unit == "share" else 1.0
    mean, half = summary.mean * scale, summary.half_width * scale
    if not math.isfinite(mean):
        return "–"
    digits = decimals(mean, half)
    text = f"{mean:,.{digits}f}"
    if math.isfinite(half):
        text += f" ± {half:,.{digits}f}"
    return text


def fmt_change(diff: PairedDifference, unit: str, currency: str, *, prose: bool = False) -> str:
    """A paired difference: ``−14.2 days (−12%)`` and a line ``[−18.1, −10.3]``.

    Shares change in percentage points. Where the interval includes 0 the text is ``no
    detectable difference`` (and the interval); ``–`` where there is no interval. ``prose``: one
    line, no interval, three significant digits at most.
    """
    scale = 100.0 if unit == "share" else 1.0
    mean, half = diff.mean * scale, diff.half_width * scale
    if diff.n < 2 or not math.isfinite(half):
        return "–"
    digits = decimals(mean, half)
    if prose and mean:
        digits = max(0, min(digits, 2 - math.floor(math.log10(abs(mean)))))

    def signed(x: float, d: int = digits) -> str:
        return f"{x:+,.{d}f}".replace("-", "−")

    bounds = f"[{signed(diff.low * scale)}, {signed(diff.high * scale)}]"
    if not diff.distinguishable:
        if half == 0 and mean == 0:
            return "no difference: equal in every replication"
        return "no detectable difference" + ("" if prose else f"\n{bounds}")
    word = {"share": "points", "currency": currency, "count": ""}.get(unit, unit)
    text = signed(mean) + (f" {word}" if word else "")
    if math.isfinite(diff.relative):
        percent = 100 * diff.relative
        text += f" ({signed(percent, 0 if abs(percent) >= 10 else 1)}%)"
    return text + ("" if prose else f"\n{bounds}")


# --- the terminal --------------------------------------------------------------------------------


def terminal_console(**options: Any) -> Console:
    """A ``Console`` that shows any control character in what it prints as an escape (``\\x1b``).

    Names come from files that may not be the user's own, and a control character that reached
    the terminal would act (set its title, clear it, open a link) instead of showing. Validation
    refuses them in names, but a console is the last door: every table and line printed here
    goes through ``printable`` after rich has laid it out (its own styling is added later, and
    is not touched). ``options`` go to ``Console`` (``file``, ``force_terminal``, ...).
    """
    console = Console(**({"highlight": False} | options))
    console.push_render_hook(_ShowControls())
    return console


class _ShowControls(RenderHook):
    """Wraps each renderable so that its text segments go through ``printable``."""

    def process_renderables(self, renderables: list[ConsoleRenderable]) -> list[ConsoleRenderable]:
        return [_Printable(r) for r in renderables]


class _Printable:
    """A renderable rendered as it is, with control characters in its text escaped."""

    def __init__(self, inner: ConsoleRenderable) -> None:
        self.inner = inner

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        for segment in console.render(self.inner, options):
            if segment.control or not CONTROL_CHARACTERS.search(segment.text):
                yield segment
            else:
                yield Segment(printable(segment.text), segment.style)


def plain(*cells: str) -> list[Text]:
    """Table cells taken as text, never as rich markup: a stage named ``[link=...]`` stays
    a name, not a hyperlink."""
    return [Text(cell) for cell in cells]


# --- a run ---------------------------------------------------------------------------------------


def run_table(scenario: Scenario, summaries: dict[str, MetricSummary]) -> Table:
    """The run's table: the catalogue's table metrics that can move in ``scenario``, grouped
    (the pipeline first); every metric is in the JSON and CSV output."""
    table = Table(title="mean ± 95% confidence half-width over replications", title_justify="left")
    table.add_column("group")
    table.add_column("metric", no_wrap=True)
    table.add_column("value", justify="right", no_wrap=True)
    table.add_column("unit")
    for group, metrics in table_metrics(scenario).items():
        rows = [m for m in metrics if m.name in summaries]
        for i, metric in enumerate(rows):
            table.add_row(
                *plain(
                    group if i == 0 else "",
                    metric.name,
                    fmt_summary(summaries[metric.name], metric.unit),
                    metric.unit_label(scenario.currency),
                )
            )
        if rows:
            table.add_section()
    return table


def stage_table(scenario: Scenario, summaries: dict[str, MetricSummary]) -> Table:
    """One row per stage, the per-stage metrics of ``STAGE_COLUMNS`` as columns."""
    names = tuple(stage.name for stage in scenario.stages)
    units = metric_units(scenario)
    table = Table(title="stages (of the suspects a seller took on)", title_justify="left")
    table.add_column("stage")
    for column in STAGE_COLUMNS:
        unit = "%" if column in ("reach", "conversion") else "days" if column == "days_in" else ""
        table.add_column(f"{column} ({unit})" if unit else column, justify="right")
    for key, name in zip(stage_keys(names), names, strict=True):
        cells = []
        for column in STAGE_COLUMNS:
            metric = f"{column}_{key}"
            found = summaries.get(metric)
            cells.append(fmt_summary(found, units.get(metric, "")) if found is not None else "")
        table.add_row(*plain(name, *cells))
    return table


def cohort_line(scenario: Scenario) -> str:
    """Which records the metrics count: the arrival window and where an opportunity opens."""
    run = scenario.run
    end = run.horizon_days - run.cohort_margin_days
    opens = scenario.stages[scenario.opens_at_index].name
    return (
        f"counted: suspects arriving from day {run.warmup_days:g} to day {end:g} (warm-up "
        f"{run.warmup_days:g} days, closing margin {run.cohort_margin_days:g} days); an "
        f"opportunity opens at {opens}"
    )


def print_run(console: Console, scenario: Scenario, summaries: dict[str, MetricSummary]) -> None:
    """What was run and which records count, then the metric table and the stage table.

    When ``console`` is not a terminal (a file or a pipe) it is widened to the table's width, at
    least 80 columns, so that no line of the table is broken.
    """
    run = scenario.run
    table = run_table(scenario, summaries)
    if not console.is_terminal:
        unlimited = console.options.update_width(10_000)
        console.width = max(80, console.measure(table, options=unlimited).maximum)
    console.print(
        f"[bold]{escape(scenario.name)}[/bold]: {run.replications} replications, seed {run.seed}, "
        f"horizon {run.horizon_days:g} days",
        soft_wrap=True,
    )
    console.print(escape(cohort_line(scenario)), soft_wrap=True)
    console.print(table)
    console.print(stage_table(scenario, summaries))


# --- fitting a terminal ------------------------------------------------------------------------

#: The widest a table may be: it must read in a 100-column terminal without a wrapped number.
MAX_WIDTH = 100


def table_width(console: Console, table: Table) -> int:
    """The columns ``table`` takes when nothing is wrapped."""
    return console.measure(table, options=console.options.update_width(10_000)).maximum


def split_to_fit(
    items: Sequence[Any], build: Callable[[Sequence[Any]], Table], console: Console
) -> list[Table]:
    """Tables of ``build(chunk)`` for consecutive chunks of ``items``, each chunk as long as
    fits ``MAX_WIDTH`` columns, or a narrower terminal (at least one item): wide tables are
    split, never wrapped."""
    limit = min(MAX_WIDTH, console.width) if console.is_terminal else MAX_WIDTH
    tables: list[Table] = []
    chunk: list[Any] = []
    for item in items:
        if chunk and table_width(console, build([*chunk, item])) > limit:
            tables.append(build(chunk))
            chunk = []
        chunk.append(item)
    if chunk or not tables:
        tables.append(build(chunk))
    return tables


def fit_console(console: Console, tables: Sequence[Table]) -> bool:
    """Widen a console that is not a terminal (a file, a pipe) to its widest table, at least
    80 columns, so that no line is broken; return whether it is piped."""
    piped = not console.is_terminal
    if piped:
        console.width = max(80, *(table_width(console, t) for t in tables))
    return piped


def print_precision(console: Console, result: Comparison) -> None:
    """With ``--replications auto``: how many replications were needed, or what missed."""
    if result.precision is not None:
        for line in result.precision.lines():
            console.print(line, markup=False, soft_wrap=True)
