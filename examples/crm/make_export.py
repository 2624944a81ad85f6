"""Write the example CRM export of this folder from ``team.toml`` (a team whose parameters are
known): the opportunities (``export.csv``), their stage history (``stage-history.csv``), their
meetings (``activities.csv``) and the mapping that reads them (``mapping.toml``).

Run from the repository's root: ``python examples/crm/make_export.py``. The same seed writes the
same files.
"""

from __future__ import annotations

from pathlib import Path

from simsales.crm.synthetic import (
    ExportLayout,
    write_activity_log,
    write_crm_export,
    write_stage_history,
)
from simsales.model import simulate
from simsales.results.table import DealTable
from simsales.scenario import load_scenario

HERE = Path(__file__).resolve().parent


def main() -> None:
    scenario = load_scenario(HERE / "team.toml")
    run = simulate(scenario, seed=scenario.run.seed, replication=0, event_log=True)
    table = DealTable.from_records(run)
    layout = ExportLayout()  # Salesforce-like column names, M/D/YYYY dates
    rows = write_crm_export([table], HERE / "export.csv", layout)
    history = write_stage_history([table], HERE / "stage-history.csv", layout)
    meetings = write_activity_log([table], [run.events], HERE / "activities.csv", layout)
    (HERE / "mapping.toml").write_text(
        "# How to read the example export (written by make_export.py).\n" + layout.mapping_toml(),
        encoding="utf-8",
    )
    print(f"{rows} opportunities, {history} stage-history rows, {meetings} activities")


if __name__ == "__main__":
    main()
