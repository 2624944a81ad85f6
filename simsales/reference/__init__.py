"""Reference docs generated from the code: the keys of scenario files, the fields of outputs,
and the keys of the other files a user writes (a class, a CRM mapping).

The pages of ``docs/reference/`` are this package's output, written by ``simsales reference`` and
checked by a test, so they cannot drift from the code. ``scenario`` walks the pydantic models from
``Scenario`` down; ``files`` walks the class file's and the CRM mapping's models the same way;
``outputs`` reads the columns, outcomes, events and metrics the results code defines, with their
meanings.
"""

from __future__ import annotations

from collections.abc import Callable

from simsales.reference.files import class_reference_markdown, crm_mapping_reference_markdown
from simsales.reference.outputs import outputs_reference_markdown
from simsales.reference.scenario import ScenarioTable, scenario_reference_markdown, scenario_tables

__all__ = [
    "REFERENCES",
    "ScenarioTable",
    "class_reference_markdown",
    "crm_mapping_reference_markdown",
    "outputs_reference_markdown",
    "scenario_reference_markdown",
    "scenario_tables",
]

#: File name (in ``docs/reference/``) -> the function that renders it.
REFERENCES: dict[str, Callable[[], str]] = {
    "scenario": scenario_reference_markdown,
    "outputs": outputs_reference_markdown,
    "class": class_reference_markdown,
    "crm-mapping": crm_mapping_reference_markdown,
}
