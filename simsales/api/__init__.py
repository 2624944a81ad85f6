"""simsales as a library: ``run``, ``compare`` and ``experiment``, what a notebook calls.

Each takes a frozen request (``RunRequest``, ``CompareRequest``, ``ExperimentRequest``: the
scenarios, replications, seed, where the work runs, the run store, the files to write), or a
scenario file and keyword options from which it builds one, and returns a result that converts
to pandas and shows itself in Jupyter::

    import simsales
    deals = simsales.run("scenarios/baseline.toml", replications=3).deals
    effects = simsales.compare("scenarios/baseline.toml", "scenarios/call-compression.toml",
                               replications=3).to_pandas()

They do what the ``simsales`` commands do, files and provenance included (the commands are
thin layers over them): ``out=`` writes the same folder ``--out`` does. pandas is the optional
extra ``simsales[pandas]``; Parquet needs ``simsales[parquet]``.
"""

from simsales.api.requests import (
    CompareRequest,
    Execution,
    ExperimentRequest,
    LoadError,
    Output,
    RequestError,
    RunRequest,
    compare_request,
    experiment_request,
    run_request,
)
from simsales.api.results import CompareResult, ExperimentOutcome, FigureSet, RunResult
from simsales.api.running import Interrupted, WriteError, compare, experiment, run

__all__ = [
    "CompareRequest",
    "CompareResult",
    "Execution",
    "ExperimentOutcome",
    "ExperimentRequest",
    "FigureSet",
    "Interrupted",
    "LoadError",
    "Output",
    "RequestError",
    "RunRequest",
    "RunResult",
    "WriteError",
    "compare",
    "compare_request",
    "experiment",
    "experiment_request",
    "run",
    "run_request",
]
