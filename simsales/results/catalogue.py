"""Every metric simsales reports, as one typed record in one ordered catalogue.

A metric is one number per replication. Its record says what the number is in units (``unit``),
what it counts over (``cohort``: the denominator of a share, the records a mean is taken over),
which way is better, the group it is shown in and what it means in one line. The terminal and
file reports, the reference docs, ``--format json``, the experiment defaults and the CLI's
checks of metric names all read this catalogue: nothing parses a unit from prose, and every
number has one name.

Two funnels are kept apart, as a sales team keeps them: **prospecting** counts suspects, from
their arrival to an opportunity (or to no response, unworked, disqualified); **the pipeline**
counts opportunities, from the moment the CRM opens one (``crm.opens_at``) to the decision. The
headline rates and cycle times are over opportunities, as CRM benchmarks count them.

The order of ``CATALOGUE`` is the order of every report. ``<stage>`` in a name stands for each
stage's key (``simsales.results.table.stage_keys``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Literal

from simsales.model.account_records import END_REASONS
from simsales.model.records import OPPORTUNITY_DARK_CAUSES
from simsales.results.table import stage_keys

if TYPE_CHECKING:
    from simsales.scenario import Scenario

__all__ = [
    "ACCOUNT_METRIC_NAMES",
    "CATALOGUE",
    "COMPARE_METRICS",
    "HEADLINE_METRICS",
    "WIN_LOSS_METRIC_NAMES",
    "Better",
    "Metric",
    "Unit",
    "catalogue_for",
    "metric_catalogue",
    "metric_record",
    "table_metrics",
]

#: What a metric's number is in. A ``share`` runs from 0 to 1 (reports show it in %); a
#: ``score`` from 0 to 1 too, but is not a share of anything (an account's health).
Unit = Literal[
    "share", "count", "days", "hours", "years", "currency", "per_day", "per_year", "score"
]
#: Which way a metric is better; ``neither`` where it depends on what one wants.
Better = Literal["higher", "lower", "neither"]
#: How the change of each unit is written in a finding line (``−54 d``, ``−1.2 pts``).
_CHANGE_UNITS: dict[str, str] = {
    "share": "pts",
    "days": "d",
    "hours": "h",
    "count": "",
    "years": "y",
    "per_day": "per day",
    "per_year": "per year",
    "score": "",
    "currency": "",
}
#: A condition on a scenario under which a metric can move at all.
Moves = Callable[["Scenario"], bool]

#: How each unit is written after a number (``share`` as "% of" its cohort; ``currency`` as the
#: scenario's currency).
_UNIT_LABELS: dict[str, str] = {
    "count": "count",
    "days": "days",
    "hours": "hours",
    "years": "years",
    "per_day": "per day",
    "per_year": "per year",
    "score": "0–1",
}


@dataclass(frozen=True, kw_only=True)
class Metric:
    """One metric: its name, unit, cohort, better direction, group and meaning.

    ``table`` puts it in the run's terminal table and ``compare`` among the metrics a comparison
    shows by default (every metric is in the JSON and CSV files either way). ``moves`` says in
    which scenarios the metric can move at all (touches when touches are sent, unworked suspects
    when the team caps its work in progress); elsewhere it leaves the tables rather than print
    "0 ± 0".
    """

    name: str
    unit: Unit
    cohort: str
    better: Better
    group: str
    description: str
    table: bool = False
    compare: bool = False
    moves: Moves | None = None
    #: a few words a manager would say for it ("time to a win"); the name if none
    label: str = ""

    @property
    def short(self) -> str:
        """The metric in a sentence: its ``label``, else its name."""
        return self.label or self.name

    @property
    def change_unit(self) -> str:
        """The unit of a change in a finding line: ``pts`` for a share (percentage points),
        ``d`` for days, ``h`` for hours; ``""`` for a count; the currency is the caller's."""
        return _CHANGE_UNITS.get(self.unit, self.unit.replace("_", " "))

    def unit_label(self, currency: str = "") -> str:
        """The unit as reports write it: ``% of opportunities``, ``days``, ``EUR``."""
        if self.unit == "share":
            return f"% of {self.cohort}"
        if self.unit == "currency":
            return currency or "currency"
        return _UNIT_LABELS[self.unit]

    def can_move(self, scenarios: Iterable[Scenario]) -> bool:
        """Whether the metric can move in any of ``scenarios``."""
        return self.moves is None or any(self.moves(s) for s in scenarios)

    def to_dict(self) -> dict[str, str]:
        """What ``--format json`` says of the metric beside its values."""
        return {
            "unit": self.unit,
            "cohort": self.cohort,
            "better": self.better,
            "group": self.group,
            "description": self.description,
        }


