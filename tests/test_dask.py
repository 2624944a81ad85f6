"""The Dask path (``--scheduler``, the extra ``simsales[dask]``) gives the local path's numbers.

One ``LocalCluster`` on loopback (two worker processes) serves the whole module; without
``distributed`` installed the module is skipped.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

distributed = pytest.importorskip("distributed")

from simsales.cli import main  # noqa: E402
from simsales.experiment import cluster as cluster_module  # noqa: E402
from simsales.experiment import (  # noqa: E402
    compare_scenarios,
    load_experiment,
    run_experiment,
    run_replications,
)
from simsales.experiment.cluster import ClusterError, dask_executor  # noqa: E402
from simsales.scenario import Scenario, load_scenario  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
SHORT = ["run.horizon_days=250", "run.warmup_days=50", "run.cohort_margin_days=0"]
#: Nothing listens on port 1 of loopback.
UNREACHABLE = "tcp://127.0.0.1:1"


@pytest.fixture(scope="module")
def scheduler() -> Iterator[str]:
    """The address of a LocalCluster of two single-threaded worker processes on loopback."""
    with distributed.LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=True,
        dashboard_address=None,
        host="127.0.0.1",
    ) as cluster:
        yield cluster.scheduler_address


def short(*overrides: str) -> Scenario:
    return load_scenario(ROOT / "scenarios" / "baseline.toml", [*SHORT, *overrides])


def invoke(*args: str | Path) -> Result:
    return CliRunner().invoke(main, [str(a) for a in args])


def test_replications_on_dask_equal_serial(scheduler: str) -> None:
    scenario = short()
    serial_records: list[tuple[int, Any]] = []
    dask_records: list[tuple[int, Any]] = []
    serial = run_replications(
        scenario,
        replications=4,
        seed=3,
        on_result=lambda r, records, _m: serial_records.append((r, records)),
    )
    with dask_executor(scheduler) as executor:
        assert cluster_module.executor_threads(executor) == 2
        done: list[int] = []
        on_dask = run_replications(
            scenario,
            replications=4,
            seed=3,
            jobs=2,
            executor=executor,
            progress=done.append,
            on_result=lambda r, records, _m: dask_records.append((r, records)),
        )
    assert json.dumps(on_dask) == json.dumps(serial)
    assert done == [1, 2, 3, 4]
    assert [r for r, _ in dask_records] == [0, 1, 2, 3]
    for (_, a), (_, b) in zip(serial_records, dask_records, strict=True):
        assert len(a.deals) == len(b.deals)


def test_comparison_and_experiment_on_dask_equal_serial(
    scheduler: str, tmp_path: Path, minimal_scenario_toml: str
) -> None:
    base = short()
    variant = short("name=v", "policies.activities_per_call=3")
    serial = compare_scenarios(base, [variant], replications=3, seed=4)
    with dask_executor(scheduler) as executor:
        on_dask = compare_scenarios(base, [variant], replications=3, seed=4, executor=executor)
    assert json.dumps(on_dask.to_dict()) == json.dumps(serial.to_dict())
    assert json.dumps(on_dask.per_replication) == json.dumps(serial.per_replication)

    (tmp_path / "tiny.toml").write_text(minimal_scenario_toml, "utf-8")
    (tmp_path / "exp.toml").write_text(
        'name = "exp"\nbase = "tiny.toml"\nmetrics = ["win_rate"]\nreplications = 2\n'
        '[sweep]\n[[sweep.keys]]\nkey = "policies.activities_per_call"\nvalues = [2, 3]\n',
        "utf-8",
    )
    spec = load_experiment(tmp_path / "exp.toml")
    local = run_experiment(spec)
    with dask_executor(scheduler) as executor:
        remote = run_experiment(spec, executor=executor)
    assert json.dumps(remote.to_dict()) == json.dumps(local.to_dict())
    for name, sample in local.cycles.items():
        assert sample.days.tolist() == remote.cycles[name].days.tolist()


def test_cli_run_and_compare_with_scheduler_equal_local(
    scheduler: str, write_scenario: Any, minimal_scenario_toml: str
) -> None:
    tiny = write_scenario(minimal_scenario_toml, "tiny.toml")
    serial = invoke("run", tiny, "-r", "3", "--format", "json", "--no-cache")
    remote = invoke(
        "run", tiny, "-r", "3", "--format=json", "--no-cache", f"--scheduler={scheduler}"
    )
    assert serial.exit_code == remote.exit_code == 0, serial.output + remote.output
    assert json.loads(remote.stdout) == json.loads(serial.stdout)

    other = write_scenario(minimal_scenario_toml.replace('"tiny"', '"other"'), "other.toml")
    serial = invoke("compare", tiny, other, "-r", "2", "--format", "json", "--no-cache")
    remote = invoke(
        "compare", tiny, other, "-r2", "--format=json", "--no-cache", "--scheduler", scheduler
    )
    assert serial.exit_code == remote.exit_code == 0, serial.output + remote.output
    assert json.loads(remote.stdout) == json.loads(serial.stdout)


def test_cli_scheduler_and_jobs_exclude_each_other(
    write_scenario: Any, minimal_scenario_toml: str
) -> None:
    tiny = write_scenario(minimal_scenario_toml, "tiny.toml")
    result = invoke("run", tiny, "--jobs", "2", "--scheduler", UNREACHABLE)
    assert result.exit_code == 2
    assert "--scheduler and --jobs exclude each other" in result.stderr


def test_unreachable_scheduler_fails_quickly_and_clearly(
    write_scenario: Any, minimal_scenario_toml: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(cluster_module, "CONNECT_TIMEOUT", 1.0)
    tiny = write_scenario(minimal_scenario_toml, "tiny.toml")
    began = time.monotonic()
    result = invoke("run", tiny, "--scheduler", UNREACHABLE)
    assert time.monotonic() - began < 10
    assert result.exit_code == 1
    assert f"error: cannot reach the Dask scheduler at {UNREACHABLE}" in result.stderr
    with (
        pytest.raises(ClusterError, match="not a Dask scheduler address"),
        dask_executor("nonsense://127.0.0.1:1"),
    ):
        pass


def test_workers_must_run_this_simsales_version(
    scheduler: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    with dask_executor(scheduler):  # the workers run this checkout: accepted
        pass
    monkeypatch.setattr(cluster_module, "__version__", "0.0.0-elsewhere")
    with (
        pytest.raises(ClusterError, match=r"must run simsales 0\.0\.0-elsewhere, as here: .* has "),
        dask_executor(scheduler),
    ):
        pass
