"""``simsales class serve``: the class's web page, checked in a real browser against the real
command, started on a free port of this machine.

Skipped without the extra simsales[class] (Starlette, uvicorn), except in CI, where it fails.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from simsales.classroom import load_class
from simsales.cli import main

SHORT = ["run.horizon_days=300", "run.warmup_days=60", "run.cohort_margin_days=40"]


def _need_the_extra() -> None:
    try:
        import starlette  # noqa: F401
        import uvicorn  # noqa: F401
    except ImportError as err:
        reason = f"the web page needs the extra simsales[class] ({err.name} is not installed)"
        if os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no"):
            pytest.fail(reason + " (CI is set: .ci/run installs it)")
        pytest.skip(reason)


@dataclass
class Served:
    url: str
    folder: Path
    tokens: dict[str, str]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """A class of four teams, its web page served by ``simsales class serve`` on localhost."""
    _need_the_extra()
    folder = tmp_path_factory.mktemp("web") / "class"
    args = ["class", "init", str(folder), "-r", "2"]
    args += [a for s in SHORT for a in ("--set", s)]
    assert CliRunner().invoke(main, args).exit_code == 0
    spec = load_class(folder).spec
    tokens = {t.id: t.token for t in spec.teams} | {"instructor": spec.instructor_token}
    port = _free_port()
    command = [sys.executable, "-m", "simsales.cli", "class", "serve", str(folder)]
    log = folder.parent / "server.log"
    with open(log, "wb") as out:
        server = subprocess.Popen([*command, "--port", str(port)], stdout=out, stderr=out)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(url + "/", timeout=2) as response:
                    assert response.status == 200
                break
            except (urllib.error.URLError, ConnectionError):
                if server.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"the server did not start: {log.read_text()}")
                time.sleep(0.1)
        yield Served(url=url, folder=folder, tokens=tokens)
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def _login(browser: Any, served: Served, who: str) -> None:
    browser.get(served.url + "/")
    browser.delete_all_cookies()
    browser.get(served.url + "/")
    browser.find_element("id", "token").send_keys(served.tokens[who])
    browser.find_element("id", "login").click()
    _wait_for(browser, "budget" if who != "instructor" else "close")


def _select(browser: Any, lever: str, value: str) -> None:
    from selenium.webdriver.support.ui import Select

    Select(browser.find_element("id", f"lever-{lever}")).select_by_value(value)


def _selected(browser: Any, lever: str) -> str:
    from selenium.webdriver.support.ui import Select

    value: str = (
        Select(browser.find_element("id", f"lever-{lever}")).first_selected_option.get_attribute(
            "value"
        )
        or ""
    )
    return value


def _decision(served: Served, team: str) -> bytes | None:
    path = served.folder / "decisions" / f"{team}.toml"
    return path.read_bytes() if path.exists() else None


def _post(
    served: Served, path: str, form: dict[str, str], token: str | None, **headers: str
) -> int:
    """POST a form as a browser would; the status after redirects."""
    data = urllib.parse.urlencode(form).encode()
    request = urllib.request.Request(served.url + path, data=data, method="POST")
    request.add_header("Content-Type", "application/x-www-form-urlencoded")
    if token is not None:
        request.add_header("Cookie", f"simsales_class={token}")
    for name, value in headers.items():
        request.add_header(name, value)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            status: int = response.status
            return status
    except urllib.error.HTTPError as err:
        return err.code


def _wait_for(browser: Any, element_id: str) -> Any:
    """The element, once the page that has it has loaded (a form's answer takes a moment)."""
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(browser, 20).until(lambda b: b.find_element("id", element_id))


def _submit(browser: Any, button: str = "save") -> None:
    """Click a form's button and wait for the answer's page to replace this one.

    The old page is marked with a script variable and the wait is for a loaded document
    without it: asking whether an element of the old page has gone stale can instead fail
    inside Chromium while the new page replaces it ("Node with given id does not belong to
    the document"), under load."""
    browser.execute_script("window.__answered = false;")
    browser.find_element("id", button).click()
    _wait_for_new_page(browser)


def _wait_for_new_page(browser: Any) -> None:
    """Wait for a loaded page without the mark the old one was given."""
    from selenium.common.exceptions import WebDriverException
    from selenium.webdriver.support.ui import WebDriverWait

    wait = WebDriverWait(browser, 20, ignored_exceptions=(WebDriverException,))
    wait.until(
        lambda b: b.execute_script(
            "return window.__answered === undefined && document.readyState === 'complete'"
        )
    )


def _follow(browser: Any, by: str, what: str) -> None:
    """Follow a link and wait for the page it leads to (as ``_submit`` waits)."""
    browser.execute_script("window.__answered = false;")
    browser.find_element(by, what).click()
    _wait_for_new_page(browser)


def _errors(browser: Any) -> str:
    text: str = _wait_for(browser, "errors").text
    return text


def test_a_team_cannot_read_or_change_another_teams_decision(browser: Any, served: Served) -> None:
    _login(browser, served, "red")
    assert browser.find_element("tag name", "h1").text == "Red: round 1"
    _select(browser, "activities_per_call", "3")
    _submit(browser)
    assert _wait_for(browser, "saved").text == "Saved."
    red = _decision(served, "red")
    assert red is not None and b"activities_per_call = 3" in red

    _login(browser, served, "blue")
    assert browser.find_element("tag name", "h1").text == "Blue: round 1"
    assert _selected(browser, "activities_per_call") == "1"  # blue's, not red's
    assert "Red" not in browser.find_element("tag name", "body").text
    for address in ("/decisions/red.toml", "/team?team=red", "/last/debrief.html?team=red"):
        browser.get(served.url + address)
        assert "activities_per_call = 3" not in browser.page_source
    browser.get(served.url + "/team?team=red")
    assert browser.find_element("tag name", "h1").text == "Blue: round 1"
    # a form that names another team is refused, and red's decision stays as it was
    browser.execute_script(
        "const f = document.getElementById('decision'); const i = document.createElement('input');"
        "i.type = 'hidden'; i.name = 'team'; i.value = 'red'; f.appendChild(i);"
    )
    _select(browser, "sellers", "9")
    _submit(browser)
    assert "team: unknown field" in _errors(browser)
    assert _decision(served, "red") == red and _decision(served, "blue") is None
    # without a token, with a wrong one, or from another site: refused
    form = {"round": "1", "sellers": "9"}
    assert _post(served, "/team", form, None) == 403
    assert _post(served, "/team", form, "x" * 24) == 403
    assert _post(served, "/team", form, served.tokens["blue"], Origin="http://evil.example") == 403
    assert _decision(served, "blue") is None
    assert _post(served, "/instructor/close", {}, served.tokens["blue"]) == 403


def test_a_malformed_or_over_budget_form_gets_a_clear_error(browser: Any, served: Served) -> None:
    _login(browser, served, "green")
    left = browser.find_element("id", "budget-left")
    start = float(left.get_attribute("data-left"))
    _select(browser, "sellers", "12")  # four more sellers: far over the budget
    _select(browser, "training", "3")
    assert float(left.get_attribute("data-left")) < 0 < start  # the budget left, live
    _submit(browser)
    said = _errors(browser)
    assert "the changes cost 405,000 EUR, 285,000 EUR over the round's budget" in said
    assert _decision(served, "green") is None
    assert _selected(browser, "sellers") == "12"  # the form keeps what was chosen
    # a value that is not a number, and one the lever does not allow
    browser.execute_script(
        "document.querySelector('#lever-sellers option:checked').value = 'lots';"
        "document.querySelector('#lever-training option:checked').value = '7';"
    )
    _submit(browser)
    said = _errors(browser)
    assert 'sellers: must be a number (got "lots")' in said
    assert "training: must be one of 0, 1, 2, 3 (got 7)" in said
    assert _decision(served, "green") is None


def test_two_teams_saving_at_once_both_land(browser: Any, served: Served) -> None:
    teams = {"amber": "10", "blue": "12"}  # WIP caps: no cost
    start = threading.Barrier(len(teams))
    statuses: dict[str, list[int]] = {team: [] for team in teams}

    def save(team: str) -> None:
        start.wait()
        for i in range(10):
            form = {"round": "1", "wip_cap": teams[team] if i == 9 else "16"}
            statuses[team].append(_post(served, "/team", form, served.tokens[team]))

    threads = [threading.Thread(target=save, args=(team,)) for team in teams]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert all(s == [200] * 10 for s in statuses.values()), statuses
    for team, cap in teams.items():
        saved = _decision(served, team)
        assert saved is not None and f"wip_cap = {cap}\n".encode() in saved
        _login(browser, served, team)
        assert _selected(browser, "wip_cap") == cap
    assert not list((served.folder / "decisions").glob(".*.tmp"))


def test_the_instructor_closes_the_round_and_teams_see_their_run(
    browser: Any, served: Served
) -> None:
    _login(browser, served, "instructor")
    rows = browser.find_element("tag name", "table").text
    assert "Red saved" in rows and "Green none" in rows
    _submit(browser, "close")
    deadline = time.monotonic() + 90
    while not browser.find_elements("id", "message") and time.monotonic() < deadline:
        time.sleep(0.5)
        browser.get(served.url + "/instructor")
    assert "Round 1 played" in browser.find_element("id", "message").text
    assert (served.folder / "round-1" / "round.json").is_file()
    assert browser.find_element("tag name", "h1").text.endswith("round 2")

    _login(browser, served, "red")
    _follow(browser, "id", "leaderboard")
    assert len(browser.find_elements("css selector", "tr[data-rank]")) == 5
    browser.get(served.url + "/last/debrief.html")
    assert browser.find_element("tag name", "h1").text == "Red: round 1 debrief"
    _follow(browser, "link text", "Watch your run beside the base's")
    assert browser.current_url == served.url + "/last/flow.html"
    state = browser.execute_script(
        "window.simsales.seek(window.simsales.state().horizon); return window.simsales.state()"
    )
    assert len(state["counters"]) == 2 and sum(state["counters"][1].values()) > 0
    assert browser.find_elements("tag name", "h2")[1].text == "red"  # its own run
    # red's page is now round 2's, starting from its round-1 market
    browser.get(served.url + "/team")
    assert browser.find_element("tag name", "h1").text == "Red: round 2"
    assert _selected(browser, "activities_per_call") == "3"
