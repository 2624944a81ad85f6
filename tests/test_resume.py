"""The run store: an interrupted experiment resumes, computing only what was missing, and ends
with exactly an uninterrupted run's results (issue 3, "resume after an interruption").

Every test has its own empty store (``SIMSALES_CACHE_DIR``, set by ``conftest.py``).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from concurrent.futures import Executor, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from simsales.cli import main
from simsales.experiment import compare_scenarios, load_experiment, run_experiment
from simsales.experiment import replications as replications_module
from simsales.experiment import store as store_module
from simsales.experiment.replications import Replications, run_replications, run_scenarios
from simsales.experiment.store import RunStore, default_cache_dir
from simsales.scenario import Scenario, load_scenario

ROOT = Path(__file__).resolve().parent.parent


def invoke(*args: str | Path) -> Result:
    return CliRunner().invoke(main, [str(a) for a in args])


def entries(folder: Path) -> list[Path]:
    return sorted(folder.glob("*/*.npz"))


@pytest.fixture
def tiny(write_scenario: Callable[..., Path], minimal_scenario_toml: str) -> Scenario:
    return load_scenario(write_scenario(minimal_scenario_toml, "tiny.toml"))


@pytest.fixture
def simulations(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The replications simulated in this process (serial runs), in order."""
    calls: list[int] = []
    real = replications_module.simulate

    def counting(scenario: Scenario, *, seed: int, replication: int, event_log: bool) -> Any:
        calls.append(replication)
        return real(scenario, seed=seed, replication=replication, event_log=event_log)

    monkeypatch.setattr(replications_module, "simulate", counting)
    return calls


def stop_after(k: int) -> Callable[[int], None]:
    """A progress callback that interrupts the run, as Ctrl-C would, after k replications."""

    def progress(done: int) -> None:
        if done >= k:
            raise KeyboardInterrupt

    return progress


# --- the store on its own ---------------------------------------------------------------------


