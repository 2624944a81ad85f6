"""Win/loss analysis (``[win_loss]``): the real causes of lost and no-decision deals, and what the
interviews heard.

The deal table holds each deal's real end cause (``end_cause``, from the model) and what the
win/loss interview heard (``stated_cause``). The metrics read the counted new-business deals that
were lost or ended in no decision: the mix of real causes, and how far the interviews' view agrees
with it. In the model a lost deal chose another supplier, never price, so every "price" an
interview hears is the excuse (the real share of price is 0); likewise "timing".
"""

from __future__ import annotations

from simsales.model.records import (
    DARK_CAUSE_BASE,
    END_CAUSES,
    LOST,
    NO_DECISION,
    NOT_INTERVIEWED,
    OPPORTUNITY_DARK_CAUSES,
    PRICE_EXCUSE,
    TIMING_EXCUSE,
)
from simsales.results._numeric import mean
from simsales.results.table import DealTable

#: Causes a lost or no-decision deal can have: another supplier, or one of the dark causes.
_LOSS_CAUSES: tuple[str, ...] = ("other_supplier", *OPPORTUNITY_DARK_CAUSES)


def win_loss_metrics(table: DealTable) -> dict[str, float]:
    """The win/loss metrics (``catalogue.WIN_LOSS_METRIC_NAMES``) of one replication (NaN where
    nothing was there to count)."""
    outcome = table["outcome"]
    real = table["end_cause"]
    stated = table["stated_cause"]
    lost = table.opportunities & (outcome == LOST)
    nd = table.opportunities & (outcome == NO_DECISION)
    ended = lost | nd
    heard = ended & (stated != NOT_INTERVIEWED)
    return {
        **{
            f"loss_cause_{cause}_share": mean(real[ended] == END_CAUSES.index(cause))
            for cause in _LOSS_CAUSES
        },
        **{
            f"nd_cause_{cause}_share": mean(real[nd] == code)
            for code, cause in enumerate(OPPORTUNITY_DARK_CAUSES, start=DARK_CAUSE_BASE)
        },
        "win_loss_interviewed_share": mean(heard[ended]),
        "win_loss_reason_agreement": mean(stated[heard] == real[heard]),
        "win_loss_stated_price_share": mean(stated[heard & lost] == PRICE_EXCUSE),
        "win_loss_stated_timing_share": mean(stated[heard & nd] == TIMING_EXCUSE),
    }
