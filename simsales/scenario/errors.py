"""What can be wrong with a scenario file, said so that a person can fix it.

A scenario is usually wrong in several places at once, and a user who fixes one error only to be
shown the next is a user who gives up. So loading collects every problem it can find into one
``ScenarioError``; each ``Problem`` names the file the key was written in, the key path in the
same syntax ``--set`` accepts (``stages[2] (discovery).p_right``), the value found and the rule
broken. The CLI prints them one per line and exits 2, without a traceback.
"""

from __future__ import annotations

import difflib
import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, get_args

from pydantic import BaseModel, ValidationError

from simsales.scenario.distributions import DIST_NAMES
from simsales.scenario.schema import Scenario
from simsales.scenario.text import printable

#: A key path in a scenario document: table keys and array indices.
Steps = tuple[str | int, ...]
#: Who wrote a key: the files from the one that was run down to the one holding the key, or a
#: single ``--set k=v`` label.
Chain = tuple[str, ...]

#: Keys that loading consumes before validation.
EXTENDS = "extends"
BY_NAME = "stages_by_name"

_MAX_VALUE_CHARS = 60
_ANY_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")
_TOML_ESCAPES = {"\n": "\\n", "\t": "\\t", "\r": "\\r", "\b": "\\b", "\f": "\\f"}


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a scenario.

    ``file`` is where the key was written: a path as the user gave it, or ``--set k=v`` for a
    command-line override. ``via`` names the ``extends`` chain when the key was inherited, because
    the file a user ran is not always the file they must edit. ``value`` is ``None`` when there is
    nothing useful to show (a missing key, a whole table). ``line`` and ``column`` are known only
    for TOML syntax errors: ``tomllib`` does not keep positions of parsed keys.
    """

    file: str
    key_path: str
    value: Any
    message: str
    line: int | None = None
    column: int | None = None
    via: str | None = None

    def __str__(self) -> str:
        where = self.file
        if self.line is not None:
            where += f":{self.line}" + (f":{self.column}" if self.column is not None else "")
        if self.via:
            where += f" ({self.via})"
        parts = [where]
        if self.key_path:
            parts.append(self.key_path)
        text = ": ".join(parts) + f": {self.message}"
        if self.value is not None:
            text += f" (got {format_value(self.value)})"
        # the file name, a key or a message may hold what the file held: shown, never acted on
        return printable(text, one_line=True)


class ScenarioError(Exception):
    """A scenario could not be loaded; ``problems`` lists every reason found, in file order."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        if not problems:
            raise ValueError("a ScenarioError needs at least one problem")
        self.problems: list[Problem] = list(problems)
        super().__init__(self._summary())

    def _summary(self) -> str:
        n = len(self.problems)
        head = f"{n} problem{'s' if n != 1 else ''} in the scenario:"
        return "\n".join([head, *(f"  {p}" for p in self.problems)])

    def __str__(self) -> str:
        return self._summary()


def format_value(value: Any) -> str:
    """Render a value the way it would be written in a TOML file, shortened if long."""
    text = _toml_repr(value)
    if len(text) > _MAX_VALUE_CHARS:
        text = text[: _MAX_VALUE_CHARS - 1] + "…"
    return text


