"""The scenario reference (``docs/reference/scenario.md``): every table and key of a scenario file.

The tables and keys come from the pydantic models (see ``_keys``); one example per distribution
kind is kept below, and a check raises as soon as a kind has none.
"""

from __future__ import annotations

from typing import Any

from pydantic import TypeAdapter

from simsales.reference._keys import (
    DIST_CLASSES,
    QUANTITIES,
    ScenarioTable,
    default_text,
    quantity_text,
    rule_text,
    scenario_tables,
    sub_table,
    type_text,
    validator_checks,
)
from simsales.reference._markdown import (
    GENERATED,
    first_paragraph,
    md_table,
    paragraphs,
    toml_value,
)
from simsales.reference._tables import tables_markdown
from simsales.scenario.distributions import Distribution
from simsales.scenario.schema import Scenario

__all__ = ["ScenarioTable", "scenario_reference_markdown", "scenario_tables"]

#: One example per distribution kind; each is validated and its mean computed when rendering.
_DIST_EXAMPLES: dict[str, dict[str, Any]] = {
    "constant": {"value": 3},
    "exponential": {"mean": 3},
    "uniform": {"low": 2, "high": 8},
    "triangular": {"low": 2, "mode": 4, "high": 9},
    "normal": {"mean": 10, "sd": 3, "low": 0},
    "lognormal": {"median": 5, "p90": 12},
    "gamma": {"mean": 5, "shape": 2},
    "beta": {"mean": 0.6, "concentration": 6},
    "empirical": {"values": [3, 4, 5, 6, 7], "weights": [1, 2, 3, 2, 1]},
}


def _layout(tables: list[ScenarioTable]) -> list[str]:
    """The skeleton of a file: every table header with what it describes."""
    top = [n for n, info in Scenario.model_fields.items() if sub_table(info.annotation) is None]
    width = max(len(t.header) for t in tables if t.path)
    lines = ["```toml", f"# top-level keys first: {', '.join(top)}"]
    for t in tables[1:]:
        lines.append(f"{t.header:<{width}}   # {first_paragraph(t.model.__doc__)}")
    return [*lines, "```"]


def _users_of(tables: list[ScenarioTable]) -> dict[str, list[str]]:
    """Quantity text -> key paths of the distribution fields with that range."""
    out: dict[str, list[str]] = {text: [] for text in QUANTITIES.values()}
    for t in tables:
        for name, info in t.model.model_fields.items():
            text = quantity_text(info)
            if text:
                out[text].append(f"`{t.path}.{name}`" if t.path else f"`{name}`")
    return out


def _distribution_section(tables: list[ScenarioTable]) -> list[str]:
    lines = [
        "## Distributions",
        "",
        "A random quantity is an inline table keyed by `dist`, for example "
        '`meeting_lag_days = { dist = "lognormal", median = 3, p90 = 8 }`. A bare number means '
        'a constant: `skill = 0.8` is `skill = { dist = "constant", value = 0.8 }`.',
        "",
        "Each key that takes a distribution also limits its values, and a distribution that could "
        "give a value outside the range is rejected when the file is loaded. The exception is a "
        "`normal` without `low`: it is cut off at the range's lower end instead (a duration "
        'written `{ dist = "normal", mean = 5, sd = 3 }` is never negative).',
        "",
    ]
    rows = [(text, ", ".join(keys)) for text, keys in _users_of(tables).items() if keys]
    lines += md_table(("values", "keys"), rows)
    adapter: TypeAdapter[Any] = TypeAdapter(Distribution)
    names = [cls.model_fields["dist"].default for cls in DIST_CLASSES]
    if set(names) != set(_DIST_EXAMPLES):
        raise LookupError(f"give each distribution an example in _DIST_EXAMPLES: {names}")
    for cls, name in zip(DIST_CLASSES, names, strict=True):
        example = adapter.validate_python({"dist": name, **_DIST_EXAMPLES[name]})
        written = f"`{toml_value(example.model_dump(by_alias=True, exclude_none=True))}`"
        if name == "constant":
            written += f" or simply `{toml_value(example)}`"
        lines += ["", f"### `{name}`", ""]
        for paragraph in paragraphs(cls.__doc__):
            lines += [paragraph, ""]
        keys = [
            (f"`{info.alias or key}`", type_text(info.annotation, info, key),
             default_text(info), rule_text(info.annotation, info))
            for key, info in cls.model_fields.items()
            if key != "dist"
        ]  # fmt: skip
        lines += [*md_table(("key", "type", "default", "rule"), keys), ""]
        for text, _ in validator_checks(cls):
            lines += [f"Also checked: {text}", ""]
        lines += [f"Example: {written} (mean {example.mean:.4g})."]
    return lines


