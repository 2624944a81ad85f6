"""A store of finished replications, so that an interrupted experiment resumes where it stopped.

Replication r of a scenario is a pure function of the scenario, the root seed, r, and the code
that computes it (``simsales.model.streams``: the streams of ``(seed, r)``). So a finished
replication can be kept under a key made of exactly those, and served instead of recomputed:
re-running a command after Ctrl-C, a killed process or a lost worker computes only what was
missing, and the results equal an uninterrupted run's bit for bit.

The key is a SHA-256 over: the canonical JSON of the resolved scenario (sorted keys; without
``run.replications`` and ``run.seed``, which do not change replication r: the seed used is
hashed on its own), the seed, r, what is kept of the replication (metrics only, a reduced
payload's kind, or the whole records, with or without the event log), and a fingerprint of the
code (the sources of ``simsales.model``, ``simsales.results`` and ``simsales.scenario``, the
reducing function's module, and the package version): after a code change nothing stale is
served.

An entry is one ``.npz`` file (the arrays of the payload, and a JSON header with the metrics and
the payload's layout), written to a temporary file in the same folder, synced, then renamed: a
kill never leaves half an entry under a real name. An entry that cannot be read is treated as
missing, recomputed and overwritten. Loading never unpickles: payloads are rebuilt from plain
arrays and JSON, and only into ``simsales`` dataclasses.

An entry is trusted as it is: whoever can write into the store can make a run report numbers it
never computed. So the store is private to its user. A missing folder is made with mode 0700
(its missing parents too); an existing one must belong to the user and be writable by no one
else, or ``RunStore`` refuses it with a ``RunStoreError`` saying how to fix it. Group- or
world-writable is refused even with the sticky bit set (as on ``/tmp``): the sticky bit keeps
others from deleting or renaming the user's entries, not from adding entries of their own under
keys not yet computed. An entry file that belongs to someone else or that others may write is
ignored (computed again and replaced).
"""

from __future__ import annotations

import dataclasses
import errno
import functools
import hashlib
import importlib
import inspect
import json
import os
import stat
from array import array
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from simsales import __version__
from simsales.output import atomic_open
from simsales.scenario import Scenario

__all__ = ["ENV_VAR", "RunStore", "RunStoreError", "StoredRun", "default_cache_dir"]

#: Environment variable naming the store's folder (else the XDG cache folder).
ENV_VAR = "SIMSALES_CACHE_DIR"
#: Bumped when the entry format changes; part of every key.
FORMAT = 1
#: Packages whose source decides what a replication computes.
_CODE_PACKAGES = ("model", "results", "scenario")
#: Run settings that do not change replication r (the seed used is hashed separately).
_NOT_IN_KEY = ("replications", "seed")

#: What a finished replication gives: its metrics and what was kept of its records.
StoredRun = tuple[dict[str, float], Any]


def default_cache_dir() -> Path:
    """``$SIMSALES_CACHE_DIR``, else ``$XDG_CACHE_HOME/simsales/runs``, else
    ``~/.cache/simsales/runs``."""
    if os.environ.get(ENV_VAR):
        return Path(os.environ[ENV_VAR]).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg).expanduser() if xdg else Path.home() / ".cache"
    return base / "simsales" / "runs"


class RunStoreError(Exception):
    """The store's folder is not private to the user; the message names it and the fix."""


