"""Figures over result tables: every function takes plain data and returns a ``Figure``.

Nothing here runs a simulation or writes a file: the CLI and the report writer save figures.
Every figure tells its series apart by colour and by a hatch, marker or line style, so that it
reads in black and white too; axes carry units, titles state the question the figure answers.

- ``outcome_shares``, ``funnel``, ``time_in_stage``: per-scenario summaries side by side
  (``scenario_summaries`` regroups a ``Comparison`` for them);
- ``metric_differences``: a forest plot of a comparison's paired differences;
- ``cycle_ecdf``: Kaplan–Meier cycle-time CDFs (``cycles_from_tables`` makes its input);
- ``sweep_differences``, ``sweep_heatmap``: a metric's paired change from the base against one
  or two swept values (``sweep_curve``: its mean);
- ``tradeoff``: each variant's change of two metrics at once (time to a win, no decision);
- ``tornado``: the change in a metric when each lever moves one step down and up;
- ``cumulative_flow``, ``flow_load``: deals per state, WIP and seller load over time
  (``simsales.results.timeseries`` makes their input);
- ``deal_timelines``: a few deals' stories side by side (``simsales.results.story`` makes
  their input).
"""

from simsales.plots.cycles import Cycles, cycle_ecdf, cycles_from_tables
from simsales.plots.differences import metric_differences, tornado, tradeoff
from simsales.plots.flow import cumulative_flow, flow_load
from simsales.plots.process_map import process_map_figure
from simsales.plots.scenarios import (
    OUTCOME_SHARES,
    funnel,
    outcome_shares,
    scenario_summaries,
    time_in_stage,
)
from simsales.plots.sweeps import sweep_curve, sweep_differences, sweep_heatmap
from simsales.plots.timeline import deal_timelines

__all__ = [
    "OUTCOME_SHARES",
    "Cycles",
    "cumulative_flow",
    "cycle_ecdf",
    "cycles_from_tables",
    "deal_timelines",
    "flow_load",
    "funnel",
    "metric_differences",
    "outcome_shares",
    "process_map_figure",
    "scenario_summaries",
    "sweep_curve",
    "sweep_differences",
    "sweep_heatmap",
    "time_in_stage",
    "tornado",
    "tradeoff",
]
