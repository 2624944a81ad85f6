"""Fuzzing the command line with extreme but valid-looking values: a clean refusal, or a short run.

Hypothesis sets one key of a small scenario (with or without an account lifecycle) to a huge or
tiny number, an integer at a column's edge, or any finite float, and runs ``simsales run``
through ``CliRunner`` with a small ``--max-work``. Whatever the value, the command must either
refuse it (exit 2, a message naming the problem, no traceback) or finish its run (exit 0) in a
bounded time: never crash (exit 1), hang or run out of memory.

The examples are derandomized (the same on every run, so CI is stable) and few enough for a few
seconds; set ``SIMSALES_FUZZ_EXAMPLES=2000`` for a deeper search on a developer's machine.
"""

from __future__ import annotations

import contextlib
import math
import os
import time
import warnings
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import MINIMAL_SCENARIO_TOML
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from simsales.cli import main
from simsales.experiment.spec import toml_literal

with warnings.catch_warnings():  # see test_model_properties: keep a failure's report readable
    warnings.simplefilter("ignore", DeprecationWarning)
    with contextlib.suppress(ImportError):
        import hypothesis.extra._patching  # noqa: F401

EXAMPLES = int(os.environ.get("SIMSALES_FUZZ_EXAMPLES", "40"))
#: Seconds one example may take: a run of at most MAX_WORK suspects takes well under one.
SECONDS = 20.0
#: Suspects a fuzzed run may simulate: anything larger is refused by the work estimate.
MAX_WORK = "2000"

ACCOUNTS = """
[accounts.expansion]
per_year = 1.0

[[accounts.expansion.kinds]]
kind = "upsell"
share = 1
start_stage = "discovery"

[accounts.change]
per_year = 0.5
"""

#: Number-valued keys of the small scenario (a distribution given as a bare number is a constant).
KEYS = [
    "run.horizon_days",
    "run.warmup_days",
    "run.cohort_margin_days",
    "run.replications",
    "run.seed",
    "market.suspects_per_day",
    "market.patience_days",
    "market.schedule.by_month[0]",
    "market.schedule.quarter_end_push",
    "market.schedule.quarter_end_days",
    "market.segments[0].share",
    "market.segments[0].fit",
    "market.segments[0].deal_value",
    "buyers.group_size",
    "buyers.pace",
    "buyers.meeting_lag_days",
    "buyers.lag_per_extra_attendee",
    "buyers.comfortable_activities_per_call",
    "buyers.overload_factor",
    "buyers.attendees_per_extra_activity",
    "buyers.momentum.half_life_days",
    "buyers.momentum.busy_half_life_factor",
    "buyers.momentum.touch_boost",
    "buyers.no_decision.max_hazard_per_day",
    "buyers.no_decision.background_hazard_per_day",
    "buyers.no_decision.shape",
    "buyers.no_decision.close_out_delay_days",
    "buyers.consensus.momentum_weight",
    "team.sellers",
    "team.skill",
    "team.selling_hours_per_day",
    "team.meeting_slots_per_day",
    "team.workdays_per_week",
    "team.call_hours",
    "team.call_hours_per_extra_activity",
    "team.prep_hours",
    "team.touch_hours",
    "policies.activities_per_call",
    "policies.touch_every_days",
    "policies.book_next_within_days",
    "policies.wip_cap",
    "policies.buyer_enablement",
    "policies.enablement_hours_per_task",
    "stages[1].activities",
    "stages[1].p_right",
    "stages[1].seller_work_hours",
    "stages[1].half_life_factor",
    "stages[1].buyer_tasks[0].duration",
    "stages[1].wrong.lag_factor",
    "stages[1].wrong.end_chance",
    "stages[1].qualification.read_error_sd_right",
    "forecast.first_forecast_days",
    "forecast.push_days",
]
ACCOUNT_KEYS = [
    "accounts.contract.term_days",
    "accounts.onboarding.team_size",
    "accounts.onboarding.duration_days",
    "accounts.health.drift_half_life_days",
    "accounts.expansion.per_year",
    "accounts.expansion.health_exponent",
    "accounts.expansion.kinds[0].value_factor",
    "accounts.expansion.kinds[0].group_factor",
    "accounts.change.per_year",
    "accounts.churn.background_per_year",
    "accounts.churn.max_per_year",
    "accounts.maturity.after_days",
]

