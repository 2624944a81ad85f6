"""Shared fixtures: the smallest valid scenario, and a way to write scenario files."""

from __future__ import annotations

import copy
import math
import os
import shutil
import tempfile
import tomllib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

#: The smallest valid scenario: every required key, two stages, a short fast run.
MINIMAL_SCENARIO_TOML = """\
name = "tiny"

[run]
horizon_days = 120
warmup_days = 20
replications = 3
seed = 7

[market]
suspects_per_day = 0.5

[[market.segments]]
name = "mid"
share = 1
fit = 0.7
deal_value = { dist = "lognormal", median = 20000, p90 = 50000 }

[buyers]
group_size = { dist = "empirical", values = [1, 3, 5] }
meeting_lag_days = { dist = "exponential", mean = 3 }

[team]
sellers = 2

[[stages]]
name = "outreach"
activities = 2
consensus_share = 0.5

[[stages]]
name = "discovery"
activities = 3
consensus_share = 0.5
qualification = {}
sets_forecast = true
buyer_tasks = [{ name = "review", duration = { dist = "lognormal", median = 4, p90 = 10 } }]
"""


def toml_value(value: Any) -> str:
    """A value as TOML (inline tables for tables): enough to write scenario test files."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value) if not (isinstance(value, float) and math.isinf(value)) else "inf"
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, dict):
        return "{ " + ", ".join(f'"{k}" = {toml_value(v)}' for k, v in value.items()) + " }"
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    raise TypeError(f"cannot write {value!r} as TOML")


def dump_toml(doc: dict[str, Any]) -> str:
    """A document as TOML: scalars first, then one ``[table]`` per table, ``[[array]]`` tables."""
    lines = [f'"{k}" = {toml_value(v)}' for k, v in doc.items() if not _is_table(v)]
    for key, value in doc.items():
        if isinstance(value, dict):
            lines.append(f'\n["{key}"]')
            lines += [f'"{k}" = {toml_value(v)}' for k, v in value.items()]
        elif _is_table(value):
            for item in value:
                lines.append(f'\n[["{key}"]]')
                lines += [f'"{k}" = {toml_value(v)}' for k, v in item.items()]
    return "\n".join(lines) + "\n"


def _is_table(value: Any) -> bool:
    return isinstance(value, dict) or (
        isinstance(value, list) and bool(value) and all(isinstance(v, dict) for v in value)
    )


@pytest.fixture(autouse=True)
def _private_run_store(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every test gets its own empty run store: none writes to (or reuses) the user's cache."""
    monkeypatch.setenv("SIMSALES_CACHE_DIR", str(tmp_path_factory.mktemp("run-store")))


@pytest.fixture
def minimal_scenario_toml() -> str:
    """The smallest valid scenario file, as text."""
    return MINIMAL_SCENARIO_TOML


@pytest.fixture
def minimal_scenario() -> dict[str, Any]:
    """The smallest valid scenario as a plain document (a fresh copy to change)."""
    return copy.deepcopy(tomllib.loads(MINIMAL_SCENARIO_TOML))


@pytest.fixture
def write_scenario(tmp_path: Path) -> Callable[..., Path]:
    """Write a scenario (TOML text or a document) to ``tmp_path/name`` and return its path."""

    def write(content: str | dict[str, Any], name: str = "scenario.toml") -> Path:
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content if isinstance(content, str) else dump_toml(content), "utf-8")
        return path

    return write


# --- a real browser, for the pages simsales writes ------------------------------------------------

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")


def _in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Headless Chromium under chromedriver, from the system's packages, offline.

    Selenium is given the driver and the browser, so that Selenium Manager never downloads one.
    """
    problems = [f"{p} not found" for p in (CHROMIUM, CHROMEDRIVER) if not p.exists()]
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        problems.append("selenium is not installed (pip install -e '.[test]')")
    if problems:
        reason = "no headless browser: " + "; ".join(problems)
        if _in_ci():
            pytest.fail(reason + " (CI is set: .ci/run installs chromium and chromium-driver)")
        pytest.skip(reason)
    profile = tempfile.mkdtemp(prefix="simsales-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in (
        "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        "--disable-dev-shm-usage", f"--user-data-dir={profile}", "--window-size=1200,900",
    ):  # fmt: skip
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    driver.set_page_load_timeout(60)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)
