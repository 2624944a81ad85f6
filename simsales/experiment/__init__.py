"""Experiments over scenarios: replications, comparisons, and experiment files (variants or
sweeps) that build on them.

Work runs on any ``concurrent.futures.Executor`` (processes locally, Dask on a cluster).
"""

from simsales.experiment.compare import Comparison, MetricComparison, compare_scenarios
from simsales.experiment.precision import PrecisionOutcome, PrecisionTargets, replications_needed
from simsales.experiment.replications import OnResult, run_replications
from simsales.experiment.spec import Experiment, ExperimentSpec, load_experiment
from simsales.experiment.sweep import CycleSample, ExperimentResult, run_experiment
from simsales.experiment.workload import WorkLimits, Workload, estimate_workload

__all__ = [
    "Comparison",
    "CycleSample",
    "Experiment",
    "ExperimentResult",
    "ExperimentSpec",
    "MetricComparison",
    "OnResult",
    "PrecisionOutcome",
    "PrecisionTargets",
    "WorkLimits",
    "Workload",
    "compare_scenarios",
    "estimate_workload",
    "load_experiment",
    "replications_needed",
    "run_experiment",
    "run_replications",
]
