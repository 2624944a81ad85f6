"""Results as pandas DataFrames, and as Parquet files.

pandas is not a dependency of simsales: it comes with the extra ``simsales[pandas]`` (and
Parquet with ``simsales[parquet]``, which adds pyarrow). ``require_pandas`` says so, with the
command that installs it, when it is missing.

The frames are tidy and typed. The deal table has one row per deal and replication, the
columns of ``deals.csv`` (``simsales reference --print outputs``): coded columns (outcome,
segment, origin, causes) as categoricals of their names, ``stage_reached`` as an ordered
categorical of the stage names (``suspect pool`` first), the day each stage was entered split
into one column per stage (``entered_<stage>``), flags as booleans. Metrics carry their unit,
cohort and better direction from the catalogue, so a frame can be read without the docs.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from simsales.model.records import DEAL_FIELDS, END_CAUSES, ORIGINS, OUTCOMES, STATED_CAUSES
from simsales.results.catalogue import Metric

if TYPE_CHECKING:
    import pandas as pd

    from simsales.analysis import PairedDifference
    from simsales.results import DealTable, MetricSummary

__all__ = [
    "deals_frame",
    "differences_frame",
    "replications_frame",
    "require_pandas",
    "summaries_frame",
    "write_parquet",
]

#: The label of ``stage_reached`` 0: the suspect never left the pool.
SUSPECT_POOL = "suspect pool"

_CODED: dict[str, tuple[str, ...]] = {
    "outcome": OUTCOMES,
    "origin": ORIGINS,
    "end_cause": END_CAUSES,
    "stated_cause": STATED_CAUSES,
}
_FLAGS = ("qualified",)


def require_pandas() -> Any:
    """The ``pandas`` module, or an ``ImportError`` that says how to install it."""
    try:
        import pandas
    except ImportError:
        raise ImportError(
            "results as DataFrames need pandas, which simsales does not install by itself: "
            "pip install 'simsales[pandas]'"
        ) from None
    return pandas


def deals_frame(tables: Sequence[DealTable]) -> pd.DataFrame:
    """Every replication's deals, one row each, a ``replication`` column first."""
    pd = require_pandas()
    if not tables:
        raise ValueError("no deal tables: run with keep_deals=True")
    first = tables[0]
    stages = (SUSPECT_POOL, *first.stage_names)
    columns: dict[str, Any] = {
        "replication": np.concatenate([np.full(len(t), t.replication, np.int32) for t in tables])
    }
    for name in DEAL_FIELDS:
        codes = np.concatenate([t.columns[name] for t in tables])
        if name in _CODED:
            columns[name] = _categorical(pd, codes, _CODED[name])
        elif name == "segment":
            columns[name] = _categorical(pd, codes, first.segment_names)
        elif name == "stage_reached":
            columns[name] = _categorical(pd, codes, stages, ordered=True)
        elif name in _FLAGS:
            columns[name] = codes.astype(bool)
        else:
            columns[name] = codes
    columns["opened_at"] = np.concatenate([t.opened_at for t in tables])
    columns["opportunity"] = np.concatenate([t.opportunity for t in tables])
    columns["counted"] = np.concatenate([t.counted for t in tables])
    entered = np.concatenate([t.columns["stage_entered"] for t in tables])
    for i, key in enumerate(first.stage_keys):
        columns[f"entered_{key}"] = entered[:, i]
    return pd.DataFrame(columns)


def replications_frame(
    per_replication: Mapping[str, Sequence[Mapping[str, float]]],
) -> pd.DataFrame:
    """One row per scenario and replication, a column per metric (NaN where undefined)."""
    pd = require_pandas()
    rows = [
        {"scenario": name, "replication": r, **metrics}
        for name, reps in per_replication.items()
        for r, metrics in enumerate(reps)
    ]
    frame = pd.DataFrame(rows)
    frame["scenario"] = pd.Categorical(frame["scenario"], categories=list(per_replication))
    return frame


def summaries_frame(
    summaries: Mapping[str, Mapping[str, MetricSummary]],
    catalogue: Mapping[str, Metric],
) -> pd.DataFrame:
    """One row per scenario and metric: mean, 95% interval, n, and the metric's unit, cohort
    and better direction. ``summaries`` maps each scenario to its metrics' summaries."""
    pd = require_pandas()
    rows = []
    for scenario, found in summaries.items():
        for metric, s in found.items():
            rows.append(
                {"scenario": scenario, "metric": metric}
                | {k: getattr(s, k) for k in ("mean", "half_width", "low", "high", "n")}
                | _kind(catalogue.get(metric))
            )
    frame = pd.DataFrame(rows)
    frame["scenario"] = pd.Categorical(frame["scenario"], categories=list(summaries))
    return frame


def differences_frame(
    differences: Mapping[str, Mapping[str, PairedDifference]],
    catalogue: Mapping[str, Metric],
) -> pd.DataFrame:
    """One row per variant and metric: the paired difference from the base, its interval, the
    base's mean, the relative change, whether the interval excludes 0, and the metric's kind.
    ``differences`` maps each variant to its metrics' differences."""
    pd = require_pandas()
    rows = []
    for variant, found in differences.items():
        for metric, d in found.items():
            row: dict[str, Any] = {"variant": variant, "metric": metric}
            rows.append(
                row
                | {
                    "difference": d.mean,
                    "low": d.low,
                    "high": d.high,
                    "half_width": d.half_width,
                    "relative": d.relative,
                    "base_mean": d.base_mean,
                    "distinguishable": d.distinguishable,
                    "n": d.n,
                }
                | _kind(catalogue.get(metric))
            )
    frame = pd.DataFrame(rows)
    frame["variant"] = pd.Categorical(frame["variant"], categories=list(differences))
    return frame


def write_parquet(frames: Mapping[str, pd.DataFrame], folder: str | os.PathLike[str]) -> list[Path]:
    """Write each frame as ``folder/<name>.parquet``; return the paths. Needs pyarrow."""
    try:
        import pyarrow  # noqa: F401
    except ImportError:
        raise ImportError(
            "Parquet files need pyarrow, which simsales does not install by itself: "
            "pip install 'simsales[parquet]'"
        ) from None
    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, frame in frames.items():
        path = out / f"{name}.parquet"
        frame.to_parquet(path, index=False)
        paths.append(path)
    return paths


def _categorical(pd: Any, codes: np.ndarray, names: Sequence[str], *, ordered: bool = False) -> Any:
    return pd.Categorical.from_codes(
        codes.astype(np.int64), categories=list(names), ordered=ordered
    )


def _kind(metric: Metric | None) -> dict[str, str]:
    if metric is None:
        return {"unit": "", "cohort": "", "better": ""}
    return {"unit": metric.unit, "cohort": metric.cohort, "better": metric.better}
