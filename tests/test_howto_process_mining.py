"""docs/how-to/process-mining.md runs as written: its commands (on a short run) and its Python,
with pm4py where it is installed (pm4py is no dependency of simsales)."""

from __future__ import annotations

import re
import shlex
import warnings
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from simsales.cli import main

ROOT = Path(__file__).resolve().parent.parent
HOWTO = ROOT / "docs" / "how-to" / "process-mining.md"
SHORT = ("run.horizon_days=300", "run.warmup_days=60", "run.cohort_margin_days=60")


def _blocks(language: str) -> list[str]:
    text = HOWTO.read_text(encoding="utf-8")
    return re.findall(rf"```{language}\n(.*?)```", text, flags=re.S)


def test_howto_commands_are_simsales_runs() -> None:
    """The shell block writes the logs the Python reads: every format, and the stage level."""
    commands = [line for block in _blocks("sh") for line in block.splitlines()]
    runs = [c for c in commands if c.startswith("simsales run ")]
    written = {shlex.split(c)[shlex.split(c).index("--events") + 1] for c in runs}
    assert written == {"baseline.xes", "baseline.csv", "baseline.json", "stages.xes"}
    python = "\n".join(_blocks("python"))
    for name in written:
        assert f'"{name}"' in python, f"the how-to writes {name} and never reads it"


@pytest.mark.filterwarnings("ignore::UserWarning", "ignore::DeprecationWarning")
def test_howto_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # pm4py's own imports' deprecations
        pytest.importorskip("pm4py")
    monkeypatch.chdir(tmp_path)
    for block in _blocks("sh"):
        for line in block.splitlines():
            if not line.startswith("simsales run "):
                continue
            args = shlex.split(line)[1:]
            args[1] = str(ROOT / args[1])  # the scenario, from the repository's root
            args += [f"--set={s}" for s in SHORT] + ["--no-cache"]
            result = CliRunner().invoke(main, args)
            assert result.exit_code == 0, (line, result.output)
    namespace: dict[str, Any] = {}
    for block in _blocks("python"):
        exec(compile(block, str(HOWTO), "exec"), namespace)  # our own docs
    sellers = namespace["sellers"]
    per_rep = sellers.groupby("case:simsales:replication")["org:resource"].nunique()
    assert per_rep.tolist() == [8, 8, 8]  # the baseline's team, counted apart
    assert namespace["dfg"] == namespace["stage_dfg"]
    assert set(namespace["ocel"].objects["ocel:type"]) == {"deal", "seller"}
