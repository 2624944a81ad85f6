"""Records to tables and metrics: the deal table, per-replication metrics, and their summaries.

Pure functions over data: nothing here runs a simulation, plots or prints.
"""

from simsales.results.catalogue import (
    CATALOGUE,
    Metric,
    catalogue_for,
    metric_catalogue,
    table_metrics,
)
from simsales.results.events import EVENT_COLUMNS, write_events_csv
from simsales.results.intervals import time_average_count
from simsales.results.metrics import metrics_from_records, replication_metrics
from simsales.results.summary import MetricSummary, ci_t, summarise
from simsales.results.survival import km_quantile
from simsales.results.table import DealTable, concat_columns, stage_keys, write_deals_csv

__all__ = [
    "CATALOGUE",
    "EVENT_COLUMNS",
    "DealTable",
    "Metric",
    "MetricSummary",
    "catalogue_for",
    "ci_t",
    "concat_columns",
    "km_quantile",
    "metric_catalogue",
    "metrics_from_records",
    "replication_metrics",
    "stage_keys",
    "summarise",
    "table_metrics",
    "time_average_count",
    "write_deals_csv",
    "write_events_csv",
]
