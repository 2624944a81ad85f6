"""A team's own CRM history: read an export of opportunities, check it, and summarise it.

``mapping`` says which column of the export is which and what the team's status labels mean;
``reader`` turns the rows into a typed, columnar ``CrmExport`` (bad rows reported with their line
numbers, never dropped silently); ``summary`` says what was read. The fit of a scenario to the
export builds on these.
"""

from simsales.crm.mapping import CrmMapping, load_mapping
from simsales.crm.reader import CRM_OUTCOMES, CrmExport, RowProblem, read_export
from simsales.crm.summary import ExportSummary, export_summary, summary_lines

__all__ = [
    "CRM_OUTCOMES",
    "CrmExport",
    "CrmMapping",
    "ExportSummary",
    "RowProblem",
    "export_summary",
    "load_mapping",
    "read_export",
    "summary_lines",
]
