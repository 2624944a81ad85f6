"""The ``[accounts]`` section: what happens after the close (stages 6-10 of the design notes).

A won opportunity becomes an account with a *health* in [0, 1]. On-boarding (stage 6) by an
operations team of limited size makes it a partner (done right and on time) or a vendor; health
then drifts towards the partner's or the vendor's level. Healthy accounts bring expansion
opportunities (stage 7), each a sales process of its own; change events at the customer (stage 9)
restart a healthy relationship at stage 5, 6 or 7 and down-scope or end an unhealthy one; the
churn hazard grows as health falls; off-boarding (stage 10) records the real reason and what the
exit interview heard. A scenario without ``[accounts]`` has no lifecycle at all: its draws and its
numbers are those of the sale alone.

Rates that people quote per year are written per year here; durations in days.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from simsales.scenario.distributions import Constant, LogNormal
from simsales.scenario.quantities import Duration, Factor
from simsales.scenario.text import PlainText

#: At most one expansion opportunity, or one change event, a day per account (365 a year): a
#: higher rate is a mistake in the unit (per year, not per day), and would flood the run.
MAX_PER_YEAR = 365.0
#: Most kinds of change event: the account table stores the kind's index in 8 bits.
MAX_CHANGE_KINDS = 100


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", strict=True, allow_inf_nan=False)


class Contract(_Frozen):
    """How a won deal's net value (value × (1 − discount)) becomes revenue."""

    kind: Literal["recurring", "one_off"] = Field(
        "recurring",
        description="recurring: the net value is paid every term while the account stays "
        "(subscription); one_off: it is revenue once, at the close.",
    )
    term_days: float = Field(
        365.0,
        ge=1,
        description="A recurring contract's term: the net value is paid per this many days "
        "(365: the value is annual), accrued day by day; each anniversary is a renewal. At "
        "least 1 day.",
    )
    partner_uplift: float = Field(
        0.0,
        ge=0,
        le=1,
        description="At each renewal a partner's recurring value grows by this share (a price "
        "uplift the partner accepts).",
    )
    vendor_squeeze: float = Field(
        0.0,
        ge=0,
        le=1,
        description="At each renewal a vendor's recurring value shrinks by this share "
        "(procurement asks for a cut).",
    )


class Onboarding(_Frozen):
    """Stage 6: the operations team on-boards each new customer, one at a time per member."""

    team_size: int = Field(
        4, ge=1, le=10_000, description="On-boardings the operations team runs at once."
    )
    duration_days: Duration = Field(
        default_factory=lambda: LogNormal(median=30, p90=60),
        description="Days one on-boarding takes, once a member of the team starts it.",
    )
    p_right: float = Field(
        0.8, ge=0, le=1, description="Chance an on-boarding is done right (expectations set)."
    )
    late_after_days: float = Field(
        60.0,
        gt=0,
        description="An on-boarding finished more than this many days after the close (waiting "
        "for the team included) is late.",
    )
    partner_boost: float = Field(
        0.1,
        ge=0,
        le=1,
        description="Health gained when on-boarding is right and on time: a partner.",
    )
    wrong_penalty: float = Field(
        0.2, ge=0, le=1, description="Health lost when on-boarding is done wrong: a vendor."
    )
    late_penalty: float = Field(
        0.1, ge=0, le=1, description="Health lost when on-boarding is late: a vendor."
    )


class Health(_Frozen):
    """The relationship's health h in [0, 1]: where it starts and where it drifts."""

    start: float = Field(0.7, ge=0, le=1, description="Health of a deal closed right, at list.")
    discount_weight: float = Field(
        1.0,
        ge=0,
        description="Start health falls by this × the deal's discount (a price fight at the "
        "close: 0.2 off costs 0.2 of health at weight 1).",
    )
    hand_off_penalty: float = Field(
        0.1,
        ge=0,
        le=1,
        description="Start health lost when the last stage (the close) had a wrong step: "
        "operations not cued up, expectations not set.",
    )
    partner_level: float = Field(
        0.8, ge=0, le=1, description="Health a partner account drifts towards."
    )
    vendor_level: float = Field(
        0.4, ge=0, le=1, description="Health a vendor account drifts towards."
    )
    drift_half_life_days: float = Field(
        180.0,
        ge=0.01,
        le=1_000_000,
        description="Health closes half its distance to its level in this many days (0.01 to "
        "1,000,000).",
    )
    expansion_won_boost: float = Field(
        0.05, ge=0, le=1, description="Health gained with each expansion won in the account."
    )


class ExpansionKind(_Frozen):
    """One kind of expansion opportunity: how it starts and what it is worth."""

    kind: Literal["upsell", "cross_sell", "referral"] = Field(
        description="The opportunity's origin, as written in the origin column of deals.csv."
    )
    share: float = Field(gt=0, description="Relative share of expansion opportunities.")
    value_factor: Factor = Field(
        default_factory=lambda: Constant(value=0.5),
        description="List value as a multiple of the account's first deal's list value.",
    )
    start_stage: PlainText = Field(
        min_length=1,
        description="Name of the stage the opportunity starts in (a warm account skips the "
        "first stages).",
    )
    group_factor: float = Field(
        0.5,
        gt=0,
        le=10,
        description="Buying group as a multiple of the account's first group (rounded, at "
        "least 1); at most 10.",
    )
    momentum: float = Field(
        0.8, ge=0, le=1, description="The buyer's momentum at the start (warmer than a suspect)."
    )