class RunStore:
    """Finished replications on disk, keyed by what determines them.

    ``reused`` and ``computed`` count, since the store was made, the replications served from it
    and those computed and saved; ``problem`` holds the first error met while writing (after
    which the store stops writing: a full disk must not fail the run it only helps).

    Making a store makes its folder (mode 0700) if it is missing, and raises ``RunStoreError``
    if it exists and another user owns it or may write to it (see the module's notes).
    """

    def __init__(self, folder: str | os.PathLike[str]) -> None:
        self.folder = Path(folder)
        self.reused = 0
        self.computed = 0
        self.problem: str | None = None
        try:
            _make_private(self.folder)
        except OSError as err:  # written to nothing: the run goes on without the store
            self.problem = f"cannot write to the run store {self.folder}: {err.strerror or err}"
            return
        _check_private(self.folder)

    def key(
        self,
        scenario: Scenario,
        *,
        seed: int,
        replication: int,
        kind: str,
        reduce: Callable[..., Any] | None = None,
    ) -> str:
        """The entry's key (64 hex digits); ``kind`` says what is kept of the replication."""
        doc = scenario.model_dump(mode="json")
        doc["run"] = {k: v for k, v in doc["run"].items() if k not in _NOT_IN_KEY}
        head = {
            "format": FORMAT,
            "seed": seed,
            "replication": replication,
            "kind": kind,
            "code": _code_fingerprint(_module_file(reduce)),
            "scenario": doc,
        }
        text = json.dumps(head, sort_keys=True, separators=(",", ":"), allow_nan=True)
        return hashlib.sha256(text.encode("utf-8")).hexdigest()

    def path(self, key: str) -> Path:
        return self.folder / key[:2] / f"{key}.npz"

    def load(self, key: str) -> StoredRun | None:
        """The entry's metrics and payload, or None if it is missing or cannot be read."""
        try:
            with open(self.path(key), "rb") as fh, np.load(fh, allow_pickle=False) as npz:
                if not _own_private(os.fstat(fh.fileno())):
                    return None  # planted by someone else: computed again, and replaced
                header = json.loads(npz["__header__"].tobytes().decode("utf-8"))
                if header.get("key") != key:
                    return None
                arrays = {name: npz[name] for name in npz.files if name != "__header__"}
            metrics = dict(header["metrics"])
            payload = _decode(header["payload"], arrays)
        except Exception:  # missing, truncated, foreign or corrupt: recompute it
            return None
        self.reused += 1
        return metrics, payload

    def save(self, key: str, metrics: dict[str, float], payload: Any) -> bool:
        """Write an entry atomically; False (and ``problem`` set) if it cannot be written."""
        if self.problem is not None:
            return False
        arrays: dict[str, np.ndarray] = {}
        try:
            layout = _encode(payload, "p", arrays)
        except TypeError as err:  # a payload the store cannot hold is simply not kept
            self.problem = f"cannot store a replication's result: {err}"
            return False
        header = {"key": key, "metrics": dict(metrics), "payload": layout}
        blob = json.dumps(header, allow_nan=True).encode("utf-8")
        arrays["__header__"] = np.frombuffer(blob, dtype=np.uint8)
        savez: Any = np.savez  # (its stubs mistype **arrays)
        target = self.path(key)
        try:
            target.parent.mkdir(mode=0o700, exist_ok=True)
            with atomic_open(target, "wb") as fh:  # straight to the file: no copy in memory
                savez(fh, allow_pickle=False, **arrays)
        except OSError as err:
            self.problem = f"cannot write to the run store {self.folder}: {err.strerror or err}"
            return False
        self.computed += 1
        return True


def _make_private(folder: Path) -> None:
    """Make ``folder`` and its missing parents, each with mode 0700 (less by the umask)."""
    missing = []
    for path in (folder, *folder.parents):
        if path.exists():
            break
        missing.append(path)
    for path in reversed(missing):
        path.mkdir(mode=0o700, exist_ok=True)
    if not folder.is_dir():
        raise NotADirectoryError(errno.ENOTDIR, "not a folder")


def _check_private(folder: Path) -> None:
    """Raise ``RunStoreError`` unless the user owns ``folder`` and no one else may write to it.

    The folder is checked where a link leads (``os.stat`` follows it). Where the platform has
    no owners and permission bits (Windows), nothing is checked.
    """
    if not hasattr(os, "geteuid"):
        return
    info = os.stat(folder)
    if info.st_uid != os.geteuid():
        raise RunStoreError(
            f"the run store {folder} belongs to another user (uid {info.st_uid}), who could put "
            "results in it that simsales would then report as its own; use a folder of your own"
        )
    if info.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
        who = "everyone" if info.st_mode & stat.S_IWOTH else "its group"
        raise RunStoreError(
            f"the run store {folder} can be written by {who} (mode "
            f"{stat.filemode(info.st_mode)}), who could put results in it that simsales would "
            f"then report as its own; make it private with: chmod 700 {folder}"
        )


