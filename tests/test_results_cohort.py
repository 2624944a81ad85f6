"""The counted cohort: deals created in [warmup, horizon - cohort_margin) and nothing else."""

from __future__ import annotations

import numpy as np
from model_helpers import baseline

from simsales.model import simulate
from simsales.results import DealTable, metrics_from_records


def test_cohort_margin_leaves_out_the_last_deals_and_their_censoring() -> None:
    plain = baseline(600.0, 100.0, **{"run.cohort_margin_days": 0.0})
    margin = baseline(600.0, 100.0, **{"run.cohort_margin_days": 200.0})
    # (a margin of 200 days is about the won cycle's p90 of the baseline)
    rec_plain = simulate(plain, seed=4, replication=0)
    rec_margin = simulate(margin, seed=4, replication=0)
    table = DealTable.from_records(rec_margin)
    created = table["created_at"]
    assert np.array_equal(table.counted, (created >= 100.0) & (created < 400.0))
    assert table.cohort_days == 300.0
    # same run (the margin only changes what is counted), fewer deals still open in the count
    assert np.array_equal(DealTable.from_records(rec_plain)["outcome"], table["outcome"])
    m_plain, m_margin = metrics_from_records(rec_plain), metrics_from_records(rec_margin)
    assert m_margin["open_rate"] < 0.5 * m_plain["open_rate"]
    assert m_margin["wip_mean"] == m_plain["wip_mean"]  # time averages use the whole window
