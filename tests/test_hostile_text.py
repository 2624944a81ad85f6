"""Hostile text in scenario and experiment files: control characters are refused in every
free-text field, and shown (never acted on) wherever text leaves simsales: error messages,
terminal tables, trace and explain output, figures, HTML and Markdown. Also: ``extends`` (and an
experiment's ``base``) reads only ``.toml`` files.
"""

from __future__ import annotations

import io
import re
import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from matplotlib import rc_context
from matplotlib.figure import Figure

from simsales.analysis.process_map import process_map
from simsales.cli import main
from simsales.experiment import load_experiment, run_replications
from simsales.plots._style import printable_figure
from simsales.plots.process_map import process_map_figure
from simsales.report import print_run, terminal_console
from simsales.report.explain_output import save_figure
from simsales.report.htmlpage import esc
from simsales.report.markdown import escape_md
from simsales.results import summarise
from simsales.scenario import Scenario, ScenarioError, load_scenario
from simsales.scenario import loading as loading_module
from simsales.scenario.text import check_plain_text, printable

ROOT = Path(__file__).resolve().parent.parent
BASELINE = ROOT / "scenarios" / "baseline.toml"
LAND = ROOT / "scenarios" / "land-and-expand.toml"
#: What a control character can do on a terminal: set its title, clear it, open a link (OSC 8),
#: and a C1 control sequence introducer.
ATTACKS = ("\x1b]0;PWNED\x07", "\x1b[2J", "\x1b]8;;https://evil.example\x1b\\", "\x9b31m")
RAW = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def invoke(*args: str | Path) -> Result:
    return CliRunner().invoke(main, [str(a) for a in args])


def toml_escaped(text: str) -> str:
    """``text`` inside a TOML basic string, its controls as ``\\uXXXX``."""
    return "".join(f"\\u{ord(c):04X}" if RAW.match(c) else c for c in text)


# --- the shared functions ---------------------------------------------------------------------


def test_printable_escapes_controls_and_keeps_plain_text() -> None:
    assert printable("plain text, ünïcode — and tabs\tand\nlines") == (
        "plain text, ünïcode — and tabs\tand\nlines"
    )
    assert printable("a\x1b]0;x\x07b\x9bc\x7f") == "a\\x1b]0;x\\x07b\\x9bc\\x7f"
    assert printable("a\tb\nc\rd", one_line=True) == "a\\tb\\nc\\rd"
    for attack in ATTACKS:
        assert not RAW.search(printable(attack))


@pytest.mark.parametrize("char", ["\x00", "\x07", "\x0d", "\x1b", "\x7f", "\x85", "\x9f"])
def test_control_characters_are_refused(char: str) -> None:
    with pytest.raises(ValueError, match=f"U\\+{ord(char):04X}"):
        check_plain_text(f"name{char}")


def test_tab_and_newline_are_plain_text() -> None:
    assert check_plain_text("two\nlines\tand a tab") == "two\nlines\tand a tab"


# --- refused when a file is validated -----------------------------------------------------------


SCENARIO_FIELDS = [
    (BASELINE, "name", "name"),
    (BASELINE, "description", "description"),
    (BASELINE, "currency", "currency"),
    (BASELINE, "market.segments[0].name", "market.segments[0].name"),
    (BASELINE, "stages[2].name", "stages[2].name"),
    (BASELINE, "stages.discovery.buyer_tasks[0].name", "stages[2].buyer_tasks[0].name"),
    (LAND, "accounts.expansion.kinds[0].start_stage", "accounts.expansion.kinds[0].start_stage"),
    (LAND, "accounts.change.kinds[0].name", "accounts.change.kinds[0].name"),
]


