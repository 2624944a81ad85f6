"""What one simulation run writes: compact columnar buffers, one row per opportunity.

The model appends to typed ``array.array`` columns (no Python object per value, no dict per event),
so a million deals of a five-stage sale take about 130 MB. Days are stored as float32 (see
``TIME_FIELDS``): half the bytes of the table's widest columns, at a resolution far below a day.
``DealRecords.columns()`` hands them to the results layer as NumPy arrays without copying. This
module is the one reference for every field and its unit.
"""

from __future__ import annotations

from array import array
from dataclasses import dataclass, field

import numpy as np

from simsales.model.account_records import AccountRecords

#: Columns of days (and ``stage_entered``), stored as float32: a time keeps 24 significant bits,
#: so it is within 2**-12 days (21 seconds) of the model's own time up to day 4,096, within 2**-10
#: days (under 1.5 minutes) up to day 16,384. The model decides on its float64 times; only the
#: record is rounded, monotonically (no duration turns negative). ``DealTable`` reads them back as
#: float64, so the arithmetic on them (sums, differences, prefix sums) is done in double precision.
TIME_FIELDS: tuple[str, ...] = (
    "created_at",
    "assigned_at",
    "reached_at",
    "ended_at",
    "closed_at",
    "first_forecast_at",
)

#: How a record ends, in the order they are reported; ``OUTCOME_MEANINGS`` says what each means.
#: A record is a suspect from its arrival; it becomes an opportunity when it enters the stage the
#: CRM opens one at (``crm.opens_at``). The pipeline's outcomes (won, lost, no decision) are those
#: of opportunities; a suspect ends its prospecting unworked or with no response; disqualified
#: can happen on either side of the opening, wherever the qualifying stage lies.
OUTCOMES: tuple[str, ...] = (
    "open",
    "won",
    "lost",
    "no_decision",
    "disqualified",
    "no_response",
    "unworked",
)
OPEN, WON, LOST, NO_DECISION, DISQUALIFIED, NO_RESPONSE, UNWORKED = range(len(OUTCOMES))

#: What each outcome of ``OUTCOMES`` means (the reference docs print these).
OUTCOME_MEANINGS: dict[str, str] = {
    "open": "not ended at the horizon: an open opportunity, or a suspect still in prospecting "
    "(``opened_at`` empty; with ``stage_reached`` 0 and no ``assigned_at`` if still waiting in "
    "the suspect pool). A record that went dark but is not yet closed out in the CRM is open "
    "too, as the CRM sees it.",
    "won": "an opportunity whose buying group decided to buy, and chose us.",
    "lost": "an opportunity whose buying group decided to buy from someone else, to build in "
    "house or to take another approach (a No Go).",
    "no_decision": "an opportunity whose buyer went dark without a decision (the status quo "
    "won); the seller closed it in the CRM after the close-out delay "
    "(``crm.close_out_delay_days``).",
    "disqualified": "the qualifying stage read the buyer's fit below "
    "``policies.qualification_strictness``.",
    "no_response": "a suspect a seller contacted who never engaged: it went dark (or raised its "
    "defences) before an opportunity opened (``crm.opens_at``); closed after the close-out "
    "delay, as a no decision is.",
    "unworked": "a suspect that gave up waiting for a seller: never contacted.",
}