# --- when a metric can move ----------------------------------------------------------------------


def _touches(s: Scenario) -> bool:
    return s.policies.touch_every_days > 0


def _wip_cap(s: Scenario) -> bool:
    return s.policies.wip_cap > 0


def _response(s: Scenario) -> bool:
    return s.policies.wip_cap > 0 or s.market.leads is not None


def _leads(s: Scenario) -> bool:
    return s.market.leads is not None


def _unworked(s: Scenario) -> bool:
    return s.policies.wip_cap > 0 and s.market.patience_days > 0


def _qualification(s: Scenario) -> bool:
    return any(stage.qualification is not None for stage in s.stages)


def _qualifies_in_pipeline(s: Scenario) -> bool:
    first = s.opens_at_index
    return any(st.qualification is not None for st in s.stages[first:])


def _qualifies_in_prospecting(s: Scenario) -> bool:
    first = s.opens_at_index
    return any(st.qualification is not None for st in s.stages[:first])


def _forecast(s: Scenario) -> bool:
    return any(stage.sets_forecast for stage in s.stages)


def _discounts(s: Scenario) -> bool:
    return any(getattr(stage.wrong.discount, "value", None) != 0.0 for stage in s.stages)


def _accounts(s: Scenario) -> bool:
    return s.accounts is not None


def _win_loss(s: Scenario) -> bool:
    return s.win_loss is not None


# --- the catalogue -------------------------------------------------------------------------------

_OPP = "opportunities"
_SUSPECTS = "suspects"


def _m(
    name: str,
    unit: Unit,
    cohort: str,
    better: Better,
    group: str,
    description: str,
    *,
    table: bool = False,
    compare: bool = False,
    moves: Moves | None = None,
) -> Metric:
    return Metric(
        name=name,
        unit=unit,
        cohort=cohort,
        better=better,
        group=group,
        description=description,
        table=table,
        compare=compare,
        moves=moves,
    )


_PIPELINE: tuple[Metric, ...] = (
    _m("opportunities", "count", _OPP, "neither", "pipeline",
       "counted suspects that became opportunities (entered the stage crm.opens_at)", table=True),
    _m("win_rate", "share", _OPP, "higher", "pipeline",
       "won / opportunities: the pipeline's win rate", table=True, compare=True),
    _m("loss_rate", "share", _OPP, "lower", "pipeline",
       "lost (bought elsewhere, built in house, another approach) / opportunities",
       table=True),
    _m("no_decision_rate", "share", _OPP, "lower", "pipeline",
       "no decision (went dark without a decision) / opportunities", table=True, compare=True),
    _m("disqualified_rate", "share", _OPP, "neither", "pipeline",
       "disqualified after the opportunity opened / opportunities", table=True,
       moves=_qualifies_in_pipeline),
    _m("open_rate", "share", _OPP, "neither", "pipeline",
       "opportunities still open at the horizon / opportunities (win, loss, no decision, "
       "disqualified and open rates add to 1)", table=True),
    _m("closed_lost_rate", "share", _OPP, "lower", "pipeline",
       "the CRM's closed lost / opportunities: lost, and with crm.disqualified_as_lost the "
       "disqualified too", table=True, moves=_qualifies_in_pipeline),
    _m("no_decision_of_not_won", "share", "opportunities not won", "lower", "pipeline",
       "no decision / opportunities closed and not won (lost, no decision, disqualified): how "
       "many of the deals not won were lost to the status quo", table=True, compare=True),
    _m("win_rate_decided", "share", "decided opportunities", "higher", "pipeline",
       "won / (won + lost): when the buyer bought, how often from us"),
    _m("purchase_likelihood", "share", "decided or dark", "higher", "pipeline",
       "(won + lost) / (won + lost + no decision): the buying group bought at all"),
    _m("purchase_likelihood_from_arrival", "share", "worked suspects", "higher", "pipeline",
       "(won + lost) / suspects a seller took on: a buying group that set out to buy bought at "
       "all, counted from its arrival as the CEB figures count it"),
    _m("qualified_share", "share", _OPP, "neither", "pipeline",
       "opportunities that passed qualification / opportunities", moves=_qualification),
    _m("win_rate_qualified", "share", "qualified, closed", "higher", "pipeline",
       "won / qualified opportunities closed won, lost or no decision", moves=_qualification),
    _m("no_decision_of_not_won_qualified", "share", "qualified not won", "lower",
       "pipeline", "no decision / (lost + no decision) among qualified opportunities",
       moves=_qualification),
    _m("throughput_per_year", "per_year", _OPP, "higher", "pipeline",
       "opportunities closed (any end) per 365 days of the cohort"),
)  # fmt: skip

