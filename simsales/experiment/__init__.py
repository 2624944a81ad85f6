"""Experiments over scenarios: replications, comparisons, and experiment files (variants or
sweeps) that build on them.

Work runs on any ``concurrent.futures.Executor`` (processes locally, Dask on a cluster).
"""

from simsales.experiment.compare import Comparison, MetricComparison, compare_scenarios
from simsales.experiment.precision import PrecisionOutcome, PrecisionTargets, replications_needed
from simsales.experiment.replications import OnResult, run_replications
from simsales.experiment.spec import Experiment, ExperimentSpec, load_experiment
from simsales.experiment.sweep import CycleSample, ExperimentResult, run_experiment

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
    "compare_scenarios",
    "load_experiment",
    "replications_needed",
    "run_experiment",
    "run_replications",
]