def _own_private(info: os.stat_result) -> bool:
    """A file the user owns and no one else may write (always true without owners: Windows)."""
    if not hasattr(os, "geteuid"):
        return True
    return info.st_uid == os.geteuid() and not info.st_mode & (stat.S_IWGRP | stat.S_IWOTH)


def _module_file(fn: Callable[..., Any] | None) -> str | None:
    if fn is None:
        return None
    try:
        return inspect.getsourcefile(fn)
    except TypeError:
        return None


@functools.cache
def _code_fingerprint(extra_file: str | None) -> str:
    """SHA-256 over the package version and the source of the packages that compute results."""
    root = Path(__file__).resolve().parent.parent
    digest = hashlib.sha256(f"simsales {__version__}\n".encode())
    files = sorted(p for pkg in _CODE_PACKAGES for p in (root / pkg).rglob("*.py"))
    if extra_file is not None:
        files.append(Path(extra_file))
    for path in files:
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


# --- payloads: plain values, arrays, and dataclasses of them, without pickle ---------------------


def _encode(value: Any, name: str, arrays: dict[str, np.ndarray]) -> Any:
    """A JSON layout of ``value``, its arrays put into ``arrays`` under names made from ``name``."""
    if value is None or isinstance(value, bool | int | float | str):
        return {"v": value}
    if isinstance(value, np.ndarray):
        if value.dtype.hasobject:
            raise TypeError("object arrays are not stored")
        arrays[name] = value
        return {"nd": name}
    if isinstance(value, array):  # a view, not a copy: a finished run's buffers do not change
        arrays[name] = np.frombuffer(value, dtype=value.typecode) if len(value) else np.empty(0)
        return {"aa": name, "t": value.typecode}
    if isinstance(value, np.generic):
        return {"v": value.item()}
    if isinstance(value, tuple | list):
        items = [_encode(v, f"{name}.{i}", arrays) for i, v in enumerate(value)]
        return {"tuple" if isinstance(value, tuple) else "list": items}
    if isinstance(value, dict):
        if not all(isinstance(k, str) for k in value):
            raise TypeError("only dicts with string keys are stored")
        return {"dict": {k: _encode(v, f"{name}.{k}", arrays) for k, v in value.items()}}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        cls = type(value)
        return {
            "dc": f"{cls.__module__}:{cls.__qualname__}",
            "f": {
                f.name: _encode(getattr(value, f.name), f"{name}.{f.name}", arrays)
                for f in dataclasses.fields(value)
            },
        }
    raise TypeError(f"a {type(value).__name__} is not stored")


def _decode(layout: Any, arrays: dict[str, np.ndarray]) -> Any:
    if "v" in layout:
        return layout["v"]
    if "nd" in layout:
        return arrays[layout["nd"]]
    if "aa" in layout:
        return array(layout["t"], arrays[layout["aa"]].tobytes())
    if "tuple" in layout:
        return tuple(_decode(v, arrays) for v in layout["tuple"])
    if "list" in layout:
        return [_decode(v, arrays) for v in layout["list"]]
    if "dict" in layout:
        return {k: _decode(v, arrays) for k, v in layout["dict"].items()}
    module, _, qualname = layout["dc"].partition(":")
    if module != "simsales" and not module.startswith("simsales."):
        raise ValueError(f"refusing to rebuild {layout['dc']}: not a simsales class")
    cls: Any = importlib.import_module(module)
    for part in qualname.split("."):
        cls = getattr(cls, part)
    if not (isinstance(cls, type) and dataclasses.is_dataclass(cls)):
        raise ValueError(f"{layout['dc']} is not a dataclass")
    names = {f.name for f in dataclasses.fields(cls)}
    if set(layout["f"]) != names:
        raise ValueError(f"{layout['dc']} has other fields now")
    obj = cls.__new__(cls)  # fields set as stored, even those the constructor does not take
    for field_name, value in layout["f"].items():
        object.__setattr__(obj, field_name, _decode(value, arrays))
    return obj
