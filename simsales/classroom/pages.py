"""What a round shows: the leaderboard (terminal and HTML), each team's debrief page and its
animation, and the files of ``round-N/``, published together.

Every page is one self-contained file under the same Content-Security-Policy as the other
reports (``simsales.report.htmlpage``): nothing is loaded from elsewhere, and every name from a
file is escaped. ``round-N/`` holds::

    leaderboard.html, leaderboard.txt    the ranks, scores and paired differences
    decisions/<team>.toml                the decisions the round used (as submitted)
    teams/<team>/debrief.html            what changed, what it did, one deal's two stories
    teams/<team>/flow.html               the team's run beside the base's, replayed
    round.json                           everything, written last: the round is finished
"""

from __future__ import annotations

import io
import math
from collections.abc import Sequence
from pathlib import Path

from rich.console import Console
from rich.table import Table

from simsales.analysis import PairedDifference
from simsales.classroom.decisions import Change, market_overrides, money
from simsales.classroom.leaderboard import Standing
from simsales.classroom.rounds import (
    ROUND_RECORD,
    RoundResult,
    archive_decisions,
    round_folder,
    round_record,
)
from simsales.classroom.spec import BASE, Classroom, Team
from simsales.output import StagedFiles, prepare_out_dir
from simsales.report.htmlpage import code, esc, page, table, td
from simsales.report.serialize import to_json
from simsales.report.text import decimals, fmt_change, fmt_summary, terminal_console
from simsales.results.catalogue import COMPARE_METRICS, metric_record
from simsales.scenario.errors import format_value

__all__ = ["leaderboard_table", "print_leaderboard", "publish_round"]

_RANKS_NOTE = (
    "Ranks: entries sorted by mean score; an entry shares the rank of the group above when its "
    "paired difference from that group's best has a 95% interval that includes 0 (they cannot "
    "be told apart). Every team and the base ran the same replications on the same random "
    "numbers, so each difference is paired replication by replication."
)


def _signed(x: float, digits: int) -> str:
    return f"{x:+,.{digits}f}".replace("-", "−")


def fmt_score(standing: Standing) -> str:
    """``1,234.5 ± 12.0``."""
    return fmt_summary(standing.score, "count")


def fmt_vs_base(diff: PairedDifference | None) -> str:
    """``+123 [+45, +201]``, or ``–`` for the base."""
    if diff is None or diff.n < 2 or not math.isfinite(diff.half_width):
        return "–"
    if diff.mean == 0 and diff.half_width == 0:
        return "0 (identical)"
    digits = decimals(diff.mean, diff.half_width)
    return (
        f"{_signed(diff.mean, digits)} [{_signed(diff.low, digits)}, {_signed(diff.high, digits)}]"
    )


def _apart(diff: PairedDifference | None) -> str:
    if diff is None:
        return ""
    return "yes" if diff.distinguishable else "no"


def _changes_text(changes: Sequence[Change], sep: str = ", ") -> str:
    if not changes:
        return "no change"
    return sep.join(f"{c.lever} {format_value(c.before)}→{format_value(c.after)}" for c in changes)


def leaderboard_table(classroom: Classroom, result: RoundResult) -> Table:
    """The leaderboard as a ``rich`` table."""
    spec = classroom.spec
    grid = Table(
        title=f"{spec.name}: round {result.number} — score: {spec.score.label}",
        caption=f"mean ± 95% half-width over {spec.replications} replications, seed {spec.seed}",
    )
    grid.add_column("rank", justify="right", no_wrap=True)
    grid.add_column("team")
    grid.add_column("score", justify="right", no_wrap=True)
    grid.add_column("vs base\n[95% interval]", justify="right", no_wrap=True)
    grid.add_column("changes this round", overflow="fold")  # lever names wrap, never cut
    grid.add_column("cost", justify="right", no_wrap=True)
    for s in result.board:
        decision = result.plan.decisions.get(s.name)
        grid.add_row(
            str(s.rank),
            s.label,
            fmt_score(s),
            fmt_vs_base(s.vs_base).replace(" [", "\n[", 1),  # the interval under the mean
            "" if decision is None else _changes_text(decision.changes, "\n"),  # one a line
            "" if decision is None else f"{decision.cost:,.0f}",
        )
    return grid


def print_leaderboard(console: Console, classroom: Classroom, result: RoundResult) -> None:
    """The leaderboard and how to read its ranks."""
    console.print(leaderboard_table(classroom, result))
    console.print(_RANKS_NOTE, soft_wrap=False, markup=False)


