"""``report.html`` of ``compare --out`` and ``experiment --out``: one self-contained page that
embeds every figure, loads nothing from elsewhere and shows the user's text as text.

The page is checked twice: as text (parsed with ``html.parser``) and in a real browser, headless
Chromium driven by Selenium, which must decode every image and run no injected script. The
browser test skips when Chromium, chromedriver or Selenium is missing, except in CI (``CI`` set),
where ``.ci/run`` installs them and a missing browser is a failure.
"""

from __future__ import annotations

import base64
import json
import re
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from simsales.cli import main
from simsales.report.html import read_input

#: A name that runs a script, opens a tag and starts an entity if it is not escaped.
HOSTILE = "<script>window.pwned = 1</script> & <b>co</b>"
DESCRIPTION = 'Does <img src=x onerror="window.pwned = 2"> stay text? \'quotes\' & "more"'
EXPERIMENT = f"""\
name = "exp & <i>sweep</i>"
description = {json.dumps(DESCRIPTION)}
base = "tiny.toml"
metrics = ["win_rate", "calls_per_opportunity"]
replications = 2
[sweep]
[[sweep.keys]]
key = "policies.activities_per_call"
values = [2, 3]
"""
SENSITIVITY = """\
name = "sens"
base = "tiny.toml"
replications = 2
metrics = ["win_rate", "calls_per_opportunity"]
[sensitivity]
[[sensitivity.levers]]
key = "policies.activities_per_call"
high = 3
[[sensitivity.levers]]
key = "team.sellers"
low = 1
high = 3
"""


def invoke(*args: str | Path) -> Result:
    return CliRunner().invoke(main, [str(a) for a in args])


