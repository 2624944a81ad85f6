"""Records to tables and metrics: the deal table, per-replication metrics, and their summaries.

Pure functions over data: nothing here runs a simulation, plots or prints.
"""

from simsales.results.events import EVENT_COLUMNS, write_events_csv
from simsales.results.intervals import time_average_count
from simsales.results.metrics import (
    METRICS,
    describe_metrics,
    metrics_from_records,
    replication_metrics,
)
from simsales.results.summary import MetricSummary, ci_t, summarise
from simsales.results.survival import km_quantile
from simsales.results.table import DealTable, concat_columns, stage_keys, write_deals_csv

__all__ = [
    "EVENT_COLUMNS",
    "METRICS",
    "DealTable",
    "MetricSummary",
    "ci_t",
    "concat_columns",
    "describe_metrics",
    "km_quantile",
    "metrics_from_records",
    "replication_metrics",
    "stage_keys",
    "summarise",
    "time_average_count",
    "write_deals_csv",
    "write_events_csv",
]