#: Deal table columns: name -> (array typecode, unit / meaning). Times are days since the start.
#: Counts a deal can run up over a long run (calls, touches, pushes) are 32-bit; the 16- and 8-bit
#: columns hold values the schema bounds (a group of at most 1,000, ten times that in an account;
#: at most 100 segments and 20 stages).
DEAL_FIELDS: dict[str, tuple[str, str]] = {
    "deal_id": ("i", "id, in order of arrival"),
    "segment": ("b", "index into market.segments"),
    "seller": ("i", "index of the seller (-1: never assigned)"),
    "group_size": ("h", "stakeholders in the buying group"),
    "fit": ("f", "fit to the ideal customer, 0..1"),
    "pace": ("f", "deal pace factor on buyer lags and tasks"),
    "value": ("d", "list value, currency"),
    "created_at": ("f", "day the suspect arrived"),
    "assigned_at": ("f", "day a seller took it (NaN: never)"),
    "reached_at": (
        "f",
        "day the seller first reached out to it (with [market.leads]; else when a seller took "
        "it; NaN: never)",
    ),
    "ended_at": ("f", "day the real end happened: decision, disqualification or going dark"),
    "closed_at": ("f", "day the CRM records the end (after a close-out delay for no decision)"),
    "outcome": ("b", "index into OUTCOMES"),
    "stage_reached": ("b", "last stage entered, 1-based (0: still in the suspect pool)"),
    "qualified": ("b", "1 if the deal passed the qualifying stage (a qualified opportunity)"),
    "discount": ("f", "share of the value given away"),
    "calls": ("i", "calls held"),
    "touches": ("i", "touches sent"),
    "wrong_activities": ("i", "activities done wrong (and redone)"),
    "wrong_stages": ("i", "bit i set: stage i+1 had a wrong step"),
    "gap_days": ("f", "days from the previous call (or the assignment) to each call, summed"),
    "max_gap_days": ("f", "longest gap before a call, days"),
    "seller_wait_days": ("f", "days the next call waited for a free seller slot, summed"),
    "buyer_wait_days": ("f", "days waited for the buyer (tasks and availability), summed"),
    "call_hours": ("f", "seller hours in calls and their preparation"),
    "work_hours": ("f", "seller hours of offline work and touches"),
    "first_forecast_at": ("f", "first forecast close date (NaN: never forecast)"),
    "pushes": ("i", "times the forecast close date was pushed"),
    "final_momentum": ("f", "momentum at the end"),
    "account_id": ("i", "the account it was sold in or created (-1: none, or accounts off)"),
    "origin": ("b", "index into ORIGINS: new business, or an opportunity inside an account"),
    "end_cause": ("b", "index into END_CAUSES: the real cause of the end, in the model"),
    "stated_cause": ("b", "index into STATED_CAUSES: what the win/loss interview heard"),
}

#: Where an opportunity came from: a suspect (new business) or an account (``[accounts]``).
ORIGINS: tuple[str, ...] = (
    "new_business",
    "upsell",
    "cross_sell",
    "referral",
    "restart",
    "renegotiation",
)
NEW_BUSINESS = 0

#: Event codes of the optional event log (a deal's story); ``EVENT_MEANINGS`` says what each means.
EVENTS: tuple[str, ...] = (
    "created",
    "assigned",
    "stage_entered",
    "call",
    "wrong_step",
    "touch",
    "buyer_task",
    "seller_work",
    "forecast_set",
    "qualified",
    "disqualified",
    "went_dark",
    "decided",
    "closed",
    "unworked",
    "wait_task",
    "wait_work",
    "wait_buyer",
    "wait_seller",
    "forecast_pushed",
    "reached",
)
EV = {name: code for code, name in enumerate(EVENTS)}

#: Why a deal went dark: the ``value`` of its ``went_dark`` event indexes this tuple.
DARK_CAUSES: tuple[str, ...] = ("faded", "stalled", "defences", "undecided", "unanswered")
#: The causes an opportunity can go dark for (a suspect who never answered never became one).
OPPORTUNITY_DARK_CAUSES: tuple[str, ...] = DARK_CAUSES[:4]

#: What each cause of ``DARK_CAUSES`` means.
DARK_CAUSE_MEANINGS: dict[str, str] = {
    "faded": "the buyer's momentum faded during a gap and the buyer stopped answering (the "
    "dark hazard)",
    "stalled": "the buying group could not agree to go on after a stage (a member blocked it "
    "at the stage's gate, with [buyers.group]; else the stage's share of the consensus "
    "penalty)",
    "defences": "a step done wrong in a call raised the buyer's defences (the stage's "
    "``wrong.end_chance``)",
    "undecided": 'after the last stage the group never decided: "we\'ll get back to you"',
    "unanswered": "the suspect never answered the seller's first reach-out (its interest had "
    "faded since it arrived: ``[market.leads]``)",
}

#: The real cause of a deal's end (the ``end_cause`` column); ``END_CAUSE_MEANINGS`` says what
#: each means. A no decision's cause is its ``went_dark`` cause: code ``DARK_CAUSE_BASE + cause``.
END_CAUSES: tuple[str, ...] = ("none", "won", "other_supplier", "poor_fit", *DARK_CAUSES)
NO_CAUSE, WON_CAUSE, OTHER_SUPPLIER, POOR_FIT = range(4)
DARK_CAUSE_BASE = 4

