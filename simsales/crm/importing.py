"""One call that reads what ``simsales import`` reads: the export, and its history if given.

``import_crm`` loads the mapping, reads the export and, where given (on the command line or by
a section's ``file``), the stage history and the activity log, and summarises each. What a
notebook or the fit calls; the command only prints what it returns.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from simsales.crm.flow import (
    ActivitySummary,
    StageFlow,
    activity_lines,
    activity_summary,
    export_stage_flow,
    stage_flow_lines,
)
from simsales.crm.history import (
    ActivityLog,
    StageHistory,
    read_activity_log,
    read_stage_history,
    section_file,
)
from simsales.crm.mapping import CrmMapping, load_mapping
from simsales.crm.reader import CrmExport, ExportError, read_export
from simsales.crm.summary import ExportSummary, export_summary, summary_lines

__all__ = ["CrmImport", "import_crm"]

#: What each optional file needs in the mapping: its section and the columns it names.
_SECTIONS: dict[str, tuple[str, str]] = {
    "stage history": (
        "stage_history",
        "opportunity, stage and entered_at, with [stages] saying what each stage label means",
    ),
    "activity log": ("activities", "opportunity, type and date"),
}


@dataclass(frozen=True, eq=False)
class CrmImport:
    """An export read with its mapping, with its stage history and activity log if given."""

    mapping: CrmMapping
    export: CrmExport
    summary: ExportSummary
    history: StageHistory | None = None
    flow: StageFlow | None = None
    activities: ActivityLog | None = None
    activity: ActivitySummary | None = None

    def problem_lines(self) -> list[str]:
        """Every row left out or doubted, as ``severity: [file: ]line N, column: message``."""
        lines = [f"{p.severity}: {p}" for p in self.export.problems]
        for log in (self.history, self.activities):
            if log is not None:
                lines += [f"{p.severity}: {log.path}: {p}" for p in log.problems]
        return lines

    def lines(self) -> list[str]:
        """What was read, in plain lines for the terminal."""
        out = summary_lines(self.summary)
        if self.history is not None and self.flow is not None:
            out += ["", *stage_flow_lines(self.flow, self.history)]
        if self.activities is not None and self.activity is not None:
            out += ["", *activity_lines(self.activity, self.activities)]
        return out

    def to_dict(self) -> dict[str, Any]:
        """What was read, as data (JSON-ready)."""
        doc = self.summary.to_dict() | {"problems": [vars(p) for p in self.export.problems]}
        if self.history is not None and self.flow is not None:
            doc["stage_history"] = self.history.to_dict() | self.flow.to_dict()
        if self.activities is not None and self.activity is not None:
            doc["activities"] = self.activities.to_dict() | self.activity.to_dict()
        return doc


def import_crm(
    export: str | os.PathLike[str],
    mapping: str | os.PathLike[str],
    *,
    stage_history: str | os.PathLike[str] | None = None,
    activities: str | os.PathLike[str] | None = None,
) -> CrmImport:
    """Read ``export`` with the mapping file ``mapping``, and the stage history and activity
    log given here or named by the mapping's sections (relative to the mapping file).

    Raises ``ScenarioError`` for a bad mapping (every problem with its key) and ``ExportError``
    for a file that cannot be read at all, or one given without its section in the mapping.
    """
    loaded = load_mapping(mapping)
    history_path = _which(loaded, mapping, "stage history", stage_history)
    activities_path = _which(loaded, mapping, "activity log", activities)
    read = read_export(export, loaded)
    history = read_stage_history(history_path, loaded, read) if history_path else None
    acts = read_activity_log(activities_path, loaded, read) if activities_path else None
    return CrmImport(
        mapping=loaded,
        export=read,
        summary=export_summary(read),
        history=history,
        flow=export_stage_flow(read, history) if history is not None else None,
        activities=acts,
        activity=activity_summary(read, acts) if acts is not None else None,
    )


def _which(
    loaded: CrmMapping,
    mapping: str | os.PathLike[str],
    what: str,
    given: str | os.PathLike[str] | None,
) -> Path | None:
    """The file to read for ``what``: the one given, else the one its section names."""
    name, columns = _SECTIONS[what]
    section = getattr(loaded, name)
    if given is not None and section is None:
        raise ExportError(
            f"{os.fspath(mapping)}: the {what} {os.fspath(given)} needs a [{name}] section in "
            f"the mapping, naming its columns: {columns}"
        )
    if given is not None:
        return Path(given)
    return section_file(mapping, section.file) if section is not None else None
