"""Load a scenario file: TOML, ``extends`` chains, ``--set`` overrides, then one validation.

The steps are kept apart so that each is simple and an error can say where it came from:

1. read each file of the ``extends`` chain with ``tomllib`` (base first);
2. merge them into one plain document: tables merge key by key, the later file winning; arrays
   (``stages`` too) are replaced whole, because merging lists by position silently pairs up the
   wrong items; a file changes single stages with ``[stages_by_name.<name>]`` tables instead;
3. apply the ``--set path=value`` overrides to that document;
4. validate the document once with the pydantic ``Scenario`` model, collecting every error.

While merging, every key path remembers which file (or which ``--set``) wrote it, so an error
about an inherited key points at the file to edit, not only at the file that was run.
"""

from __future__ import annotations

import copy
import os
import re
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from simsales.scenario.errors import (
    BY_NAME,
    EXTENDS,
    Chain,
    Problem,
    ScenarioError,
    Steps,
    format_value,
    render_path,
    validation_problems,
)
from simsales.scenario.schema import Scenario, Stage

__all__ = ["load_scenario", "parse_override_value", "scenario_json_schema"]


#: The largest scenario or experiment file read (also through ``extends``): a hundred times the
#: largest bundled one. A bigger file is a mistake (a data dump, the wrong file), and parsing and
#: validating it would take minutes.
MAX_FILE_BYTES = 1024 * 1024

_TOML_POSITION = re.compile(r"\s*\(at line (\d+), column (\d+)\)\s*$")
_PATH_STEP = re.compile(r'\.?(?:([A-Za-z0-9_-]+)|"([^"]*)")|\[(\d+)\]')


@dataclass
class _Document:
    """A plain TOML document being assembled, with the origin of each key path."""

    data: dict[str, Any] = field(default_factory=dict)
    origins: dict[Steps, Chain] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)


def load_scenario(path: str | os.PathLike[str], overrides: Sequence[str] = ()) -> Scenario:
    """Load, merge, override and validate a scenario file.

    ``overrides`` are ``key.path=value`` strings as given to ``--set``; the value is read as a
    TOML value (``4``, ``0.8``, ``true``, ``"text"``, ``[1, 2]``, ``{ dist = "constant",
    value = 3 }``) and as a plain string if it is not one. Raises ``ScenarioError`` listing every
    problem found.
    """
    display = os.fspath(path)
    doc = _resolve(Path(path), display, ())
    for text in overrides:
        doc.problems.extend(_apply_override(doc, text))
    try:
        scenario = Scenario.model_validate(doc.data)
    except ValidationError as err:
        doc.problems.extend(validation_problems(err, doc.data, doc.origins, display))
    if doc.problems:
        raise ScenarioError(doc.problems)
    return scenario


def parse_override_value(raw: str) -> Any:
    """Read a ``--set`` value as TOML if it is a TOML value, else as the string itself."""
    try:
        parsed = tomllib.loads(f"v = {raw}")
    except tomllib.TOMLDecodeError:
        return raw
    return parsed["v"] if set(parsed) == {"v"} else raw


# --- reading and merging files ------------------------------------------------------------------


def _resolve(path: Path, display: str, stack: tuple[Path, ...]) -> _Document:
    """Read one file and everything it extends into one document (base keys first)."""
    here = path.resolve()
    data = read_toml(path, display)
    extends = data.pop(EXTENDS, None)
    by_name = data.pop(BY_NAME, None)
    doc = _Document() if extends is None else _resolve_base(path, display, extends, (*stack, here))
    _merge_into(doc.data, data, (), doc.origins, (display,))
    if by_name is not None:
        doc.problems.extend(_apply_stages_by_name(doc, by_name, (display,)))
    return doc


def _resolve_base(path: Path, display: str, extends: Any, stack: tuple[Path, ...]) -> _Document:
    if not isinstance(extends, str) or not extends.strip():
        msg = "must name another scenario file, relative to this file's folder"
        raise ScenarioError([Problem(display, EXTENDS, extends, msg)])
    target = path.parent / extends
    target_display = os.path.normpath(os.path.join(os.path.dirname(display), extends))
    if (why := not_toml(target, target_display)) is not None:
        raise ScenarioError([Problem(display, EXTENDS, extends, why)])
    if target.resolve() in stack:
        cycle = " → ".join([*(p.name for p in stack), target.resolve().name])
        raise ScenarioError([Problem(display, EXTENDS, extends, f"extends cycle: {cycle}")])
    if not target.is_file():
        msg = f"the file it extends does not exist: {target_display}"
        raise ScenarioError([Problem(display, EXTENDS, extends, msg)])
    base = _resolve(target, target_display, stack)
    base.origins = {steps: (display, *chain) for steps, chain in base.origins.items()}
    return base


