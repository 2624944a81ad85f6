"""The ``simsales`` command through click's ``CliRunner``: what a user sees, files, exit codes."""

from __future__ import annotations

import csv
import json
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from simsales import __version__
from simsales.cli import main
from simsales.experiment import replications as replications_module
from simsales.experiment import run_replications
from simsales.output import (
    OutputError,
    StagedFiles,
    atomic_open,
    atomic_write_text,
    prepare_out_dir,
)
from simsales.scenario import load_scenario

WriteScenario = Callable[..., Path]


def invoke(*args: str | Path) -> Result:
    return CliRunner().invoke(main, [str(a) for a in args])


@pytest.fixture
def tiny(write_scenario: WriteScenario, minimal_scenario_toml: str) -> Path:
    """A scenario that runs in a fraction of a second."""
    return write_scenario(minimal_scenario_toml, "tiny.toml")


@pytest.fixture
def broken(write_scenario: WriteScenario, minimal_scenario_toml: str) -> Path:
    text = minimal_scenario_toml.replace("sellers = 2", "sellers = 0\nselers = 2")
    return write_scenario(text, "broken.toml")


def test_version() -> None:
    result = invoke("--version")
    assert result.exit_code == 0
    assert __version__ in result.output


# --- validate and schema ----------------------------------------------------------------------


def test_validate_ok(tiny: Path) -> None:
    result = invoke("validate", tiny)
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith(f"ok  {tiny} (tiny: 2 stages, 1 segments, 2 sellers;")


def test_validate_bad_exits_2_with_key_paths(tiny: Path, broken: Path) -> None:
    result = invoke("validate", tiny, broken)
    assert result.exit_code == 2
    assert f"ok  {tiny}" in result.stdout
    assert f"FAIL {broken}" in result.stderr
    assert f"{broken}: team.sellers: Input should be greater than or equal to 1 (got 0)" in (
        result.stderr
    )
    assert "team.selers: unknown key; did you mean 'sellers'?" in result.stderr
    assert "Traceback" not in result.output


def test_validate_with_set(tiny: Path) -> None:
    result = invoke("validate", tiny, "--set", "policies.activities_per_call=0")
    assert result.exit_code == 2
    assert "--set policies.activities_per_call=0: policies.activities_per_call" in result.stderr


def test_validate_missing_file(tmp_path: Path) -> None:
    result = invoke("validate", tmp_path / "nope.toml")
    assert result.exit_code == 2
    assert "no such file" in result.stderr


def test_schema_is_json(tmp_path: Path) -> None:
    result = invoke("schema")
    assert result.exit_code == 0
    schema = json.loads(result.stdout)
    assert "activities_per_call" in json.dumps(schema)
    assert invoke("schema", "--out", tmp_path / "s.json").exit_code == 0
    assert json.loads((tmp_path / "s.json").read_text()) == schema


# --- run: input errors (independent of the model) ---------------------------------------------


def test_run_bad_scenario_exits_2_without_traceback(broken: Path) -> None:
    result = invoke("run", broken)
    assert result.exit_code == 2
    assert result.stdout == ""
    assert f"{broken}: team.sellers:" in result.stderr
    assert "Traceback" not in result.output


def test_run_bad_set_names_the_override(tiny: Path) -> None:
    result = invoke("run", tiny, "--set", "stages.closing.p_right=1")
    assert result.exit_code == 2
    assert "--set stages.closing.p_right=1" in result.stderr
    assert "no item named 'closing'" in result.stderr


def test_run_refuses_a_non_empty_out_dir(tiny: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "keep.txt").write_text("precious")
    result = invoke("run", tiny, "--out", out)
    assert result.exit_code == 2
    assert "not empty" in result.stderr and "--force" in result.stderr
    assert sorted(p.name for p in out.iterdir()) == ["keep.txt"]


def test_run_events_need_out(tiny: Path) -> None:
    result = invoke("run", tiny, "--events")
    assert result.exit_code == 2
    assert "--events needs --out" in result.stderr