def leaderboard_text(classroom: Classroom, result: RoundResult) -> str:
    """The terminal's leaderboard as plain text (``leaderboard.txt``)."""
    buffer = io.StringIO()
    console = terminal_console(file=buffer, width=140, color_system=None, force_terminal=False)
    print_leaderboard(console, classroom, result)
    return buffer.getvalue()


def leaderboard_html(classroom: Classroom, result: RoundResult) -> str:
    """``leaderboard.html``: the ranks, scores and paired differences, and how to read them."""
    spec = classroom.spec
    heads = ["rank", "team", "score", "vs base [95% interval]", "told apart from base"]
    heads += ["changes this round", f"cost ({esc(classroom.currency)})"]
    rows = []
    for s in result.board:
        decision = result.plan.decisions.get(s.name)
        cells = [
            td(esc(s.rank), num=True),
            td(esc(s.label)),
            td(esc(fmt_score(s)), num=True),
            td(esc(fmt_vs_base(s.vs_base)), num=True),
            td(esc(_apart(s.vs_base))),
            td("" if decision is None else esc(_changes_text(decision.changes))),
            td("" if decision is None else esc(f"{decision.cost:,.0f}"), num=True),
        ]
        attrs = ' class="base"' if s.name == BASE else ""
        rows.append((f'{attrs} data-team="{esc(s.name)}" data-rank="{s.rank}"', cells))
    tied = [
        f"<li>{esc(s.label)} cannot be told apart from "
        f"{esc(', '.join(_label(result, n) for n in s.tied_with))}</li>"
        for s in result.board
        if s.tied_with
    ]
    body = [
        f"<h1>{esc(spec.name)}: round {result.number}</h1>",
        f'<p class="lead">Score: {esc(spec.score.label)} '
        f"({esc(_score_formula(classroom))}), mean ± 95% half-width over "
        f"{spec.replications} replications (seed {spec.seed}).</p>",
        table(heads, rows),
        f"<p>{esc(_RANKS_NOTE)}</p>",
        "<h2>Who cannot be told apart</h2>",
        f"<ul>{''.join(tied)}</ul>"
        if tied
        else "<p>Every entry is told apart from every other.</p>",
    ]
    return _page(f"{spec.name}: round {result.number}", body)


def _label(result: RoundResult, name: str) -> str:
    return result.standing(name).label


def _score_formula(classroom: Classroom) -> str:
    terms = [f"{t.weight:g} × {t.metric}" for t in classroom.spec.score.terms]
    return " + ".join(terms).replace("+ -", "− ")


def _page(title: str, body: list[str]) -> str:
    """A page of the report's look (``simsales.report.htmlpage.page``), its footer the class's."""
    from simsales import __version__

    text = page(title, body, {"simsales_version": __version__})
    return text.replace("; the same report as report.md.</footer>", " for the class.</footer>")


def debrief_html(classroom: Classroom, result: RoundResult, team: Team) -> str:
    """A team's debrief page: score and rank, what changed, what it did, one deal's stories."""
    spec = classroom.spec
    currency = classroom.currency
    decision = result.plan.decisions[team.id]
    standing = result.standing(team.id)
    before = result.plan.before[team.id]
    title = f"{team.name}: round {result.number} debrief"
    lead = (
        f"Score {fmt_score(standing)} ({spec.score.label}); rank {standing.rank} of "
        f"{len(result.board)} entries (the base included); against the market unchanged: "
        f"{fmt_vs_base(standing.vs_base)}"
        + (
            ", told apart from it."
            if standing.vs_base and standing.vs_base.distinguishable
            else ", which cannot be told apart from it."
        )
    )
    body = [f"<h1>{esc(title)}</h1>", f'<p class="lead">{esc(lead)}</p>']
    body += ['<p><a href="flow.html">Watch your run beside the base&#39;s</a> (replication 0).</p>']
    body.append("<h2>What you changed this round</h2>")
    if decision.changes:
        rows = [
            (
                "",
                [
                    td(esc(c.label)),
                    td(esc(format_value(c.before)), num=True),
                    td(esc(format_value(c.after)), num=True),
                    td(esc(money(c.cost, currency)), num=True),
                    td(esc(spec.lever(c.lever).teaches)),
                ],
            )
            for c in decision.changes
        ]
        body.append(table(["lever", "before", "after", "cost", "what it teaches"], rows))
    else:
        body.append("<p>Nothing: the team kept its market.</p>")
    left = spec.budget - decision.cost
    body.append(
        f"<p>Spent {esc(money(decision.cost, currency))} of the round's "
        f"{esc(money(spec.budget, currency))} ({esc(money(left, currency))} left unspent).</p>"
    )
    body.append("<h2>Your market now</h2>")
    rows = [
        (
            "",
            [
                td(esc(lever.label)),
                td(esc(format_value(classroom.start[lever.name])), num=True),
                td(esc(format_value(before[lever.name])), num=True),
                td(esc(format_value(decision.values[lever.name])), num=True),
            ],
        )
        for lever in spec.levers
    ]
    body.append(table(["lever", "class start", "before this round", "now"], rows))
    command = ["simsales", "run", spec.market]
    command += [f"--set {o}" for o in market_overrides(classroom, decision.values)]
    body.append(
        "<p>To run your market yourself, in the class folder:</p>"
        f"<pre>{esc(' '.join(command))}</pre>"
    )
    body += _metrics_section(result, team.id, currency)
    body += _deal_section(result, team)
    return _page(title, body)