_CYCLE: tuple[Metric, ...] = (
    _m("cycle_median_won_days", "days", "won opportunities", "lower", "cycle time",
       "median days from the opportunity's opening to its recorded close, won ones: the time to "
       "a win", table=True, compare=True),
    _m("cycle_p90_won_days", "days", "won opportunities", "lower", "cycle time",
       "90th percentile of the won cycle", table=True),
    _m("cycle_mean_won_days", "days", "won opportunities", "lower", "cycle time",
       "mean won cycle"),
    _m("cycle_median_days", "days", _OPP, "lower", "cycle time",
       "median days from opening to the recorded close, every outcome, Kaplan–Meier with open "
       "opportunities censored at the horizon", table=True, compare=True),
    _m("cycle_p90_days", "days", _OPP, "lower", "cycle time",
       "90th percentile of that cycle, Kaplan–Meier (NaN if the curve stays below 0.9)"),
    _m("cycle_mean_days", "days", "closed opportunities", "lower", "cycle time",
       "mean cycle of closed opportunities"),
    _m("cycle_median_lost_days", "days", "lost opportunities", "neither", "cycle time",
       "median cycle of lost opportunities", table=True),
    _m("cycle_mean_lost_days", "days", "lost opportunities", "neither", "cycle time",
       "mean cycle of lost opportunities"),
    _m("cycle_median_no_decision_days", "days", "no-decision opportunities", "neither",
       "cycle time", "median cycle of no-decision opportunities (to the recorded close)",
       table=True),
    _m("cycle_mean_no_decision_days", "days", "no-decision opportunities", "neither",
       "cycle time", "mean cycle of no-decision opportunities (to the recorded close)"),
    _m("cycle_median_disqualified_days", "days", "disqualified opportunities", "neither",
       "cycle time", "median cycle of disqualified opportunities",
       moves=_qualifies_in_pipeline),
    _m("cycle_mean_disqualified_days", "days", "disqualified opportunities", "neither",
       "cycle time", "mean cycle of disqualified opportunities", moves=_qualifies_in_pipeline),
)  # fmt: skip

_SLIPPAGE: tuple[Metric, ...] = (
    _m("share_pushed", "share", "forecast deals closed", "lower", "slippage",
       "closed opportunities with a forecast close date that was pushed at least once",
       table=True, moves=_forecast),
    _m("pushes_per_forecast_deal", "count", "forecast deals closed", "lower",
       "slippage", "times the forecast close date was pushed, per closed opportunity with a "
       "forecast", table=True, moves=_forecast),
    _m("forecast_accuracy", "share", "forecast deals closed", "higher", "slippage",
       "closed opportunities with a forecast that were won in the month first forecast (a "
       "month = 365/12 days)", table=True, moves=_forecast),
)  # fmt: skip

