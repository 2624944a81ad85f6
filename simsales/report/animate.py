"""``simsales animate``: a page that replays a run, deals as dots moving through the stages.

One self-contained HTML file: the run's replay (``simsales.results.replay``) as JSON and a small
script drawing it on a canvas, inline; no network, no library, nothing loaded from elsewhere
(a content security policy forbids it). It opens from disk, on a classroom projector at
1280×720. Deals appear in the suspect pool, move through the stage lanes and leave into the
outcome bins; a waiting deal is coloured by what it waits for (the buyer's task, the seller's
offline work, the buyer's calendar, the seller's calendar); a call flashes; a clock shows the
day, counters each bin, and a strip each seller's open deals. With a variant, the two runs
(same seed, same replication: common random numbers) play side by side on one clock.

The state drawn at a day is computed from the data for that day alone, so play, pause and the
slider always agree. Names from the scenario are put on the page as text, never as markup.
"""

from __future__ import annotations

import html
import json
from collections.abc import Sequence

from simsales import __version__
from simsales.model import simulate
from simsales.results.replay import Replay, replay_of
from simsales.scenario import Scenario

__all__ = ["animate_runs", "animation_page"]

#: Days the clock moves per second at each speed the page offers (the first is the default).
SPEEDS = (30, 7, 90, 365)


def animate_runs(scenarios: Sequence[Scenario], *, seed: int, replication: int) -> list[Replay]:
    """Run one replication of each scenario with its event log (the same seed and replication:
    common random numbers) and turn each into a replay."""
    return [
        replay_of(simulate(s, seed=seed, replication=replication, event_log=True))
        for s in scenarios
    ]


def animation_page(replays: Sequence[Replay], *, title: str, seed: int, replication: int) -> str:
    """The page replaying ``replays`` (one, or a base and a variant side by side)."""
    if not 1 <= len(replays) <= 2:
        raise ValueError("the page shows one run, or two side by side")
    data = {
        "title": title,
        "seed": seed,
        "replication": replication,
        "speeds": list(SPEEDS),
        "epoch": "2026-01-01",
        "runs": [r.to_json() for r in replays],
    }
    payload = json.dumps(data, separators=(",", ":"), allow_nan=False)
    # inside <script>, "</" would end the element, and U+2028/9 end a JavaScript line
    payload = (
        payload.replace("</", "<\\/").replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")
    )
    return _PAGE.format(
        title=html.escape(title),
        version=html.escape(__version__),
        css=_CSS,
        script=_SCRIPT,
        payload=payload,
    )


_CSS = """
html, body { margin: 0; background: #fafafa; color: #222;
  font: 14px/1.35 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; }
header { display: flex; flex-wrap: wrap; align-items: center; gap: 10px 18px;
  padding: 8px 14px; background: #fff; border-bottom: 1px solid #ddd; }
h1 { font-size: 17px; margin: 0; }
#clock { font-variant-numeric: tabular-nums; font-weight: 600; min-width: 15em; }
button, select { font: inherit; padding: 3px 10px; }
input[type=range] { width: 320px; }
#panels { display: flex; gap: 10px; padding: 8px 14px; }
.panel { flex: 1; background: #fff; border: 1px solid #ddd; border-radius: 4px; padding: 6px; }
.panel h2 { font-size: 15px; margin: 2px 4px 6px; }
canvas { width: 100%; display: block; }
.bins { display: flex; flex-wrap: wrap; gap: 6px; margin: 6px 4px 0; }
.bin { border: 1px solid #ccc; border-radius: 3px; padding: 2px 8px; }
.bin b { font-variant-numeric: tabular-nums; }
.legend { display: flex; flex-wrap: wrap; gap: 4px 14px; padding: 0 14px 10px; color: #444; }
.swatch { display: inline-block; width: 11px; height: 11px; border-radius: 50%;
  margin-right: 5px; vertical-align: -1px; }
footer { padding: 0 14px 10px; color: #777; font-size: 12px; }
"""

_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; \
script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<style>{css}</style>
</head>
<body>
<header>
  <h1 id="title"></h1>
  <button id="play" type="button">Play</button>
  <label>speed <select id="speed"></select></label>
  <input id="scrub" type="range" min="0" step="0.25" value="0" aria-label="day">
  <span id="clock"></span>
