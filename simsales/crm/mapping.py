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
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from simsales.scenario.errors import ScenarioError, validation_problems
from simsales.scenario.loading import read_toml
from simsales.scenario.text import PlainText

__all__ = ["STATUS_MEANINGS", "CrmMapping", "label_key", "load_mapping"]

#: What a status label can mean: an end of an opportunity, still open, or not (yet) one at all.
StatusMeaning = Literal["won", "lost", "no_decision", "disqualified", "open", "before_opportunity"]
STATUS_MEANINGS: tuple[str, ...] = StatusMeaning.__args__  # type: ignore[attr-defined]


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

    @field_validator("status")
    @classmethod
    def _labels_distinct(cls, status: dict[str, str]) -> dict[str, str]:
        seen: dict[str, str] = {}
        for label in status:
            key = label_key(label)
            if key in seen:
                raise ValueError(f"{label!r} and {seen[key]!r} are the same label")
            seen[key] = label
        return status

    def meaning(self, label: str) -> str | None:
        """What a status label means, or None if the mapping does not say."""
        return self._by_key.get(label_key(label))

    @property
    def _by_key(self) -> dict[str, str]:
        return {label_key(k): v for k, v in self.status.items()}


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
        raise ScenarioError(validation_problems(err, data, {}, display)) from None
