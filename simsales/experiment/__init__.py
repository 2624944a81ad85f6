"""Experiments over scenarios: replications now; sweeps and comparisons build on them.

Work runs on any ``concurrent.futures.Executor`` (processes locally, Dask on a cluster).
"""

from simsales.experiment.replications import OnResult, run_replications

__all__ = ["OnResult", "run_replications"]