</header>
<main id="panels"></main>
<div class="legend" id="legend"></div>
<footer>simsales {version}. Dots are deals (one replication, its seed and replication shown \
above). A colour says what a deal waits for; a white ring is a call; grey, a deal gone quiet \
that the CRM has not closed yet.</footer>
<script type="application/json" id="simsales-data">{payload}</script>
<script>{script}</script>
</body>
</html>
"""

_SCRIPT = r"""
"use strict";
const DATA = JSON.parse(document.getElementById("simsales-data").textContent);
const COLOURS = {
  none: "#9e9e9e", buyer_task: "#E69F00", seller_work: "#CC79A7",
  buyer_calendar: "#56B4E9", seller_calendar: "#D55E00", dark: "#555555", pool: "#bdbdbd",
};
const CAUSE_WORDS = {
  buyer_task: "the buyer's own task", seller_work: "the seller's offline work",
  buyer_calendar: "the buyer's calendar", seller_calendar: "the seller's calendar",
};
const BIN_COLOURS = {
  won: "#009E73", lost: "#D55E00", no_decision: "#E69F00", disqualified: "#CC79A7",
  no_response: "#999999", unworked: "#cccccc",
};
const BIN_WORDS = {
  won: "won", lost: "lost", no_decision: "no decision", disqualified: "disqualified",
  no_response: "no response", unworked: "unworked",
};
const W = DATA.runs.length > 1 ? 620 : 1240, H = 430, LANE_TOP = 34, STRIP = 64;
const BINS_W = 150;  // the outcome bins, on the right of the lanes
let t = 0, playing = false, last = null, frames = 0;
const horizon = Math.max(...DATA.runs.map(r => r.horizon));

function text(el, value) { el.textContent = value; return el; }
function make(tag, cls) {
  const el = document.createElement(tag);
  if (cls) el.className = cls;
  return el;
}

// index each run's waits and calls by deal, once
for (const run of DATA.runs) {
  const n = run.created.length;
  run.waitsOf = Array.from({length: n}, () => []);
  for (const [d, s, e, c] of run.waits) run.waitsOf[d].push([s, e, c]);
  run.callsOf = Array.from({length: n}, () => []);
  for (const [d, at] of run.calls) run.callsOf[d].push(at);
}

function dealState(run, i, day) {
  const created = run.created[i];
  if (created === null || day < created) return null;
  const closed = run.closed[i];
  if (closed !== null && day >= closed) return {bin: run.outcome[i]};
  const assigned = run.assigned[i];
  if (assigned === null || day < assigned) return {lane: 0, colour: COLOURS.pool};
  let lane = 1;
  const row = run.entered[i];
  for (let k = 0; k < row.length; k++) if (row[k] !== null && row[k] <= day) lane = k + 1;
  const ended = run.ended[i];
  if (ended !== null && day >= ended) return {lane, colour: COLOURS.dark};
  let colour = COLOURS.none;
  for (const [s, e, c] of run.waitsOf[i]) {
    if (s <= day && day < e) { colour = COLOURS[DATA_CAUSE[c]]; break; }
  }
  let call = false;
  const flash = Math.max(0.6, 0.12 * Number(document.getElementById("speed").value || 30));
  for (const at of run.callsOf[i]) if (Math.abs(at - day) < flash) { call = true; break; }
  return {lane, colour, call, seller: run.seller[i]};
}
const DATA_CAUSE = DATA.runs[0].waitCauses;

function state(run, day) {
  const lanes = Array.from({length: run.stages.length + 1}, () => []);
  const bins = {};
  for (const name of run.outcomes) bins[name] = 0;
  const load = new Array(run.sellers).fill(0);
  const names = Object.keys(run.outcomeCodes);
  for (let i = 0; i < run.created.length; i++) {
    const s = dealState(run, i, day);
    if (s === null) continue;
    if (s.bin !== undefined) { bins[names[s.bin]] += 1; continue; }
    lanes[s.lane].push(s);
    if (s.seller !== undefined && s.seller >= 0) load[s.seller] += 1;
  }
  return {lanes, bins, load};
}

