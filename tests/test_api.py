"""The library API: requests in, results out, the same numbers and files as the commands."""

from __future__ import annotations

import ast
import inspect
import json
import sys
from collections.abc import Iterator
from pathlib import Path

import click
import numpy as np
import pytest
from click.testing import CliRunner

import simsales
from simsales import api
from simsales.cli import main
from simsales.model.records import OUTCOMES

pd = pytest.importorskip("pandas")

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def tiny(tmp_path: Path, minimal_scenario_toml: str) -> Path:
    path = tmp_path / "tiny.toml"
    path.write_text(minimal_scenario_toml, "utf-8")
    return path


@pytest.fixture
def fast(tmp_path: Path, minimal_scenario_toml: str) -> Path:
    text = minimal_scenario_toml.replace('name = "tiny"', 'name = "fast"')
    path = tmp_path / "fast.toml"
    path.write_text(text + "\n[policies]\nactivities_per_call = 3\n", "utf-8")
    return path


def test_a_run_gives_its_deals_as_a_typed_frame(tiny: Path) -> None:
    result = simsales.run(tiny, replications=2)
    deals = result.deals
    assert len(deals) == sum(len(t) for t in result.deal_tables or ())
    assert list(deals["replication"].unique()) == [0, 1]
    assert list(deals["outcome"].cat.categories) == list(OUTCOMES)
    assert list(deals["segment"].cat.categories) == ["mid"]
    stage = deals["stage_reached"]
    assert stage.cat.ordered and list(stage.cat.categories) == [
        "suspect pool",
        "outreach",
        "discovery",
    ]
    # the 2-D stage entry column, one column per stage
    assert {"entered_outreach", "entered_discovery"} <= set(deals.columns)
    assert "stage_entered" not in deals.columns
    assert deals["opportunity"].dtype == bool and deals["counted"].dtype == bool
    # the frame agrees with the table it came from
    first = result.deal_tables[0] if result.deal_tables else None
    assert first is not None
    head = deals[deals["replication"] == 0]
    assert head["outcome"].astype(str).tolist() == first.outcome_names.tolist()
    np.testing.assert_array_equal(head["entered_discovery"], first["stage_entered"][:, 1])


def test_a_run_gives_metrics_and_replications_and_the_cli_numbers(
    tiny: Path, tmp_path: Path
) -> None:
    result = api.run(api.run_request(tiny, replications=2, keep_deals=False))
    metrics = result.to_pandas()
    assert metrics.loc["win_rate", "unit"] == "share"
    assert metrics.loc["win_rate", "better"] == "higher"
    assert metrics.loc["win_rate", "mean"] == result.summaries["win_rate"].mean
    reps = result.replications
    assert len(reps) == 2 and "win_rate" in reps.columns
    with pytest.raises(ValueError, match="keep_deals"):
        _ = result.deals
    out = tmp_path / "cli"
    ran = CliRunner().invoke(main, ["run", str(tiny), "-r", "2", "--out", str(out)])
    assert ran.exit_code == 0, ran.output
    summary = json.loads((out / "summary.json").read_text("utf-8"))
    for name, found in summary["metrics"].items():
        expected = result.summaries[name].mean
        assert found["mean"] == expected or (found["mean"] is None and np.isnan(expected))


def test_a_library_run_writes_what_the_command_writes(tiny: Path, tmp_path: Path) -> None:
    lib, cli = tmp_path / "lib", tmp_path / "cli"
    result = simsales.run(tiny, replications=2, out=lib, figures=False)
    ran = CliRunner().invoke(main, ["run", str(tiny), "-r", "2", "--out", str(cli), "--no-figures"])
    assert ran.exit_code == 0, ran.output
    assert sorted(result.written) == sorted(p.name for p in cli.iterdir())
    for name in ("deals.csv", "replications.csv"):
        assert (lib / name).read_bytes() == (cli / name).read_bytes()
    summary = json.loads((lib / "summary.json").read_text("utf-8"))
    assert summary["command"].startswith(f"simsales run {tiny} --replications=2 --seed=7")
    assert "<h1>tiny</h1>" in (lib / "report.html").read_text("utf-8")


def test_a_comparison_as_frames_with_its_answer(tiny: Path, fast: Path) -> None:
    result = simsales.compare(tiny, fast, replications=2)
    effects = result.to_pandas()
    assert list(effects["metric"].unique()) == list(result.shown)
    assert set(effects["variant"]) == {"fast"}
    row = effects[effects["metric"] == "calls_per_opportunity"].iloc[0]
    diff = result.comparison.metrics["calls_per_opportunity"].differences["fast"]
    assert row["difference"] == diff.mean and row["low"] == diff.low
    assert bool(row["distinguishable"]) == diff.distinguishable
    assert set(result.metrics["scenario"]) == {"tiny", "fast"}
    assert len(result.replications) == 4
    (finding,) = result.answer.findings
    assert [e.metric.name for e in finding.effects] == [
        "cycle_median_won_days",
        "no_decision_rate",
    ]
    page = result._repr_html_()
    assert "fast: time to a win" in page and "<table>" in page


