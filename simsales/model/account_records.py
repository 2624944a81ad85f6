"""What the account lifecycle writes: one row per account, and a log of its contract value.

Like the deal table, columnar ``array.array`` buffers, one reference dict for every field and its
unit. The contract log holds every change of an account's recurring value and every one-off
revenue, so that revenue over any period, the recurring revenue at any day and cohort retention
are exact integrals in the results layer, with nothing sampled day by day.
"""

from __future__ import annotations

from array import array
from dataclasses import dataclass, field

import numpy as np

#: Why an account ended (its real reason), and what an exit interview may hear instead.
END_REASONS: tuple[str, ...] = (
    "active",
    "business_change",
    "poor_onboarding",
    "weak_relationship",
    "change_event",
    "renegotiation_lost",
    "price",
)
ACTIVE, BUSINESS_CHANGE, POOR_ONBOARDING, WEAK_RELATIONSHIP, CHANGE_EVENT, RENEGOTIATION_LOST = (
    range(6)
)
PRICE = 6  # the excuse: never a real reason in the model

#: What each reason of ``END_REASONS`` means (the reference docs print these).
END_REASON_MEANINGS: dict[str, str] = {
    "active": "the account had not ended at the horizon.",
    "business_change": "the churn hazard's background part: the customer's own world moved on "
    "(merged, changed strategy), whatever our health.",
    "poor_onboarding": "the churn hazard's health part, in an account on-boarded wrong or late "
    "(a vendor).",
    "weak_relationship": "the churn hazard's health part, in a partner account whose health "
    "wore down (discounts, a hand-off not ready, change events).",
    "change_event": "a change event at an unhealthy account ended it (``change_kind`` says which).",
    "renegotiation_lost": "a change event restarted a healthy account at the close (stage 5), "
    "and the renegotiation was not won.",
    "price": "the excuse (too expensive) an exit interview hears when it misses the real "
    "reason; never a real reason.",
}

#: Account table columns: name -> (array typecode, unit / meaning). Times are days since the start.
ACCOUNT_FIELDS: dict[str, tuple[str, str]] = {
    "account_id": ("i", "id, in order of creation"),
    "deal_id": ("i", "the won deal that created the account (its deal_id in deals.csv)"),
    "segment": ("b", "index into market.segments"),
    "seller": ("i", "the seller who won it, who also sells its expansions"),
    "created_at": ("d", "day of the close that created it"),
    "value": ("d", "list value of the founding deal, currency"),
    "discount": ("f", "discount given at the founding close, share"),
    "hand_off_ready": ("b", "1 if the founding close had no wrong step (operations cued up)"),
    "start_health": ("f", "health at the close, 0 to 1"),
    "onboarding_started_at": ("d", "day a member of the operations team started on-boarding"),
    "onboarded_at": ("d", "day on-boarding was done (NaN: not yet at the horizon)"),
    "onboarding_right": ("b", "1 if on-boarding was done right"),
    "onboarding_late": ("b", "1 if on-boarding ended later than onboarding.late_after_days"),
    "partner": ("b", "1 partner (on-boarded right and on time), 0 vendor (latest on-boarding)"),
    "health": ("f", "health at the end, or at the horizon if active, 0 to 1"),
    "ended_at": ("d", "day the account left (NaN: active at the horizon)"),
    "real_reason": ("b", "index into END_REASONS: why it really left"),
    "stated_reason": ("b", "index into END_REASONS: what the exit interview heard"),
    "change_kind": ("b", "index into accounts.change.kinds of the event that ended it (-1: none)"),
    "change_events": ("i", "change events the account met"),
    "downscopes": ("i", "times it was down-scoped"),
    "restarts": ("i", "times a change restarted it at stage 5, 6 or 7"),
    "expansions": ("i", "expansion opportunities created in it (restarts at stage 7 included)"),
    "expansions_won": ("i", "of those, won"),
    "mature": ("b", "1 if at least maturity.after_days old at the end or the horizon"),
    "strategic": ("b", "1 if mature and at least maturity.strategic_health healthy then"),
    "revenue": ("d", "revenue recognised from the close to the end or the horizon, currency"),
    "arr": ("d", "recurring revenue per year at the end or the horizon (0 if ended), currency"),
}

#: Contract log columns: one row per change of an account's recurring value or one-off revenue.
CONTRACT_FIELDS: dict[str, tuple[str, str]] = {
    "account_id": ("i", "the account"),
    "time": ("d", "day of the change"),
    "arr": ("d", "recurring revenue per year from this day on, currency"),
    "amount": ("d", "one-off revenue recognised on this day, currency"),
}


@dataclass
class AccountRecords:
    """Columnar account rows (written at the horizon) and the contract log.

    ``change_kinds`` names the scenario's change kinds, which ``change_kind`` indexes.
    """

    change_kinds: tuple[str, ...] = ()
    cols: dict[str, array] = field(init=False)
    log: dict[str, array] = field(init=False)

    def __post_init__(self) -> None:
        self.cols = {name: array(code) for name, (code, _) in ACCOUNT_FIELDS.items()}
        self.log = {name: array(code) for name, (code, _) in CONTRACT_FIELDS.items()}

    def __len__(self) -> int:
        return len(self.cols["account_id"])

    def contract(self, account_id: int, time: float, arr: float, amount: float) -> None:
        """Log the recurring value from ``time`` on, and any one-off revenue at ``time``."""
        log = self.log
        log["account_id"].append(account_id)
        log["time"].append(time)
        log["arr"].append(arr)
        log["amount"].append(amount)

    def columns(self) -> dict[str, np.ndarray]:
        """Copies of the account columns as NumPy arrays (empty arrays of the right type)."""
        return _arrays(self.cols)

    def log_columns(self) -> dict[str, np.ndarray]:
        """Copies of the contract log's columns as NumPy arrays."""
        return _arrays(self.log)


def _arrays(cols: dict[str, array]) -> dict[str, np.ndarray]:
    return {name: np.array(buf, dtype=np.dtype(buf.typecode)) for name, buf in cols.items()}
