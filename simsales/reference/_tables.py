"""One table of a TOML file in the reference: whether it must be written, its keys' rows and the
checks across its keys. Shared by the scenario reference and the references of the other files
(a class, a CRM mapping)."""

from __future__ import annotations

from simsales.reference._keys import (
    ScenarioTable,
    default_text,
    meaning_text,
    rule_text,
    sub_table,
    type_text,
    validator_checks,
)
from simsales.reference._markdown import first_paragraph, md, md_table

__all__ = ["field_rows", "presence", "table_checks", "tables_markdown"]


def table_checks(table: ScenarioTable) -> list[str]:
    """Checks across keys that apply to this table's keys."""
    own = [text for text, on in validator_checks(table.model) if not on]
    own += [
        text
        for text, on in validator_checks(table.model)
        if on and not any(sub_table(table.model.model_fields[f].annotation) for f in on)
    ]
    if table.parent is not None:
        name = table.path.rsplit(".", 1)[-1]
        own += [text for text, on in validator_checks(table.parent) if name in on]
    return own


def presence(table: ScenarioTable) -> str:
    """Whether the table must be written, and how."""
    info = table.field
    if info is None:
        return "Keys written before the first table header."
    name = table.path.rsplit(".", 1)[-1]
    where = f" It belongs to the `{table.in_array}` table above it." if table.in_array else ""
    if table.array:
        size = rule_text(info.annotation, info) or "any number of items"
        need = "Required" if info.is_required() else "Optional"
        return f"{need}: one `{table.header}` table per item, in order ({size}).{where}"
    if info.is_required():
        return f"Required.{where}"
    if info.get_default(call_default_factory=True) is None:
        if any(field.is_required() for field in table.model.model_fields.values()):
            return f"Optional: absent unless written, and then its required keys too.{where}"
        return (
            f"Optional: absent unless written; `{name} = {{}}` turns it on with the defaults "
            f"below.{where}"
        )
    return f"Optional: leave it out to take the defaults below.{where}"


def field_rows(table: ScenarioTable) -> list[tuple[str, ...]]:
    """(key, type, default, rule, meaning) of each key of the table."""
    rows: list[tuple[str, ...]] = []
    for name, info in table.model.model_fields.items():
        path = f"{table.path}.{name}" if table.path else name
        rows.append(
            (
                f"`{info.alias or name}`",
                type_text(info.annotation, info, path),
                default_text(info),
                rule_text(info.annotation, info),
                meaning_text(info),
            )
        )
    return rows


def tables_markdown(tables: list[ScenarioTable]) -> list[str]:
    """A section per table: what it is, whether it must be written, its keys, its checks."""
    lines: list[str] = []
    for table in tables:
        title = "Top-level keys" if not table.path else f"`{table.header}`"
        lines += ["", f"## {title}", "", md(first_paragraph(table.model.__doc__)), ""]
        lines += [presence(table), ""]
        lines += md_table(("key", "type", "default", "rule", "meaning"), field_rows(table))
        checks = table_checks(table)
        if checks:
            lines += ["", *(f"Also checked: {text}" for text in checks)]
    return lines