@pytest.mark.parametrize(("file", "key", "shown"), SCENARIO_FIELDS)
def test_every_free_text_field_of_a_scenario_refuses_control_characters(
    file: Path, key: str, shown: str
) -> None:
    with pytest.raises(ScenarioError) as caught:
        load_scenario(file, [f'{key}="ok\\u001B]0;PWNED\\u0007"'])
    problems = [p for p in caught.value.problems if "control character U+001B" in p.message]
    assert len(problems) == 1, caught.value
    assert re.sub(r" \([^)]*\)", "", problems[0].key_path) == shown  # without item names
    line = str(problems[0])
    assert not RAW.search(line) and '"ok\\u001B]0;PWNED\\u0007"' in line


def test_a_multi_line_description_is_still_accepted() -> None:
    scenario = load_scenario(BASELINE, ['description="first line\\nsecond\\tline"'])
    assert scenario.description == "first line\nsecond\tline"


def test_validate_exits_2_naming_the_key_and_showing_the_value_escaped(tmp_path: Path) -> None:
    hostile = tmp_path / "hostile.toml"
    hostile.write_text(
        f'extends = "{BASELINE.as_posix()}"\n'
        f'name = "{toml_escaped(ATTACKS[0])}"\n'
        f'"key{toml_escaped(ATTACKS[1])}" = 1\n'
        f'[stages_by_name.close]\nname = "{toml_escaped(ATTACKS[3])}"\n',
        "utf-8",
    )
    result = invoke("validate", hostile)
    assert result.exit_code == 2
    assert not RAW.search(result.output), result.output
    assert "hostile.toml: name: contains the control character U+001B" in result.output
    assert '(got "\\u001B]0;PWNED\\u0007")' in result.output
    assert '"key\\u001B[2J": unknown key' in result.output  # the key itself is shown escaped
    assert "stages[4] (\\x9b31m).name" in result.output


def test_an_error_about_a_file_with_a_hostile_name_shows_the_name_escaped(tmp_path: Path) -> None:
    path = tmp_path / "bad\x1b]0;x\x07.toml"
    path.write_text("name = 3\n", "utf-8")
    result = invoke("validate", path)
    assert result.exit_code == 2
    assert not RAW.search(result.output) and "bad\\x1b]0;x\\x07.toml" in result.output
    ok = tmp_path / "ok\x1b[2J.toml"
    ok.write_text(f'extends = "{BASELINE.as_posix()}"\n', "utf-8")
    result = invoke("validate", ok)
    assert result.exit_code == 0 and result.output.startswith(f"ok  {tmp_path}/ok\\x1b[2J.toml")


def test_a_set_override_with_controls_is_shown_escaped() -> None:
    result = invoke("validate", BASELINE, "--set", "team.sel\x1b[2Jers=3")
    assert result.exit_code == 2 and not RAW.search(result.output)
    assert "--set team.sel\\x1b[2Jers=3" in result.output


EXPERIMENT_FIELDS = [
    ('name = "{}"', "name"),
    ('description = "{}"', "description"),
    ('metrics = ["cycle_median_won_days", "{}"]', "metrics[1]"),
    ('set = {{ "{}" = 1 }}', "set"),
    ('[[variants]]\nname = "{}"\nset = {{ "policies.activities_per_call" = 3 }}', "variants[1]"),
    (
        '[[variants]]\nname = "v2"\nset = {{ "policies.{}" = 3 }}',
        "variants[1] (v2).set",
    ),
]


@pytest.mark.parametrize(("line", "shown"), EXPERIMENT_FIELDS)
def test_every_free_text_field_of_an_experiment_refuses_control_characters(
    tmp_path: Path, line: str, shown: str
) -> None:
    body = {
        "name": 'name = "e"',
        "description": "",
        "metrics": 'metrics = ["cycle_median_won_days"]',
        "set": "",
    }
    key = line.split(" ", 1)[0]
    text = line.format("x\\u001B[2J")
    if key in body:
        body[key] = text
        tail = '[[variants]]\nname = "v"\nset = { "policies.activities_per_call" = 3 }\n'
    else:
        tail = '[[variants]]\nname = "v"\nset = { "policies.activities_per_call" = 3 }\n' + text
    head = "\n".join(v for v in body.values() if v)
    path = tmp_path / "exp.toml"
    path.write_text(f'base = "{BASELINE.as_posix()}"\n{head}\n{tail}\n', "utf-8")
    with pytest.raises(ScenarioError) as caught:
        load_experiment(path)
    found = [p for p in caught.value.problems if "control character U+001B" in p.message]
    assert found and found[0].key_path.startswith(shown), caught.value
    assert not RAW.search(str(caught.value))