#: What each cause of ``END_CAUSES`` means (the reference docs print these).
END_CAUSE_MEANINGS: dict[str, str] = {
    "none": "the deal has not ended (open) or was never worked (unworked).",
    "won": "won: the buying group chose us.",
    "other_supplier": "lost: the buying group decided to buy and chose another supplier (or "
    "to do it in house); how likely depends on the buyer's fit (``buyers.supplier_choice``).",
    "poor_fit": "disqualified: the qualifying stage read the buyer's fit as too poor.",
    **{f"{cause}": f"no decision: {text}." for cause, text in DARK_CAUSE_MEANINGS.items()},
}

#: What the win/loss interview (``[win_loss]``) heard (the ``stated_cause`` column): the real
#: cause (same code as in ``END_CAUSES``), or the buyer's usual excuse: ``price`` for a lost
#: deal, ``timing`` ("not a priority now") for a no decision.
STATED_CAUSES: tuple[str, ...] = ("not_interviewed", *END_CAUSES[1:], "price", "timing")
NOT_INTERVIEWED = 0
PRICE_EXCUSE = STATED_CAUSES.index("price")
TIMING_EXCUSE = STATED_CAUSES.index("timing")

#: Each event of ``EVENTS``: (when it is logged, what its ``value`` holds).
EVENT_MEANINGS: dict[str, tuple[str, str]] = {
    "created": ("a suspect arrives in the pool", "the list value"),
    "assigned": ("a seller takes the suspect: it becomes an opportunity", "0 (unused)"),
    "stage_entered": ("the deal enters the stage", "0 (unused)"),
    "call": ("a call with the buyer is held", "activities covered"),
    "wrong_step": (
        "in a call, activities were done wrong (they are redone)",
        "activities done wrong",
    ),
    "touch": ("the seller sends a touch (recap, article, case study)", "0 (unused)"),
    "buyer_task": (
        "a buyer task of the stage starts",
        "days the task takes (after the deal's pace factor)",
    ),
    "seller_work": ("the seller's offline work of the stage (a proposal) starts", "hours of work"),
    "forecast_set": ("the first forecast close date is set", "the forecast close date (a day)"),
    "qualified": (
        "the qualifying stage keeps the deal",
        "the buyer's true fit, not the seller's read of it",
    ),
    "disqualified": ("the qualifying stage disqualifies the deal", "the buyer's true fit"),
    "went_dark": ("the buyer stops engaging (no decision)", "why: a cause code (DARK_CAUSES)"),
    "decided": ("the buying group chooses a supplier (won or lost)", "the outcome code"),
    "closed": ("the CRM records the end", "the outcome code"),
    "unworked": ("a suspect gives up waiting for a seller", "0 (unused)"),
    # The gap before a call, split by its cause (logged when the call is held, each part at the
    # time it began; parts of 0 days are not logged). ``wait_task`` + ``wait_buyer`` sum to the
    # deal table's ``buyer_wait_days``, ``wait_work`` + ``wait_seller`` to ``seller_wait_days``.
    "wait_task": (
        "the next call waits for the buyer's own tasks to be done",
        "days of the gap spent waiting for them",
    ),
    "wait_work": (
        "the next call waits for the seller's offline work (beyond the buyer's tasks)",
        "days of the gap spent waiting for it",
    ),
    "wait_buyer": (
        "the next call waits for the buyer's group to have a free slot",
        "days of the gap spent waiting for it",
    ),
    "wait_seller": (
        "the buyer could meet, but the seller's calendar had no free slot yet",
        "days of the gap spent waiting for one",
    ),
    "forecast_pushed": (
        "the forecast close date passed with the deal undecided (or not yet closed in the CRM), "
        "and was pushed",
        "the new forecast close date (a day)",
    ),
    "reached": (
        "the seller has reached out to the suspect for the first time (with [market.leads])",
        "the chance the suspect answers, faded since its arrival",
    ),
}


