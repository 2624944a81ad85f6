"""The README's example output is what the README's command prints today."""

from __future__ import annotations

import re
from pathlib import Path

from click.testing import CliRunner

from simsales.cli import main

ROOT = Path(__file__).resolve().parent.parent


def test_readme_example_output_is_current() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    match = re.search(r"```text\n(.*?)```", readme, flags=re.S)
    assert match, "README.md has no ```text example block"
    result = CliRunner().invoke(main, ["run", str(ROOT / "scenarios" / "baseline.toml")])
    assert result.exit_code == 0, result.output
    assert result.output == match.group(1), (
        "README.md's example output is stale: rerun `simsales run scenarios/baseline.toml` and "
        "paste its output"
    )
