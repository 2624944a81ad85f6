"""The class's web page (``simsales class serve DIR``; the extra ``simsales[class]``).

A small Starlette application served by uvicorn on the classroom's network. Each team logs in
with its token and sees one form: its levers with the values it may choose, what each level
costs and the budget left, its saved decision, and links to the last round's leaderboard, its
debrief and the replay of its run. The instructor logs in with the instructor's token, sees who
has saved a decision, and closes the round (``plan_round``, ``run_round``, ``publish_round`` in
a thread, as ``class round`` does).

Security, for a room of students on one network:

- the team is read from the login cookie alone, never from the URL or the form: there is no
  address at which a team could name another team's decision, to read it or to change it;
- tokens are compared in constant time (``hmac.compare_digest``, against every token, always);
- the cookie is ``HttpOnly`` and ``SameSite=Strict``, and a form posted from another origin is
  refused;
- every form is checked on the server (``check_values``: known levers, allowed values, the
  budget, a valid market), bodies are size-limited, and errors are shown as text;
- decisions are written atomically (``simsales.output``) under the class folder's lock, so two
  teams saving at once both land and a round never reads half a file;
- every page is self-contained under a Content-Security-Policy that loads nothing from
  elsewhere; the one script (the budget left, live) carries a fresh nonce.

Plain HTTP: tokens cross the room's network in the clear, as on any classroom tool without TLS.
"""

from __future__ import annotations

import hmac
import html
import secrets
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from simsales.classroom.decisions import (
    CheckedDecision,
    check_decision,
    check_values,
    decision_path,
    decision_text,
    money,
)
from simsales.classroom.rounds import (
    class_lock,
    current_values,
    finished_rounds,
    plan_round,
    round_folder,
    run_round,
)
from simsales.classroom.spec import Classroom, Lever, Number, Team
from simsales.output import atomic_write_text
from simsales.scenario import Problem, ScenarioError
from simsales.scenario.errors import format_value

__all__ = ["create_app", "serve"]

COOKIE = "simsales_class"
#: The largest form body read, in bytes: a form of 30 levers is a few hundred.
MAX_BODY = 16 * 1024
#: The form's own field beside the levers.
ROUND_FIELD = "round"

_CSP = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src data:; form-action 'self'; "
    "base-uri 'none'; frame-ancestors 'none'"
)
#: The round's files (leaderboard, debrief, replay): their inline script, nothing from elsewhere.
_FILE_CSP = (
    "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; "
    "img-src data:; form-action 'none'; base-uri 'none'; frame-ancestors 'none'"
)

_STYLE = """
body { margin: 0; font: 16px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
  color: #1a1a1a; background: #fafafa; }
main { max-width: 52rem; margin: 0 auto; padding: 1.5rem; }
h1 { font-size: 1.6rem; margin: 0 0 .6rem; }
nav { display: flex; gap: 1.2rem; flex-wrap: wrap; margin: .5rem 0 1rem; }
.errors { border: 2px solid #b00020; background: #fff0f0; padding: .5rem 1rem; }
.saved { border: 2px solid #00733c; background: #effaf3; padding: .5rem 1rem; }
fieldset { border: 1px solid #ccc; background: #fff; margin: .8rem 0; }
label { font-weight: 600; }
.hint { color: #555; font-size: .9rem; margin: .2rem 0; }
.field-error { color: #b00020; font-weight: 600; }
select, input, button { font: inherit; padding: .2rem .5rem; }
table { border-collapse: collapse; background: #fff; }
th, td { border: 1px solid #bbb; padding: .3rem .6rem; text-align: left; }
#budget { font-size: 1.1rem; font-weight: 600; }
"""

_BUDGET_SCRIPT = """
"use strict";
const budget = Number(document.getElementById("budget").dataset.budget);
function update() {
  let cost = 0;
  for (const select of document.querySelectorAll("select[data-now]")) {
    const steps = select.selectedIndex - Number(select.dataset.now);
    cost += steps > 0 ? steps * Number(select.dataset.up) : -steps * Number(select.dataset.down);
  }
  const left = budget - cost;
  const out = document.getElementById("budget-left");
  out.textContent = left.toLocaleString("en-GB", {maximumFractionDigits: 0});
  out.dataset.left = String(left);
  document.getElementById("over").hidden = left >= 0;
}
for (const select of document.querySelectorAll("select[data-now]")) {
  select.addEventListener("change", update);
}
"""


def esc(text: Any) -> str:
    return html.escape(str(text), quote=True)