def _toml_repr(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return repr(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        text = value.replace("\\", "\\\\").replace('"', '\\"')
        return '"' + _ANY_CONTROL.sub(_toml_escape, text) + '"'
    if isinstance(value, dict):
        inner = ", ".join(f"{_key_repr(k)} = {_toml_repr(v)}" for k, v in value.items())
        return "{ " + inner + " }" if inner else "{}"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_toml_repr(v) for v in value) + "]"
    return str(value)


def _toml_escape(found: re.Match[str]) -> str:
    """A control character as TOML writes it in a basic string (``\\n``, ``\\u001B``)."""
    char = found[0]
    return _TOML_ESCAPES.get(char) or f"\\u{ord(char):04X}"


def _key_repr(key: Any) -> str:
    text = str(key)
    if text and all(c.isalnum() or c in "_-" for c in text):
        return text
    return _toml_repr(text)


def render_path(steps: Iterable[str | int], names: dict[int, str] | None = None) -> str:
    """Render key steps as ``stages[2] (discovery).p_right``.

    ``names`` maps a step's position to the ``name`` of the list item it selects; the name is
    shown because "stages[2]" alone makes the reader count tables in the file.
    """
    out = ""
    for pos, step in enumerate(steps):
        if isinstance(step, int):
            out += f"[{step}]"
        else:
            out += ("." if out else "") + _key_repr(step)
        if names and names.get(pos):
            out += f" ({names[pos]})"
    return out


# --- pydantic errors --------------------------------------------------------------------------


def validation_problems(
    err: ValidationError,
    data: dict[str, Any],
    origins: dict[Steps, Chain],
    root: str,
    model: type[BaseModel] = Scenario,
) -> list[Problem]:
    """Turn pydantic's errors into problems on the user's key paths, in the user's words.

    ``origins`` tells which file wrote each key path (see ``loading``); ``root`` is the file
    that was loaded, named when nothing more precise is known; ``model`` the pydantic model of
    the whole file (a scenario unless said), which tells the keys known at each path.
    """
    problems = []
    for error in err.errors(include_url=False):
        loc = error["loc"]
        steps, names = _clean_loc(loc, data)
        kind = error["type"]
        value = error.get("input")
        if (
            kind == "missing"
            or not steps
            or (isinstance(value, dict) and kind == "value_error" and "dist" not in value)
        ):
            value = None
        chain = _origin(origins, steps) or (root,)
        if value is not None and not _may_show(value, steps, chain, origins):
            value = None
        via = " extending ".join(chain) if len(chain) > 1 else None
        problems.append(
            Problem(
                chain[-1],
                render_path(steps, names),
                value,
                _message(error, loc, model),
                via=f"in {via}" if via else None,
            )
        )
    return problems


def _may_show(value: Any, steps: Steps, chain: Chain, origins: dict[Steps, Chain]) -> bool:
    """Whether a problem may echo the value it is about.

    A file can extend any ``.toml`` file, so a problem's value must not become a way to read
    another file: a value is shown in full only if it was written by the file that was run (or
    a ``--set``) and every key inside it too; a value inherited through ``extends`` only if it
    is a number or a boolean (the file and the key path say where to look for the rest).
    """
    if len(chain) > 1:
        return isinstance(value, int | float)
    n = len(steps)
    return all(writer == chain for path, writer in origins.items() if path[:n] == steps)


def _clean_loc(loc: tuple[str | int, ...], data: Any) -> tuple[Steps, dict[int, str]]:
    """Drop pydantic's union tags and validator names from an error location.

    A distribution's tag (``lognormal``) or a pseudo-step such as ``function-after[...]`` is
    dropped only if it is not a key actually written at that point of the document.
    """
    steps: list[str | int] = []
    names: dict[int, str] = {}
    node = data
    for step in loc:
        present = isinstance(node, dict) and step in node
        if isinstance(step, str) and not present and (step in DIST_NAMES or is_pseudo(step)):
            continue
        if isinstance(node, list) and isinstance(step, int) and 0 <= step < len(node):
            item = node[step]
            if isinstance(item, dict) and isinstance(item.get("name"), str):
                names[len(steps)] = item["name"]
            node = item
        else:
            node = node.get(step) if present else None
        steps.append(step)
    return tuple(steps), names


def is_pseudo(step: str) -> bool:
    """A step pydantic adds for a validator or union (``function-after[...]``), not a key."""
    return "[" in step or step.startswith("function-")


def _origin(origins: dict[Steps, Chain], steps: Steps) -> Chain | None:
    """Who wrote the key, or the nearest table around it if the key itself is missing.

    A ``--set`` that changed a key inside the one in error (``--set buyers.group_size.dist=x``
    when ``buyers.group_size`` is reported) is named: it is what the user just typed.
    """
    n_steps = len(steps)
    for path, writer in origins.items():
        if len(path) > n_steps and path[:n_steps] == steps and writer[-1].startswith("--set "):
            return writer
    for n in range(len(steps), 0, -1):
        if (chain := origins.get(steps[:n])) is not None:
            return chain
    return None


def _message(error: Any, loc: tuple[str | int, ...], root: type[BaseModel]) -> str:
    kind = error["type"]
    if kind == "missing":
        return "required key is missing"
    if kind == "extra_forbidden":
        return _unknown_key(loc, root)
    if kind == "union_tag_invalid":
        tag = error.get("ctx", {}).get("tag")
        return f"unknown distribution {tag!r}; dist must be one of: {', '.join(DIST_NAMES)}"
    if kind == "union_tag_not_found":
        return (
            f"a distribution needs a dist key (one of: {', '.join(DIST_NAMES)}), "
            "or write a bare number for a constant"
        )
    if kind in ("model_type", "dict_type", "model_attributes_type"):
        return "must be a table"
    if kind == "list_type":
        return "must be an array"
    msg: str = error["msg"]
    return msg.removeprefix("Value error, ").removeprefix("Assertion failed, ")


def _unknown_key(loc: tuple[str | int, ...], root: type[BaseModel]) -> str:
    """Say that a key is unknown, and which known key was probably meant."""
    key = str(loc[-1]) if loc else ""
    model = _model_at(loc[:-1], root)
    if model is None:
        return "unknown key"
    known = [f.alias or name for name, f in model.model_fields.items()]
    if model is Scenario:
        known += [EXTENDS, BY_NAME]
    close = difflib.get_close_matches(key, known, n=1, cutoff=0.6)
    if close:
        return f"unknown key; did you mean {close[0]!r}?"
    return f"unknown key; known keys here: {', '.join(sorted(known))}"


def _model_at(loc: tuple[str | int, ...], root: type[BaseModel]) -> type[BaseModel] | None:
    """The model that validates the table at ``loc`` (a pydantic error location) in a file
    read by ``root``."""
    current: Any = root
    for step in loc:
        if isinstance(step, int) or is_pseudo(step):
            continue
        if isinstance(current, dict):  # a distribution union: the step is its tag
            current = current.get(step)
            continue
        if not (isinstance(current, type) and issubclass(current, BaseModel)):
            return None
        info = current.model_fields.get(step) or next(
            (f for f in current.model_fields.values() if f.alias == step), None
        )
        if info is None:
            return None
        current = _inner_model(info.annotation)
    return current if isinstance(current, type) and issubclass(current, BaseModel) else None


def _inner_model(annotation: Any) -> Any:
    """The model inside ``list[X]``, ``X | None``, ``Annotated[...]``; a tag map for unions."""
    models: list[type[BaseModel]] = []

    def collect(tp: Any) -> None:
        if isinstance(tp, type) and issubclass(tp, BaseModel):
            models.append(tp)
        else:
            for arg in get_args(tp):
                collect(arg)

    collect(annotation)
    if len(models) == 1:
        return models[0]
    if models and all("dist" in m.model_fields for m in models):
        return {m.model_fields["dist"].default: m for m in models}
    return None