def test_sweep_and_sensitivity_fields_refuse_control_characters(tmp_path: Path) -> None:
    sweep = tmp_path / "sweep.toml"
    sweep.write_text(
        f'name = "s"\nbase = "{BASELINE.as_posix()}"\nmetrics = ["cycle_median_won_days"]\n'
        '[[sweep.keys]]\nkey = "name"\nvalues = ["a", "b\\u001B[2J"]\n',
        "utf-8",
    )
    with pytest.raises(ScenarioError) as caught:
        load_experiment(sweep)
    assert any(p.key_path == "sweep.keys[0].values[1]" for p in caught.value.problems)
    levers = tmp_path / "levers.toml"
    levers.write_text(
        f'name = "t"\nbase = "{BASELINE.as_posix()}"\n'
        '[[sensitivity.levers]]\nkey = "policies.\\u009Bx"\nstep = 1\n'
        '[precision]\nabsolute = { "won_\\u0007" = 1.0 }\n',
        "utf-8",
    )
    with pytest.raises(ScenarioError) as caught:
        load_experiment(levers)
    paths = {p.key_path for p in caught.value.problems if "control character" in p.message}
    assert "sensitivity.levers[0].key" in paths
    assert any(p.startswith("precision.absolute") for p in paths), paths


# --- shown, never acted on: terminal, trace and explain, figures, reports ----------------------


@pytest.fixture
def tiny(write_scenario: Callable[..., Path], minimal_scenario_toml: str) -> Scenario:
    return load_scenario(write_scenario(minimal_scenario_toml, "tiny.toml"))


def renamed(scenario: Scenario, name: str, stage: str, currency: str = "EUR") -> Scenario:
    """A scenario whose names were set without validation (as a library user might)."""
    stages = [scenario.stages[0].model_copy(update={"name": stage}), *scenario.stages[1:]]
    return scenario.model_copy(update={"name": name, "stages": stages, "currency": currency})


def test_terminal_tables_show_control_characters_escaped(tiny: Scenario) -> None:
    summaries = summarise(run_replications(tiny, replications=2, seed=1))
    hostile = renamed(tiny, f"run{ATTACKS[0]}", f"out{ATTACKS[1]}", currency=f"E{ATTACKS[3]}")
    buffer = io.StringIO()
    print_run(terminal_console(file=buffer, width=200), hostile, summaries)
    out = buffer.getvalue()
    assert not RAW.search(out), out
    assert "run\\x1b]0;PWNED" in out and "out\\x1b[2J" in out and "E\\x9b31m" in out


def test_names_in_terminal_tables_are_not_rich_markup(tiny: Scenario) -> None:
    """A stage name such as ``[link=...]`` would otherwise become a terminal hyperlink."""
    summaries = summarise(run_replications(tiny, replications=2, seed=1))
    link = "[link=https://evil.example]click[/link]"
    hostile = renamed(tiny, "tiny", link, currency="[bold]EUR")
    buffer = io.StringIO()
    console = terminal_console(file=buffer, width=200, force_terminal=True, color_system=None)
    print_run(console, hostile, summaries)
    out = buffer.getvalue()
    assert link in out and "[bold]EUR" in out
    assert "\x1b]8;" not in out  # no OSC 8 hyperlink was opened