@dataclass
class _State:
    """The server's state beside the class folder: the round being played, its outcome."""

    classroom: Classroom
    jobs: int
    running: bool = False
    message: str = ""
    problems: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


def create_app(classroom: Classroom, *, jobs: int = 1) -> Starlette:
    """The class's web application over ``classroom``'s folder."""
    state = _State(classroom=classroom, jobs=jobs)

    async def home(request: Request) -> Response:
        who = _who(state, request)
        if who is None:
            return _login_page()
        return RedirectResponse("/instructor" if who == "instructor" else "/team", 303)

    async def login(request: Request) -> Response:
        form = await _form(request)
        if isinstance(form, Response):
            return form
        token = (form.get("token") or [""])[0].strip()
        who = _identify(state, token)
        if who is None:
            return _login_page("That token is not one of this class's.", status=401)
        response = RedirectResponse("/instructor" if who == "instructor" else "/team", 303)
        response.set_cookie(COOKIE, token, httponly=True, samesite="strict", path="/")
        return response

    async def logout(request: Request) -> Response:
        if (refused := _foreign(request)) is not None:
            return refused
        response = RedirectResponse("/", 303)
        response.delete_cookie(COOKIE, path="/")
        return response

    async def team_page(request: Request) -> Response:
        who = _who(state, request)
        if not isinstance(who, Team):
            return RedirectResponse("/", 303)
        saved = request.query_params.get("saved") == "1"
        return await run_in_threadpool(_team_page, state, who, saved=saved)

    async def team_save(request: Request) -> Response:
        who = _who(state, request)
        if not isinstance(who, Team):
            return _page("Not logged in", ["<p>Log in first.</p>"], status=403)
        form = await _form(request)
        if isinstance(form, Response):
            return form
        return await run_in_threadpool(_save, state, who, form)

    async def instructor_page(request: Request) -> Response:
        if _who(state, request) != "instructor":
            return RedirectResponse("/", 303)
        return await run_in_threadpool(_instructor_page, state)

    async def close_round(request: Request) -> Response:
        if _who(state, request) != "instructor":
            return _page("Not allowed", ["<p>Only the instructor closes a round.</p>"], 403)
        if (refused := _foreign(request)) is not None:
            return refused
        with state.lock:
            if state.running:
                return _page("Busy", ["<p>The round is being played already.</p>"], 409)
            state.running, state.message, state.problems = True, "", []
        threading.Thread(target=_play, args=(state,), name="simsales-round", daemon=True).start()
        return RedirectResponse("/instructor", 303)

    async def round_file(request: Request) -> Response:
        who = _who(state, request)
        if who is None:
            return RedirectResponse("/", 303)
        name = request.path_params["name"]
        done = finished_rounds(state.classroom)
        if not done:
            return _page("No round yet", ["<p>No round has been played yet.</p>"], 404)
        folder = round_folder(state.classroom, done[-1])
        if name == "leaderboard.html":
            path = folder / name
        elif isinstance(who, Team) and name in ("debrief.html", "flow.html"):
            path = folder / "teams" / who.id / name
        else:
            return _page("Not found", ["<p>No such page.</p>"], 404)
        return await run_in_threadpool(_file, path)

    routes = [
        Route("/", home, methods=["GET"]),
        Route("/login", login, methods=["POST"]),
        Route("/logout", logout, methods=["POST"]),
        Route("/team", team_page, methods=["GET"]),
        Route("/team", team_save, methods=["POST"]),
        Route("/instructor", instructor_page, methods=["GET"]),
        Route("/instructor/close", close_round, methods=["POST"]),
        Route("/last/{name}", round_file, methods=["GET"]),
    ]
    return Starlette(routes=routes)


def serve(classroom: Classroom, *, host: str, port: int, jobs: int = 1) -> None:
    """Serve the class until Ctrl-C."""
    import uvicorn

    uvicorn.run(create_app(classroom, jobs=jobs), host=host, port=port, log_level="warning")


# --- who is asking -------------------------------------------------------------------------------


def _identify(state: _State, token: str) -> Team | str | None:
    """The team (or ``"instructor"``) whose token this is; every token is compared, in
    constant time, whatever matches, so the time taken says nothing of which is close."""
    spec = state.classroom.spec
    given = token.encode("utf-8")
    found: Team | str | None = None
    for team in spec.teams:
        if hmac.compare_digest(given, team.token.encode("utf-8")):
            found = team
    if hmac.compare_digest(given, spec.instructor_token.encode("utf-8")):
        found = "instructor"
    return found