@dataclass
class DealRecords:
    """Columnar deal buffers plus per-stage entry times."""

    n_stages: int
    cols: dict[str, array] = field(init=False)
    stage_entered: array = field(init=False)

    def __post_init__(self) -> None:
        self.cols = {name: array(code) for name, (code, _) in DEAL_FIELDS.items()}
        self.stage_entered = array("f")  # float32, as the TIME_FIELDS

    def __len__(self) -> int:
        return len(self.cols["deal_id"])

    def columns(self) -> dict[str, np.ndarray]:
        """Zero-copy NumPy views; ``stage_entered`` is (n, n_stages), NaN where never entered."""
        out: dict[str, np.ndarray] = {}
        for name, buf in self.cols.items():
            out[name] = np.frombuffer(buf, dtype=buf.typecode) if len(buf) else _empty(buf)
        st = (
            np.frombuffer(self.stage_entered, dtype="f")
            if len(self.stage_entered)
            else np.empty(0, dtype="f")
        )
        out["stage_entered"] = st.reshape(-1, self.n_stages)
        return out


def _empty(buf: array) -> np.ndarray:
    return np.empty(0, dtype=np.dtype(buf.typecode))


@dataclass
class EventLog:
    """A deal's story, columnar: one row per event, appended in the order the model decides them.

    ``value`` holds what ``EVENT_MEANINGS`` says for the event. ``momentum`` is the buyer's
    momentum right after the event where the model knows it (else NaN). Rows are not in time order
    (future bookings are logged when made): sort by case, then time.
    """

    case: array = field(default_factory=lambda: array("i"))
    time: array = field(default_factory=lambda: array("d"))
    code: array = field(default_factory=lambda: array("b"))
    stage: array = field(default_factory=lambda: array("b"))
    value: array = field(default_factory=lambda: array("d"))
    seller: array = field(default_factory=lambda: array("i"))
    momentum: array = field(default_factory=lambda: array("d"))

    def add(
        self,
        case: int,
        time: float,
        code: int,
        stage: int,
        value: float,
        seller: int,
        momentum: float,
    ) -> None:
        self.case.append(case)
        self.time.append(time)
        self.code.append(code)
        self.stage.append(stage)
        self.value.append(value)
        self.seller.append(seller)
        self.momentum.append(momentum)

    def __len__(self) -> int:
        return len(self.case)

    def until(self, horizon: float) -> EventLog:
        """The events up to the horizon: what a deal booked beyond it had not happened yet."""
        keep = [i for i, t in enumerate(self.time) if t <= horizon]
        out = EventLog()
        for name, buf in vars(self).items():
            getattr(out, name).extend(buf[i] for i in keep)
        return out

    def columns(self) -> dict[str, np.ndarray]:
        return {
            name: np.frombuffer(buf, dtype=buf.typecode) if len(buf) else _empty(buf)
            for name, buf in vars(self).items()
        }


#: Days per bucket of the sellers' hours history (``RunRecords.seller_week_hours``).
DAYS_PER_WEEK = 7


@dataclass
class RunRecords:
    """Everything one replication produced, with what is needed to interpret it.

    ``seller_hours`` and ``seller_capacity_hours`` cover the counting window
    [warmup_days, horizon_days]: hours booked (calls, prep, work, touches) and hours available.
    ``seller_week_hours`` (sellers × weeks) holds the hours booked in each week (days 7w to
    7w + 6) of the whole days from day 0 up to the horizon, and ``week_capacity_hours`` (weeks)
    a seller's hours in each week (the last week may be cut short by the horizon): utilisation
    over time (``simsales.results.timeseries``), 8 bytes a seller-week.
    """

    scenario_name: str
    stage_names: tuple[str, ...]
    segment_names: tuple[str, ...]
    seed: int
    replication: int
    horizon_days: float
    warmup_days: float
    deals: DealRecords
    seller_hours: np.ndarray
    seller_capacity_hours: np.ndarray
    events: EventLog | None = None
    sim_events: int = 0
    cohort_margin_days: float = 0.0
    accounts: AccountRecords | None = None
    seller_week_hours: np.ndarray | None = None
    week_capacity_hours: np.ndarray | None = None
    win_loss: bool = False  # the scenario has ``[win_loss]``: its metrics are computed
    #: 0-based index of the stage whose entry opens an opportunity (``crm.opens_at``)
    opens_stage: int = 0
    #: disqualified opportunities are booked as closed lost (``crm.disqualified_as_lost``)
    disqualified_as_lost: bool = True
    #: share of the working day that is not selling time (``team.non_selling_share``)
    non_selling_share: float = 0.0