def test_trace_and_explain_output_are_escaped_on_the_terminal(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from simsales.report import explain_output, trace

    monkeypatch.setattr(trace, "trace_deals", lambda *a, **k: (f"story{ATTACKS[0]}\n", None))
    result = invoke("trace", BASELINE, "--deal", "1")
    assert result.exit_code == 0 and result.output == "story\\x1b]0;PWNED\\x07\n"
    monkeypatch.setattr(explain_output, "render_text", lambda *a, **k: f"map{ATTACKS[2]}\n")
    result = invoke("explain", BASELINE)
    assert result.exit_code == 0 and not RAW.search(result.output)
    assert result.output == "map\\x1b]8;;https://evil.example\\x1b\\\n"


def test_a_figure_of_hostile_names_is_well_formed_svg(tiny: Scenario, tmp_path: Path) -> None:
    hostile = renamed(tiny, f"map{ATTACKS[0]}", f"out{ATTACKS[3]}")
    path = tmp_path / "map.svg"
    save_figure(process_map_figure(process_map(hostile)), path, force=False)
    svg = path.read_bytes()
    ET.fromstring(svg)  # raises on malformed XML
    assert not RAW.search(svg.decode("utf-8"))


def test_printable_figure_covers_titles_legends_and_tick_labels() -> None:
    fig = Figure()
    ax = fig.subplots()
    ax.bar([0, 1], [1, 2], label=f"bar{ATTACKS[0]}")
    ax.set_xticks([0, 1], [f"x{ATTACKS[1]}", "plain"])
    ax.set_yticks([1, 2], [f"y{ATTACKS[3]}", "2"])
    ax.set_title(f"title{ATTACKS[2]}")
    ax.legend()
    fig.suptitle("sup\x01")
    printable_figure(fig)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="svg")
    ET.fromstring(buffer.getvalue())
    assert [t.get_text() for t in ax.get_xticklabels()] == ["x\\x1b[2J", "plain"]
    assert ax.get_title() == "title\\x1b]8;;https://evil.example\\x1b\\"


def test_printable_figure_leaves_an_ordinary_figure_byte_identical() -> None:
    def draw() -> Figure:
        fig = Figure()
        ax = fig.subplots()
        ax.bar([0, 1], [1, 2], label="bars")
        ax.set_xticks([0, 1], ["one", "two"])
        ax.legend()
        return fig

    def svg(fig: Figure) -> bytes:
        buffer = io.BytesIO()
        with rc_context({"svg.hashsalt": "test"}):
            fig.savefig(buffer, format="svg", metadata={"Date": None})
        return buffer.getvalue()

    assert svg(printable_figure(draw())) == svg(draw())


def test_html_and_markdown_escape_control_characters() -> None:
    for attack in ATTACKS:
        assert not RAW.search(esc(f"name{attack}"))
        assert not RAW.search(escape_md(f"name{attack}"))
    assert esc("<b>\x1b") == "&lt;b&gt;\\x1b"


# --- extends reads only .toml files ---------------------------------------------------------------