def test_run_failure_exits_1_with_a_short_message(
    tiny: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken_model(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("boom")

    monkeypatch.setattr(replications_module, "simulate", broken_model)
    monkeypatch.delenv("SIMSALES_DEBUG", raising=False)
    result = invoke("run", tiny, "--out", tmp_path / "out")
    assert result.exit_code == 1
    assert "the run failed: RuntimeError: boom" in result.stderr
    assert "Traceback" not in result.output
    assert list((tmp_path / "out").iterdir()) == []


# --- atomic output --------------------------------------------------------------------------


def test_atomic_open_leaves_the_old_file_on_error(tmp_path: Path) -> None:
    target = tmp_path / "summary.json"
    target.write_text("old")
    with pytest.raises(KeyboardInterrupt), atomic_open(target) as fh:
        fh.write("half")
        raise KeyboardInterrupt
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["summary.json"]
    atomic_write_text(target, "new")
    assert target.read_text() == "new"


def test_staged_files_appear_together_or_not_at_all(tmp_path: Path) -> None:
    with StagedFiles(tmp_path) as staged:
        staged.write_text("a.txt", "a")
        staged.open("b.txt").write("b")
        assert sorted(p.name for p in tmp_path.iterdir() if not p.name.startswith(".")) == []
    assert list(tmp_path.iterdir()) == []  # left without commit: discarded
    with StagedFiles(tmp_path) as staged:
        staged.write_text("a.txt", "a")
        staged.commit()
    assert [p.read_text() for p in tmp_path.iterdir()] == ["a"]


def test_prepare_out_dir(tmp_path: Path) -> None:
    assert prepare_out_dir(tmp_path / "new" / "deep", force=False).is_dir()
    (tmp_path / "file").write_text("x")
    with pytest.raises(OutputError, match="not a folder"):
        prepare_out_dir(tmp_path / "file", force=True)
    with pytest.raises(OutputError, match="not empty"):
        prepare_out_dir(tmp_path, force=False)
    assert prepare_out_dir(tmp_path, force=True) == tmp_path


# --- run_replications: order and determinism, with a stand-in model ---------------------------


def test_replications_come_back_in_order_whatever_finishes_first(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def slow_first(scenario: Any, *, seed: int, replication: int, event_log: bool) -> Any:
        time.sleep(0.02 * (5 - replication))  # later replications finish first
        return {"seed": seed, "replication": replication, "thread": threading.get_ident()}

    monkeypatch.setattr(replications_module, "simulate", slow_first)
    monkeypatch.setattr(
        replications_module,
        "metrics_from_records",
        lambda rec: {"r": float(rec["replication"]), "seed": float(rec["seed"])},
    )
    seen: list[int] = []
    done: list[int] = []
    with ThreadPoolExecutor(max_workers=4) as pool:
        parallel = run_replications(
            None,  # type: ignore[arg-type]
            replications=6,
            seed=3,
            jobs=4,
            executor=pool,
            on_result=lambda r, records, metrics: seen.append(r),
            progress=done.append,
        )
    serial = run_replications(None, replications=6, seed=3)  # type: ignore[arg-type]
    assert parallel == serial == [{"r": float(r), "seed": 3.0} for r in range(6)]
    assert seen == list(range(6))
    assert done == list(range(1, 7))


def test_replications_reject_bad_counts() -> None:
    with pytest.raises(ValueError, match="replications"):
        run_replications(None, replications=0, seed=1)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="jobs"):
        run_replications(None, replications=1, seed=1, jobs=0)  # type: ignore[arg-type]


# --- run with the model -----------------------------------------------------------------------


def test_run_prints_a_table(tiny: Path) -> None:
    result = invoke("run", tiny, "--replications", "2", "--seed", "5")
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "tiny: 2 replications, seed 5, horizon 120 days" in out
    assert "counted: suspects arriving from day 20 to day 120 (warm-up 20 days" in out
    for word in ("pipeline", "win_rate", "cycle time", "cycle_median_won_days", "outreach", "±"):
        assert word in out


def test_run_json_is_the_only_thing_on_stdout(tiny: Path) -> None:
    result = invoke("run", tiny, "--format", "json", "-r", "3")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert (report["scenario"], report["seed"], report["replications"]) == ("tiny", 7, 3)
    won = report["metrics"]["win_rate"]
    assert {"mean", "half_width", "low", "high", "n"} <= set(won)
    assert won["n"] <= 3


def test_run_is_the_same_serial_and_parallel(tiny: Path) -> None:
    serial = invoke("run", tiny, "--format", "json", "-r", "3", "--jobs", "1", "--no-cache")
    parallel = invoke("run", tiny, "--format", "json", "-r", "3", "--jobs", "2", "--no-cache")
    assert serial.exit_code == parallel.exit_code == 0, serial.output + parallel.output
    assert json.loads(serial.stdout) == json.loads(parallel.stdout)


def test_run_set_changes_the_run(tiny: Path) -> None:
    plain = invoke("run", tiny, "--format", "json", "-r", "2")
    result = invoke("run", tiny, "--format", "json", "-r", "2", "--set", "team.sellers=1")
    assert result.exit_code == plain.exit_code == 0, result.output
    metrics = json.loads(result.stdout)["metrics"]
    assert metrics != json.loads(plain.stdout)["metrics"]
    assert metrics["wip_per_seller"]["mean"] == pytest.approx(metrics["wip_mean"]["mean"])


def test_deal_tables_are_identical_serial_and_parallel(tiny: Path, tmp_path: Path) -> None:
    for jobs in ("1", "2"):
        out = tmp_path / f"jobs{jobs}"
        result = invoke("run", tiny, "-r3", "--jobs", jobs, "--out", out, "--events", "--no-cache")
        assert result.exit_code == 0, result.output
    for name in ("deals.csv", "events.csv", "replications.csv"):
        serial = (tmp_path / "jobs1" / name).read_bytes()
        assert serial == (tmp_path / "jobs2" / name).read_bytes(), name
        assert serial.count(b"\n") > 3


def test_run_writes_its_files(tiny: Path, tmp_path: Path) -> None:
    out = tmp_path / "results"
    result = invoke("run", tiny, "-r", "2", "--out", out, "--events", "--set", "run.seed=11")
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in out.iterdir()) == [
        "deals.csv",
        "events.csv",
        "figures",
        "replications.csv",
        "report.html",
        "summary.json",
    ]
    summary = json.loads((out / "summary.json").read_text())
    assert summary["seed"] == 11 and summary["replications"] == 2
    assert summary["resolved_scenario"]["run"]["seed"] == 11
    assert summary["resolved_scenario"]["stages"][1]["name"] == "discovery"
    assert summary["simsales_version"] == __version__
    assert "--set=run.seed=11" in summary["command"]
    with (out / "replications.csv").open() as fh:
        reps = list(csv.DictReader(fh))
    assert [row["replication"] for row in reps] == ["0", "1"]
    assert "win_rate" in reps[0]
    with (out / "deals.csv").open() as fh:
        deals = list(csv.DictReader(fh))
    assert deals and {row["replication"] for row in deals} <= {"0", "1"}
    with (out / "events.csv").open() as fh:
        header = next(csv.reader(fh))
    assert header[:6] == ["case_id", "activity", "timestamp", "resource", "role", "lifecycle"]


def test_run_force_overwrites_and_removes_stale_files(tiny: Path, tmp_path: Path) -> None:
    out = tmp_path / "results"
    assert invoke("run", tiny, "-r", "2", "--out", out, "--events").exit_code == 0
    refused = invoke("run", tiny, "-r", "2", "--out", out)
    assert refused.exit_code == 2
    forced = invoke("run", tiny, "-r", "3", "--out", out, "--force")
    assert forced.exit_code == 0, forced.output
    assert json.loads((out / "summary.json").read_text())["replications"] == 3
    assert not (out / "events.csv").exists()  # from the earlier run, not this one
    assert not [p for p in out.iterdir() if p.name.startswith(".")]  # no temporary files


def test_ctrl_c_exits_130_and_writes_nothing(
    tiny: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = replications_module.simulate

    def interrupted(scenario: Any, *, seed: int, replication: int, event_log: bool) -> Any:
        if replication == 1:
            raise KeyboardInterrupt
        return real(scenario, seed=seed, replication=replication, event_log=event_log)

    monkeypatch.setattr(replications_module, "simulate", interrupted)
    out = tmp_path / "out"
    result = invoke("run", tiny, "-r", "3", "--out", out)
    assert result.exit_code == 130
    assert "interrupted; no output files were written" in result.stderr
    assert list(out.iterdir()) == []


def test_summary_scenario_round_trips(tiny: Path, tmp_path: Path) -> None:
    """The resolved scenario in summary.json reproduces the run."""
    out = tmp_path / "results"
    assert invoke("run", tiny, "--out", out).exit_code == 0
    resolved = json.loads((out / "summary.json").read_text())["resolved_scenario"]
    assert load_scenario(tiny).model_dump(mode="json", by_alias=True) == resolved


def test_scheduler_without_the_dask_extra_says_what_to_install(
    tiny: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "distributed", None)  # as if not installed
    result = invoke("run", tiny, "--scheduler", "tcp://127.0.0.1:1")
    assert result.exit_code == 1
    assert "install simsales[dask]" in result.stderr
