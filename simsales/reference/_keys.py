"""The keys of a scenario file, read from the pydantic models: tables, types, defaults and rules.

What the code does not carry (what each cross-key check demands) is kept here, beside a check that
raises as soon as a model gains a validator it does not cover.
"""

from __future__ import annotations

import types
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Annotated, Any, Literal, Union, get_args, get_origin

import annotated_types as at
from pydantic import BaseModel
from pydantic.fields import FieldInfo

from simsales.reference._markdown import first_paragraph, md, number, toml_value
from simsales.scenario import quantities
from simsales.scenario.distributions import Distribution
from simsales.scenario.schema import Scenario

#: The distribution classes a ``dist`` key chooses from, in the order of the union.
DIST_CLASSES: tuple[type[BaseModel], ...] = get_args(get_args(Distribution)[0])

#: The ranged distribution fields of ``quantities``: what their values are.
QUANTITIES: dict[Any, str] = {
    quantities.Duration: "duration, days ≥ 0, mean ≤ 36,525",
    quantities.Money: "money ≥ 0, mean ≤ 1e15",
    quantities.Share: "share, 0 to 1",
    quantities.Factor: "factor > 0, mean ≤ 1,000",
    quantities.Count: "head count 1 to 1,000, rounded",
}

#: What each model or field validator checks, by ``Class.validator``: constraints across keys that
#: field metadata cannot express. ``validator_checks`` raises if a validator is missing here.
CROSS_CHECKS: dict[str, str] = {
    # a class file (simsales.classroom.spec)
    "ClassSpec._distinct": "Lever names, team ids, team names and tokens must each differ.",
    "Lever._one_way": "A lever has either `key` or `effects`, not both; its `values` differ and "
    "are numbers.",
    "ScoreTerm._weighs": "A `weight` is not 0 (drop the term instead).",
    # a CRM mapping (simsales.crm.mapping)
    "Dates._has_a_date": "Each format has a day, month or year directive (such as `%d`).",
    "CrmMapping._labels_distinct": "No two labels of `[status]`, of `[stages]` or of "
    "`[activity_types]` are the same label once case, spaces and the kind of dash are set aside.",
    "CrmMapping._names_a_stage": "At least one label of `[stages]` names a stage (not all "
    "`before_opportunity` or `ignore`), and none names an empty one.",
    "CrmMapping._history_has_stages": "A `[stage_history]` needs `[stages]`: what each stage "
    "label means, in the order of the process.",
    # a scenario
    "RunSettings._warmup_inside": "`warmup_days` must be shorter than `horizon_days`.",
    "ArrivalSchedule._months": "Each monthly multiplier is from 0 to 100.",
    "ArrivalSchedule._factors": "The rate may not be zero all year.",
    "Policies._touches_not_a_stream": "`touch_every_days` is 0 (no touches) or at least 1.",
    "Market._unique_names": "Segment names must be unique.",
    "Team._a_call_fits_a_day": "A call with its preparation (`call_hours` + `prep_hours`) must "
    "fit in the selling time of a day (`working_hours_per_day` × (1 − `non_selling_share`)), "
    "which must be at least 0.25 h; `selling_hours_per_day` was replaced by those two keys.",
    "Team._selling_hours_moved": "`selling_hours_per_day` is refused with a note: it is now "
    "`working_hours_per_day` and `non_selling_share`.",
    "Scenario._stages_consistent": "Stage names must be unique; the stages' `consensus_share` "
    "values must add up to 1 (without `[buyers.group]`; with it they must be absent); at most "
    "one stage may have a `qualification`, and at most one may have `sets_forecast = true`.",
    "Scenario._account_stages_exist": "Each `accounts.expansion.kinds` entry's `start_stage` "
    "must name a stage of the scenario.",
    "Scenario._crm_stage_exists": "`crm.opens_at`, if given, must name a stage of the scenario.",
    "Expansion._kinds_given": "`per_year` > 0 needs at least one `[[accounts.expansion.kinds]]` "
    "table.",
    "Change._unique": "Change kind names must be unique; `per_year` > 0 needs at least one kind.",
    "Accounts._restart_needs_kinds": "A change kind with `restart_at = 7` (and change events "
    "on) needs expansion kinds to draw the new opportunity from.",
    "Uniform._ordered": "`low` must be below `high`.",
    "Triangular._ordered": "`low` ≤ `mode` ≤ `high`, and `low` < `high`.",
    "Normal._window": "`low` must be below `high`, and the window from `low` to `high` must keep "
    "at least 1% of the bell curve.",
    "LogNormal._ordered": "`p90` must be above `median`.",
    "Gamma._drawable": "`mean` ÷ `shape` (the scale) must be a positive finite number.",
    "Beta._drawable": "`mean` × `concentration` and (1 − `mean`) × `concentration` must be "
    "positive finite numbers.",
    "Empirical._weights": "`weights`, if given, has one entry per value, none negative and not "
    "all zero.",
}


