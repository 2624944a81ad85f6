"""A short animated GIF of a replay, for slides: the stage lanes filling and emptying.

The page of ``simsales animate`` is the real tool; the GIF is its still-life cousin: a fixed
number of frames over the run, each the stage lanes with a dot per deal (coloured by what it
waits for) and the outcome counts in the title. Made with matplotlib's own Pillow writer.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

import numpy as np
from matplotlib.animation import FuncAnimation, PillowWriter
from matplotlib.artist import Artist
from matplotlib.figure import Figure

from simsales.results.replay import WAIT_CAUSES, Replay

__all__ = ["replay_gif"]

_COLOURS = {
    "buyer_task": "#E69F00",
    "seller_work": "#CC79A7",
    "buyer_calendar": "#56B4E9",
    "seller_calendar": "#D55E00",
}


def _frame_state(run: Replay, day: float) -> tuple[np.ndarray, np.ndarray, dict[str, int]]:
    """Each active deal's lane (0: the pool) and colour at ``day``, and the bins' counts."""
    created, closed = run.created, run.closed
    alive = (created <= day) & ~(np.isfinite(closed) & (closed <= day))
    lane = np.where(np.isfinite(run.assigned) & (run.assigned <= day), 1, 0)
    entered = np.nan_to_num(run.entered, nan=np.inf) <= day
    lane = np.maximum(lane, np.where(entered.any(axis=1), entered.sum(axis=1), 0))
    colour = np.full(len(created), "#9e9e9e", dtype=object)
    colour[lane == 0] = "#bdbdbd"
    for d, s, e, c in run.waits:
        if s <= day < e:
            colour[int(d)] = _COLOURS[WAIT_CAUSES[int(c)]]
    dark = np.isfinite(run.ended) & (run.ended <= day)
    colour[dark] = "#555555"
    return lane[alive], colour[alive], run.outcome_counts(day)


def replay_gif(
    runs: Sequence[Replay], path: str | os.PathLike[str], *, frames: int = 60, fps: int = 8
) -> None:
    """Write ``frames`` frames over the run (one panel per replay) as an animated GIF."""
    fig = Figure(figsize=(6.4 * len(runs), 3.8), dpi=80)
    axes = fig.subplots(1, len(runs), squeeze=False)[0]
    horizon = max(r.horizon_days for r in runs)

    def draw(k: int) -> list[Artist]:
        day = horizon * (k + 1) / frames
        for ax, run in zip(axes, runs, strict=True):
            ax.clear()
            lanes, colours, bins = _frame_state(run, day)
            n_lanes = len(run.stage_names) + 1
            xs, ys = [], []
            for lane in range(n_lanes):
                count = int(np.sum(lanes == lane))
                xs += [lane + 0.1 + 0.8 * (j % 12) / 12 for j in range(count)]
                ys += [j // 12 for j in range(count)]
            order = np.argsort(lanes, kind="stable")
            ax.scatter(xs, ys, s=10, c=list(colours[order]), linewidths=0)
            ax.set_xticks([x + 0.5 for x in range(n_lanes)], ["pool", *run.stage_names], fontsize=7)
            ax.set_xlim(0, n_lanes)
            ax.set_ylim(-1, max(10, max(ys, default=0) + 2))
            ax.set_yticks([])
            done = ", ".join(f"{name.replace('_', ' ')} {bins[name]}" for name in bins)
            ax.set_title(f"{run.scenario_name}, day {day:.0f}\n{done}", fontsize=8)
        return []

    animation = FuncAnimation(fig, draw, frames=frames, blit=False)
    animation.save(os.fspath(path), writer=PillowWriter(fps=fps))
