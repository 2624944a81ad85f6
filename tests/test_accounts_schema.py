"""The ``[accounts]`` section: defaults, absence, and bad input reported like any scenario error."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from simsales.cli import main
from simsales.scenario import ScenarioError, load_scenario
from simsales.scenario.accounts_schema import Accounts

BASELINE = Path(__file__).resolve().parents[1] / "scenarios" / "baseline.toml"
UPSELL = '[[accounts.expansion.kinds]]\nkind = "upsell"\nshare = 1\nstart_stage = "diagnosis"\n'


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "acc.toml"
    path.write_text(f'extends = "{BASELINE.as_posix()}"\n{text}', encoding="utf-8")
    return path


def problems(path: Path) -> list[str]:
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path)
    return [str(p) for p in caught.value.problems]


def test_absent_section_means_no_lifecycle() -> None:
    assert load_scenario(BASELINE).accounts is None


def test_empty_section_has_sensible_defaults(tmp_path: Path) -> None:
    accounts = load_scenario(write(tmp_path, "[accounts]\n")).accounts
    assert isinstance(accounts, Accounts)
    assert accounts.contract.kind == "recurring" and accounts.contract.term_days == 365
    assert accounts.expansion.per_year == 0 and accounts.change.per_year == 0
    assert accounts.onboarding.team_size >= 1
    assert 0 <= accounts.health.vendor_level <= accounts.health.partner_level <= 1


BAD: list[tuple[str, str, str]] = [
    ("[accounts.onboarding]\nteam_sise = 3\n", "accounts.onboarding.team_sise", "team_size"),
    ("[accounts.onboarding]\nteam_size = 0\n", "accounts.onboarding.team_size", "greater than"),
    ("[accounts.onboarding]\np_right = 1.5\n", "accounts.onboarding.p_right", "less than"),
    (
        '[accounts.onboarding]\nduration_days = { dist = "normal", mean = 5, sd = 2, low = -3 }\n',
        "accounts.onboarding.duration_days",
        "duration",
    ),
    ('[accounts.contract]\nkind = "lease"\n', "accounts.contract.kind", "recurring"),
    (
        "[accounts.contract]\nterm_days = 0\n",
        "accounts.contract.term_days",
        "greater than or equal to 1",
    ),
    ("[accounts.churn]\nshape = 9\n", "accounts.churn.shape", "less than or equal to 6"),
    ("[accounts.churn]\nbackground_per_year = -1\n", "accounts.churn.background_per_year", "0"),
    ("[accounts.health]\nstart = true\n", "accounts.health.start", "number"),
    ("[accounts.expansion]\nper_year = 2\n", "accounts.expansion", "at least one"),
    (
        "[accounts.expansion]\nper_year = 1\n" + UPSELL.replace("diagnosis", "diagnosys"),
        "accounts",
        "no stage named 'diagnosys'",
    ),
    (
        "[accounts.expansion]\nper_year = 1\n" + UPSELL.replace('"upsell"', '"resell"'),
        "accounts.expansion.kinds[0].kind",
        "upsell",
    ),
    (
        "[accounts.change]\nper_year = 1\n"
        '[[accounts.change.kinds]]\nname = "merger"\nshare = 1\nrestart_at = 7\n',
        "accounts",
        "restarts at 7",
    ),
    (
        "[accounts.change]\nper_year = 1\n"
        '[[accounts.change.kinds]]\nname = "merger"\nshare = 1\nrestart_at = 4\n',
        "accounts.change.kinds[0] (merger).restart_at",
        "5",
    ),
    (
        '[[accounts.change.kinds]]\nname = "x"\nshare = 1\nrestart_at = 6\n'
        '[[accounts.change.kinds]]\nname = "x"\nshare = 1\nrestart_at = 5\n',
        "accounts.change",
        "unique",
    ),
    ("[accounts.offboarding]\nfind_real_reason = -0.1\n", "offboarding.find_real_reason", "0"),
]


@pytest.mark.parametrize(("text", "key", "words"), BAD)
def test_bad_input_names_file_key_and_rule(tmp_path: Path, text: str, key: str, words: str) -> None:
    found = problems(write(tmp_path, text))
    assert len(found) == 1, found
    assert "acc.toml" in found[0]
    assert key in found[0], found[0]
    assert words in found[0], found[0]


def test_cli_validate_exits_2_without_traceback(tmp_path: Path) -> None:
    path = write(tmp_path, "[accounts.churn]\nshape = 0\n")
    result = CliRunner().invoke(main, ["validate", str(path)])
    assert result.exit_code == 2
    assert "accounts.churn.shape" in result.output
    assert "Traceback" not in result.output


def test_set_override_reaches_accounts(tmp_path: Path) -> None:
    path = write(tmp_path, "[accounts]\n")
    scenario = load_scenario(path, ["accounts.onboarding.team_size=7"])
    assert scenario.accounts is not None and scenario.accounts.onboarding.team_size == 7
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path, ["accounts.onboarding.team_size=-2"])
    (problem,) = caught.value.problems
    assert problem.file.startswith("--set") and problem.key_path == "accounts.onboarding.team_size"
