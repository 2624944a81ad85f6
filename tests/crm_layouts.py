"""CRM export layouts the tests write and read back, beside the default (Salesforce-like) one."""

from __future__ import annotations

from datetime import date

from simsales.crm.synthetic import ExportLayout

#: Another CRM's layout (HubSpot-like): other column names, day first with a time, another epoch,
#: other status, stage and activity labels.
HUBSPOT = ExportLayout(
    id="Deal ID",
    created="Create Date",
    closed="Close Date",
    status="Deal Stage",
    amount="Amount (EUR)",
    owner="Deal owner",
    meetings=None,
    date_format="%d-%m-%Y %H:%M",
    epoch=date(2023, 7, 1),
    labels={
        "won": "closedwon",
        "lost": "closedlost",
        "no_decision": "Went dark",
        "disqualified": "Unqualified",
        "open": "presentationscheduled",
    },
    history_opportunity="Deal ID",
    history_stage="Pipeline stage",
    history_entered="Date entered",
    stage_labels={
        "outreach": "lead",
        "commitment": "appointmentscheduled",
        "discovery": "qualifiedtobuy",
        "diagnosis": "presentationscheduled – proposal",  # an en dash in a label
        "close": "decisionmakerboughtin",
    },
    activity_opportunity="Associated Deal",
    activity_type="Engagement type",
    activity_date="Timestamp",
    activity_labels={"meeting": "MEETING", "touch": "EMAIL"},
)