@dataclass(frozen=True)
class ScenarioTable:
    """One table of a scenario file: its key path, its model, and the field that holds it."""

    path: str
    model: type[BaseModel]
    array: bool = False
    field: FieldInfo | None = None
    parent: type[BaseModel] | None = None
    in_array: str = ""

    @property
    def header(self) -> str:
        """The table's TOML header, ``[market]`` or ``[[stages]]``; "top level" for ``""``."""
        if not self.path:
            return "top level"
        return f"[[{self.path}]]" if self.array else f"[{self.path}]"


def without_none(annotation: Any) -> Any:
    """``X | None`` as ``X``."""
    if get_origin(annotation) in (Union, types.UnionType):
        args = [a for a in get_args(annotation) if a is not type(None)]
        if len(args) == 1:
            return args[0]
    return annotation


def sub_table(annotation: Any) -> tuple[type[BaseModel], bool] | None:
    """The model a field holds as a table (and whether as an array of tables), else None."""
    annotation = without_none(annotation)
    array = get_origin(annotation) is list
    inner = get_args(annotation)[0] if array else annotation
    if isinstance(inner, type) and issubclass(inner, BaseModel) and inner not in DIST_CLASSES:
        return inner, array
    return None


def scenario_tables(root: type[BaseModel] = Scenario) -> list[ScenarioTable]:
    """Every table of a scenario file (or of another TOML file read by the pydantic model
    ``root``: a class file, a CRM mapping), depth first in field order, the top level first."""
    out: list[ScenarioTable] = []

    def walk(table: ScenarioTable) -> None:
        out.append(table)
        for name, info in table.model.model_fields.items():
            found = sub_table(info.annotation)
            if found is not None:
                model, array = found
                path = f"{table.path}.{name}" if table.path else name
                outer = f"[[{table.path}]]" if table.array else table.in_array
                walk(ScenarioTable(path, model, array, info, table.model, outer))

    walk(ScenarioTable("", root))
    return out


def quantity_text(info: FieldInfo) -> str | None:
    """ "duration, days ≥ 0" for a ``Duration`` field; "" for another distribution; else None."""
    checks = {m.func for m in info.metadata if hasattr(m, "func")}
    for alias, text in QUANTITIES.items():
        if {m.func for m in get_args(alias)[1:] if hasattr(m, "func")} <= checks:
            return text
    args = set(get_args(without_none(info.annotation)))
    return "" if args and args <= set(DIST_CLASSES) else None


def type_text(annotation: Any, info: FieldInfo, path: str) -> str:
    quantity = quantity_text(info)
    if quantity is not None:
        return f"distribution ({quantity})" if quantity else "distribution"
    found = sub_table(annotation)
    if found is not None:
        return f"array of tables `[[{path}]]`" if found[1] else f"table `[{path}]`"
    text = _value_type(without_none(annotation))
    if text is None:
        raise TypeError(
            f"the reference does not know how to show the type {annotation!r} of {path}"
        )
    return text


