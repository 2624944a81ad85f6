"""Runaway inputs: values that validate but cannot be run are refused, quickly and clearly.

Schema bounds on values that can only be mistakes; the work and memory estimate every command
makes before it starts (``--max-work``, ``--max-memory``); files too large to read; sweeps too
large to load; integer columns that hold whatever the schema lets through; and the replication
order and sweep grid, which are worked out, never built up front.
"""

from __future__ import annotations

import re
import time
from array import array
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner, Result
from model_helpers import make_scenario

from simsales.cli import main
from simsales.experiment.replications import Replications, _Jobs
from simsales.experiment.spec import MAX_POINTS, ExperimentSpec, SweepKey
from simsales.experiment.workload import (
    DEFAULT_MAX_WORK,
    WorkLimits,
    estimate_workload,
    expected_suspects,
    format_amount,
    format_bytes,
    parse_amount,
    parse_bytes,
)
from simsales.model import simulate
from simsales.model.account_records import ACCOUNT_FIELDS, END_REASONS
from simsales.model.records import (
    DEAL_FIELDS,
    END_CAUSES,
    ORIGINS,
    OUTCOMES,
    STATED_CAUSES,
    EventLog,
)
from simsales.scenario import load_scenario
from simsales.scenario.accounts_schema import MAX_CHANGE_KINDS, ExpansionKind
from simsales.scenario.loading import MAX_FILE_BYTES
from simsales.scenario.quantities import MAX_GROUP_SIZE
from simsales.scenario.schema import MAX_SEGMENTS, Scenario

ROOT = Path(__file__).resolve().parent.parent
BASELINE = ROOT / "scenarios" / "baseline.toml"


def invoke(*args: str | Path) -> Result:
    return CliRunner().invoke(main, [str(a) for a in args])


@pytest.fixture
def tiny(minimal_scenario_toml: str, tmp_path: Path) -> Path:
    path = tmp_path / "tiny.toml"
    path.write_text(minimal_scenario_toml, "utf-8")
    return path


def refused(result: Result) -> str:
    """The output of a clean refusal: exit 2, no traceback."""
    assert result.exit_code == 2, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    assert "Traceback" not in result.output
    return result.output


# --- values that validate no more ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("setting", "words"),
    [
        ("market.suspects_per_day=1e7", "market.suspects_per_day: Input should be less than or"),
        ("market.schedule.by_month=[1e12,1,1,1,1,1,1,1,1,1,1,1]", "(by_month[0]) is above 100"),
        ("policies.touch_every_days=1e-9", "policies.touch_every_days: must be 0 (no touches)"),
        ("run.horizon_days=1e9", "run.horizon_days: Input should be less than or equal to 36525"),
        ("buyers.group_size=32768", "buyers.group_size: a head count must be between 1 and 1000"),
        ("forecast.push_days=1e-9", "forecast.push_days: Input should be greater than or equal"),
        ("buyers.meeting_lag_days=1e7", "must have a mean of at most 36,525"),
        ('stages[1].buyer_tasks[0].duration={dist="lognormal",median=1,p90=1e300}', "mean is inf"),
        ("team.meeting_slots_per_day=1000", "team.meeting_slots_per_day"),
        ("market.segments[0].deal_value=1e300", "an amount of money must have a mean of at most"),
    ],
)
def test_a_value_that_cannot_run_is_refused_at_its_key(
    tiny: Path, setting: str, words: str
) -> None:
    start = time.perf_counter()
    output = refused(invoke("run", tiny, "--no-cache", "--set", setting))
    assert words in output
    assert time.perf_counter() - start < 10


def test_the_bundled_scenarios_keep_within_the_bounds() -> None:
    for path in sorted((ROOT / "scenarios").glob("*.toml")):
        assert invoke("validate", path).exit_code == 0, path


# --- the work estimate --------------------------------------------------------------------------


def test_a_billion_replications_are_refused_before_anything_runs(tiny: Path) -> None:
    start = time.perf_counter()
    output = refused(invoke("run", tiny, "--no-cache", "-r", "1000000000"))
    assert time.perf_counter() - start < 10
    assert "too large to start" in output
    assert "1,000,000,000 replications" in output
    assert "times the limit of 1e9 (--max-work)" in output
    assert "to run it anyway: --max-work" in output
    assert "Traceback" not in output
    # the scenario's own replications count the same way
    assert "--max-work" in refused(invoke("run", tiny, "--set", "run.replications=1000000000"))