def _metrics_section(result: RoundResult, team_id: str, currency: str) -> list[str]:
    """The headline metrics: the base's, the team's, and the paired difference."""
    rows = []
    for name in COMPARE_METRICS:
        metric = result.comparison.metrics.get(name)
        record = metric_record(name)
        if metric is None or record is None or team_id not in metric.differences:
            continue
        unit = record.unit
        rows.append(
            (
                "",
                [
                    td(code(name)),
                    td(esc(fmt_summary(metric.summaries[BASE], unit)), num=True),
                    td(esc(fmt_summary(metric.summaries[team_id], unit)), num=True),
                    td(esc(fmt_change(metric.differences[team_id], unit, currency)), num=True),
                    td(esc(record.unit_label(currency))),
                ],
            )
        )
    heads = ["metric", "base", "your team", "difference [95% interval]", "unit"]
    return ["<h2>What it did</h2>", table(heads, rows)]


def _deal_section(result: RoundResult, team: Team) -> list[str]:
    pair = result.deals.get(team.id)
    out = ["<h2>One deal, two stories</h2>"]
    if pair is None:
        return [*out, "<p>The two runs share no deal of the counted cohort.</p>"]
    base_end, team_end = (o.replace("_", " ") for o in (pair.base_outcome, pair.team_outcome))
    changed = (
        f"{base_end} in the base, {team_end} in yours"
        if base_end != team_end
        else f"{base_end} in both, by another road"
    )
    out.append(
        f"<p>Deal {pair.deal_id} is the same buyer in both runs (the same arrival, group and "
        f"fit: common random numbers); of all deals its story changed most: {esc(changed)}.</p>"
    )
    out.append("<h3>In the base</h3>")
    out.append(f'<pre data-story="base">{esc(pair.base_story)}</pre>')
    out.append(f"<h3>In {esc(team.name)}'s market</h3>")
    out.append(f'<pre data-story="team">{esc(pair.team_story)}</pre>')
    return out


def publish_round(classroom: Classroom, result: RoundResult, *, force: bool = False) -> Path:
    """Write ``round-N/`` (every file staged, ``round.json`` published last) and file away the
    decisions it used; ``OutputError`` if the folder holds a finished round and not ``force``."""
    from simsales.report.animate import animation_page

    folder = prepare_out_dir(round_folder(classroom, result.number), force)
    spec = classroom.spec
    with StagedFiles(folder) as staged:
        staged.write_text("leaderboard.html", leaderboard_html(classroom, result))
        staged.write_text("leaderboard.txt", leaderboard_text(classroom, result))
        for team in spec.teams:
            decision = result.plan.decisions[team.id]
            if decision.text:
                staged.write_text(f"decisions/{team.id}.toml", decision.text)
            staged.write_text(
                f"teams/{team.id}/debrief.html", debrief_html(classroom, result, team)
            )
            base_replay, team_replay = result.replays[team.id]
            flow = animation_page(
                [base_replay, team_replay],
                title=f"{team.name} vs base: round {result.number}",
                seed=spec.seed,
                replication=0,
            )
            staged.write_text(f"teams/{team.id}/flow.html", flow)
        staged.write_text(ROUND_RECORD, to_json(round_record(classroom, result)) + "\n")
        (folder / ROUND_RECORD).unlink(missing_ok=True)  # unfinished until the new one lands
        staged.commit()
    archive_decisions(classroom, result.plan.decisions)
    return folder