@pytest.fixture(scope="module")
def folders(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A comparison with a hostile variant name, a sweep with a hostile description and a
    sensitivity run, each written once with figures; a comparison without figures."""
    from conftest import MINIMAL_SCENARIO_TOML

    root = tmp_path_factory.mktemp("html")
    (root / "tiny.toml").write_text(MINIMAL_SCENARIO_TOML, "utf-8")
    hostile = MINIMAL_SCENARIO_TOML.replace('name = "tiny"', f"name = {json.dumps(HOSTILE)}")
    (root / "hostile & <v>.toml").write_text(hostile, "utf-8")
    (root / "exp.toml").write_text(EXPERIMENT, "utf-8")
    (root / "sens.toml").write_text(SENSITIVITY, "utf-8")
    files = [root / "tiny.toml", root / "hostile & <v>.toml"]
    out = {"compare": root / "cmp", "experiment": root / "exp", "bare": root / "bare"}
    out["sensitivity"] = root / "sens"
    runs = [
        ("compare", *files, "-r", "2", "--metric", "win_rate", "--out", out["compare"]),
        ("experiment", root / "exp.toml", "--out", out["experiment"]),
        ("experiment", root / "sens.toml", "--out", out["sensitivity"]),
        ("compare", *files, "-r", "2", "--no-figures", "--out", out["bare"]),
    ]
    for args in runs:
        result = invoke(*args)
        assert result.exit_code == 0, result.output
        assert "report.md, report.html" in result.stdout
    return out


class _Tags(HTMLParser):
    """Every start tag of a page with its attributes, and the text between tags."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def parse(page: str) -> _Tags:
    parser = _Tags()
    parser.feed(page)
    parser.close()
    return parser


@pytest.mark.parametrize("kind", ["compare", "experiment", "sensitivity"])
def test_every_figure_of_the_folder_is_embedded(folders: dict[str, Path], kind: str) -> None:
    out = folders[kind]
    page = (out / "report.html").read_text("utf-8")
    pngs = sorted((out / "figures").glob("*.png"))
    assert len(pngs) >= 2
    images = [attrs for tag, attrs in parse(page).tags if tag == "img"]
    assert len(images) == len(pngs)
    sources = {attrs["src"] for attrs in images}
    for png in pngs:  # the very bytes of figures/<stem>.png, with their caption
        assert f"data:image/png;base64,{base64.b64encode(png.read_bytes()).decode()}" in sources
        assert f"figures/{png.name}" in page
    assert all(attrs.get("alt") and attrs.get("width") for attrs in images)
    if kind == "sensitivity":
        assert {p.stem for p in pngs} == {"tornado_win_rate", "tornado_calls_per_opportunity"}
        return
    for stem in ("outcome_shares", "funnel", "time_in_stage", "differences"):
        assert f'id="figure-{stem}"' in page
    if kind == "experiment":
        assert 'id="figure-cycle_times"' in page and 'id="figure-sweep_win_rate"' in page


@pytest.mark.parametrize("kind", ["compare", "experiment", "sensitivity", "bare"])
def test_the_page_loads_nothing_from_elsewhere(folders: dict[str, Path], kind: str) -> None:
    page = (folders[kind] / "report.html").read_text("utf-8")
    parsed = parse(page)
    tags = [tag for tag, _ in parsed.tags]
    assert tags[:1] == ["html"] and page.startswith("<!DOCTYPE html>")
    assert "script" not in tags and "link" not in tags and "iframe" not in tags
    for tag, attrs in parsed.tags:
        assert not any(name.startswith("on") for name in attrs), (tag, attrs)
        for name in ("src", "href", "srcset", "action", "data"):
            value = attrs.get(name)
            assert value is None or value.startswith("data:image/png;base64,"), (tag, name)
    assert not re.search(r"(src|href)\s*=\s*[\"']?(https?:|//)", page, re.I)
    assert "url(" not in page and "@import" not in page
    csp = [a for t, a in parsed.tags if t == "meta" and a.get("http-equiv")]
    assert csp and "default-src 'none'" in (csp[0]["content"] or "")


def test_no_figures_gives_a_page_without_images(folders: dict[str, Path]) -> None:
    page = (folders["bare"] / "report.html").read_text("utf-8")
    assert "<img" not in page and "Figures</h2>" not in page
    assert "Results</h2>" in page and "How to reproduce</h2>" in page


def test_user_text_is_escaped_everywhere(folders: dict[str, Path]) -> None:
    compared = (folders["compare"] / "report.html").read_text("utf-8")
    escaped = "&lt;script&gt;window.pwned = 1&lt;/script&gt; &amp; &lt;b&gt;co&lt;/b&gt;"
    assert escaped in compared
    assert "<script" not in compared and "<b>" not in compared
    assert "hostile &amp; &lt;v&gt;.toml" in compared  # the file's path (and its text below)
    assert "<v>" not in compared
    text = "".join(parse(compared).text)
    assert HOSTILE in text  # as a reader sees it: the name, verbatim
    # the scenario file itself, escaped, in a <details><pre>
    pre = re.findall(r"<details><summary>.*?</summary><pre>(.*?)</pre></details>", compared, re.S)
    assert len(pre) == 2 and f"name = &quot;{escaped}&quot;" in pre[1]
    swept = (folders["experiment"] / "report.html").read_text("utf-8")
    assert "<title>exp &amp; &lt;i&gt;sweep&lt;/i&gt;</title>" in swept
    assert "&lt;img src=x onerror=&quot;window.pwned = 2&quot;&gt;" in swept
    assert "<img src=x" not in swept and "<i>" not in swept
    assert DESCRIPTION in "".join(parse(swept).text)


def test_the_page_says_what_reproduces_it(folders: dict[str, Path]) -> None:
    page = (folders["experiment"] / "report.html").read_text("utf-8")
    text = " ".join(" ".join(parse(page).text).split())
    assert "simsales experiment" in text and "--replications=2" in text
    assert "Root seed 7; replication r of every scenario uses SeedSequence(root" in text
    assert "numpy" in text and "Replications: 2 per scenario; root seed 7" in text
    exp = read_input(str(folders["experiment"].parent / "exp.toml"), "Experiment file")
    assert exp.sha256 and f"<code>{exp.sha256}</code>" in page
    assert "Experiment file" in text and "Base scenario" in text
    for table in re.findall(r"<table>.*?</table>", page, re.S):  # rectangular tables
        heads = len(re.findall(r"<th ", table))
        for row in re.findall(r"<tbody>(.*)</tbody>", table, re.S)[0].split("</tr>")[:-1]:
            spans = [int(n) for n in re.findall(r'<td colspan="(\d+)"', row)]
            assert row.count("<td") - len(spans) + sum(spans) == heads


def test_a_sensitivity_run_gets_a_table_per_metric_levers_by_swing(
    folders: dict[str, Path],
) -> None:
    page = (folders["sensitivity"] / "report.html").read_text("utf-8")
    text = " ".join(" ".join(parse(page).text).split())
    assert "Sensitivity of 2 levers, each moved one step from the base:" in text
    assert "policies.activities_per_call : – ← 2 → 3" in text
    assert "team.sellers : 1 ← 2 → 3" in text
    for metric in ("win_rate", "calls_per_opportunity"):
        assert f"<h3><code>{metric}</code>: base " in page
    tables = re.findall(r"<table>.*?</table>", page, re.S)
    assert len(tables) == 3  # one per metric, and the input files
    for found in tables[:2]:
        assert "one step down" in found and "swing" in found
        levers = re.findall(r"<tr><td>(\w+)</td>", found)
        assert sorted(levers) == ["activities_per_call", "sellers"]
    assert "Findings</h2>" in page and "no detectable difference" in page


def test_an_input_file_gone_since_the_run_is_said_not_fatal(tmp_path: Path) -> None:
    gone = read_input(str(tmp_path / "gone.toml"), "Base scenario")
    assert gone.text is None and gone.sha256 == "" and gone.error
    (tmp_path / "bad.toml").write_bytes(b"name = 'caf\xe9'\n")
    bad = read_input(str(tmp_path / "bad.toml"), "Base scenario")
    assert bad.text == "name = 'caf\ufffd'\n" and len(bad.sha256) == 64 and bad.size == 14


# --- in a real browser ---------------------------------------------------------------------------


_STATE = """
const images = Array.from(document.images);
return {
  ready: document.readyState,
  title: document.title,
  pwned: typeof window.pwned,
  scripts: document.scripts.length,
  images: images.map(i => [i.complete, i.naturalWidth, i.naturalHeight,
                           i.getBoundingClientRect().width]),
  svgs: Array.from(document.querySelectorAll("svg")).map(s => s.getBoundingClientRect().width
                                                               * s.getBoundingClientRect().height),
  text: document.body.innerText,
  width: document.documentElement.scrollWidth,
};
"""


@pytest.mark.parametrize("kind", ["compare", "experiment"])
def test_the_page_renders_in_chromium(browser: Any, folders: dict[str, Path], kind: str) -> None:
    out = folders[kind]
    browser.get((out / "report.html").as_uri())
    state = browser.execute_script(_STATE)
    assert state["ready"] == "complete"
    figures = len(list((out / "figures").glob("*.png")))
    assert len(state["images"]) == figures >= 4
    for complete, width, height, shown in state["images"]:  # every image decoded and laid out
        assert complete and width > 300 and height > 200 and shown > 300
    assert all(area > 0 for area in state["svgs"])
    assert state["pwned"] == "undefined" and state["scripts"] == 0  # nothing injected ran
    assert state["width"] <= 1200  # no table wider than the window
    if kind == "compare":
        assert HOSTILE in state["text"] and "tiny (base)" in state["text"]
    else:
        assert DESCRIPTION in state["text"] and state["title"] == "exp & <i>sweep</i>"
    errors = [e for e in browser.get_log("browser") if e.get("level") == "SEVERE"]
    assert errors == []  # no blocked request, no broken image