_ACTIVITY: tuple[Metric, ...] = (
    _m("calls_per_opportunity", "count", _OPP, "neither", "activity",
       "calls held with the buyer, outreach included, per opportunity", table=True,
       compare=True),
    _m("touches_per_opportunity", "count", _OPP, "neither", "activity",
       "touches sent (recap, article, case study), outreach included, per opportunity",
       table=True, moves=_touches),
    _m("wrong_activities_per_opportunity", "count", _OPP, "lower", "activity",
       "activities done wrong (and redone), outreach included, per opportunity", table=True),
    _m("mean_gap_days", "days", "calls of opportunities", "lower", "activity",
       "days between calls: total gap days / total calls of opportunities (each call ends one "
       "gap)", table=True, compare=True),
    _m("max_gap_days_mean", "days", "opportunities with a call", "lower", "activity",
       "longest gap before a call, averaged over opportunities", table=True),
    _m("seller_wait_share", "share", "waiting between calls", "lower", "activity",
       "waiting for the seller (calendar, offline work) / all waiting between calls, summed "
       "over opportunities", table=True),
    _m("flow_efficiency", "share", "deals' working time", "higher",
       "activity", "seller hours on closed opportunities / their cycle in working hours (cycle "
       "days × a seller's available hours per day): the share of a deal's working time "
       "someone worked on it", table=True),
)  # fmt: skip

_PROSPECTING: tuple[Metric, ...] = (
    _m("suspects", "count", _SUSPECTS, "neither", "prospecting",
       "suspects that arrived in the counted cohort", table=True),
    _m("arrivals_per_day", "per_day", _SUSPECTS, "neither", "prospecting",
       "suspects that arrived in the cohort / the cohort's length in days"),
    _m("response_mean_days", "days", "worked suspects", "lower", "prospecting",
       "days from a suspect's arrival to the seller reaching out (the wait for a seller and, "
       "with [market.leads], the seller's own delay): the team's response",
       table=True, moves=_response),
    _m("engaged_share", "share", _SUSPECTS, "higher", "prospecting",
       "suspects that took part in at least one call", table=True),
    _m("engaged_within_a_day_share", "share", "suspects reached within a day", "higher",
       "prospecting", "suspects the seller reached within a day of their arrival that took part "
       "in a call (speed to lead)", table=True, moves=_leads),
    _m("engaged_after_3_days_share", "share", "suspects reached after 3 days", "higher",
       "prospecting", "suspects the seller reached 3 days or more after their arrival that took "
       "part in a call", table=True, moves=_leads),
    _m("opportunity_share", "share", _SUSPECTS, "higher", "prospecting",
       "suspects that became opportunities (the prospecting funnel's conversion)", table=True,
       compare=True),
    _m("no_response_share", "share", _SUSPECTS, "lower", "prospecting",
       "suspects contacted who never engaged: went dark or raised their defences before an "
       "opportunity opened", table=True),
    _m("unworked_share", "share", _SUSPECTS, "lower", "prospecting",
       "suspects no seller took on (gave up waiting)", table=True, moves=_unworked),
    _m("prospect_disqualified_share", "share", _SUSPECTS, "neither", "prospecting",
       "suspects disqualified before an opportunity opened", table=True,
       moves=_qualifies_in_prospecting),
    _m("prospect_open_share", "share", _SUSPECTS, "neither", "prospecting",
       "suspects still in prospecting at the horizon"),
)  # fmt: skip

_SELLERS: tuple[Metric, ...] = (
    _m("seller_utilisation", "share", "hours available", "neither", "sellers",
       "hours booked / hours available, over all sellers in the window", table=True,
       compare=True),
    _m("selling_time_share", "share", "working hours", "neither", "sellers",
       "hours booked on selling (calls, preparation, offline work, touches, reaching out) / "
       "the sellers' working hours in the window: the rest went to non-selling work or was "
       "idle", table=True),
    _m("seller_hours_per_win", "hours", "won opportunities", "lower", "sellers",
       "seller hours (calls, preparation, offline work, touches) on every counted suspect, "
       "prospecting included / wins", table=True),
    _m("wip_mean", "count", "the window", "neither", "sellers",
       "time-average records a seller holds (from taking a suspect on to the recorded close: "
       "prospects and opportunities), all sellers, every record", table=True),
    _m("wip_per_seller", "count", "the window", "neither", "sellers",
       "wip_mean / the number of sellers", table=True),
)  # fmt: skip

