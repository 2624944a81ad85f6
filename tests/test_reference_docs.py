"""The reference docs in ``docs/reference/`` are generated from the code and cover all of it."""

from __future__ import annotations

import csv
import inspect
import json
import re
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner
from pydantic import BaseModel

from simsales.cli import main
from simsales.model.records import (
    DEAL_FIELDS,
    EVENT_MEANINGS,
    EVENTS,
    OUTCOME_MEANINGS,
    OUTCOMES,
)
from simsales.reference import (
    REFERENCES,
    outputs_reference_markdown,
    scenario_reference_markdown,
    scenario_tables,
)
from simsales.report.files import COMPARE_FILES, RUN_FILES
from simsales.results.catalogue import ACCOUNT_METRIC_NAMES, CATALOGUE, WIN_LOSS_METRIC_NAMES
from simsales.scenario import accounts_schema, schema
from simsales.scenario.distributions import DIST_NAMES

DOCS = Path(__file__).resolve().parent.parent / "docs" / "reference"


def _section(text: str, title: str) -> str:
    """The text of the ``## title`` section of a Markdown page."""
    start = text.index(f"\n## {title}\n")
    end = text.find("\n## ", start + 1)
    return text[start : end if end >= 0 else None]


@pytest.mark.parametrize("name", sorted(REFERENCES))
def test_committed_reference_is_generated(name: str) -> None:
    committed = (DOCS / f"{name}.md").read_text(encoding="utf-8")
    assert committed == REFERENCES[name](), (
        f"docs/reference/{name}.md is out of date: run `simsales reference` to regenerate"
    )


def test_reference_is_deterministic() -> None:
    assert scenario_reference_markdown() == scenario_reference_markdown()
    assert outputs_reference_markdown() == outputs_reference_markdown()


def test_every_scenario_model_has_a_section_listing_all_its_fields() -> None:
    text = scenario_reference_markdown()
    tables = scenario_tables()
    models = {
        cls
        for module in (schema, accounts_schema)
        for cls in vars(module).values()
        if inspect.isclass(cls) and issubclass(cls, BaseModel) and cls.__module__ == module.__name__
    } - {schema._Frozen, accounts_schema._Frozen}
    assert models == {t.model for t in tables}
    for table in tables:
        title = "Top-level keys" if not table.path else f"`{table.header}`"
        section = _section(text, title)
        for name, info in table.model.model_fields.items():
            assert f"| `{info.alias or name}` |" in section, f"{name} missing from {title}"


def test_every_scenario_key_has_a_meaning() -> None:
    """Each key's row ends in a meaning: its description, or its table's docstring."""
    text = scenario_reference_markdown()
    for table in scenario_tables():
        title = "Top-level keys" if not table.path else f"`{table.header}`"
        rows = re.findall(r"^\| `(\w+)` \|.*\| (.*) \|$", _section(text, title), flags=re.M)
        assert len(rows) == len(table.model.model_fields), title
        for key, meaning in rows:
            assert meaning.strip(), f"{key} of {title} has no description"


def test_meanings_cover_exactly_the_outcomes_and_events() -> None:
    assert tuple(OUTCOME_MEANINGS) == OUTCOMES
    assert tuple(EVENT_MEANINGS) == EVENTS
    for name, (when, value) in EVENT_MEANINGS.items():
        assert when and value, name


def test_every_distribution_kind_is_documented() -> None:
    section = _section(scenario_reference_markdown(), "Distributions")
    for kind in DIST_NAMES:
        assert f"### `{kind}`" in section