@pytest.fixture
def reads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The files ``read_toml`` opened, by name."""
    opened: list[str] = []
    real = loading_module.read_toml

    def spy(path: Path, display: str, **kwargs: str) -> dict[str, object]:
        opened.append(Path(path).name)
        return real(path, display, **kwargs)

    monkeypatch.setattr(loading_module, "read_toml", spy)
    return opened


def test_extends_refuses_a_file_that_is_not_toml_without_reading_it(
    tmp_path: Path, reads: list[str]
) -> None:
    secret = tmp_path / "shadow"
    secret.write_text('root = "$6$secret-hash"\n', "utf-8")
    child = tmp_path / "child.toml"
    child.write_text('extends = "shadow"\n', "utf-8")
    with pytest.raises(ScenarioError) as caught:
        load_scenario(child)
    assert reads == ["child.toml"]
    (problem,) = caught.value.problems
    assert problem.key_path == "extends" and "only .toml files" in problem.message
    assert "secret-hash" not in str(caught.value)
    result = invoke("validate", child)
    assert result.exit_code == 2 and "secret-hash" not in result.output


def test_extends_refuses_a_toml_name_that_links_to_another_file(
    tmp_path: Path, reads: list[str]
) -> None:
    secret = tmp_path / "id_rsa"
    secret.write_text('key = "PRIVATE"\n', "utf-8")
    (tmp_path / "base.toml").symlink_to(secret)
    child = tmp_path / "child.toml"
    child.write_text('extends = "base.toml"\n', "utf-8")
    with pytest.raises(ScenarioError) as caught:
        load_scenario(child)
    assert reads == ["child.toml"] and "PRIVATE" not in str(caught.value)
    assert "links to" in caught.value.problems[0].message


def test_extends_accepts_toml_in_any_case(tmp_path: Path) -> None:
    (tmp_path / "BASE.TOML").write_bytes(BASELINE.read_bytes())
    child = tmp_path / "child.toml"
    child.write_text('extends = "BASE.TOML"\nname = "child"\n', "utf-8")
    assert load_scenario(child).name == "child"


def test_a_problem_in_a_base_file_shows_only_that_files_values(tmp_path: Path) -> None:
    (tmp_path / "base.toml").write_text(
        BASELINE.read_text("utf-8") + '\n[policies_typo]\nx = "from-base"\n', "utf-8"
    )
    child = tmp_path / "child.toml"
    child.write_text('extends = "base.toml"\nname = "child-secret"\n', "utf-8")
    with pytest.raises(ScenarioError) as caught:
        load_scenario(child)
    (problem,) = caught.value.problems
    assert problem.file.endswith("base.toml") and "child-secret" not in str(problem)


def test_extending_a_toml_file_of_secrets_does_not_show_them(tmp_path: Path) -> None:
    """A file may extend any ``.toml`` file; its problems must not become a way to read it."""
    (tmp_path / "secrets.toml").write_text(
        'api_key = "abc-SECRET-1"\n[database]\npassword = "SECRET-2"\n', "utf-8"
    )
    child = tmp_path / "child.toml"
    child.write_text('extends = "secrets.toml"\n[database]\nport = 5432\n', "utf-8")
    result = invoke("validate", child)
    assert result.exit_code == 2
    assert "api_key: unknown key" in result.output and "database: unknown key" in result.output
    assert "SECRET" not in result.output, result.output


def test_a_number_from_a_base_file_is_still_shown(tmp_path: Path) -> None:
    base = tmp_path / "base.toml"
    base.write_text(BASELINE.read_text("utf-8").replace("p_right = 0.", "p_right = 1.", 1))
    child = tmp_path / "child.toml"
    child.write_text('extends = "base.toml"\nname = "child"\n', "utf-8")
    with pytest.raises(ScenarioError) as caught:
        load_scenario(child)
    (problem,) = caught.value.problems
    assert problem.file.endswith("base.toml") and "(got 1." in str(problem)


def test_an_experiment_base_must_be_a_toml_file(tmp_path: Path, reads: list[str]) -> None:
    (tmp_path / "notes.txt").write_text('secret = "hunter2"\n', "utf-8")
    path = tmp_path / "exp.toml"
    path.write_text(
        'name = "e"\nbase = "notes.txt"\nmetrics = ["cycle_median_won_days"]\n'
        '[[variants]]\nname = "v"\nset = { "policies.activities_per_call" = 3 }\n',
        "utf-8",
    )
    with pytest.raises(ScenarioError) as caught:
        load_experiment(path)
    assert reads == [] and "hunter2" not in str(caught.value)
    assert caught.value.problems[0].key_path == "base"


def test_an_unreadable_base_is_named_not_shown(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    base = tmp_path / "base.toml"
    base.write_text('name = "secret"\n', "utf-8")

    def no_permission(path: Path, *args: str) -> object:  # as chmod 0 would, but for root too
        if Path(path).name == "base.toml":
            raise PermissionError(13, "Permission denied", str(path))
        return open(path, *args)

    monkeypatch.setattr(loading_module, "open", no_permission, raising=False)
    child = tmp_path / "child.toml"
    child.write_text('extends = "base.toml"\n', "utf-8")
    with pytest.raises(ScenarioError) as caught:
        load_scenario(child)
    assert "cannot read it" in str(caught.value) and "secret" not in str(caught.value)
