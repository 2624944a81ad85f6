"""Experiments over scenarios: replications and comparisons; sweeps build on them.

Work runs on any ``concurrent.futures.Executor`` (processes locally, Dask on a cluster).
"""

from simsales.experiment.compare import Comparison, MetricComparison, compare_scenarios
from simsales.experiment.replications import OnResult, run_replications

__all__ = ["Comparison", "MetricComparison", "OnResult", "compare_scenarios", "run_replications"]