function draw(panel, run, day) {
  const ctx = panel.canvas.getContext("2d");
  const st = state(run, day);
  ctx.clearRect(0, 0, W, H);
  const lanes = st.lanes.length, width = (W - BINS_W) / lanes;
  const titles = ["suspect pool", ...run.stages];
  ctx.font = "15px system-ui, sans-serif";
  ctx.textAlign = "center";
  for (let k = 0; k < lanes; k++) {
    const x0 = k * width;
    ctx.fillStyle = k % 2 ? "#f4f6f8" : "#ffffff";
    ctx.fillRect(x0, 0, width, H - STRIP);
    ctx.fillStyle = "#333";
    ctx.fillText(`${titles[k]} (${st.lanes[k].length})`, x0 + width / 2, 20, width - 8);
    const step = 11, perRow = Math.max(1, Math.floor((width - 12) / step));
    st.lanes[k].forEach((s, j) => {
      const x = x0 + 8 + (j % perRow) * step + 4;
      const y = LANE_TOP + 6 + Math.floor(j / perRow) * step;
      if (y > H - STRIP - 6) return;
      ctx.beginPath();
      ctx.arc(x, y, 4.2, 0, 2 * Math.PI);
      ctx.fillStyle = s.colour;
      ctx.fill();
      if (s.call) { ctx.lineWidth = 2; ctx.strokeStyle = "#111"; ctx.stroke(); }
    });
  }
  // the outcome bins: where deals leave to
  const names = run.outcomes, most_bin = Math.max(1, ...names.map(n => st.bins[n]));
  const bx = W - BINS_W + 8, rowH = (H - STRIP - LANE_TOP) / names.length;
  ctx.textAlign = "left";
  names.forEach((name, k) => {
    const y = LANE_TOP + k * rowH;
    ctx.fillStyle = "#333";
    ctx.fillText(`${BIN_WORDS[name] || name} ${st.bins[name]}`, bx, y + 14, BINS_W - 12);
    ctx.fillStyle = BIN_COLOURS[name] || "#888";
    ctx.fillRect(bx, y + 20, (BINS_W - 16) * st.bins[name] / most_bin, Math.min(10, rowH - 24));
  });
  // the sellers' strip: open deals per seller
  const top = H - STRIP + 8, most = Math.max(1, ...st.load);
  const bw = Math.min(40, (W - 20) / Math.max(1, run.sellers));
  ctx.textAlign = "left";
  ctx.fillStyle = "#333";
  ctx.fillText("open deals per seller", 8, top + 6);
  for (let s = 0; s < run.sellers; s++) {
    const h = (STRIP - 28) * st.load[s] / most;
    ctx.fillStyle = "#4f6d8f";
    ctx.fillRect(180 + s * bw, H - 8 - h, bw - 3, h);
  }
  for (const name of run.outcomes) panel.counters[name].textContent = st.bins[name];
  return st;
}

function dayText(day) {
  const date = new Date(Date.parse(DATA.epoch + "T00:00:00Z") + day * 86400000);
  return `day ${day.toFixed(0)} · ${date.toISOString().slice(0, 10)}`;
}

const panels = [];
function build() {
  text(document.getElementById("title"), DATA.title);
  document.title = DATA.title;
  const main = document.getElementById("panels");
  for (const run of DATA.runs) {
    const div = make("div", "panel");
    text(div.appendChild(make("h2")), run.name);
    const canvas = div.appendChild(make("canvas"));
    canvas.width = W; canvas.height = H;
    const bins = div.appendChild(make("div", "bins"));
    const counters = {};
    for (const name of run.outcomes) {
      const bin = bins.appendChild(make("span", "bin"));
      bin.appendChild(document.createTextNode(`${BIN_WORDS[name] || name}: `));
      counters[name] = bin.appendChild(make("b"));
      counters[name].dataset.outcome = name;
    }
    main.appendChild(div);
    panels.push({canvas, counters});
  }
  const legend = document.getElementById("legend");
  const keys = [
    ...Object.entries(CAUSE_WORDS).map(([cause, words]) => [COLOURS[cause], `waits for ${words}`]),
    [COLOURS.none, "between steps"], [COLOURS.pool, "in the suspect pool"],
    [COLOURS.dark, "gone quiet, not closed yet"], ["#ffffff", "ringed: a call"],
  ];
  for (const [colour, words] of keys) {
    const item = legend.appendChild(make("span"));
    const sw = item.appendChild(make("span", "swatch"));
    sw.style.background = colour;
    sw.style.border = "1px solid #666";
    item.appendChild(document.createTextNode(words));
  }
  const speed = document.getElementById("speed");
  for (const s of DATA.speeds) {
    const opt = speed.appendChild(make("option"));
    opt.value = s; text(opt, `${s} days/s`);
  }
  const scrub = document.getElementById("scrub");
  scrub.max = horizon;
  scrub.addEventListener("input", () => { seek(Number(scrub.value)); });
  document.getElementById("play").addEventListener("click", () => { playing ? pause() : play(); });
}

function render() {
  text(document.getElementById("clock"), dayText(t));
  document.getElementById("scrub").value = t;
  DATA.runs.forEach((run, k) => draw(panels[k], run, t));
  frames += 1;
}
function seek(day) { t = Math.min(Math.max(day, 0), horizon); render(); }
function tick(now) {
  if (!playing) return;
  if (last !== null) {
    const perSecond = Number(document.getElementById("speed").value);
    t = Math.min(horizon, t + perSecond * (now - last) / 1000);
  }
  last = now;
  render();
  if (t >= horizon) { pause(); return; }
  requestAnimationFrame(tick);
}
function play() {
  if (t >= horizon) t = 0;
  playing = true; last = null;
  text(document.getElementById("play"), "Pause");
  requestAnimationFrame(tick);
}
function pause() { playing = false; text(document.getElementById("play"), "Play"); }

// for tests and for a teacher's console
window.simsales = {
  seek, play, pause,
  state() {
    return {
      day: t, frames, playing, horizon,
      counters: panels.map(p => Object.fromEntries(
        Object.entries(p.counters).map(([k, el]) => [k, Number(el.textContent)]))),
    };
  },
};
build();
render();
"""