#: Values at the edges: of floats, of 16-, 32- and 64-bit integers, of the schema's bounds.
EDGES = [
    0,
    -1,
    1,
    0.5,
    1e-300,
    1e-9,
    1e-3,
    0.01,
    0.05,
    0.25,
    100,
    365,
    1e3,
    2_000,
    10_000,
    36_525,
    36_526,
    1e6,
    1e15,
    32_767,
    32_768,
    65_536,
    2**31,
    2**53,
    2**63 - 1,
    1e9,
    1e12,
    1e300,
    1.7976931348623157e308,
    math.inf,
    math.nan,
]

VALUES = st.one_of(
    st.sampled_from(EDGES),
    st.floats(allow_nan=False, allow_infinity=False),
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
)


#: Keys that take a distribution, and distributions with extreme parameters.
DISTRIBUTION_KEYS = [
    ("market.segments[0].fit", False),
    ("market.segments[0].deal_value", False),
    ("buyers.group_size", False),
    ("buyers.pace", False),
    ("buyers.meeting_lag_days", False),
    ("buyers.no_decision.close_out_delay_days", False),
    ("team.skill", False),
    ("stages[1].buyer_tasks[0].duration", False),
    ("stages[1].wrong.discount", False),
    ("forecast.first_forecast_days", False),
    ("accounts.onboarding.duration_days", True),
    ("accounts.expansion.kinds[0].value_factor", True),
]
POSITIVE = st.sampled_from([1e-300, 1e-9, 0.01, 0.5, 1, 2, 100, 1e4, 1e9, 1e300])
DISTRIBUTIONS = st.one_of(
    st.builds(lambda a, b: {"dist": "lognormal", "median": a, "p90": b}, POSITIVE, POSITIVE),
    st.builds(lambda a, b: {"dist": "gamma", "mean": a, "shape": b}, POSITIVE, POSITIVE),
    st.builds(lambda a, b: {"dist": "uniform", "low": a, "high": b}, POSITIVE, POSITIVE),
    st.builds(lambda a, b: {"dist": "normal", "mean": a, "sd": b}, POSITIVE, POSITIVE),
    st.builds(
        lambda a, b: {"dist": "beta", "mean": min(a, 0.999), "concentration": b}, POSITIVE, POSITIVE
    ),
    st.builds(lambda a: {"dist": "exponential", "mean": a}, POSITIVE),
    st.builds(lambda a, b: {"dist": "empirical", "values": [a, b]}, POSITIVE, POSITIVE),
)
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,  # the same examples on every run: a failure is a bug, never a fluke
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)


def check_run(path: Path, setting: str) -> None:
    """``simsales run path --set setting``: refused cleanly (2), or run (0) in bounded time."""
    args = ["run", str(path), "--no-cache", "-r", "1", "--max-work", MAX_WORK, "--set", setting]
    start = time.perf_counter()
    result = CliRunner().invoke(main, args)
    seconds = time.perf_counter() - start
    shown = f"--set {setting}: exit {result.exit_code}\n{result.output}"
    assert result.exit_code in (0, 2), shown
    assert result.exception is None or isinstance(result.exception, SystemExit), shown
    assert "Traceback" not in result.output, shown
    if result.exit_code == 2:
        assert "error:" in result.output or "problem" in result.output, shown
    assert seconds < SECONDS, f"{shown}\ntook {seconds:.1f} s"


@pytest.fixture(scope="module")
def scenarios(tmp_path_factory: pytest.TempPathFactory) -> dict[bool, Path]:
    """The small scenario, without and with an account lifecycle."""
    folder = tmp_path_factory.mktemp("extreme")
    plain = folder / "tiny.toml"
    plain.write_text(MINIMAL_SCENARIO_TOML, "utf-8")
    with_accounts = folder / "accounts.toml"
    with_accounts.write_text(MINIMAL_SCENARIO_TOML + ACCOUNTS, "utf-8")
    return {False: plain, True: with_accounts}


@FUZZ
@given(
    key=st.sampled_from([(k, False) for k in KEYS] + [(k, True) for k in ACCOUNT_KEYS]),
    value=VALUES,
)
def test_an_extreme_value_is_refused_cleanly_or_runs_briefly(
    scenarios: dict[bool, Path], key: tuple[str, bool], value: float
) -> None:
    check_run(scenarios[key[1]], f"{key[0]}={toml_literal(value)}")


@FUZZ
@given(key=st.sampled_from(DISTRIBUTION_KEYS), dist=DISTRIBUTIONS)
def test_an_extreme_distribution_is_refused_cleanly_or_runs_briefly(
    scenarios: dict[bool, Path], key: tuple[str, bool], dist: dict[str, object]
) -> None:
    check_run(scenarios[key[1]], f"{key[0]}={toml_literal(dist)}")