def not_toml(target: Path, shown: str) -> str | None:
    """Why a file that another file names (``extends``, an experiment's ``base``) is not read,
    or ``None`` if it may be.

    A file can name any path, and the problems reported on the file it names echo that file's
    keys and values; so only ``.toml`` files are read this way, also when reached through a
    link, and a refused one is not opened at all: ``extends = "/etc/shadow"`` shows nothing.
    """
    if target.suffix.lower() != ".toml":
        return f"only .toml files can be named here, and {shown} is not one (it was not read)"
    real = target.resolve()
    if real.suffix.lower() != ".toml":
        return f"{shown} links to {real}, which is not a .toml file (it was not read)"
    return None


def read_toml(path: Path, display: str, *, kind: str = "scenario file") -> dict[str, Any]:
    """Read a TOML file, or raise a ``ScenarioError`` saying why not (with line and column).

    At most ``MAX_FILE_BYTES`` are read: a larger file is refused before it is parsed.
    """
    try:
        with open(path, "rb") as fh:
            raw = fh.read(MAX_FILE_BYTES + 1)
        if len(raw) > MAX_FILE_BYTES:
            msg = (
                f"too large for a {kind}: {_size_text(path)}, and at most "
                f"{MAX_FILE_BYTES // 1024 // 1024} MB is read (is it the right file?)"
            )
            raise ScenarioError([Problem(display, "", None, msg)])
        return tomllib.loads(raw.decode("utf-8"))
    except FileNotFoundError:
        msg = "no such file"
    except IsADirectoryError:
        msg = f"is a folder, not a {kind}"
    except UnicodeDecodeError as err:
        msg = f"not UTF-8 text (byte {err.start})"
    except OSError as err:
        msg = f"cannot read it: {err.strerror or err}"
    except tomllib.TOMLDecodeError as err:
        text = str(err)
        line = column = None
        if found := _TOML_POSITION.search(text):
            line, column = int(found[1]), int(found[2])
            text = text[: found.start()]
        problem = Problem(display, "", None, f"invalid TOML: {text}", line=line, column=column)
        raise ScenarioError([problem]) from None
    raise ScenarioError([Problem(display, "", None, msg)])


def _size_text(path: Path) -> str:
    """``74.0 MB``: the size of a file too large to read (``more than 1 MB`` for a device)."""
    try:
        size = path.stat().st_size
    except OSError:
        size = 0
    if size > MAX_FILE_BYTES:
        return f"{size / 1024 / 1024:.1f} MB"
    return f"more than {MAX_FILE_BYTES // 1024 // 1024} MB"


def _merge_into(
    target: dict[str, Any],
    source: dict[str, Any],
    at: Steps,
    origins: dict[Steps, Chain],
    chain: Chain,
) -> None:
    """Deep-merge ``source`` into ``target``: tables key by key, everything else replaced."""
    for key, value in source.items():
        steps = (*at, key)
        old = target.get(key)
        if isinstance(value, dict) and isinstance(old, dict):
            _merge_into(old, value, steps, origins, chain)
            origins[steps] = chain
        else:
            _forget(origins, steps)
            target[key] = copy.deepcopy(value)
            _claim(origins, steps, value, chain)


def _forget(origins: dict[Steps, Chain], at: Steps) -> None:
    """Drop the origins of a replaced value and of everything that was inside it."""
    n = len(at)
    for steps in [s for s in origins if s[:n] == at]:
        del origins[steps]


def _claim(origins: dict[Steps, Chain], at: Steps, value: Any, chain: Chain) -> None:
    origins[at] = chain
    if isinstance(value, dict):
        for key, item in value.items():
            _claim(origins, (*at, key), item, chain)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _claim(origins, (*at, index), item, chain)


def _apply_stages_by_name(doc: _Document, by_name: Any, chain: Chain) -> list[Problem]:
    """Merge ``[stages_by_name.<name>]`` tables into the stage of that name."""
    file = chain[0]
    if not isinstance(by_name, dict):
        return [Problem(file, BY_NAME, by_name, "must be a table of [stages_by_name.<stage>]")]
    stages = doc.data.get("stages")
    if not isinstance(stages, list):
        msg = "there are no stages to change: neither this file nor the ones it extends has any"
        return [Problem(file, BY_NAME, None, msg)]
    index = _names(stages)
    problems = []
    for name, table in by_name.items():
        steps = render_path((BY_NAME, name))
        if name not in index:
            msg = f"no stage named {name!r} (stages: {', '.join(index) or 'none'})"
            problems.append(Problem(file, steps, None, msg))
        elif not isinstance(table, dict):
            problems.append(Problem(file, steps, table, "must be a table of stage keys"))
        else:
            i = index[name]
            _merge_into(stages[i], table, ("stages", i), doc.origins, chain)
    return problems


def _names(items: list[Any]) -> dict[str, int]:
    """Index of each list item (a table) by its ``name`` key."""
    return {
        item["name"]: i
        for i, item in enumerate(items)
        if isinstance(item, dict) and isinstance(item.get("name"), str)
    }


# --- --set overrides ----------------------------------------------------------------------------