class Expansion(_Frozen):
    """Stage 7: expansion opportunities arrive in an account at a rate that grows with health."""

    per_year: float = Field(
        0.0,
        ge=0,
        le=MAX_PER_YEAR,
        description="Expansion opportunities per account-year at health 1 (0 = none); at most "
        "365 (one a day).",
    )
    health_exponent: float = Field(
        1.0,
        ge=0,
        description="Rate = per_year × health ^ this (0: the same rate at any health).",
    )
    kinds: list[ExpansionKind] = Field(
        default_factory=list, description="[[accounts.expansion.kinds]] tables."
    )

    @model_validator(mode="after")
    def _kinds_given(self) -> Expansion:
        if self.per_year > 0 and not self.kinds:
            raise ValueError("per_year > 0 needs at least one [[accounts.expansion.kinds]] table")
        return self


class ChangeKind(_Frozen):
    """One kind of event at the customer (a re-organisation, a new executive, a budget cut)."""

    name: PlainText = Field(min_length=1, description="Label of the event, as in accounts.csv.")
    share: float = Field(gt=0, description="Relative share of change events.")
    health_hit: float = Field(
        0.1, ge=0, le=1, description="Health the event costs, whatever follows."
    )
    restart_at: Literal[5, 6, 7] = Field(
        description="Where a healthy relationship restarts (the design's stage numbers): 5 a "
        "new close (a renegotiation opportunity in the last stage: not won ends the account), "
        "6 on-boarding again (the operations team), 7 a new expansion opportunity."
    )


def _default_change_kinds() -> list[ChangeKind]:
    return [
        ChangeKind(name="reorganisation", share=1.0, restart_at=6),
        ChangeKind(name="new_executive", share=1.0, restart_at=5),
        ChangeKind(name="budget_cut", share=1.0, restart_at=5, health_hit=0.15),
    ]


class Change(_Frozen):
    """Stage 9: change events arrive at each account as a Poisson process."""

    per_year: float = Field(
        0.0,
        ge=0,
        le=MAX_PER_YEAR,
        description="Change events per account-year (0 = none); at most 365 (one a day).",
    )
    healthy_threshold: float = Field(
        0.5,
        ge=0,
        le=1,
        description="An account at least this healthy when the event comes restarts; a less "
        "healthy one is down-scoped or ends.",
    )
    unhealthy_end_chance: float = Field(
        0.5, ge=0, le=1, description="Chance an unhealthy account ends at the event."
    )
    downscope_share: float = Field(
        0.3,
        ge=0,
        le=1,
        description="Share of the recurring value an unhealthy account that stays cuts.",
    )
    kinds: list[ChangeKind] = Field(
        default_factory=_default_change_kinds,
        max_length=MAX_CHANGE_KINDS,
        description="[[accounts.change.kinds]] tables, at most 100.",
    )

    @model_validator(mode="after")
    def _unique(self) -> Change:
        names = [k.name for k in self.kinds]
        if len(set(names)) != len(names):
            raise ValueError(f"change kind names must be unique, got {names}")
        if self.per_year > 0 and not self.kinds:
            raise ValueError("per_year > 0 needs at least one [[accounts.change.kinds]] table")
        return self


class Churn(_Frozen):
    """The account leaves: hazard per year = background + max × (1 − health)^shape."""

    background_per_year: float = Field(
        0.05,
        ge=0,
        description="Yearly hazard of leaving whatever the health (the customer's own world: "
        "merged, changed strategy). With max_per_year = 0, time to churn is exponential with "
        "mean 1 / this years.",
    )
    max_per_year: float = Field(
        0.6, ge=0, description="Yearly hazard at health 0, beyond the background."
    )
    shape: int = Field(2, ge=1, le=6, description="Exponent: larger keeps healthy accounts safer.")


class Offboarding(_Frozen):
    """Stage 10: the exit interview."""

    find_real_reason: float = Field(
        0.3,
        ge=0,
        le=1,
        description="Chance the exit interview finds the real reason; otherwise it hears the "
        "excuse (price).",
    )


class Maturity(_Frozen):
    """Stage 8: a mature account is a strategic partner, or a dependence."""

    after_days: float = Field(
        730.0, ge=0, description="Account age (days since the close) from which it is mature."
    )
    strategic_health: float = Field(
        0.75, ge=0, le=1, description="A mature account at least this healthy is strategic."
    )


class Accounts(_Frozen):
    """The account lifecycle after the close; absent: no accounts, nothing after the sale."""

    contract: Contract = Field(default_factory=Contract)
    onboarding: Onboarding = Field(default_factory=Onboarding)
    health: Health = Field(default_factory=Health)
    expansion: Expansion = Field(default_factory=Expansion)
    change: Change = Field(default_factory=Change)
    churn: Churn = Field(default_factory=Churn)
    offboarding: Offboarding = Field(default_factory=Offboarding)
    maturity: Maturity = Field(default_factory=Maturity)

    @model_validator(mode="after")
    def _restart_needs_kinds(self) -> Accounts:
        sevens = any(k.restart_at == 7 for k in self.change.kinds)
        if sevens and self.change.per_year > 0 and not self.expansion.kinds:
            raise ValueError(
                "a change kind restarts at 7 (a new expansion opportunity), but "
                "accounts.expansion has no kinds to draw it from"
            )
        return self

    def stage_problems(self, stage_names: list[str]) -> list[str]:
        """Expansion kinds whose ``start_stage`` names no stage of the scenario."""
        return [
            f"expansion.kinds[{i}] ({k.kind}).start_stage: no stage named "
            f"{k.start_stage!r} (stages: {', '.join(stage_names)})"
            for i, k in enumerate(self.expansion.kinds)
            if k.start_stage not in stage_names
        ]
