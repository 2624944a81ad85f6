"""A team's own CRM history: read an export of opportunities, check it, and summarise it.

``mapping`` says which column of the export is which and what the team's status labels mean;
``reader`` turns the rows into a typed, columnar ``CrmExport`` (bad rows reported with their line
numbers, never dropped silently); ``summary`` says what was read. ``history`` reads the optional
stage history and activity log of the export's opportunities (bad rows reported the same way);
``flow`` summarises them (stage conversion, Kaplan-Meier time in stage, activities per outcome),
from a CRM's history or from the simulator's deal table alike; ``importing.import_crm`` reads
all of it in one call, as ``simsales import`` does. The fit of a scenario to the export builds
on these.
"""

from simsales.crm.flow import (
    ActivitySummary,
    StageFlow,
    activity_summary,
    export_stage_flow,
    stage_flow,
    stage_pairs,
    table_stage_flow,
)
from simsales.crm.history import ActivityLog, StageHistory, read_activity_log, read_stage_history
from simsales.crm.importing import CrmImport, import_crm
from simsales.crm.mapping import CrmMapping, load_mapping
from simsales.crm.reader import CRM_OUTCOMES, CrmExport, RowProblem, read_export
from simsales.crm.summary import ExportSummary, export_summary, summary_lines

__all__ = [
    "CRM_OUTCOMES",
    "ActivityLog",
    "ActivitySummary",
    "CrmExport",
    "CrmImport",
    "CrmMapping",
    "ExportSummary",
    "RowProblem",
    "StageFlow",
    "StageHistory",
    "activity_summary",
    "export_stage_flow",
    "export_summary",
    "import_crm",
    "load_mapping",
    "read_activity_log",
    "read_export",
    "read_stage_history",
    "stage_flow",
    "stage_pairs",
    "summary_lines",
    "table_stage_flow",
]
