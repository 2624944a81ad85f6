"""The README's example output is what the README's command prints today."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
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


def test_readme_import_excerpt_is_what_import_prints(monkeypatch: pytest.MonkeyPatch) -> None:
    """The README's `simsales import` excerpt: its lines, in order, with "..." for lines left
    out, are what the command prints on the bundled example today."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("## Your own pipeline: a CRM export") :]
    excerpt = re.search(r"```text\n(.*?)```", section, flags=re.S)
    assert excerpt, "the CRM section has no ```text block"
    args = ["import", "examples/crm/export.csv", "--mapping", "examples/crm/mapping.toml"]
    args += ["--stage-history", "examples/crm/stage-history.csv"]
    monkeypatch.chdir(ROOT)  # the README's paths are relative to the repository's root
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    printed = result.stdout.splitlines()
    at = 0
    for line in excerpt.group(1).splitlines():
        if line == "...":
            continue
        assert line in printed[at:], f"README's import excerpt is stale at: {line!r}"
        at = printed.index(line, at) + 1