def test_default_folder_follows_the_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("SIMSALES_CACHE_DIR", str(tmp_path / "mine"))
    assert default_cache_dir() == tmp_path / "mine"
    monkeypatch.delenv("SIMSALES_CACHE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert default_cache_dir() == tmp_path / "xdg" / "simsales" / "runs"
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert default_cache_dir() == tmp_path / "home" / ".cache" / "simsales" / "runs"


def test_key_changes_with_what_changes_the_replication(tiny: Scenario, tmp_path: Path) -> None:
    store = RunStore(tmp_path)
    key = store.key(tiny, seed=1, replication=0, kind="metrics")
    other_value = tiny.model_copy(
        update={"team": tiny.team.model_copy(update={"sellers": tiny.team.sellers + 1})}
    )
    assert store.key(other_value, seed=1, replication=0, kind="metrics") != key
    assert store.key(tiny, seed=2, replication=0, kind="metrics") != key
    assert store.key(tiny, seed=1, replication=1, kind="metrics") != key
    assert store.key(tiny, seed=1, replication=0, kind="records") != key
    # the number of replications and the file's own seed do not change replication r
    run = tiny.run.model_copy(update={"replications": 99, "seed": 5})
    assert store.key(
        tiny.model_copy(update={"run": run}), seed=1, replication=0, kind="metrics"
    ) == (key)


def test_a_changed_scenario_or_seed_misses_the_store(
    tiny: Scenario, tmp_path: Path, simulations: list[int]
) -> None:
    store = RunStore(tmp_path)
    run_replications(tiny, replications=3, seed=1, store=store)
    assert simulations == [0, 1, 2]
    run_replications(tiny, replications=3, seed=1, store=store)
    assert simulations == [0, 1, 2] and store.reused == 3
    run_replications(tiny, replications=3, seed=2, store=store)
    assert simulations == [0, 1, 2] * 2
    longer = tiny.model_copy(update={"run": tiny.run.model_copy(update={"horizon_days": 130})})
    run_replications(longer, replications=3, seed=1, store=store)
    assert simulations == [0, 1, 2] * 3
    assert store.reused == 3 and store.computed == 9


def test_a_corrupt_entry_is_recomputed_and_rewritten(
    tiny: Scenario, tmp_path: Path, simulations: list[int]
) -> None:
    store = RunStore(tmp_path)
    first = run_replications(tiny, replications=3, seed=1, store=store)
    damaged = store.path(store.key(tiny, seed=1, replication=1, kind="metrics"))
    damaged.write_bytes(damaged.read_bytes()[:40])  # a truncated file, as a full disk leaves
    swapped = store.path(store.key(tiny, seed=1, replication=2, kind="metrics"))
    swapped.write_bytes(
        store.path(store.key(tiny, seed=1, replication=0, kind="metrics")).read_bytes()
    )
    again = run_replications(tiny, replications=3, seed=1, store=store)
    assert json.dumps(again) == json.dumps(first)
    assert simulations == [0, 1, 2, 1, 2]  # the damaged and the foreign entry, computed again
    fresh = RunStore(tmp_path)
    run_replications(tiny, replications=3, seed=1, store=fresh)
    assert fresh.reused == 3 and simulations == [0, 1, 2, 1, 2]


def test_an_unwritable_store_does_not_fail_the_run(tiny: Scenario, tmp_path: Path) -> None:
    blocked = tmp_path / "file"
    blocked.write_text("not a folder")
    store = RunStore(blocked)
    plain = run_replications(tiny, replications=2, seed=1)
    stored = run_replications(tiny, replications=2, seed=1, store=store)
    assert json.dumps(stored) == json.dumps(plain)
    assert store.problem is not None and "cannot write" in store.problem


# --- interrupted, then resumed ----------------------------------------------------------------


def test_interrupted_replications_resume_serial_and_parallel(
    tiny: Scenario, tmp_path: Path, simulations: list[int]
) -> None:
    whole = run_replications(tiny, replications=6, seed=3, keep_records=False)
    store = RunStore(tmp_path)
    with pytest.raises(KeyboardInterrupt):
        run_replications(tiny, replications=6, seed=3, store=store, progress=stop_after(2))
    assert len(entries(tmp_path)) == 2
    simulations.clear()
    resumed = run_replications(tiny, replications=6, seed=3, store=RunStore(tmp_path))
    assert simulations == [2, 3, 4, 5]
    assert json.dumps(resumed) == json.dumps(whole)

    # on two processes: whatever had finished is kept, the rest is computed there
    other = RunStore(tmp_path / "parallel")
    with pytest.raises(KeyboardInterrupt):
        run_replications(tiny, replications=6, seed=3, jobs=2, store=other, progress=stop_after(3))
    kept = len(entries(tmp_path / "parallel"))
    assert kept >= 3
    again = RunStore(tmp_path / "parallel")
    assert json.dumps(run_replications(tiny, replications=6, seed=3, jobs=2, store=again)) == (
        json.dumps(whole)
    )
    assert again.reused == kept and again.computed == 6 - kept


def test_an_interrupted_experiment_resumes_to_identical_results(
    folder: Path, simulations: list[int]
) -> None:
    exp = load_experiment(folder / "exp.toml")
    whole = run_experiment(exp)
    simulations.clear()
    store = RunStore(folder / "store")
    with pytest.raises(KeyboardInterrupt):  # Ctrl-C in the middle of the second scenario
        run_experiment(exp, store=store, progress=stop_after(4))
    assert simulations == [0, 1, 2, 0]
    simulations.clear()
    resumed_store = RunStore(folder / "store")
    resumed = run_experiment(exp, store=resumed_store)
    assert resumed_store.reused == 4 and len(simulations) == 3 * 3 - 4
    assert json.dumps(resumed.to_dict(scenarios=True)) == json.dumps(whole.to_dict(scenarios=True))
    for name, sample in whole.cycles.items():
        got = resumed.cycles[name]
        assert sample.days.tobytes() == got.days.tobytes()
        assert sample.outcome.tobytes() == got.outcome.tobytes()
        assert sample.censored.tobytes() == got.censored.tobytes()
    # the experiment keeps cycle samples: a metrics-only comparison does not take them for its own
    simulations.clear()
    compare_scenarios(exp.base, exp.scenarios, replications=3, seed=exp.seed, store=resumed_store)
    assert len(simulations) == 9


def test_auto_replications_reuse_the_pilot(folder: Path, simulations: list[int]) -> None:
    exp = load_experiment(folder / "exp.toml")
    store = RunStore(folder / "store")
    fixed = run_experiment(exp, store=store)  # 3 replications of each scenario
    simulations.clear()
    auto = run_experiment(exp, auto=True, store=store)
    assert store.reused == 9
    assert len(simulations) == 3 * (auto.comparison.replications - 3)
    plain = run_experiment(load_experiment(folder / "exp.toml"), auto=True)
    assert json.dumps(auto.to_dict()) == json.dumps(plain.to_dict())
    assert fixed.comparison.replications == 3


@pytest.fixture
def folder(tmp_path: Path, minimal_scenario_toml: str) -> Path:
    (tmp_path / "tiny.toml").write_text(minimal_scenario_toml, "utf-8")
    (tmp_path / "exp.toml").write_text(
        'name = "exp"\nbase = "tiny.toml"\nmetrics = ["win_rate"]\nreplications = 3\n'
        "[precision]\nrelative = 0.5\n"
        '[sweep]\n[[sweep.keys]]\nkey = "policies.activities_per_call"\nvalues = [3, 4]\n',
        "utf-8",
    )
    return tmp_path


# --- the CLI ----------------------------------------------------------------------------------


def test_cli_says_what_it_reused_and_no_cache_writes_nothing(
    write_scenario: Callable[..., Path], minimal_scenario_toml: str, tmp_path: Path
) -> None:
    tiny = write_scenario(minimal_scenario_toml, "tiny.toml")
    store = Path(os.environ["SIMSALES_CACHE_DIR"])
    plain = invoke("run", tiny, "-r", "3", "--format", "json", "--no-cache")
    assert plain.exit_code == 0, plain.output
    assert entries(store) == [] and "reused" not in plain.stderr

    first = invoke("run", tiny, "-r", "3", "--out", tmp_path / "a", "--events")
    assert first.exit_code == 0, first.output
    assert len(entries(store)) == 3 and "reused" not in first.stderr
    again = invoke("run", tiny, "-r", "3", "--out", tmp_path / "b", "--events")
    assert again.exit_code == 0, again.output
    assert f"3 of 3 replications reused from the run store {store}" in again.stderr
    for name in ("deals.csv", "events.csv", "replications.csv"):  # served records, same files
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()

    shown = invoke("run", tiny, "-r", "3", "--format", "json")  # metrics only: another entry
    assert "reused" not in shown.stderr and json.loads(shown.stdout) == json.loads(plain.stdout)

    mine = tmp_path / "mine"
    other = invoke("run", tiny, "-r", "2", "--format", "json", "--cache-dir", mine)
    assert other.exit_code == 0 and len(entries(mine)) == 2
    both = invoke("run", tiny, "--cache-dir", mine, "--no-cache")
    assert both.exit_code == 2 and "exclude each other" in both.stderr


def test_cli_experiment_resumes_with_the_reused_line(folder: Path) -> None:
    first = invoke("experiment", folder / "exp.toml", "-r", "2", "--format", "json")
    assert first.exit_code == 0, first.output
    more = invoke("experiment", folder / "exp.toml", "-r", "4", "--format", "json")
    assert more.exit_code == 0, more.output
    assert "6 of 12 replications reused from the run store" in more.stderr
    fresh = invoke("experiment", folder / "exp.toml", "-r", "4", "--format", "json", "--no-cache")
    assert json.loads(more.stdout) == json.loads(fresh.stdout)


def test_compare_killed_with_sigkill_resumes(tmp_path: Path) -> None:
    """A real ``simsales compare`` killed mid-way (no chance to clean up), then run again."""
    base = tmp_path / "base.toml"
    base.write_text(
        f'extends = "{ROOT / "scenarios" / "baseline.toml"}"\nname = "base"\n'
        "[run]\nhorizon_days = 300\nwarmup_days = 50\ncohort_margin_days = 30\n",
        "utf-8",
    )
    variant = tmp_path / "calls4.toml"
    variant.write_text(
        'extends = "base.toml"\nname = "calls4"\n[policies]\nactivities_per_call = 4\n', "utf-8"
    )
    store = Path(os.environ["SIMSALES_CACHE_DIR"])
    args = ["compare", str(base), str(variant), "-r", "6", "--format", "json"]
    env = os.environ | {"PYTHONPATH": str(ROOT)}
    child = subprocess.Popen(
        [sys.executable, "-m", "simsales.cli", *args],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 120
        while len(entries(store)) < 3 and child.poll() is None and time.monotonic() < deadline:
            time.sleep(0.02)
        child.send_signal(signal.SIGKILL)
    finally:
        child.wait()
    assert child.returncode == -signal.SIGKILL, "the comparison ended before it could be killed"
    kept = len(entries(store))
    assert 3 <= kept < 12

    store_module._code_fingerprint.cache_clear()  # as the child saw the source, just now
    resumed = invoke(*args)
    assert resumed.exit_code == 0, resumed.output
    assert f"{kept} of 12 replications reused from the run store" in resumed.stderr
    assert len(entries(store)) == 12
    whole = invoke(*args, "--no-cache")
    assert json.loads(resumed.stdout) == json.loads(whole.stdout)


class _Remote(Executor):
    """Threads that pass for a cluster: ``run_scenarios`` sends them replications in chunks."""

    def __init__(self) -> None:
        self._pool = ThreadPoolExecutor(max_workers=2)
        self.tasks = 0

    def submit(self, fn: Any, /, *args: Any, **kwargs: Any) -> Any:
        self.tasks += 1
        return self._pool.submit(fn, *args, **kwargs)

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        self._pool.shutdown(wait=wait, cancel_futures=cancel_futures)


def test_chunks_and_the_store_mixed_give_the_serial_results(tiny: Scenario, tmp_path: Path) -> None:
    other = tiny.model_copy(
        update={"name": "other", "team": tiny.team.model_copy(update={"sellers": 3})}
    )
    batches = [Replications(tiny, 30), Replications(other, 20, 2)]
    seen: list[tuple[int, int]] = []
    serial = run_scenarios(batches, seed=5, on_result=lambda b, r, _rec, _m: seen.append((b, r)))
    assert seen == [(0, r) for r in range(30)] + [(1, r) for r in range(2, 20)]
    store = RunStore(tmp_path)
    for r in (1, 2, 6):  # some in the store: chunks stop at them
        run_replications(tiny, replications=r + 1, start=r, seed=5, store=store)
    remote = _Remote()
    seen.clear()
    chunked = run_scenarios(
        batches,
        seed=5,
        executor=remote,
        store=store,
        keep_records=False,  # metrics only, as the store holds them
        on_result=lambda b, r, _rec, _m: seen.append((b, r)),
    )
    remote.shutdown()
    assert json.dumps(chunked) == json.dumps(serial)
    assert seen == [(0, r) for r in range(30)] + [(1, r) for r in range(2, 20)]
    assert store.reused == 3 and remote.tasks < 48 - 3  # chunks, smaller towards the end


def test_a_failed_run_says_what_it_kept_and_the_rerun_resumes(
    write_scenario: Callable[..., Path],
    minimal_scenario_toml: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    tiny = write_scenario(minimal_scenario_toml, "tiny.toml")
    real = replications_module.simulate

    def lost_at_2(scenario: Scenario, *, seed: int, replication: int, event_log: bool) -> Any:
        if replication == 2:
            raise ConnectionError("worker lost")
        return real(scenario, seed=seed, replication=replication, event_log=event_log)

    monkeypatch.setattr(replications_module, "simulate", lost_at_2)
    failed = invoke("run", tiny, "-r", "4", "--format", "json")
    assert failed.exit_code == 1
    assert "worker lost; 2 finished replications are kept in the run store" in failed.stderr
    monkeypatch.setattr(replications_module, "simulate", real)
    again = invoke("run", tiny, "-r", "4", "--format", "json")
    assert again.exit_code == 0 and "2 of 4 replications reused" in again.stderr
    whole = invoke("run", tiny, "-r", "4", "--format", "json", "--no-cache")
    assert json.loads(again.stdout) == json.loads(whole.stdout)