_NAMES: dict[Any, str] = {float: "number", int: "integer", str: "text", bool: "true or false"}
_PLURALS: dict[str, str] = {"number": "numbers", "integer": "integers", "text": "texts"}


def _value_type(annotation: Any) -> str | None:
    """A value's type as a person would say it: "number", "array of texts", "text or number",
    "table of text → text"; None for a type the reference cannot show."""
    origin = get_origin(annotation)
    if origin is Annotated:  # PlainText and the like: the checks are rules, not types
        return _value_type(get_args(annotation)[0])
    if origin is Literal:
        return "text"
    if origin is list:
        inner = _value_type(get_args(annotation)[0])
        if inner is None:
            return None
        return "array of " + " or ".join(_PLURALS.get(p, p) for p in inner.split(" or "))
    if origin is dict:
        key, value = (_value_type(a) for a in get_args(annotation))
        return None if key is None or value is None else f"table of {key} → {value}"
    if origin in (Union, types.UnionType):
        parts = [_value_type(a) for a in get_args(annotation) if a is not type(None)]
        return None if None in parts else " or ".join(dict.fromkeys(p for p in parts if p))
    return _NAMES.get(annotation)


def rule_text(annotation: Any, info: FieldInfo) -> str:
    """The constraints of the field's metadata, as a person would say them."""
    annotation = without_none(annotation)
    if get_origin(annotation) is Literal:
        return " or ".join(f"`{toml_value(v)}`" for v in get_args(annotation))
    found: dict[str, float] = {}
    for item in info.metadata:
        for key in ("gt", "ge", "lt", "le", "min_length", "max_length"):
            if isinstance(item, at.BaseMetadata) and hasattr(item, key):
                found[key] = getattr(item, key)
    parts: list[str] = []
    if "ge" in found and "le" in found:
        parts.append(f"{number(found['ge'])} to {number(found['le'])}")
    else:
        for key, sign in (("gt", ">"), ("ge", "≥"), ("lt", "<"), ("le", "≤")):
            if key in found:
                parts.append(f"{sign} {number(found[key])}")
    lo, hi = found.get("min_length"), found.get("max_length")
    text = _value_type(annotation) == "text"
    unit = "characters" if text else "items"
    if text and lo == 1 and hi is None:
        parts.append("not empty")
    elif lo is not None and lo == hi:
        parts.append(f"exactly {lo} {unit}")
    elif lo is not None and hi is not None:
        parts.append(f"{lo} to {hi} {unit}")
    elif lo is not None:
        parts.append(f"at least {lo} {unit[:-1]}{'s' if lo != 1 else ''}")
    elif hi is not None:
        parts.append(f"at most {hi} {unit}")
    if quantity_text(info) is not None:
        parts.append("see [Distributions](#distributions)")
    return ", ".join(parts)


def default_text(info: FieldInfo) -> str:
    if info.is_required():
        return "**required**"
    value = info.get_default(call_default_factory=True)
    if value is None:
        return "absent"
    if isinstance(value, BaseModel) and not isinstance(value, DIST_CLASSES):
        return "its defaults"
    if value == []:
        return "none"
    return f"`{toml_value(value)}`"


def meaning_text(info: FieldInfo) -> str:
    if info.description:
        return md(info.description)
    found = sub_table(info.annotation)
    return md(first_paragraph(found[0].__doc__)) if found is not None else ""


def validator_checks(model: type[BaseModel]) -> Iterator[tuple[str, tuple[str, ...]]]:
    """(text, fields) of each validator of ``model``; fields is () for a model validator."""
    decorators = model.__pydantic_decorators__
    found: list[tuple[str, tuple[str, ...]]] = [(n, ()) for n in decorators.model_validators]
    found += [(name, d.info.fields) for name, d in decorators.field_validators.items()]
    for name, on in found:
        key = f"{model.__name__}.{name}"
        if key not in CROSS_CHECKS:
            raise LookupError(f"say what {key} checks in simsales.reference._keys.CROSS_CHECKS")
        yield CROSS_CHECKS[key], on
