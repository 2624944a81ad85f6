"""The mapping file: which column of a CRM export is which, and what the team's labels mean.

Every CRM names its columns and its stages differently, and every team books its ends its own
way ("Closed Lost – No Decision", "Went dark", "Nurture"). A small TOML file says it once:

    [columns]
    id = "Opportunity ID"
    created = "Created Date"
    closed = "Close Date"
    status = "Stage"
    amount = "Amount"
    owner = "Opportunity Owner"

    [dates]
    formats = ["%m/%d/%Y"]          # tried in order; ISO dates (2026-03-01) are always read

    [status]                         # each label of the status column -> what it means
    "Closed Won" = "won"
    "Closed Lost" = "lost"
    "Closed Lost - No Decision" = "no_decision"
    "Disqualified" = "disqualified"
    "Prospecting" = "before_opportunity"
    "Proposal" = "open"

Labels are matched without regard to case, spaces and the kind of dash. A row whose status is
open keeps its close date as the forecast close date (many CRMs hold the expected close there);
a row with no close date and no status is open.

Two more files are optional, each a row per event: a **stage history** (when each opportunity
entered each stage) and an **activity log** (meetings, calls, emails, with their dates). Each
has a section naming its columns, and the team's stage labels are mapped in ``[stages]``, in the
order of the process:

    [stage_history]                  # given with --stage-history FILE (or file = "...")
    opportunity = "Opportunity ID"   # the export's id
    stage = "Stage"
    entered_at = "Entered"

    [stages]                         # each label -> a stage of the model, in process order
    "Prospecting" = "before_opportunity"   # not an opportunity yet: counted, not kept
    "Qualification" = "commitment"
    "Needs Analysis" = "discovery"
    "Discovery call" = "discovery"   # several labels may mean one stage
    "Proposal/Price Quote" = "diagnosis"
    "Negotiation/Review" = "close"
    "Closed Won" = "ignore"          # the end is in the export's status: not a stage

    [activities]                     # given with --activities FILE (or file = "...")
    opportunity = "Opportunity ID"
    type = "Activity Type"
    date = "Date"
    # id = "Activity ID"             # with an id, an activity listed twice is found

    [activity_types]                 # optional: what each type is in the model
    "Meeting" = "meeting"            # a call with the buyer (the model's calls)
    "Email" = "touch"                # content sent between calls (the model's touches)
    "Note" = "ignore"

The order of the stages is the order in which ``[stages]`` first names each one; stage names
are the scenario's (``stages[].name``), matched like labels. A ``file`` in a section is read
relative to the mapping file; the command line's file wins. Dates are read with ``[dates]``.
"""

from __future__ import annotations

import os
import re
from functools import cached_property
from pathlib import Path
from typing import Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from simsales.scenario.errors import ScenarioError, validation_problems
from simsales.scenario.loading import read_toml
from simsales.scenario.text import PlainText

__all__ = [
    "ACTIVITY_KINDS",
    "STAGE_SKIPS",
    "STATUS_MEANINGS",
    "ActivityColumns",
    "CrmMapping",
    "StageHistoryColumns",
    "label_key",
    "load_mapping",
]

#: What a status label can mean: an end of an opportunity, still open, or not (yet) one at all.
StatusMeaning = Literal["won", "lost", "no_decision", "disqualified", "open", "before_opportunity"]
STATUS_MEANINGS: tuple[str, ...] = StatusMeaning.__args__  # type: ignore[attr-defined]
#: Stage labels that name no stage: prospecting before the opportunity opened, or a label the
#: history holds but the stages do not (a "Closed Won" row: the end is in the export's status).
STAGE_SKIPS: tuple[str, ...] = ("before_opportunity", "ignore")
#: What an activity type can be in the model: a call with the buyer, content sent between calls
#: (a touch), something else the team counts, or nothing to count.
ActivityKind = Literal["meeting", "touch", "other", "ignore"]
ACTIVITY_KINDS: tuple[str, ...] = ActivityKind.__args__  # type: ignore[attr-defined]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", strict=True)


class Columns(_Frozen):
    """The export's column names (as in its header row) for each field simsales reads."""

    id: PlainText = Field(min_length=1, description="The opportunity's id: unique per row.")
    created: PlainText = Field(
        min_length=1,
        description="The day the opportunity was created (or the buyer engaged): it opened.",
    )
    closed: PlainText = Field(
        min_length=1,
        description="The day it was closed (won, lost or no decision); empty while open. For "
        "an open row, the forecast close date.",
    )
    status: PlainText = Field(
        min_length=1, description="Its final stage or status label (mapped in [status])."
    )
    amount: PlainText | None = Field(None, description="Its value (amounts as text are read).")
    owner: PlainText | None = Field(None, description="The seller who owns it.")
    account: PlainText | None = Field(None, description="The account (organisation) it is in.")
    product: PlainText | None = Field(None, description="The product sold.")
    meetings: PlainText | None = Field(None, description="Meetings held with the buyer.")


class Dates(_Frozen):
    """How dates are written: ``strptime`` formats tried in order before ISO 8601."""

    formats: list[PlainText] = Field(
        default_factory=list,
        max_length=20,
        description="Formats such as %m/%d/%Y (M/D/YYYY) or %d-%m-%Y %H:%M, tried in order; "
        "ISO dates (2026-03-01, 2026-03-01T14:30) are always read.",
    )

    @field_validator("formats")
    @classmethod
    def _has_a_date(cls, formats: list[str]) -> list[str]:
        for fmt in formats:
            if not re.search(r"%[dmyYbB]", fmt):
                raise ValueError(f"{fmt!r} has no day, month or year directive (such as %d)")
        return formats