def test_every_output_field_is_documented() -> None:
    text = outputs_reference_markdown()
    deals = _section(text, "Deals: `deals.csv`")
    for name in DEAL_FIELDS:
        assert f"| `{name}` |" in deals
    for name in OUTCOMES:
        assert f"| `{name}` |" in _section(text, "Outcomes")
    for name in EVENTS:
        assert f"| `{name}` |" in _section(text, "Event log: `events.csv`")
    own = {*ACCOUNT_METRIC_NAMES, *WIN_LOSS_METRIC_NAMES}
    for name in (m.name for m in CATALOGUE if m.name not in own):
        assert f"| `{name}` |" in _section(text, "Metrics")
    for name in RUN_FILES:
        assert f"- `{name}`" in text


def test_documented_headers_are_the_written_ones(
    tmp_path: Path, write_scenario: Callable[..., Path], minimal_scenario_toml: str
) -> None:
    """A real run's ``deals.csv`` and ``events.csv`` have exactly the documented columns."""
    tiny = write_scenario(minimal_scenario_toml, "tiny.toml")
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["run", str(tiny), "-r", "1", "--out", str(out), "--events"])
    assert result.exit_code == 0, result.output
    text = outputs_reference_markdown()
    for name, title in (
        ("deals.csv", "Deals: `deals.csv`"),
        ("events.csv", "Event log: `events.csv`"),
    ):
        with (out / name).open(newline="") as fh:
            header = next(csv.reader(fh))
        documented = re.findall(r"^\| `(\w+)` \|", _section(text, title), flags=re.MULTILINE)
        assert [c for c in header if not c.startswith("entered_")] == documented, name
        with (out / name).open(newline="") as fh:
            rows = list(csv.DictReader(fh))
        keys = [(int(r["replication"]), int(r["deal_id"])) for r in rows]
        if name == "events.csv":  # documented: by deal, then time
            keys = [(*k, float(r["time"])) for k, r in zip(keys, rows, strict=True)]
        assert rows and keys == sorted(keys), f"{name} is not in the documented order"
        if name == "deals.csv":
            stages = [c for c in header if c.startswith("entered_")]
            assert stages == ["entered_outreach", "entered_discovery"]
            assert "| `entered_<stage>` |" in text


def test_documented_comparison_keys_are_the_written_ones(
    tmp_path: Path, write_scenario: Callable[..., Path], minimal_scenario_toml: str
) -> None:
    """A real ``compare --out`` writes exactly the documented keys and key columns."""
    base = write_scenario(minimal_scenario_toml, "base.toml")
    variant = write_scenario(minimal_scenario_toml.replace('"tiny"', '"tiny-b"'), "variant.toml")
    out = tmp_path / "out"
    args = ["compare", str(base), str(variant), "-r", "2", "--out", str(out)]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    section = _section(outputs_reference_markdown(), "Comparisons")
    for name in COMPARE_FILES:
        assert f"- `{name}`" in section
    doc_part, csv_part = section.split("\n### ")[1:]
    top, differences = (
        re.findall(r"^\| `(\w+)` \|", table, flags=re.MULTILINE)
        for table in doc_part.split("\n\n| key |")[1:]
    )
    written = json.loads((out / "comparison.json").read_text(encoding="utf-8"))
    assert list(written) == top
    assert list(written["metrics"]["win_rate"]["differences"]["tiny-b"]) == differences
    with (out / "replications.csv").open(newline="") as fh:
        header = next(csv.reader(fh))
    columns = re.findall(r"^\| `(\w+)` \|", csv_part, flags=re.MULTILINE)
    assert header[: len(columns)] == columns == ["scenario", "replication"]
    assert "win_rate" in header[len(columns) :]


def test_cli_prints_and_writes_the_references(tmp_path: Path) -> None:
    runner = CliRunner()
    for name, render in REFERENCES.items():
        result = runner.invoke(main, ["reference", "--print", name])
        assert result.exit_code == 0, result.output
        assert result.output == render()
    result = runner.invoke(main, ["reference", "--out-dir", str(tmp_path / "ref")])
    assert result.exit_code == 0, result.output
    for name, render in REFERENCES.items():
        assert (tmp_path / "ref" / f"{name}.md").read_text(encoding="utf-8") == render()