_MONEY: tuple[Metric, ...] = (
    _m("bookings_per_year", "currency", "won opportunities", "higher", "money",
       "net value (value × (1 − discount)) of won opportunities per 365 days of the cohort",
       table=True, compare=True),
    _m("mean_won_value", "currency", "won opportunities", "higher", "money",
       "mean list value of won opportunities", table=True),
    _m("mean_discount_won", "share", "won value", "lower", "money",
       "mean discount given on won opportunities", table=True, moves=_discounts),
)  # fmt: skip

_STAGES: tuple[Metric, ...] = (
    _m("reach_<stage>", "share", "worked suspects", "higher", "stages",
       "worked suspects that entered the stage"),
    _m("conversion_<stage>", "share", "the stage before", "higher", "stages",
       "records that entered the stage / those that entered the one before (from the second "
       "stage on)"),
    _m("days_in_<stage>", "days", "records that left the stage", "lower", "stages",
       "mean days from entering the stage to leaving it (the next stage entered, or the real "
       "end)"),
    _m("wip_<stage>", "count", "the window", "neither", "stages",
       "time-average records in the stage in the window, every record"),
)  # fmt: skip

_ACC, _ACC_WINDOW = "accounts", "accounts in the window"
_ACCOUNTS: tuple[Metric, ...] = (
    _m("accounts_new", "count", _ACC_WINDOW, "higher", "accounts",
       "accounts created (opportunities won) in the window", table=True),
    _m("accounts_active_end", "count", _ACC, "higher", "accounts",
       "accounts still customers at the horizon", table=True),
    _m("partner_share", "share", "accounts on-boarded", "higher", "accounts",
       "accounts that became partners (on-boarded right and on time)", table=True),
    _m("onboarding_wait_days", "days", "on-boardings started in the window", "lower",
       "accounts", "mean days from the close to the operations team starting the on-boarding"),
    _m("onboarding_days", "days", "on-boardings done in the window", "lower", "accounts",
       "mean days from the close to on-boarding done", table=True),
    _m("mean_start_health", "score", "accounts created in the window", "higher", "accounts",
       "mean health at the close", table=True),
    _m("mean_health_end", "score", "accounts active at the horizon", "higher", "accounts",
       "mean health at the horizon"),
    _m("churn_rate_per_year", "per_year", "account-years in the window", "lower", "accounts",
       "accounts that left in the window / account-years in the window (from the close)",
       table=True),
    _m("mean_lifetime_years", "years", "accounts that left", "higher",
       "accounts", "account-years in the window / accounts that left in it: the mean lifetime "
       "of an exponential law with censoring at the horizon", table=True),
    _m("logo_churn_last_year", "share", "accounts a year before", "lower",
       "accounts", "customers a year before the horizon that left by the horizon"),
    _m("expansions_per_account_year", "per_year", "account-years in the window", "higher",
       "accounts", "expansion opportunities (upsell, cross-sell, referral) created in the "
       "window per account-year"),
    _m("expansion_win_rate", "share", "expansions ended", "higher", "revenue",
       "won / ended expansion opportunities created in the window", table=True),
    _m("bookings_new_per_year", "currency", "the window", "higher", "revenue",
       "net value of new business won in the window per 365 days", table=True),
    _m("bookings_expansion_per_year", "currency", "the window", "higher", "revenue",
       "net value of opportunities won inside accounts (expansions and restarts at stage 7; "
       "not renegotiations, which renew what is there) in the window per 365 days",
       table=True),
    _m("expansion_share_of_bookings", "share", "bookings in the window", "neither", "revenue",
       "bookings inside accounts / all bookings in the window", table=True),
    _m("revenue_window", "currency", "the window", "higher", "revenue",
       "revenue recognised in the window [warmup, horizon]"),
    _m("revenue_per_year", "currency", "the window", "higher", "revenue",
       "revenue recognised in the window per 365 days", table=True),
    _m("arr_end", "currency", _ACC, "higher", "revenue",
       "recurring revenue per year at the horizon", table=True),
    _m("grr", "share", "revenue a year before", "higher", "revenue",
       "gross revenue retention over the last year: recurring revenue kept by the cohort of a "
       "year before, each account capped at its start value", table=True),
    _m("nrr", "share", "revenue a year before", "higher", "revenue",
       "net revenue retention over the last year: the cohort's recurring revenue at the "
       "horizon / a year before (above 100%: expansion outgrows churn)", table=True),
    _m("customer_lifetime_value", "currency", "accounts that left", "higher",
       "revenue", "revenue in the window / accounts that left in it (revenue per account-year "
       "× mean lifetime)", table=True),
    _m("largest_account_share", "share", "revenue in the window", "lower", "accounts",
       "the largest account's share of revenue (dependence risk)", table=True),
    _m("strategic_share", "share", "mature active accounts", "higher", "accounts",
       "mature active accounts at the horizon that are strategic partners", table=True),
    _m("exit_reason_agreement", "share", "accounts that left", "higher",
       "accounts", "exit interviews that found the real reason", table=True),
    *(
        _m(f"exit_real_{reason}", "share", "accounts that left", "neither",
           "accounts", f"accounts whose real reason to leave was {reason} (see END_REASONS)")
        for reason in END_REASONS[1:-1]
    ),
    _m("exit_stated_price", "share", "accounts that left", "neither",
       "accounts", "exit interviews that heard the excuse, price", table=True),
)  # fmt: skip