def test_max_work_refuses_and_the_suggested_limit_runs(tiny: Path) -> None:
    output = refused(invoke("run", tiny, "--no-cache", "--max-work", "10"))
    found = re.search(r"times the limit of 10 \(--max-work\).*--max-work (\S+)\.", output, re.S)
    assert found, output
    assert invoke("run", tiny, "--no-cache", "--max-work", found[1]).exit_code == 0


def test_max_memory_refuses_and_the_suggested_limit_runs(tiny: Path) -> None:
    output = refused(invoke("run", tiny, "--no-cache", "--max-memory", "1kB"))
    found = re.search(
        r"of memory .* the limit of 1 kB \(--max-memory\).*--max-memory (\S+)\.", output, re.S
    )
    assert found, output
    assert invoke("run", tiny, "--no-cache", "--max-memory", found[1]).exit_code == 0


def test_compare_experiment_and_trace_are_estimated_too(tiny: Path, tmp_path: Path) -> None:
    twin = tmp_path / "twin.toml"
    twin.write_text(tiny.read_text("utf-8").replace('"tiny"', '"twin"'), "utf-8")
    output = refused(invoke("compare", tiny, twin, "--no-cache", "-r", "1000000000"))
    assert "2 scenarios" in output and "--max-work" in output
    # --replications auto is estimated at its cap
    assert "200 replications" in refused(
        invoke("compare", tiny, twin, "-r", "auto", "--max-work", "100")
    )
    exp = tmp_path / "exp.toml"
    exp.write_text(
        'name = "e"\nbase = "tiny.toml"\nmetrics = ["win_rate"]\nreplications = 1000000000\n'
        '[sweep]\n[[sweep.keys]]\nkey = "policies.activities_per_call"\nvalues = [3, 4]\n',
        "utf-8",
    )
    assert "3 scenarios" in refused(invoke("experiment", exp, "--no-cache"))
    assert "--max-memory" in refused(invoke("trace", tiny, "--deal", "1", "--max-memory", "1kB"))


def test_bad_limits_are_usage_errors(tiny: Path) -> None:
    assert "is not a positive number" in refused(invoke("run", tiny, "--max-work", "0"))
    assert "is not a number" in refused(invoke("run", tiny, "--max-work", "lots"))
    assert "is not a size" in refused(invoke("run", tiny, "--max-memory", "12XB"))


def test_the_limits_are_in_the_help() -> None:
    for command in ("run", "compare", "experiment", "trace"):
        text = invoke(command, "--help").output
        assert "--max-work" in text and "--max-memory" in text, command
    assert f"Default: {format_amount(DEFAULT_MAX_WORK)}" in invoke("run", "--help").output


def test_the_estimate_is_close_to_the_suspects_simulated() -> None:
    for overrides in ([], ["market.schedule.quarter_end_push=3", "market.suspects_per_day=3"]):
        scenario = load_scenario(BASELINE, ["run.horizon_days=1000", *overrides])  # margin 365
        simulated = len(simulate(scenario, seed=1, replication=0).deals)
        assert simulated == pytest.approx(expected_suspects(scenario), rel=0.1)


def test_the_estimate_adds_up_scenarios_and_replications() -> None:
    a = load_scenario(BASELINE)
    b = load_scenario(BASELINE, ["market.suspects_per_day=4"])
    one = estimate_workload([a], replications=3)
    both = estimate_workload([a, b], replications=3, at_once=2)
    assert one.suspects == pytest.approx(3 * expected_suspects(a))
    assert both.suspects == pytest.approx(3 * (expected_suspects(a) + expected_suspects(b)))
    assert both.largest is b and both.per_replication == pytest.approx(expected_suspects(b))
    assert both.memory_bytes > 2 * one.replication_bytes
    # an event log and an experiment's cycle times cost memory
    assert estimate_workload([a], replications=3, event_log=True).memory_bytes > one.memory_bytes
    assert estimate_workload([a], replications=3, cycles=True).kept_bytes > one.kept_bytes
    assert not one.problems(WorkLimits(max_work=1e9, max_memory=1e12))


def test_an_account_lifecycle_adds_to_the_estimate() -> None:
    land = load_scenario(ROOT / "scenarios" / "land-and-expand.toml")
    records = simulate(land, seed=1, replication=0)
    assert expected_suspects(land) >= len(records.deals)


@pytest.mark.parametrize(
    ("text", "value"),
    [("1e9", 1e9), ("500000000", 5e8), ("1_000", 1e3), ("13,000", 13e3), ("2.5e10", 2.5e10)],
)
def test_amounts_are_read_as_written(text: str, value: float) -> None:
    assert parse_amount(text) == value


