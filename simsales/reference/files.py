"""The references of the other files a user writes: a class file and a CRM mapping.

Both are TOML files read by pydantic models, like a scenario, so their tables and keys come from
the same walk (``_keys.scenario_tables`` from another root) and are rendered the same way: a
page cannot drift from what the code reads.
"""

from __future__ import annotations

from simsales.classroom.spec import ClassSpec
from simsales.crm.mapping import CrmMapping
from simsales.reference._keys import scenario_tables
from simsales.reference._markdown import GENERATED
from simsales.reference._tables import tables_markdown

__all__ = ["class_reference_markdown", "crm_mapping_reference_markdown"]


def class_reference_markdown() -> str:
    """The keys of a class file, ``class.toml`` (``docs/reference/class.md``)."""
    lines = [
        "# Class file reference",
        "",
        GENERATED,
        "",
        "`simsales class init DIR` writes `DIR/class.toml`, commented, with levers worked out "
        "from the market; edit it before the class. This page lists every table and key the "
        "file may hold. `simsales class round` and `simsales class serve` check it and name the "
        "key of every problem. How to run a class: the "
        "[instructor's guide](../teaching/README.md).",
        "",
        "- A team's decision file (`decisions/<team id>.toml`, from `simsales class template`) "
        "holds `team`, `round` and a `[levers]` table of lever names and values; each value "
        "must be one of the lever's `values`, and the changes must fit the `budget`.",
        "- The tokens are passwords for the class's web page: keep `class.toml` to the instructor.",
        *tables_markdown(scenario_tables(ClassSpec)),
    ]
    return "\n".join(lines) + "\n"


def crm_mapping_reference_markdown() -> str:
    """The keys of a CRM mapping file (``docs/reference/crm-mapping.md``)."""
    lines = [
        "# CRM mapping file reference",
        "",
        GENERATED,
        "",
        "`simsales import EXPORT.csv --mapping mapping.toml` reads a CRM export of "
        "opportunities (one row each) with a mapping: which column of the export is which, how "
        "its dates are written, and what each of the team's status labels means. This page "
        "lists every table and key of the mapping.",
        "",
        "- **A stage history and an activity log** are optional: `--stage-history FILE` (one "
        "row each time an opportunity entered a stage) needs `[stage_history]`, naming its "
        "columns, and `[stages]`, saying which stage of the model each of the team's stage "
        "labels is, in the order of the process (or `before_opportunity`: prospecting, counted "
        'and not kept; or `ignore`, such as a "Closed Won" row). `--activities FILE` (one row '
        "per meeting, call or email) needs `[activities]`, and optionally `[activity_types]` "
        "(`meeting`: the model's calls; `touch`: its touches). A section's `file` names the file "
        "instead, relative to the mapping. Days are read with `[dates]`.",
        "- **Labels** are matched without regard to case, spaces and the kind of dash: "
        '"Closed Lost – No Decision" and "closed lost - no decision" are one label.',
        "- **Rows that cannot be read** (no id, an id seen before, a date that is not a date, a "
        "close before the creation, a status label the mapping does not know) are left out and "
        "reported with their line numbers; doubtful values (an amount that is not a number, no "
        "owner) are kept with a warning. Nothing is dropped silently. In a stage history or an "
        "activity log, a row is left out for an id the export does not hold, an unknown label, "
        "a bad date or a duplicate, and kept with a warning when it lies before the "
        "opportunity's creation or after its close, or enters a stage again or out of order.",
        *tables_markdown(scenario_tables(CrmMapping)),
    ]
    return "\n".join(lines) + "\n"