_LOSS_CAUSES: tuple[str, ...] = ("other_supplier", *OPPORTUNITY_DARK_CAUSES)
_WIN_LOSS: tuple[Metric, ...] = (
    *(
        _m(f"loss_cause_{cause}_share", "share", "lost and no decision",
           "neither", "win/loss", f"real end cause {cause} (see END_CAUSES)",
           table=cause == "other_supplier")
        for cause in _LOSS_CAUSES
    ),
    *(
        _m(f"nd_cause_{cause}_share", "share", "no decisions", "neither",
           "win/loss", f"went dark because {cause} (see DARK_CAUSES)", table=True)
        for cause in OPPORTUNITY_DARK_CAUSES
    ),
    _m("win_loss_interviewed_share", "share", "lost and no decision", "neither",
       "win/loss", "buyers interviewed (win_loss.interview_share)", table=True),
    _m("win_loss_reason_agreement", "share", "interviews", "higher", "win/loss",
       "interviews that heard the real end cause", table=True),
    _m("win_loss_stated_price_share", "share", "interviews of lost", "neither",
       "win/loss", "interviews that heard price (the real share of price is 0: every one is "
       "the excuse)", table=True),
    _m("win_loss_stated_timing_share", "share", "no-decision interviews",
       "neither", "win/loss", "interviews that heard timing, not a priority (the excuse)",
       table=True),
)  # fmt: skip

_ALWAYS = (*_PIPELINE, *_CYCLE, *_SLIPPAGE, *_ACTIVITY, *_PROSPECTING, *_SELLERS, *_MONEY)
#: What a manager would call the metrics findings name most (the comparison defaults).
_LABELS: dict[str, str] = {
    "win_rate": "win rate",
    "no_decision_rate": "no decision",
    "no_decision_of_not_won": "no decision of deals not won",
    "cycle_median_won_days": "time to a win",
    "cycle_median_days": "cycle time",
    "calls_per_opportunity": "calls per opportunity",
    "mean_gap_days": "gap between calls",
    "opportunity_share": "suspects to opportunities",
    "seller_utilisation": "seller utilisation",
    "bookings_per_year": "bookings a year",
    "loss_rate": "loss rate",
    "disqualified_rate": "disqualified",
    "wrong_activities_per_opportunity": "wrong steps per opportunity",
    "touches_per_opportunity": "touches per opportunity",
}

