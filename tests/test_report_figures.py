"""Figures and report.md of ``experiment --out`` and ``compare --out``: written atomically with
the other files, PNG and SVG each, named in the report; none with ``--no-figures``."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from simsales.cli import main
from simsales.report.markdown import escape_md

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
EXPERIMENT = (
    'name = "exp"\ndescription = "Does a | pipe break the table?"\nbase = "tiny.toml"\n'
    'metrics = ["win_rate", "calls_per_opportunity"]\nreplications = 2\n'
    '[sweep]\n[[sweep.keys]]\nkey = "policies.activities_per_call"\nvalues = [2, 3]\n'
)


@pytest.fixture
def folder(tmp_path: Path, minimal_scenario_toml: str) -> Path:
    (tmp_path / "tiny.toml").write_text(minimal_scenario_toml, "utf-8")
    (tmp_path / "exp.toml").write_text(EXPERIMENT, "utf-8")
    return tmp_path


def invoke(*args: str | Path) -> Result:
    return CliRunner().invoke(main, [str(a) for a in args])


def figure_files(out: Path) -> list[Path]:
    return sorted((out / "figures").glob("*")) if (out / "figures").is_dir() else []


def test_experiment_writes_figures_and_a_report_naming_them(folder: Path) -> None:
    out = folder / "out"
    result = invoke("experiment", folder / "exp.toml", "--out", out)
    assert result.exit_code == 0, result.output
    stems = {p.stem for p in figure_files(out)}
    assert stems == {
        "outcome_shares", "funnel", "time_in_stage", "cycle_times", "differences", "tradeoff",
        "sweep_win_rate", "sweep_calls_per_opportunity",
    }  # fmt: skip
    for stem in stems:
        png = (out / "figures" / f"{stem}.png").read_bytes()
        svg = (out / "figures" / f"{stem}.svg").read_text("utf-8")
        assert png.startswith(PNG_MAGIC) and len(png) > 5000
        assert "<svg" in svg
    report = (out / "report.md").read_text("utf-8")
    assert report.startswith("# exp\n")
    assert r"Does a \| pipe break the table?" in report
    for stem in stems:
        assert f"](figures/{stem}.png)" in report
    for metric in ("win_rate", "calls_per_opportunity"):
        assert f"`{metric}`" in report
    assert "Replications: 2 per scenario; root seed 7" in report
    assert "activities_per_call=3" in report
    assert not re.search(r"\d{4}-\d\d-\d\d", report)  # no dates: the same run, the same bytes
    assert "figures/ (16 files" in result.output
    # the answer first: a finding line per point and the forest plot, then the details
    assert report.index("## The answer") < report.index("](figures/differences.png)")
    assert report.index("](figures/differences.png)") < report.index("## What was run")
    page = (out / "report.html").read_text("utf-8")
    assert page.index("The answer") < page.index('id="figure-differences"')
    assert page.index('id="figure-differences"') < page.index("What was run")
    assert not list(out.glob(".*.tmp")) and not list((out / "figures").glob(".*.tmp"))


def test_no_figures_writes_none_and_a_forced_rerun_removes_old_ones(folder: Path) -> None:
    out = folder / "out"
    assert invoke("experiment", folder / "exp.toml", "--out", out).exit_code == 0
    assert figure_files(out)
    again = invoke("experiment", folder / "exp.toml", "--out", out, "--force", "--no-figures")
    assert again.exit_code == 0, again.output
    assert figure_files(out) == []
    report = (out / "report.md").read_text("utf-8")
    assert "figures/" not in report
    fresh = folder / "fresh"
    assert invoke("experiment", folder / "exp.toml", "--out", fresh, "--no-figures").exit_code == 0
    assert not (fresh / "figures").exists() or figure_files(fresh) == []
    assert (fresh / "report.md").read_bytes() == report.encode("utf-8")


def test_compare_writes_its_figures_and_report(folder: Path, minimal_scenario_toml: str) -> None:
    variant = minimal_scenario_toml.replace('name = "tiny"', 'name = "fast | v2"')
    (folder / "fast.toml").write_text(variant, "utf-8")
    out = folder / "cmp"
    result = invoke(
        "compare", folder / "tiny.toml", folder / "fast.toml", "-r", "2", "--out", out,
        "--metric", "win_rate",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    stems = {p.stem for p in figure_files(out)}
    assert stems == {"outcome_shares", "funnel", "time_in_stage", "differences", "tradeoff"}
    assert all(p.stat().st_size > 0 for p in figure_files(out))
    report = (out / "report.md").read_text("utf-8")
    for stem in stems:
        assert f"](figures/{stem}.png)" in report
    assert r"fast \| v2" in report
    for line in report.splitlines():  # every table row has as many cells as its header
        if line.startswith("| fast"):
            assert len(re.findall(r"(?<!\\)\|", line)) == 3


def test_escape_md() -> None:
    assert escape_md("a|b *c* <script>\nnext") == r"a\|b \*c\* &lt;script> next"