def test_an_experiment_through_the_library(tmp_path: Path, tiny: Path) -> None:
    exp = tmp_path / "exp.toml"
    exp.write_text(
        'name = "exp"\nbase = "tiny.toml"\nmetrics = ["win_rate"]\nreplications = 2\n'
        '[sweep]\n[[sweep.keys]]\nkey = "policies.activities_per_call"\nvalues = [2, 3]\n',
        "utf-8",
    )
    result = api.experiment(exp, seed=11)
    assert result.comparison.seed == 11
    assert "--seed=11" in result.request.command
    assert list(result.to_pandas()["variant"]) == ["activities_per_call=3"]
    assert list(result.figures()) == [
        "differences",
        "tradeoff",
        "sweep_win_rate",
        "outcome_shares",
        "funnel",
        "time_in_stage",
        "cycle_times",
    ]


def test_bad_requests_raise_errors_meant_for_people(tiny: Path, fast: Path, tmp_path: Path) -> None:
    broken = tmp_path / "broken.toml"
    broken.write_text(tiny.read_text("utf-8").replace("sellers = 2", "sellers = 0"), "utf-8")
    with pytest.raises(api.LoadError) as err:
        simsales.run(broken)
    ((file, problem),) = err.value.failures
    assert file == str(broken) and "team.sellers" in str(problem.problems[0])
    with pytest.raises(api.RequestError, match="unknown metric 'win_rat'; did you mean"):
        simsales.compare(tiny, fast, metrics=["win_rat"])
    with pytest.raises(api.RequestError, match="too large to start"):
        simsales.run(tiny, replications=10**9)
    with pytest.raises(api.RequestError, match="both named 'tiny'"):
        simsales.compare(tiny, tiny)
    with pytest.raises(TypeError, match="options come with a source"):
        api.run(api.run_request(tiny), replications=2)


def test_pandas_missing_says_how_to_install_it(tiny: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    result = simsales.run(tiny, replications=1)
    monkeypatch.setitem(sys.modules, "pandas", None)
    with pytest.raises(ImportError, match=r"pip install 'simsales\[pandas\]'"):
        _ = result.deals


def test_parquet_reads_back(tiny: Path, tmp_path: Path) -> None:
    pytest.importorskip("pyarrow")
    result = simsales.run(tiny, replications=2)
    paths = result.to_parquet(tmp_path / "pq")
    assert sorted(p.name for p in paths) == [
        "deals.parquet",
        "metrics.parquet",
        "replications.parquet",
    ]
    deals = pd.read_parquet(tmp_path / "pq" / "deals.parquet")
    assert deals["outcome"].dtype == "category" and len(deals) == len(result.deals)


def test_results_and_figures_show_themselves_in_a_notebook(tiny: Path, fast: Path) -> None:
    run = simsales.run(tiny, replications=2)
    assert "<b>tiny</b>: 2 replications" in run._repr_html_()
    figures = run.figures()
    assert list(figures) == ["cumulative_flow", "flow_over_time"]
    png = figures["cumulative_flow"]._repr_png_()
    assert png.startswith(b"\x89PNG")
    assert figures._repr_html_().count("<img") == 2


# --- the layers and the command line ------------------------------------------------------------


def _imports(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text("utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return found


def test_arrows_point_one_way() -> None:
    """Nothing imports the CLI; the scenario layer imports no other layer; the model never
    imports plotting, reports, experiments or the API."""
    package = ROOT / "simsales"
    for path in package.rglob("*.py"):
        imported = _imports(path)
        layer = path.relative_to(package).parts[0]
        assert "simsales.cli" not in imported, path
        if layer == "scenario":
            assert not {m for m in imported if m.startswith("simsales.")} - {
                m for m in imported if m.startswith("simsales.scenario")
            }, path
        if layer == "model":
            bad = ("simsales.plots", "simsales.report", "simsales.experiment", "simsales.api")
            assert not [m for m in imported if m.startswith(bad)], path
        if layer not in ("api", "cli.py", "__init__.py"):
            assert not [m for m in imported if m.startswith("simsales.api")], path


def test_every_command_is_thin() -> None:
    """Every command body (after its docstring) is about 30 lines at most: it parses, builds a
    request, calls the library and prints."""
    from simsales import cli

    def commands(group: click.Group, prefix: str = "") -> Iterator[tuple[str, click.Command]]:
        for name, command in group.commands.items():
            yield prefix + name, command
            if isinstance(command, click.Group):
                yield from commands(command, f"{prefix}{name} ")

    for name, command in commands(main):
        source = inspect.getsource(command.callback)  # type: ignore[arg-type]
        func = ast.parse(source).body[0]
        assert isinstance(func, ast.FunctionDef)
        body = func.body[1:] if isinstance(func.body[0], ast.Expr) else func.body
        if not body:  # a group's own function: its docstring only
            continue
        lines = (body[-1].end_lineno or 0) - body[0].lineno + 1
        assert lines <= 32, f"{name}: {lines} lines"
    assert cli.main.commands  # the group is the one the script runs


def test_compare_set_and_experiment_seed(tiny: Path, fast: Path, tmp_path: Path) -> None:
    ran = CliRunner().invoke(
        main,
        ["compare", str(tiny), str(fast), "-r", "2", "--set", "run.horizon_days=100",
         "--format", "json"],
    )  # fmt: skip
    assert ran.exit_code == 0, ran.output
    doc = json.loads(ran.stdout)
    assert doc["base"] == "tiny"
    shorter = simsales.compare(tiny, fast, replications=2, overrides=["run.horizon_days=100"])
    assert shorter.comparison.base.run.horizon_days == 100
    assert shorter.comparison.variants[0].run.horizon_days == 100
    assert doc["metrics"]["win_rate"]["summaries"]["tiny"]["mean"] == (
        shorter.comparison.metrics["win_rate"].summaries["tiny"].mean
    )
