"""The fitted scenario as a file: it ``extends`` the base and sets only what the fit set.

Every key written carries a comment: the estimate and what it came from. Arrays are replaced
whole when a file extends another (``simsales.scenario.loading``), so the segments are written
in full, with only their deal values changed, and stages are changed by name
(``[stages_by_name.<name>]``). The file is checked by loading it (``extends`` and all) before it
takes its final name; it is never half written.
"""

from __future__ import annotations

import json
import math
import os
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from simsales.crm.fit.fitting import Fitted
from simsales.scenario import Scenario, load_scenario

__all__ = ["scenario_text", "toml_value", "write_scenario"]


def toml_value(value: Any) -> str:
    """A TOML value (inline tables and arrays; ``None`` entries of a table left out)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"cannot write {value} in TOML")
        return repr(round(value, 6)) if abs(value) >= 1e-4 else f"{value:.6g}"
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    if isinstance(value, Mapping):
        cells = [f"{k} = {toml_value(v)}" for k, v in value.items() if v is not None]
        return "{ " + ", ".join(cells) + " }"
    raise TypeError(f"cannot write a {type(value).__name__} in TOML")


def _line(key: str, value: Any, comment: str) -> str:
    return f"{key} = {toml_value(value)}  # {comment}"


def scenario_text(
    fitted: Fitted,
    *,
    base_file: Path,
    out_file: Path,
    command: str,
    notes: Mapping[str, str] | None = None,
) -> str:
    """The text of the fitted scenario file (``base_file`` relative to ``out_file``'s folder)."""
    d, doc, export = fitted.direct, fitted.document, fitted.export
    extends = os.path.relpath(base_file.resolve(), out_file.resolve().parent)
    period = f"{d.opportunities} opportunities created over {d.months:.1f} months"
    lines = [
        f"# Fitted to {export.path} by simsales fit: {period}, {d.closed} closed.",
        f"# Command: {command}",
        "# Only what the fit set is written here; everything else comes from the base scenario.",
        f"# Distance of the fit (chi-square-like, {len(fitted.observed.items)} summaries): "
        f"{fitted.final_distance:.1f}; see the fit report for what the data could not pin down.",
        "",
        f"extends = {toml_value(extends.replace(os.sep, '/'))}",
        f"name = {toml_value(out_file.stem)}",
        f"description = {toml_value(f'Fitted to {Path(export.path).name}: {period}.')}",
        "",
        "[market]",
        _line(
            "suspects_per_day",
            doc["market"]["suspects_per_day"],
            f"scaled x{fitted.rate_ratio:.3g} so simulated opportunities match the export's "
            f"{d.per_day * 365 / 12:.1f} per month",
        ),
    ]
    if d.by_month is not None:
        lines += [
            "",
            "[market.schedule]",
            _line(
                "by_month",
                d.by_month,
                "opportunities created per day in each calendar month, "
                "over their mean (January first)",
            ),
            _line("quarter_end_push", 1.0, "in the months' pattern above"),
        ]
    lines += _segments(fitted)
    lines += ["", "[team]", _line("sellers", doc["team"]["sellers"], _team_comment(fitted))]
    lines += _behaviour(fitted, notes or {})
    return "\n".join(lines) + "\n"


def _team_comment(fitted: Fitted) -> str:
    d = fitted.direct
    if fitted.plan.document["team"]["sellers"] != d.sellers:  # pragma: no cover - set together
        return "as given"
    return f"owners active at once (median over the weeks), of {d.owners} owners in the export"


def _segments(fitted: Fitted) -> list[str]:
    median_scale, spread_scale = fitted.value_scale
    if median_scale == 1.0 and spread_scale == 1.0:
        return []
    d = fitted.direct
    lines = [
        "",
        "# The segments in full (a file that extends another replaces its arrays whole); only",
        f"# deal_value changed: medians x{median_scale:.3g}, p90/median spreads x"
        f"{spread_scale:.3g}, so simulated amounts match the export's median "
        f"{d.amount_p50:,.0f} and p90 {d.amount_p90:,.0f}.",
    ]
    for segment in fitted.document["market"]["segments"]:
        lines += ["[[market.segments]]"]
        for key, value in segment.items():
            if value is None:
                continue
            lines.append(f"{key} = {toml_value(value)}")
    return lines


def _behaviour(fitted: Fitted, ident: Mapping[str, str]) -> list[str]:
    """The behavioural parameters, each with its estimate, its base value and (``ident``)
    whether the data pinned it down."""
    doc = fitted.document
    tables: dict[str, list[str]] = {}

    def add(table: str, line: str) -> None:
        tables.setdefault(table, []).append(line)

    for p in fitted.plan.parameters:
        value, base = fitted.values[p.name], fitted.base_values[p.name]
        note = f"fitted by simulation: {value:.4g} (base {base:.4g}); {p.meaning}"
        if p.name in ident:
            note += f"; {ident[p.name]}"
        if p.name == "p_right":
            for stage in doc["stages"]:
                add(
                    f"stages_by_name.{_key(stage['name'])}",
                    _line("p_right", stage["p_right"], f"x{value:.3g}: {note}"),
                )
        elif p.name == "pace":
            add("buyers", _line("pace", doc["buyers"]["pace"], note))
        elif p.name == "group_size":
            add("buyers", _line("group_size", doc["buyers"]["group_size"], f"x{value:.3g}: {note}"))
        else:
            table, _, key = p.key.rpartition(".")
            node: Any = doc
            for step in p.key.split("."):
                node = node[step]
            add(table, _line(key, node, note))
    lines: list[str] = []
    for table, entries in tables.items():
        lines += ["", f"[{table}]", *entries]
    return lines


def _key(name: str) -> str:
    return name if name.replace("_", "").replace("-", "").isalnum() else json.dumps(name)


def write_scenario(
    text: str, out_file: Path, *, force: bool, expected: Scenario | None = None
) -> Scenario:
    """Write ``text`` to ``out_file`` atomically, after loading it (``extends`` resolved) from
    a temporary file beside it; refuse to overwrite without ``force``. Returns the scenario the
    file loads into. Raises ``FileExistsError`` or the ``ScenarioError`` of a file that does not
    load (a bug: the fit wrote what it cannot read)."""
    if out_file.exists() and not force:
        raise FileExistsError(f"{out_file} exists: give --force to replace it")
    folder = out_file.resolve().parent
    folder.mkdir(parents=True, exist_ok=True)
    handle, temp = tempfile.mkstemp(prefix=f".{out_file.stem}-", suffix=".toml", dir=folder)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as fh:
            fh.write(text)
        loaded = load_scenario(temp)
        os.replace(temp, out_file)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
    return loaded