def _variants_section() -> list[str]:
    return [
        "## Variants: `extends`, `[stages_by_name.<name>]` and `--set`",
        "",
        "A scenario is loaded in four steps: the files of the `extends` chain are read, base "
        "first; they are merged into one document; the `--set` overrides are applied; and the "
        "result is validated once against the tables above. An error about an inherited key "
        "names the file that wrote it.",
        "",
        '**`extends = "FILE"`** (top level) makes this file a variant of another: it inherits '
        "every key of `FILE` and overrides the ones it writes. `FILE` is relative to this file's "
        "folder and may extend another file in turn (a cycle is an error); it must be a `.toml` "
        "file (also where a link leads), and any other file is refused without being read; a "
        "problem with a key it inherits shows the value only if it is a number. "
        "Tables merge key by "
        "key, this file winning; arrays are replaced whole, `stages` and `market.segments` "
        "included, because merging arrays item by item would quietly pair up the wrong items. A "
        "file that extends another need not repeat its required keys.",
        "",
        "```toml",
        'extends = "baseline.toml"',
        'name = "call-compression"',
        "",
        "[policies]",
        "activities_per_call = 4",
        "```",
        "",
        "**`[stages_by_name.<name>]`** changes one stage, found by its `name`, without repeating "
        "the `stages` array: its keys are merged into that stage (tables key by key) after this "
        "file's own keys are merged over its base. It takes the keys of `[[stages]]`, and the "
        "stage must exist in this file or a base. Quote a name with spaces: "
        '`[stages_by_name."Needs analysis"]`.',
        "",
        "```toml",
        "[stages_by_name.discovery]",
        "p_right = 0.8",
        "wrong.end_chance = 0.1",
        "```",
        "",
        "**`--set KEY=VALUE`** (on `simsales run` and `simsales validate`, repeatable) changes one "
        "key after all files are merged. `KEY` is a path of keys joined by dots; an array item is "
        "picked by its 0-based index (`stages[2]`) or by its `name` (`stages.discovery`, "
        "`market.segments.core`), and a key with spaces is quoted "
        '(`stages."Needs analysis".p_right`). Missing tables on the way are created. `VALUE` is '
        'read as a TOML value (`4`, `0.8`, `true`, `"text"`, `[1, 2]`, an inline table), and '
        "as plain text if it is not one. `extends` and `stages_by_name` cannot be set.",
        "",
        "```sh",
        "simsales run scenarios/baseline.toml --set policies.activities_per_call=4 \\",
        "    --set stages.discovery.p_right=0.8 \\",
        "    --set 'buyers.meeting_lag_days={ dist = \"lognormal\", median = 2, p90 = 5 }'",
        "```",
    ]


def scenario_reference_markdown() -> str:
    """The reference of every scenario key, as Markdown (``docs/reference/scenario.md``)."""
    tables = scenario_tables()
    lines = [
        "# Scenario file reference",
        "",
        GENERATED,
        "",
        "A scenario is one TOML file: a market, a sales team and a sales process. This page lists "
        "every table and key the file may hold, with its type, its default, the rule its value "
        "must follow and what it means. Check a file with `simsales validate FILE`.",
        "",
        "- **Units.** Time is in days, seller effort in hours, money in the file's one "
        "`currency`, and shares and probabilities run from 0 to 1.",
        '- **Types are strict.** `0.8` is a number but `"0.8"` is text, and an integer key '
        "does not take `2.0` (a number key does take `2`). A misspelt or unknown key is an error, "
        "never ignored.",
        "- **Plain text.** Names, labels and descriptions may hold any character but a control "
        "character (U+0000 to U+001F, U+007F to U+009F), which would act on a terminal instead of "
        "showing; tab and newline are allowed. Error messages show such characters escaped.",
        "- **Defaults.** A key with a default may be left out; so may a whole table whose keys "
        "all have defaults. A required key must be given (or inherited through `extends`).",
        "- **Distributions.** A key of type *distribution* takes a random quantity, written "
        "`{ dist = ..., ... }` or as a bare number: see [Distributions](#distributions).",
        "",
        "## Layout",
        "",
        *_layout(tables),
    ]
    lines += tables_markdown(tables)
    lines += ["", *_distribution_section(tables), "", *_variants_section()]
    return "\n".join(lines) + "\n"