def _who(state: _State, request: Request) -> Team | str | None:
    token = request.cookies.get(COOKIE)
    return None if not token else _identify(state, token)


def _foreign(request: Request) -> Response | None:
    """A refusal for a form posted from another site (the cookie is SameSite=Strict too)."""
    origin = request.headers.get("origin")
    if origin is not None and origin.rstrip("/") != str(request.base_url).rstrip("/"):
        return _page("Refused", ["<p>A form from another site was refused.</p>"], 403)
    return None


async def _form(request: Request) -> dict[str, list[str]] | Response:
    """The posted form (URL-encoded), at most ``MAX_BODY`` bytes; or the response refusing it."""
    if (refused := _foreign(request)) is not None:
        return refused
    kind = request.headers.get("content-type", "").split(";")[0].strip()
    if kind != "application/x-www-form-urlencoded":
        return _page("Bad form", ["<p>The form must be sent as a web form.</p>"], 415)
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_BODY:
            return _page("Too large", ["<p>The form is too large.</p>"], 413)
    try:
        text = body.decode("utf-8")
        return parse_qs(text, keep_blank_values=True, max_num_fields=200)
    except (UnicodeDecodeError, ValueError):
        return _page("Bad form", ["<p>The form could not be read.</p>"], 400)


# --- the team's page -----------------------------------------------------------------------------


def _next_round(classroom: Classroom) -> tuple[int, dict[str, dict[str, Number]]]:
    done = finished_rounds(classroom)
    last = done[-1] if done else 0
    return last + 1, current_values(classroom, last)


def _saved(state: _State, team: Team, now: dict[str, Number], number: int) -> CheckedDecision:
    """The team's saved decision, checked (raises ``ScenarioError`` if it no longer holds)."""
    return check_decision(state.classroom, team, now, number)


def _team_page(
    state: _State,
    team: Team,
    *,
    saved: bool = False,
    shown: dict[str, Number] | None = None,
    problems: list[Problem] | None = None,
    status: int = 200,
) -> Response:
    classroom = state.classroom
    number, values = _next_round(classroom)
    now = values[team.id]
    notes = []
    if shown is None:
        try:
            decision = _saved(state, team, now, number)
            shown = decision.values
            if decision.text:
                notes.append(f"Your decision for round {number} is saved.")
            else:
                notes.append("No decision saved yet: your market stays as it is.")
        except ScenarioError as err:
            shown, problems = dict(now), err.problems
    body = [f"<h1>{esc(team.name)}: round {number}</h1>", _nav(classroom, team=True)]
    if state.running:
        body.append("<p class='saved'>The round is being played: save after it is done.</p>")
    if saved:
        body.append("<p class='saved' id='saved'>Saved.</p>")
    if problems:
        items = "".join(f"<li>{esc(_said(p))}</li>" for p in problems)
        body.append(f"<div class='errors' role='alert' id='errors'><ul>{items}</ul></div>")
    body += [f"<p>{esc(n)}</p>" for n in notes]
    nonce = secrets.token_urlsafe(16)
    body.append(_decision_form(classroom, now, shown, number, problems or []))
    body.append(f'<script nonce="{nonce}">{_BUDGET_SCRIPT}</script>')
    return _page(f"{team.name}: round {number}", body, status, nonce=nonce)


def _said(problem: Problem) -> str:
    """A problem as the form shows it: the lever's label, not the file."""
    where = problem.key_path
    text = problem.message
    if problem.value is not None:
        text += f" (got {format_value(problem.value)})"
    where = "" if where == "levers" else where.removeprefix("levers.")  # the whole decision
    return f"{where}: {text}" if where else text


def _decision_form(
    classroom: Classroom,
    now: dict[str, Number],
    shown: dict[str, Number],
    number: int,
    problems: list[Problem],
) -> str:
    spec = classroom.spec
    currency = classroom.currency
    cost = sum(lever.cost(now[lever.name], shown[lever.name]) for lever in spec.levers)
    left = spec.budget - cost
    errors = {p.key_path.removeprefix("levers."): p.message for p in problems}
    parts = [
        '<form method="post" action="/team" id="decision">',
        f'<input type="hidden" name="{ROUND_FIELD}" value="{number}">',
        f'<p id="budget" data-budget="{spec.budget:g}">Budget left this round: '
        f'<span id="budget-left" data-left="{left:g}">{esc(f"{left:,.0f}")}</span> '
        f"{esc(currency)} of {esc(money(spec.budget, currency))}"
        f'<span id="over" class="field-error"{"" if left < 0 else " hidden"}>: over the '
        "budget</span></p>",
    ]
    for lever in spec.levers:
        parts.append(_lever_field(lever, now[lever.name], shown[lever.name], currency, errors))
    parts.append('<button type="submit" id="save">Save decision</button></form>')
    return "\n".join(parts)