class StageHistoryColumns(_Frozen):
    """The stage history's columns: one row each time an opportunity entered a stage."""

    opportunity: PlainText = Field(min_length=1, description="The opportunity's id (the export's).")
    stage: PlainText = Field(min_length=1, description="The stage label (mapped in [stages]).")
    entered_at: PlainText = Field(min_length=1, description="When it entered the stage.")
    file: PlainText | None = Field(
        None,
        min_length=1,
        description="The history's CSV, relative to the mapping file (--stage-history wins).",
    )


class ActivityColumns(_Frozen):
    """The activity log's columns: one row per activity (a meeting, a call, an email)."""

    opportunity: PlainText = Field(min_length=1, description="The opportunity's id (the export's).")
    type: PlainText = Field(min_length=1, description="The kind of activity, as the team names it.")
    date: PlainText = Field(min_length=1, description="When it happened.")
    id: PlainText | None = Field(
        None, min_length=1, description="The activity's own id: an activity listed twice is found."
    )
    file: PlainText | None = Field(
        None,
        min_length=1,
        description="The activity log's CSV, relative to the mapping file (--activities wins).",
    )


class CrmMapping(_Frozen):
    """A mapping file, validated."""

    columns: Columns
    dates: Dates = Field(default_factory=Dates)
    status: dict[str, StatusMeaning] = Field(
        min_length=1,
        description="Each label of the status column and what it means: won, lost, "
        "no_decision, disqualified, open or before_opportunity (prospecting, not counted).",
    )
    currency: PlainText = Field("EUR", description="The currency of the amounts.")
    stage_history: StageHistoryColumns | None = Field(
        None, description="The stage history's columns (with --stage-history)."
    )
    stages: dict[str, PlainText] = Field(
        default_factory=dict,
        max_length=200,
        description="Each stage label of the history and the model stage it is, in process "
        "order; or before_opportunity (prospecting) or ignore.",
    )
    activities: ActivityColumns | None = Field(
        None, description="The activity log's columns (with --activities)."
    )
    activity_types: dict[str, ActivityKind] = Field(
        default_factory=dict,
        max_length=200,
        description="Optional: each activity type and what it is: meeting, touch, other or "
        "ignore. Without it, every type is kept as the team names it.",
    )

    @field_validator("status", "stages", "activity_types")
    @classmethod
    def _labels_distinct(cls, labels: dict[str, str]) -> dict[str, str]:
        seen: dict[str, str] = {}
        for label in labels:
            key = label_key(label)
            if key in seen:
                raise ValueError(f"{label!r} and {seen[key]!r} are the same label")
            seen[key] = label
        return labels

    @field_validator("stages")
    @classmethod
    def _names_a_stage(cls, stages: dict[str, str]) -> dict[str, str]:
        if stages and all(label_key(v) in STAGE_SKIPS for v in stages.values()):
            raise ValueError("no label names a stage (every one is before_opportunity or ignore)")
        for label, name in stages.items():
            if not label_key(name):
                raise ValueError(f"{label!r} names an empty stage")
        return stages

    @model_validator(mode="after")
    def _history_has_stages(self) -> CrmMapping:
        if self.stage_history is not None and not self.stages:
            raise ValueError(
                "[stage_history] needs [stages]: what each stage label means, in process order"
            )
        return self

    def meaning(self, label: str) -> str | None:
        """What a status label means, or None if the mapping does not say."""
        return self._by_key.get(label_key(label))

    @cached_property
    def _by_key(self) -> dict[str, str]:
        return {label_key(k): v for k, v in self.status.items()}

    @cached_property
    def stage_order(self) -> tuple[str, ...]:
        """The model stages the history can name, in process order (as ``[stages]`` first names
        each, spelled as there first)."""
        order: dict[str, str] = {}
        for name in self.stages.values():
            key = label_key(name)
            if key not in STAGE_SKIPS:
                order.setdefault(key, name)
        return tuple(order.values())

    @cached_property
    def _stage_by_key(self) -> dict[str, int | str]:
        """Each stage label, as matched, -> its index in ``stage_order`` or a skip."""
        index = {label_key(name): i for i, name in enumerate(self.stage_order)}
        out: dict[str, int | str] = {}
        for label, name in self.stages.items():
            key = label_key(name)
            out[label_key(label)] = key if key in STAGE_SKIPS else index[key]
        return out

    def stage_of(self, label: str) -> int | str | None:
        """The stage a history label means: its index in ``stage_order``, ``before_opportunity``
        or ``ignore``; None if the mapping does not say."""
        return self._stage_by_key.get(label_key(label))

    @cached_property
    def _kind_by_key(self) -> dict[str, str]:
        return {label_key(k): v for k, v in self.activity_types.items()}

    def activity_kind(self, label: str) -> str | None:
        """What an activity type is (``ACTIVITY_KINDS``); None if ``[activity_types]`` does not
        say (every type is ``other`` when there is no ``[activity_types]``)."""
        if not self.activity_types:
            return "other"
        return self._kind_by_key.get(label_key(label))


_DASHES = re.compile(r"[\u2010-\u2015\u2212]")
_SPACES = re.compile(r"\s+")


def label_key(label: str) -> str:
    """A label as it is matched: lower case, one space, one kind of dash."""
    return _SPACES.sub(" ", _DASHES.sub("-", label)).strip().lower()


def load_mapping(path: str | os.PathLike[str]) -> CrmMapping:
    """Read and validate a mapping file; ``ScenarioError`` lists every problem with its key."""
    display = os.fspath(path)
    data = read_toml(Path(path), display, kind="mapping file")
    try:
        return CrmMapping.model_validate(data)
    except ValidationError as err:
        raise ScenarioError(validation_problems(err, data, {}, display, CrmMapping)) from None
