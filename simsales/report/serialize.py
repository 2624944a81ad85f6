"""JSON reports: what ``run`` and ``compare`` print with ``--format json`` and write to files.

``--format json`` prints ``run_summary`` or ``Comparison.to_dict()``; ``summary.json`` and
``comparison.json`` (``summary_document``, ``comparison_document``) add what reproduces the
result: the resolved scenarios, the input files, the command line and the simsales version. All
go through ``to_json``, which writes NaN and infinity (an undefined metric) as ``null``: JSON has
no NaN, and a reader must not mistake a missing value for zero.

``request_of`` reads back from such a document the request that wrote it, so that the same
command run again (after it was killed) may rewrite its own ``--out`` folder.
"""

from __future__ import annotations

import json
import math
import os
import shlex
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from simsales import __version__

if TYPE_CHECKING:
    from simsales.experiment import Comparison
    from simsales.results import MetricSummary
    from simsales.scenario import Scenario

__all__ = [
    "comparison_document",
    "holds_request",
    "jsonable",
    "request_of",
    "run_request",
    "run_summary",
    "scenarios_request",
    "summary_document",
    "to_json",
]


def run_summary(scenario: Scenario, summaries: dict[str, MetricSummary]) -> dict[str, Any]:
    """A run's metrics over its replications, with the scenario name, seed and replications.

    ``scenario`` is the scenario as run: its ``run.seed`` and ``run.replications`` are the ones
    used. NaN is kept as NaN: ``to_json`` turns it into ``null``. Each metric carries its unit,
    cohort, better direction, group and description (``simsales.results.catalogue``) beside its
    mean and interval; the counted cohort and where an opportunity opens are stated once.
    """
    from simsales.results import catalogue_for

    kinds = catalogue_for(scenario)
    run = scenario.run
    return {
        "scenario": scenario.name,
        "seed": run.seed,
        "replications": run.replications,
        "counted": {
            "arrived_from_day": run.warmup_days,
            "arrived_before_day": run.horizon_days - run.cohort_margin_days,
            "warmup_days": run.warmup_days,
            "cohort_margin_days": run.cohort_margin_days,
            "opportunity_opens_at": scenario.stages[scenario.opens_at_index].name,
        },
        "metrics": {
            name: (kinds[name].to_dict() if name in kinds else {}) | s.to_dict()
            for name, s in summaries.items()
        },
    }


def summary_document(
    scenario: Scenario,
    summaries: dict[str, MetricSummary],
    *,
    scenario_file: str | os.PathLike[str] | None,
    overrides: Sequence[str],
    command: Sequence[str],
) -> dict[str, Any]:
    """``summary.json``: ``run_summary`` and what reproduces it.

    That is the scenario file (``None`` for a scenario built in memory) and its ``--set``
    overrides, the command line (``command``, its words), the simsales version and the fully
    resolved scenario as run.
    """
    return run_summary(scenario, summaries) | {
        "scenario_file": None if scenario_file is None else os.fspath(scenario_file),
        "overrides": list(overrides),
        "command": shlex.join(command),
        "simsales_version": __version__,
        "resolved_scenario": scenario.model_dump(mode="json", by_alias=True),
    }


def comparison_document(
    result: Comparison,
    *,
    files: Sequence[str | os.PathLike[str] | None],
    command: Sequence[str],
) -> dict[str, Any]:
    """``comparison.json``: ``result.to_dict(scenarios=True)`` and what reproduces it.

    ``files`` are the scenario files of the base and the variants, in that order; they are
    written by scenario name, with the command line (``command``, its words) and the simsales
    version (``None`` for a scenario built in memory).
    """
    scenarios = (result.base, *result.variants)
    return result.to_dict(scenarios=True) | {
        "files": {
            s.name: None if f is None else os.fspath(f)
            for s, f in zip(scenarios, files, strict=True)
        },
        "command": shlex.join(command),
        "simsales_version": __version__,
    }


def request_of(document: Mapping[str, Any]) -> dict[str, Any]:
    """What identifies the request a result document was written for, as plain JSON values.

    That is the command line, the simsales version, an experiment's spec and the resolved
    scenarios (their seed included). ``run.replications`` is left out: the command line states
    it, or says ``auto``, and then the run decides it. Two runs of one request write the same
    files, byte for byte. ``document`` is a ``summary.json``, ``comparison.json`` or
    ``experiment.json``, or what ``run_request`` and ``scenarios_request`` build before a run.
    """
    scenarios = document.get("scenarios")
    if scenarios is None and isinstance(document.get("resolved_scenario"), dict):
        scenarios = {document["resolved_scenario"].get("name"): document["resolved_scenario"]}
    if not isinstance(scenarios, dict) or not all(isinstance(s, dict) for s in scenarios.values()):
        scenarios = None
    else:
        scenarios = {name: _without_replications(s) for name, s in scenarios.items()}
    request = {
        "command": document.get("command"),
        "simsales_version": document.get("simsales_version"),
        "spec": document.get("spec"),
        "scenarios": scenarios,
    }
    return json.loads(to_json(request))  # as it reads back from a file: NaN as null, lists


def _without_replications(scenario: dict[str, Any]) -> dict[str, Any]:
    run = scenario.get("run")
    if not isinstance(run, dict):
        return scenario
    return scenario | {"run": {k: v for k, v in run.items() if k != "replications"}}


def run_request(scenario: Scenario, *, command: Sequence[str]) -> dict[str, Any]:
    """The request of ``simsales run``, before it runs: ``request_of`` its ``summary.json``.

    ``scenario`` is as ``summary_document`` gets it: with the seed used.
    """
    return request_of(
        {
            "command": shlex.join(command),
            "simsales_version": __version__,
            "resolved_scenario": scenario.model_dump(mode="json", by_alias=True),
        }
    )


def scenarios_request(
    scenarios: Sequence[Scenario],
    *,
    seed: int,
    command: Sequence[str],
    spec: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The request of ``compare`` (or, with its ``spec``, ``experiment``) before it runs:
    ``request_of`` the document it will write. ``scenarios`` are the base and the variants."""
    settings = {"seed": seed}
    as_run = [s.model_copy(update={"run": s.run.model_copy(update=settings)}) for s in scenarios]
    return request_of(
        {
            "command": shlex.join(command),
            "simsales_version": __version__,
            "spec": spec,
            "scenarios": {s.name: s.model_dump(mode="json", by_alias=True) for s in as_run},
        }
    )


def holds_request(folder: str | os.PathLike[str], record: str, request: Mapping[str, Any]) -> bool:
    """Whether ``folder/record`` (its ``summary.json``, ...) was written for ``request``."""
    try:
        with open(Path(folder) / record, encoding="utf-8") as fh:
            document = json.load(fh)
    except (OSError, ValueError):  # missing, unreadable or not JSON: not a folder of ours
        return False
    return isinstance(document, dict) and request_of(document) == request


def jsonable(value: Any) -> Any:
    """``value`` with every NaN and infinity, in nested dicts, lists and tuples, as ``None``."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    return value


def to_json(value: Any) -> str:
    """``value`` as indented JSON (no final newline), NaN and infinity as ``null``."""
    return json.dumps(jsonable(value), indent=2)
