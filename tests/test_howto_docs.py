"""The how-to for a team's own scenario works as written: its files load and compare."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

from click.testing import CliRunner

from simsales.cli import main

ROOT = Path(__file__).resolve().parent.parent
OWN_TEAM = ROOT / "docs" / "how-to" / "your-own-team.md"
SHORT = ["--set", "run.horizon_days=500", "--set", "run.warmup_days=150",
         "--set", "run.cohort_margin_days=100", "-r", "2"]  # fmt: skip


def test_the_own_team_files_validate_explain_and_compare(tmp_path: Path) -> None:
    text = OWN_TEAM.read_text("utf-8")
    folder = tmp_path / "scenarios"
    folder.mkdir()
    shutil.copy(ROOT / "scenarios" / "baseline.toml", folder / "baseline.toml")
    for block in re.findall(r"```toml\n(.*?)```", text, flags=re.S):
        name = re.match(r"# scenarios/(\S+)", block)
        if name:
            (folder / name.group(1)).write_text(block, "utf-8")
    own, compressed = folder / "our-team.toml", folder / "our-team-compressed.toml"
    assert own.exists() and compressed.exists()
    runner = CliRunner()
    checked = runner.invoke(main, ["validate", str(own), str(compressed)])
    assert checked.exit_code == 0, checked.output
    assert "5 sellers" in checked.output
    assert runner.invoke(main, ["explain", str(own)]).exit_code == 0
    compared = runner.invoke(main, ["compare", str(own), str(compressed), *SHORT, "--no-cache"])
    assert compared.exit_code == 0, compared.output
    assert compared.output.splitlines()[1].startswith("our-team-compressed: time to a win")
