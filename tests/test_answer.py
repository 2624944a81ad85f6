"""The answer of a comparison, worked out once and worded the same everywhere."""

from __future__ import annotations

import io
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from simsales import cli
from simsales.analysis import paired_difference
from simsales.experiment.answer import Best, Effect, Finding, _best, headline_metrics
from simsales.experiment.compare import Comparison, _compare_metrics
from simsales.report.findings import best_line, effect_text, finding_line, wrapped_finding
from simsales.results import ci_t
from simsales.results.catalogue import metric_record
from simsales.scenario import Scenario, load_scenario


def _effect(metric: str, base: list[float], variant: list[float]) -> Effect:
    record = metric_record(metric)
    assert record is not None
    return Effect(
        variant="v",
        metric=record,
        base=ci_t(base),
        value=ci_t(variant),
        change=paired_difference(base, variant),
    )


def test_an_effect_reads_as_its_change_interval_and_relative_size() -> None:
    days = _effect("cycle_median_won_days", [100, 110, 105, 95], [48, 55, 50, 45])
    assert effect_text(days, "EUR") == "time to a win −53 d [−57, −49] (−52%)"
    share = _effect("no_decision_rate", [0.60, 0.62, 0.61, 0.63], [0.59, 0.60, 0.60, 0.61])
    assert effect_text(share, "EUR") == "no decision −1.5 pts [−2.4, −0.6] (−2.4%)"
    noise = _effect("no_decision_rate", [0.60, 0.62, 0.61, 0.63], [0.61, 0.61, 0.62, 0.62])
    assert effect_text(noise, "EUR").endswith(", not detectable")
    assert noise.verdict == "noise" and days.verdict == "better"
    one = _effect("win_rate", [0.1], [0.2])
    assert "no interval" in effect_text(one, "EUR") and one.verdict == "unknown"


def test_a_finding_line_breaks_between_effects_never_inside_one() -> None:
    days = _effect("cycle_median_won_days", [100, 110, 105, 95], [48, 55, 50, 45])
    share = _effect("no_decision_rate", [0.60, 0.62, 0.61, 0.63], [0.59, 0.60, 0.60, 0.61])
    finding = Finding(variant="a long variant name, with settings", effects=(days, share), point={})
    line = finding_line(finding, "EUR")
    assert line.startswith("a long variant name, with settings: time to a win −53 d")
    assert wrapped_finding(finding, "EUR", len(line)) == line
    narrow = wrapped_finding(finding, "EUR", 60)
    assert narrow.splitlines() == [
        "a long variant name, with settings:",
        "    time to a win −53 d [−57, −49] (−52%);",
        "    no decision −1.5 pts [−2.4, −0.6] (−2.4%)",
    ]


def test_headline_metrics_are_the_time_to_a_win_and_no_decision() -> None:
    assert headline_metrics(["win_rate", "no_decision_rate", "cycle_median_won_days"]) == (
        "cycle_median_won_days",
        "no_decision_rate",
    )
    assert headline_metrics(["win_rate", "calls_per_opportunity", "suspects"]) == (
        "win_rate",
        "calls_per_opportunity",
    )


def _comparison(per_rep: dict[str, list[dict[str, float]]], base: Scenario) -> Comparison:
    frozen = {name: tuple(reps) for name, reps in per_rep.items()}
    variants = tuple(base.model_copy(update={"name": n}) for n in list(per_rep)[1:])
    return Comparison(
        base=base,
        variants=variants,
        replications=len(next(iter(per_rep.values()))),
        seed=1,
        level=0.95,
        per_replication=frozen,
        metrics=_compare_metrics(frozen, base.name, 0.95),
    )


@pytest.fixture
def base(minimal_scenario_toml: str, tmp_path: Path) -> Scenario:
    path = tmp_path / "tiny.toml"
    path.write_text(minimal_scenario_toml, "utf-8")
    return load_scenario(path)


def _best_of(per: dict[str, list[float]], base: Scenario) -> Best:
    comparison = _comparison({k: [{"win_rate": x} for x in v] for k, v in per.items()}, base)
    record = metric_record("win_rate")
    assert record is not None
    return _best(comparison, None, record, list(per))  # type: ignore[arg-type]


def test_best_only_when_told_apart_from_the_runner_up(base: Scenario) -> None:
    clear = _best_of(
        {"tiny": [0.10, 0.11, 0.12], "a=2": [0.15, 0.16, 0.17], "a=3": [0.30, 0.31, 0.33]}, base
    )
    assert clear.best == "a=3" and clear.runner_up == "a=2" and clear.distinguishable
    assert best_line(clear, "EUR").startswith("win_rate: best (highest) at a=3: ")
    close = _best_of(
        {"tiny": [0.10, 0.11, 0.12], "a=2": [0.30, 0.33, 0.31], "a=3": [0.31, 0.32, 0.32]}, base
    )
    assert close.best == "a=3" and not close.distinguishable
    line = best_line(close, "EUR", {"tiny": "a=1, the base"})
    assert line.startswith("win_rate: highest at a=3 (")
    assert "not told apart from a=2" in line and "no single best point" in line
    assert "best (" not in line
    shown = best_line(replace(close, best="tiny"), "EUR", {"tiny": "a=1, the base"})
    assert "a=1, the base" in shown


def test_the_progress_bar_counts_replications_done_out_of_all(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    screen = Terminal()
    monkeypatch.setattr(sys, "stderr", screen)
    monkeypatch.delenv("SIMSALES_TEST_HOLD", raising=False)
    with cli._progress_bar() as progress:
        assert progress is not None
        progress(3, 10)
    assert "3/10" in screen.getvalue()