def _lever_field(
    lever: Lever, now: Number, shown: Number, currency: str, errors: dict[str, str]
) -> str:
    options = []
    for value in lever.values:
        chosen = " selected" if value == shown else ""
        mark = " (now)" if value == now else ""
        text = format_value(value)
        options.append(f'<option value="{esc(text)}"{chosen}>{esc(text)}{mark}</option>')
    costs = []
    if lever.cost_up:
        costs.append(f"each level up costs {money(lever.cost_up, currency)}")
    if lever.cost_down:
        costs.append(f"each level down costs {money(lever.cost_down, currency)}")
    hint = "; ".join(costs) or "no cost"
    error = errors.get(lever.name)
    return (
        "<fieldset>"
        f'<label for="lever-{lever.name}">{esc(lever.label)}</label> '
        f'<select name="{lever.name}" id="lever-{lever.name}" data-now="{lever.level(now)}" '
        f'data-up="{lever.cost_up:g}" data-down="{lever.cost_down:g}">{"".join(options)}</select>'
        f'<p class="hint">Now {esc(format_value(now))}; {esc(hint)}.</p>'
        + (f'<p class="hint">{esc(lever.teaches)}</p>' if lever.teaches else "")
        + (f'<p class="field-error">{esc(error)}</p>' if error else "")
        + "</fieldset>"
    )


def _save(state: _State, team: Team, form: dict[str, list[str]]) -> Response:
    """Check the posted form and save it as the team's decision, or show it again with every
    problem named."""
    classroom = state.classroom
    number, values = _next_round(classroom)
    now = values[team.id]
    problems: list[Problem] = []
    wanted: dict[str, Any] = {}
    for name, given in form.items():
        if name == ROUND_FIELD:
            continue
        if _lever(classroom, name) is None:
            msg = "unknown field: the form holds the team's levers only"
            problems.append(Problem("the form", f"levers.{name}", None, msg))
            continue
        if len(given) != 1:
            problems.append(Problem("the form", f"levers.{name}", None, "given more than once"))
            continue
        try:
            wanted[name] = _number(given[0])
        except ValueError:
            problems.append(Problem("the form", f"levers.{name}", given[0], "must be a number"))
    round_given = (form.get(ROUND_FIELD) or [""])[0]
    if round_given != str(number):
        msg = f"the form was for round {round_given or '?'}; round {number} is next: check again"
        problems.append(Problem("the form", "", None, msg))
    if state.running:
        problems.append(Problem("the form", "", None, "the round is being played: save after"))
    shown = dict(now)
    try:  # the levers read, checked even if others were not: every problem at once
        checked = check_values(classroom, team, now, wanted, file="the form")
    except ScenarioError as err:
        problems += err.problems
    else:
        if not problems:
            text = decision_text(classroom, team, checked.values, round_number=number, current=now)
            path = decision_path(classroom, team.id)
            with class_lock(classroom.folder):
                path.parent.mkdir(exist_ok=True)
                atomic_write_text(path, text)
            return RedirectResponse("/team?saved=1", 303)
    for name, value in wanted.items():
        lever = _lever(classroom, name)
        if lever is not None and any(value == v for v in lever.values):
            shown[name] = value
    return _team_page(state, team, shown=shown, problems=problems, status=400)


def _number(text: str) -> int | float:
    text = text.strip()
    try:
        return int(text)
    except ValueError:
        value = float(text)
    if value != value or value in (float("inf"), float("-inf")):
        raise ValueError(text)
    return value


def _lever(classroom: Classroom, name: str) -> Lever | None:
    try:
        return classroom.spec.lever(name)
    except KeyError:
        return None


# --- the instructor's page and the round ---------------------------------------------------------