def _parse_steps(key: str) -> list[str | int]:
    """Split ``stages[2].buyer_tasks.review.duration`` into keys and indices."""
    steps: list[str | int] = []
    pos = 0
    while pos < len(key):
        found = _PATH_STEP.match(key, pos)
        if not found or (found[0].startswith(".") != (pos > 0 and not found[3])):
            raise ValueError(f"cannot read the key path at {key[pos:]!r}")
        bare, quoted, index = found.groups()
        steps.append(int(index) if index is not None else (bare if bare is not None else quoted))
        pos = found.end()
    if not steps or isinstance(steps[0], int):
        raise ValueError("a key path starts with a key, e.g. policies.activities_per_call")
    return steps


def _apply_override(doc: _Document, text: str) -> list[Problem]:
    """Apply one ``--set path=value``; a missing table on the way is created."""
    label = f"--set {text}"
    key, sep, raw = text.partition("=")
    key = key.strip()
    if not sep or not key:
        return [Problem(label, "", None, "expected KEY=VALUE, e.g. policies.activities_per_call=4")]
    try:
        steps = _parse_steps(key)
    except ValueError as err:
        return [Problem(label, key, None, str(err))]
    if steps[0] in (EXTENDS, BY_NAME):
        msg = f"{steps[0]} cannot be set on the command line"
        if steps[0] == BY_NAME:
            msg += "; use stages.<name>.<key>=value"
        return [Problem(label, key, None, msg)]
    value = parse_override_value(raw.strip())
    node: Any = doc.data
    done: list[str | int] = []
    names: dict[int, str] = {}
    for pos, step in enumerate(steps):
        where = render_path(done, names) or "the scenario"
        if isinstance(node, dict):
            if isinstance(step, int):
                return [Problem(label, key, None, f"{where} is a table, not an array")]
            here: str | int = step
        elif isinstance(node, list):
            found = _list_index(node, step)
            if isinstance(found, str):
                return [Problem(label, key, None, f"{where} {found}")]
            here = found
            if isinstance(node[here], dict) and isinstance(node[here].get("name"), str):
                names[len(done)] = node[here]["name"]
        else:
            shown = format_value(node)
            return [Problem(label, key, None, f"{where} is a value ({shown}), not a table")]
        done.append(here)
        if pos == len(steps) - 1:
            node[here] = value
        else:
            if isinstance(node, dict) and here not in node:
                node[here] = {}
                doc.origins[tuple(done)] = (label,)
            node = node[here]
    _forget(doc.origins, tuple(done))
    _claim(doc.origins, tuple(done), value, (label,))
    return []


def _list_index(items: list[Any], step: str | int) -> int | str:
    """The index a step selects in an array, or why it selects none."""
    if isinstance(step, str) and not step.isdigit():
        index = _names(items)
        if step not in index:
            known = ", ".join(index) or "none"
            return f"has no item named {step!r} (names: {known})"
        return index[step]
    i = int(step)
    if not 0 <= i < len(items):
        return f"has {len(items)} items, so no index {i} (indices start at 0)"
    return i


# --- JSON Schema --------------------------------------------------------------------------------


def scenario_json_schema() -> dict[str, Any]:
    """The JSON Schema of scenario files, for editors that complete and check keys.

    It adds to the model's own schema what loading accepts before validation: the ``extends``
    and ``stages_by_name`` keys, files that extend another (their keys are all optional), and a
    bare number wherever a distribution is expected (a constant).
    """
    schema = Scenario.model_json_schema()
    _allow_bare_numbers(schema)
    stage_keys = copy.deepcopy(schema["$defs"][Stage.__name__]["properties"])
    schema["properties"][EXTENDS] = {
        "type": "string",
        "description": "Another scenario file (relative to this one) whose keys this file "
        "inherits and overrides: tables merge key by key, arrays are replaced whole.",
    }
    schema["properties"][BY_NAME] = {
        "type": "object",
        "description": "Change single stages by name, e.g. [stages_by_name.discovery] "
        "p_right = 0.8; merged into the stage of that name after extends.",
        "additionalProperties": {
            "type": "object",
            "properties": stage_keys,
            "additionalProperties": False,
        },
    }
    required = schema.pop("required", [])
    if required:
        schema["if"] = {"required": [EXTENDS]}
        schema["else"] = {"required": required}
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        **schema,
        "title": "simsales scenario",
    }


def _allow_bare_numbers(node: Any) -> None:
    """Wherever a distribution is expected, accept a bare number too (it means a constant)."""
    if isinstance(node, dict):
        for value in node.values():
            _allow_bare_numbers(value)
        disc = node.get("discriminator")
        if isinstance(disc, dict) and disc.get("propertyName") == "dist" and "oneOf" in node:
            union = {"oneOf": node.pop("oneOf"), "discriminator": node.pop("discriminator")}
            node["anyOf"] = [{"type": "number", "description": "a constant"}, union]
    elif isinstance(node, list):
        for value in node:
            _allow_bare_numbers(value)
