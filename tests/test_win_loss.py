"""Win/loss analysis: real end causes, the interviews (``[win_loss]``) and their metrics."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from simsales.cli import main
from simsales.model.records import (
    DARK_CAUSE_BASE,
    DEAL_FIELDS,
    DISQUALIFIED,
    EV,
    LOST,
    NO_CAUSE,
    NO_DECISION,
    NOT_INTERVIEWED,
    OPEN,
    OTHER_SUPPLIER,
    POOR_FIT,
    PRICE_EXCUSE,
    TIMING_EXCUSE,
    UNWORKED,
    WON,
    WON_CAUSE,
    RunRecords,
)
from simsales.model.simulation import simulate
from simsales.results import metrics_from_records
from simsales.results.catalogue import WIN_LOSS_METRIC_NAMES
from simsales.scenario import Scenario, load_scenario

BASELINE = Path(__file__).resolve().parents[1] / "scenarios" / "baseline.toml"
SHORT = ["run.horizon_days=1300", "run.warmup_days=60", "run.cohort_margin_days=0"]


def scenario(*overrides: str) -> Scenario:
    return load_scenario(BASELINE, [*SHORT, *overrides])


def run(sc: Scenario, *, replication: int = 0, event_log: bool = False) -> RunRecords:
    return simulate(sc, seed=11, replication=replication, event_log=event_log)


def interviewed(records: RunRecords) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Outcome, real cause and stated cause of the lost and no-decision deals interviewed."""
    d = records.deals.columns()
    keep = d["stated_cause"] != NOT_INTERVIEWED
    return d["outcome"][keep], d["end_cause"][keep], d["stated_cause"][keep]


def test_end_cause_matches_outcome_and_dark_event() -> None:
    records = run(scenario("win_loss.interview_share=0.5"), event_log=True)
    d = records.deals.columns()
    outcome, cause = d["outcome"], d["end_cause"]
    assert np.all(cause[outcome == WON] == WON_CAUSE)
    assert np.all(cause[outcome == LOST] == OTHER_SUPPLIER)
    assert np.all(cause[outcome == DISQUALIFIED] == POOR_FIT)
    assert np.all(cause[(outcome == OPEN) | (outcome == UNWORKED)] == NO_CAUSE)
    nd = outcome == NO_DECISION
    assert nd.sum() > 50 and np.all(cause[nd] >= DARK_CAUSE_BASE)
    assert len(np.unique(cause[nd])) >= 3  # several dark causes happen, not one label for all
    # a no decision's cause is the cause its went_dark event logged
    assert records.events is not None
    ev = records.events.columns()
    dark = ev["code"] == EV["went_dark"]
    logged = dict(
        zip(ev["case"][dark].tolist(), ev["value"][dark].astype(int).tolist(), strict=True)
    )
    for deal_id, code in zip(d["deal_id"][nd].tolist(), cause[nd].tolist(), strict=True):
        assert logged[deal_id] == code - DARK_CAUSE_BASE
    # only lost and no-decision deals are interviewed
    asked = d["stated_cause"] != NOT_INTERVIEWED
    assert np.all((outcome[asked] == LOST) | (outcome[asked] == NO_DECISION))


def test_always_honest_interviews_agree_and_never_honest_ones_hear_the_excuse() -> None:
    honest = run(scenario("win_loss.interview_share=1", "win_loss.find_real_reason=1"))
    d = honest.deals.columns()
    ended = (d["outcome"] == LOST) | (d["outcome"] == NO_DECISION)
    assert np.all(d["stated_cause"][ended] != NOT_INTERVIEWED)  # share 1: everyone is asked
    assert np.array_equal(d["stated_cause"][ended], d["end_cause"][ended])
    assert metrics_from_records(honest)["win_loss_reason_agreement"] == 1.0
    outcome, _, stated = interviewed(run(scenario("win_loss.interview_share=1",
                                                  "win_loss.find_real_reason=0")))  # fmt: skip
    assert np.all(stated[outcome == LOST] == PRICE_EXCUSE)
    assert np.all(stated[outcome == NO_DECISION] == TIMING_EXCUSE)


def within_binomial_99(hits: int, n: int, p: float) -> bool:
    half = 2.576 * math.sqrt(p * (1 - p) / n)
    return abs(hits / n - p) <= half


def test_measured_agreement_and_interview_share_match_the_settings() -> None:
    share, find = 0.6, 0.35
    records = run(
        scenario(f"win_loss.interview_share={share}", f"win_loss.find_real_reason={find}")
    )
    d = records.deals.columns()
    ended = (d["outcome"] == LOST) | (d["outcome"] == NO_DECISION)
    asked = ended & (d["stated_cause"] != NOT_INTERVIEWED)
    assert ended.sum() > 100
    assert within_binomial_99(int(asked.sum()), int(ended.sum()), share)
    agree = int((d["stated_cause"][asked] == d["end_cause"][asked]).sum())
    assert within_binomial_99(agree, int(asked.sum()), find)


def test_metrics_only_with_the_section_and_consistent() -> None:
    off = metrics_from_records(run(scenario()))
    assert not set(WIN_LOSS_METRIC_NAMES) & off.keys()
    on = metrics_from_records(run(scenario("win_loss.interview_share=1")))
    assert set(WIN_LOSS_METRIC_NAMES) <= on.keys()
    nd = [on[f"nd_cause_{c}_share"] for c in ("faded", "stalled", "defences", "undecided")]
    assert math.isclose(sum(nd), 1.0)
    loss = [v for k, v in on.items() if k.startswith("loss_cause_")]
    assert math.isclose(sum(loss), 1.0)
    assert on["win_loss_interviewed_share"] == 1.0
    # every interview hears the real cause or the excuse
    assert math.isclose(
        on["win_loss_reason_agreement"],
        1.0
        - (
            on["win_loss_stated_price_share"] * on["loss_cause_other_supplier_share"]
            + on["win_loss_stated_timing_share"] * (1.0 - on["loss_cause_other_supplier_share"])
        ),
    )


def test_off_by_default_and_interviews_change_no_other_draw() -> None:
    base = scenario()
    assert base.win_loss is None
    plain = run(base).deals.columns()
    assert list(DEAL_FIELDS)[-2:] == ["end_cause", "stated_cause"]
    assert np.all(plain["stated_cause"] == NOT_INTERVIEWED)
    asked = run(scenario("win_loss.interview_share=0.7")).deals.columns()
    for name in [*DEAL_FIELDS, "stage_entered"]:
        if name != "stated_cause":
            np.testing.assert_array_equal(plain[name], asked[name], err_msg=name)
    assert np.any(asked["stated_cause"] != NOT_INTERVIEWED)


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("[win_loss]\ninterview_share = 1.5\n", "win_loss.interview_share"),
        ("[win_loss]\nfind_real_reason = -0.1\n", "win_loss.find_real_reason"),
        ("[win_loss]\ninterview_shares = 0.5\n", "win_loss.interview_shares"),
    ],
)
def test_bad_input_exits_2_naming_the_key(tmp_path: Path, text: str, key: str) -> None:
    path = tmp_path / "wl.toml"
    path.write_text(f'extends = "{BASELINE.as_posix()}"\n{text}', encoding="utf-8")
    result = CliRunner().invoke(main, ["validate", str(path)])
    assert result.exit_code == 2
    assert key in result.output and "wl.toml" in result.output
    assert "Traceback" not in result.output