#: Every metric, in the order reports show them; per-stage ones as ``<stage>`` templates.
CATALOGUE: tuple[Metric, ...] = tuple(
    replace(m, label=_LABELS.get(m.name, ""))
    for m in (
        *_ALWAYS,
        *_STAGES,
        *(replace(m, moves=_accounts) for m in _ACCOUNTS),
        *(replace(m, moves=_win_loss) for m in _WIN_LOSS),
    )
)
#: The two numbers the tool is about: the time to a win and the no-decision rate (the default
#: metrics of a sensitivity run, the first of every comparison).
HEADLINE_METRICS: tuple[str, ...] = ("cycle_median_won_days", "no_decision_rate")
#: Metrics a comparison shows unless others are asked for (JSON and files hold all).
COMPARE_METRICS: tuple[str, ...] = tuple(m.name for m in CATALOGUE if m.compare)

#: The metrics of ``[accounts]`` and of ``[win_loss]``, by name, in report order.
ACCOUNT_METRIC_NAMES: tuple[str, ...] = tuple(m.name for m in _ACCOUNTS)
WIN_LOSS_METRIC_NAMES: tuple[str, ...] = tuple(m.name for m in _WIN_LOSS)
_ACCOUNT_NAMES = frozenset(ACCOUNT_METRIC_NAMES)
_WIN_LOSS_NAMES = frozenset(WIN_LOSS_METRIC_NAMES)


def metric_catalogue(
    stage_names: Sequence[str], *, accounts: bool = False, win_loss: bool = False
) -> dict[str, Metric]:
    """The metrics one replication computes, by name, in report order; ``<stage>`` expanded.

    ``accounts``: the scenario has ``[accounts]`` and its metrics are there; ``win_loss``: the
    same for ``[win_loss]``.
    """
    keys = stage_keys(stage_names)
    out: dict[str, Metric] = {}
    for metric in CATALOGUE:
        if (metric.name in _ACCOUNT_NAMES and not accounts) or (
            metric.name in _WIN_LOSS_NAMES and not win_loss
        ):
            continue
        if "<stage>" not in metric.name:
            out[metric.name] = metric
            continue
        first = 1 if metric.name.startswith("conversion_") else 0
        for number, (key, stage) in enumerate(zip(keys, stage_names, strict=True), start=1):
            if number > first:
                name = metric.name.replace("<stage>", key)
                out[name] = replace(
                    metric, name=name, description=f"{metric.description} ({stage})"
                )
    return out


def catalogue_for(*scenarios: Scenario) -> dict[str, Metric]:
    """The metrics of every scenario (a variant may add some, such as its account metrics), by
    name in report order; for a metric in several, the first scenario's record."""
    out: dict[str, Metric] = {}
    for scenario in scenarios:
        found = metric_catalogue(
            [stage.name for stage in scenario.stages],
            accounts=scenario.accounts is not None,
            win_loss=scenario.win_loss is not None,
        )
        out = found | out
    order = {m.name: i for i, m in enumerate(CATALOGUE)}
    return dict(sorted(out.items(), key=lambda item: order.get(_template(item[0]), len(order))))


def table_metrics(*scenarios: Scenario) -> dict[str, list[Metric]]:
    """The run table's rows, by group in report order: metrics marked ``table`` that can move
    in at least one of ``scenarios``."""
    groups: dict[str, list[Metric]] = {}
    for metric in catalogue_for(*scenarios).values():
        if metric.table and metric.can_move(scenarios):
            groups.setdefault(metric.group, []).append(metric)
    return groups


def metric_record(name: str) -> Metric | None:
    """The catalogue's record of a metric by its name (a per-stage one by its template, so
    without the stage's name), or None if there is no such metric."""
    found = _BY_NAME.get(name) or _BY_NAME.get(_template(name))
    if found is None or found.name == name:
        return found
    return replace(found, name=name)


def _template(name: str) -> str:
    """The catalogue name of an expanded per-stage metric: ``reach_discovery`` is
    ``reach_<stage>``."""
    for prefix in ("reach_", "conversion_", "days_in_", "wip_"):
        if name.startswith(prefix) and name not in _NAMES:
            return prefix + "<stage>"
    return name


_NAMES = frozenset(m.name for m in CATALOGUE)
_BY_NAME = {m.name: m for m in CATALOGUE}
