"""One account's running state, and its row of the account table.

``Account`` is what the lifecycle's processes (``accounts``) read and change; ``write_row`` turns it
into a row of ``AccountRecords`` (``ACCOUNT_FIELDS``) at the horizon.
"""

from __future__ import annotations

import math
import random

import simpy

from simsales.model.account_records import ACTIVE, AccountRecords
from simsales.model.opportunity import Deal
from simsales.scenario.accounts_schema import Maturity

INF = math.inf


class Account:
    """One customer's running state (written to the account table at the horizon)."""

    __slots__ = (
        "arr", "budget", "change_events", "change_kind", "created_at", "deal_id", "discount",
        "downscopes", "ended_at", "expansions", "expansions_won", "fit", "group", "hand_off_ready",
        "health", "id", "level", "living", "next_change", "next_expansion", "next_renewal",
        "onboarded_at", "onboarding_late", "onboarding_right", "onboarding_started_at", "pace",
        "partner", "real_reason", "restarts", "revenue", "rng", "segment", "seller",
        "start_health", "stated_reason", "t0", "value", "wake",
    )  # fmt: skip

    def __init__(self, account_id: int, deal: Deal, now: float, rng: random.Random) -> None:
        draw = deal.draw
        self.id = account_id
        self.deal_id = deal.id
        self.segment = draw.segment
        self.fit = draw.fit
        self.pace = draw.pace
        self.group = draw.group_size
        self.seller = deal.seller
        self.created_at = now
        self.value = draw.value
        self.discount = deal.discount
        self.rng = rng
        self.hand_off_ready = True
        self.health = self.start_health = 0.0
        self.level = 0.0
        self.t0 = now  # health, hazard budget and revenue are accounted up to here
        self.living = False  # on-boarded: the churn hazard, drift and expansions run
        self.budget = rng.expovariate(1.0)
        self.arr = 0.0
        self.revenue = 0.0
        self.partner = False
        self.onboarding_started_at = self.onboarded_at = self.ended_at = math.nan
        self.onboarding_right = self.onboarding_late = False
        self.real_reason = self.stated_reason = ACTIVE
        self.change_kind = -1
        self.change_events = self.downscopes = self.restarts = 0
        self.expansions = self.expansions_won = 0
        self.next_change = self.next_expansion = self.next_renewal = INF
        self.wake: simpy.Event | None = None


def write_row(records: AccountRecords, acc: Account, horizon: float, maturity: Maturity) -> None:
    """Append the account's row, as it stands at its end or at the horizon."""
    cols = records.cols
    cols["account_id"].append(acc.id)
    cols["deal_id"].append(acc.deal_id)
    cols["segment"].append(acc.segment)
    cols["seller"].append(acc.seller)
    cols["created_at"].append(acc.created_at)
    cols["value"].append(acc.value)
    cols["discount"].append(acc.discount)
    cols["hand_off_ready"].append(int(acc.hand_off_ready))
    cols["start_health"].append(acc.start_health)
    cols["onboarding_started_at"].append(acc.onboarding_started_at)
    cols["onboarded_at"].append(acc.onboarded_at)
    cols["onboarding_right"].append(int(acc.onboarding_right))
    cols["onboarding_late"].append(int(acc.onboarding_late))
    cols["partner"].append(int(acc.partner))
    cols["health"].append(acc.health)
    cols["ended_at"].append(acc.ended_at)
    cols["real_reason"].append(acc.real_reason)
    cols["stated_reason"].append(acc.stated_reason)
    cols["change_kind"].append(acc.change_kind)
    cols["change_events"].append(acc.change_events)
    cols["downscopes"].append(acc.downscopes)
    cols["restarts"].append(acc.restarts)
    cols["expansions"].append(acc.expansions)
    cols["expansions_won"].append(acc.expansions_won)
    until = horizon if acc.ended_at != acc.ended_at else acc.ended_at
    mature = until - acc.created_at >= maturity.after_days
    cols["mature"].append(int(mature))
    cols["strategic"].append(int(mature and acc.health >= maturity.strategic_health))
    cols["revenue"].append(acc.revenue)
    cols["arr"].append(acc.arr)