@pytest.mark.parametrize(
    ("text", "value"),
    [("16GB", 16e9), ("512 MB", 512e6), ("1.5TB", 1.5e12), ("8GiB", 8 * 2**30), ("100", 100.0)],
)
def test_sizes_are_read_as_written(text: str, value: float) -> None:
    assert parse_bytes(text) == value


def test_sizes_read_back_as_written() -> None:
    for value in (900.0, 1.5e3, 2.1e6, 3.3e9, 4e12):
        assert parse_bytes(format_bytes(value, sep="")) == pytest.approx(value, rel=1e-2)


# --- files too large ----------------------------------------------------------------------------


def test_a_huge_file_reached_through_extends_is_refused_quickly(tiny: Path) -> None:
    big = tiny.parent / "big.toml"
    big.write_text(tiny.read_text("utf-8") + "# filler\n" * (MAX_FILE_BYTES // 9 + 1), "utf-8")
    child = tiny.parent / "child.toml"
    child.write_text('extends = "big.toml"\nname = "child"\n', "utf-8")
    start = time.perf_counter()
    output = refused(invoke("validate", child))
    assert time.perf_counter() - start < 5
    assert "big.toml: too large for a scenario file: 1.0 MB, and at most 1 MB is read" in output
    # a file just under the limit is read
    big.write_text(tiny.read_text("utf-8") + "# filler\n" * (MAX_FILE_BYTES // 9 - 200), "utf-8")
    assert invoke("validate", child).exit_code == 0


def test_a_huge_experiment_file_is_refused(tmp_path: Path) -> None:
    exp = tmp_path / "exp.toml"
    exp.write_text("# filler\n" * (2 * MAX_FILE_BYTES // 9), "utf-8")
    output = refused(invoke("experiment", exp))
    assert "too large for an experiment file" in output or "too large for a" in output


# --- sweeps too large ---------------------------------------------------------------------------


def test_a_grid_of_a_million_points_is_refused_at_once(tiny: Path) -> None:
    values = ", ".join(str(v) for v in range(1000))
    exp = tiny.parent / "grid.toml"
    exp.write_text(
        f'name = "g"\nbase = "tiny.toml"\nmetrics = ["win_rate"]\n[sweep]\n'
        f'[[sweep.keys]]\nkey = "policies.wip_cap"\nvalues = [{values}]\n'
        f'[[sweep.keys]]\nkey = "market.patience_days"\nvalues = [{values}]\n',
        "utf-8",
    )
    start = time.perf_counter()
    output = refused(invoke("experiment", exp))
    assert time.perf_counter() - start < 10
    assert "sweep: the grid has 1,000 × 1,000 = 1,000,000 points; at most 10,000" in output


def test_too_many_values_of_one_key_are_refused() -> None:
    with pytest.raises(ValueError, match="at most 10000 items"):
        SweepKey.model_validate({"key": "policies.wip_cap", "values": list(range(MAX_POINTS + 1))})


def test_the_duplicate_check_is_linear() -> None:
    values = list(range(MAX_POINTS))
    start = time.perf_counter()
    SweepKey.model_validate({"key": "policies.wip_cap", "values": values})
    assert time.perf_counter() - start < 2  # a quadratic check takes many seconds here
    with pytest.raises(ValueError, match="repeated: 5"):
        SweepKey.model_validate({"key": "policies.wip_cap", "values": [*values[:100], 5]})
    variants = [{"name": f"v{i % 3000}", "set": {"policies.wip_cap": i}} for i in range(3001)]
    with pytest.raises(ValueError, match=r"variant names must differ.*\['v0'\]"):
        ExperimentSpec.model_validate(
            {"name": "e", "base": "b.toml", "metrics": ["win_rate"], "variants": variants}
        )


# --- the replication order is worked out --------------------------------------------------------


def test_jobs_are_the_pairs_of_every_batch_in_order() -> None:
    scenario = load_scenario(BASELINE)
    batches = [Replications(scenario, 3), Replications(scenario, 7, 5), Replications(scenario, 1)]
    expected = [(i, r) for i, b in enumerate(batches) for r in range(b.start, b.stop)]
    jobs = _Jobs(batches)
    assert list(jobs) == expected
    assert [jobs[k] for k in range(len(jobs))] == expected
    with pytest.raises(IndexError):
        jobs[len(jobs)]


def test_a_billion_replications_cost_nothing_before_they_run() -> None:
    scenario = load_scenario(BASELINE)
    jobs = _Jobs([Replications(scenario, 10**9), Replications(scenario, 10**9)])
    assert len(jobs) == 2 * 10**9
    assert jobs[len(jobs) - 1] == (1, 10**9 - 1)


# --- integer columns ----------------------------------------------------------------------------


def _largest(model: type, field: str, kind: str) -> float:
    """The schema's bound ``kind`` ('le' or 'max_length') on ``model.field``."""
    for item in model.model_fields[field].metadata:  # type: ignore[attr-defined]
        if hasattr(item, kind):
            return float(getattr(item, kind))
    raise AssertionError(f"{model.__name__}.{field} has no {kind}")


def test_every_narrow_column_holds_what_the_schema_allows() -> None:
    stages = _largest(Scenario, "stages", "max_length")
    group = MAX_GROUP_SIZE * _largest(ExpansionKind, "group_factor", "le")
    deals = {
        "segment": MAX_SEGMENTS - 1,
        "group_size": group,
        "outcome": len(OUTCOMES) - 1,
        "stage_reached": stages,
        "qualified": 1,
        "origin": len(ORIGINS) - 1,
        "end_cause": len(END_CAUSES) - 1,
        "stated_cause": len(STATED_CAUSES) - 1,
    }
    accounts = {
        "segment": MAX_SEGMENTS - 1,
        "hand_off_ready": 1,
        "onboarding_right": 1,
        "onboarding_late": 1,
        "partner": 1,
        "real_reason": len(END_REASONS) - 1,
        "stated_reason": len(END_REASONS) - 1,
        "change_kind": MAX_CHANGE_KINDS - 1,
        "mature": 1,
        "strategic": 1,
    }
    events = {"code": 127, "stage": stages}
    log = EventLog()
    for fields, bounds in (
        ({n: c for n, (c, _) in DEAL_FIELDS.items()}, deals),
        ({n: c for n, (c, _) in ACCOUNT_FIELDS.items()}, accounts),
        ({n: getattr(log, n).typecode for n in ("code", "stage")}, events),
    ):
        narrow = {name for name, code in fields.items() if array(code).itemsize < 4}
        assert narrow == set(bounds), "a new narrow column: say here what bounds its values"
        for name, largest in bounds.items():
            assert largest <= np.iinfo(np.dtype(fields[name])).max, name


def test_counts_past_16_bits_are_recorded() -> None:
    """A deal open for almost a hundred years, its forecast pushed daily and touched daily."""
    scenario = make_scenario(
        **{
            "run.horizon_days": 36_000.0,
            "market.suspects_per_day": 0.001,
            "buyers.no_decision.max_hazard_per_day": 0.0,
            "policies.touch_every_days": 1.0,
            "forecast.push_days": 1.0,
            "forecast.first_forecast_days": 0.0,
            "stages.0.sets_forecast": True,
            "stages.0.buyer_tasks": [{"name": "wait", "duration": 36_000.0}],
        }
    )
    cols = simulate(scenario, seed=3, replication=0).deals.columns()
    assert len(cols["deal_id"]) > 0
    assert cols["pushes"].max() > 32_767
    assert cols["touches"].max() > 32_767
    first = int(np.argmin(cols["created_at"]))
    forecast = float(cols["first_forecast_at"][first])
    assert cols["pushes"][first] == np.ceil(36_000.0 - forecast)


def test_the_default_memory_limit_follows_a_container_limit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from simsales.experiment import workload

    limit = tmp_path / "memory.max"
    monkeypatch.setattr(workload, "_CGROUP_LIMITS", (str(limit),))
    machine = workload.default_max_memory()  # no file: the machine's memory
    assert machine > 0
    limit.write_text("max\n", "ascii")  # no limit
    assert workload.default_max_memory() == machine
    limit.write_text("1000000000\n", "ascii")
    assert workload.default_max_memory() == pytest.approx(0.8e9)


def test_a_refused_run_writes_nothing(tiny: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    refused(invoke("run", tiny, "-r", "1000000000", "--out", out, "--events"))
    assert not out.exists()


@pytest.mark.parametrize(
    "overrides",
    [
        [],
        ["market.schedule.quarter_end_push=3", "market.schedule.quarter_end_days=20"],
        ["market.schedule.quarter_end_push=0.5", "market.schedule.quarter_end_days=91.25"],
        ["market.schedule.by_month=[0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 12]"],
    ],
)
def test_the_mean_rate_is_the_models_rate_averaged(overrides: list[str]) -> None:
    from simsales.experiment.workload import mean_arrival_rate
    from simsales.model.market import arrival_rate

    scenario = load_scenario(BASELINE, overrides)
    days = (np.arange(3_650) + 0.5) / 10
    expected = np.mean([arrival_rate(scenario, float(t)) for t in days])
    assert mean_arrival_rate(scenario) == pytest.approx(expected, rel=1e-12)
