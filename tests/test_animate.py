"""``simsales animate``: a self-contained page that replays a run, checked in a real browser."""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from click.testing import CliRunner

from simsales.cli import main
from simsales.model import simulate
from simsales.results.replay import replay_of
from simsales.scenario import load_scenario

ROOT = Path(__file__).resolve().parents[1]
BASELINE = ROOT / "scenarios" / "baseline.toml"
COMPRESSION = ROOT / "scenarios" / "call-compression.toml"
SHORT = ["run.horizon_days=500", "run.warmup_days=100", "run.cohort_margin_days=100"]


def _animate(tmp_path: Path, *extra: str) -> Path:
    out = tmp_path / "flow.html"
    args = ["animate", str(BASELINE), "--out", str(out), "--force", *extra]
    for override in SHORT:
        args += ["--set", override]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    return out


def test_the_replay_agrees_with_the_deal_table() -> None:
    scenario = load_scenario(BASELINE, SHORT)
    records = simulate(scenario, seed=scenario.run.seed, replication=0, event_log=True)
    replay = replay_of(records)
    outcome = records.deals.columns()["outcome"]
    from simsales.model.records import OUTCOMES

    expected = {n: int(np.sum(outcome == i)) for i, n in enumerate(OUTCOMES) if n != "open"}
    assert replay.outcome_counts() == expected
    assert len(replay.waits) and len(replay.calls) == int(records.deals.columns()["calls"].sum())


def test_the_page_is_one_file_that_loads_nothing(tmp_path: Path) -> None:
    page = _animate(tmp_path).read_text()
    assert "Content-Security-Policy" in page and "default-src 'none'" in page
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", page), "something loads from away"


def _state(browser: Any) -> dict[str, Any]:
    return browser.execute_script("return window.simsales.state()")


def test_frames_advance_and_the_counters_end_at_the_deal_tables(
    browser: Any, tmp_path: Path
) -> None:
    out = _animate(tmp_path, "--compare", str(COMPRESSION))
    browser.get(out.as_uri())
    start = _state(browser)
    assert start["day"] == 0 and all(sum(c.values()) == 0 for c in start["counters"])
    browser.execute_script("document.getElementById('speed').value = '365';")
    browser.find_element("id", "play").click()
    deadline = time.monotonic() + 20
    while _state(browser)["frames"] < start["frames"] + 10 and time.monotonic() < deadline:
        time.sleep(0.1)
    moving = _state(browser)
    assert moving["frames"] >= start["frames"] + 10 and moving["day"] > 0
    browser.execute_script("window.simsales.seek(window.simsales.state().horizon)")
    end = _state(browser)
    for counters, scenario_file in zip(end["counters"], (BASELINE, COMPRESSION), strict=True):
        scenario = load_scenario(scenario_file, SHORT)
        records = simulate(scenario, seed=20261123, replication=0, event_log=True)
        assert counters == replay_of(records).outcome_counts()
    assert browser.get_log("browser") == [] or all(
        entry["level"] != "SEVERE" for entry in browser.get_log("browser")
    )


def test_scrubbing_back_and_forth_gives_the_same_picture(browser: Any, tmp_path: Path) -> None:
    browser.get(_animate(tmp_path).as_uri())

    def picture(day: float) -> tuple[Any, str]:
        browser.execute_script(f"window.simsales.seek({day})")
        canvas = browser.execute_script(
            "return document.querySelector('canvas').toDataURL('image/png')"
        )
        return _state(browser)["counters"], canvas

    first = picture(250)
    picture(480)
    picture(20)
    assert picture(250) == first


def test_a_name_with_a_script_tag_shows_as_text(browser: Any, tmp_path: Path) -> None:
    name = "<script>window.pwned=1</script>"
    out = _animate(tmp_path, "--set", f'name="{name}"')
    browser.get(out.as_uri())
    assert browser.execute_script("return typeof window.pwned") == "undefined"
    assert browser.find_element("tag name", "h2").text == name
    assert browser.title.startswith(name)


def test_a_gif_for_slides(tmp_path: Path) -> None:
    gif = tmp_path / "flow.gif"
    _animate(tmp_path, "--gif", str(gif))
    data = gif.read_bytes()
    assert data[:6] in (b"GIF87a", b"GIF89a") and data.count(b"\x21\xf9\x04") > 10  # frames


@pytest.mark.parametrize("target", ["out", "gif"])
def test_an_existing_file_is_kept_without_force(tmp_path: Path, target: str) -> None:
    kept = tmp_path / f"kept.{'html' if target == 'out' else 'gif'}"
    kept.write_text("precious")
    args = ["animate", str(BASELINE), "--out", str(tmp_path / "x.html"), f"--{target}", str(kept)]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 2 and "--force" in result.stderr
    assert kept.read_text() == "precious"