def _instructor_page(state: _State) -> Response:
    classroom = state.classroom
    with state.lock:  # before the round number: a message said is a round already written
        running, message, said = state.running, state.message, list(state.problems)
    number, values = _next_round(classroom)
    rows = []
    for team in classroom.spec.teams:
        try:
            decision = _saved(state, team, values[team.id], number)
            status = "saved" if decision.text else "none (keeps its market)"
            cost = money(decision.cost, classroom.currency) if decision.text else ""
        except ScenarioError as err:
            status, cost = f"invalid: {len(err.problems)} problem(s)", ""
        rows.append(f"<tr><td>{esc(team.name)}</td><td>{esc(status)}</td><td>{esc(cost)}</td></tr>")
    body = [f"<h1>{esc(classroom.spec.name)}: round {number}</h1>", _nav(classroom, team=False)]
    if running:
        body.append(f"<p class='saved' id='running'>Round {number} is being played…</p>")
    elif message:
        body.append(f"<p class='saved' id='message'>{esc(message)}</p>")
    if said:
        items = "".join(f"<li>{esc(p)}</li>" for p in said)
        body.append(f"<div class='errors' role='alert' id='errors'><ul>{items}</ul></div>")
    body.append("<table><tr><th>team</th><th>decision</th><th>cost</th></tr>")
    body += rows
    body.append("</table>")
    if not running:
        body.append(
            '<form method="post" action="/instructor/close"><p><button type="submit" '
            f'id="close">Close round {number}: play it</button></p></form>'
        )
    refresh = 2 if running else None
    return _page(f"{classroom.spec.name}: instructor", body, refresh=refresh)


def _play(state: _State) -> None:
    """Play the next round (in a thread); its outcome goes to the instructor's page."""
    from simsales.api import Execution, RequestError
    from simsales.api.running import check_workload
    from simsales.classroom.pages import publish_round

    classroom = state.classroom
    try:
        with class_lock(classroom.folder, ".round.lock", wait=False) as mine:
            if not mine:
                raise RuntimeError("a round is being played already (by another simsales)")
            plan = plan_round(classroom)
            markets = [plan.base, *plan.markets.values()]
            check_workload(markets, classroom.spec.replications, Execution())  # default limits
            result = run_round(classroom, plan, jobs=state.jobs)
            publish_round(classroom, result)
        message = f"Round {result.number} played: the leaderboard is up."
        problems: list[str] = []
    except ScenarioError as err:
        message, problems = "No round was played:", [str(p) for p in err.problems]
    except RequestError as err:  # the round would pass the work or memory limit
        message, problems = "No round was played:", [str(err)]
    except Exception as exc:  # shown to the instructor, not lost in a thread
        message, problems = "The round failed:", [f"{type(exc).__name__}: {exc}"]
    with state.lock:
        state.running, state.message, state.problems = False, message, problems


# --- pages ---------------------------------------------------------------------------------------


def _nav(classroom: Classroom, *, team: bool) -> str:
    links = []
    if finished_rounds(classroom):
        links.append(
            '<a href="/last/leaderboard.html" id="leaderboard">Last round: leaderboard</a>'
        )
        if team:
            links.append('<a href="/last/debrief.html" id="debrief">Your debrief</a>')
            links.append('<a href="/last/flow.html" id="flow">Your run, replayed</a>')
    links.append(
        '<form method="post" action="/logout"><button type="submit">Log out</button></form>'
    )
    return f"<nav>{''.join(links)}</nav>"


def _login_page(error: str = "", status: int = 200) -> Response:
    body = ["<h1>Log in</h1>"]
    if error:
        body.append(f"<p class='errors' role='alert' id='errors'>{esc(error)}</p>")
    body.append(
        '<form method="post" action="/login"><p><label for="token">Your team\'s token</label> '
        '<input type="password" name="token" id="token" autocomplete="off" required> '
        '<button type="submit" id="login">Log in</button></p></form>'
    )
    return _page("simsales class", body, status)


def _page(
    title: str,
    body: list[str],
    status: int = 200,
    *,
    nonce: str = "",
    refresh: int | None = None,
) -> Response:
    csp = _CSP + (f"; script-src 'nonce-{nonce}'" if nonce else "")
    meta = f'<meta http-equiv="refresh" content="{refresh}">' if refresh else ""
    text = (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"{meta}<title>{esc(title)}</title><style>{_STYLE}</style></head>"
        f"<body><main>{''.join(body)}</main></body></html>"
    )
    return HTMLResponse(text, status_code=status, headers=_headers(csp))


def _headers(csp: str) -> dict[str, str]:
    return {
        "Content-Security-Policy": csp,
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "same-origin",  # "no-referrer" would make forms post Origin: null
        "Cache-Control": "no-store",
    }


def _file(path: Path) -> Response:
    """One of the round's pages, as written."""
    try:
        text = path.read_text("utf-8")
    except FileNotFoundError:
        return _page("Not found", ["<p>No such page in the last round.</p>"], 404)
    return HTMLResponse(text, headers=_headers(_FILE_CSP))
