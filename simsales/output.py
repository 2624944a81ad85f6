"""Writing result files so that a crash or Ctrl-C never leaves a half-written one behind.

Every file is written to a temporary file in the same folder (the same file system, so the final
``os.replace`` is atomic) and only then takes its name. A run writes several files that belong
together; ``StagedFiles`` keeps all of them as temporaries until the run has finished, then
renames them in one quick step, so an interrupted run leaves no mix of old and new results.

A run that is killed (SIGKILL, a power cut) cannot delete its temporaries. So that they never
block the same command run again, each temporary file is named ``.NAME.<8 hex digits>.tmp`` and
is locked (``flock``) by the process writing it from its creation until it has taken its final
name: a file of that pattern that nobody holds locked belongs to a dead run and is removed
(``remove_stale_temps``), while one that a running simsales still writes is left alone. The
kernel drops the lock whatever way the writer ends, so, unlike a process id in the name, the
lock cannot be fooled by a reused pid, another container's pids or another host sharing the
folder. On a file system without locks, nothing is ever taken for stale.
"""

from __future__ import annotations

import os
import re
import secrets
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from types import TracebackType
from typing import IO

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows: an open file cannot be deleted there anyway
    fcntl = None  # type: ignore[assignment]

__all__ = [
    "HOLD_VAR",
    "OutputError",
    "StagedFiles",
    "atomic_open",
    "atomic_write_text",
    "hold_for_test",
    "prepare_out_dir",
    "remove_stale_temps",
]

#: The temporary files of this module: ``.NAME.<8 hex digits>.tmp`` beside ``NAME``.
_TEMP = re.compile(r"\.(?P<name>.+)\.[0-9a-f]{8}\.tmp")
#: The subfolder of an output folder that simsales writes into (``StagedFiles.open``).
_SUBFOLDERS = ("figures",)
#: Temporary files this process is writing, by path: never stale, and let go of in a fork.
_LIVE: dict[str, IO] = {}
#: Test-only: ``POINT:FILE`` makes ``hold_for_test(POINT)`` create FILE and wait to be killed.
HOLD_VAR = "SIMSALES_TEST_HOLD"


class OutputError(Exception):
    """An output folder or file cannot be used; the message says why and what to do."""


def prepare_out_dir(
    path: str | os.PathLike[str],
    force: bool,
    *,
    rewritable: Callable[[Path], bool] | None = None,
) -> Path:
    """Create the output folder, or check that an existing one may be written into.

    Temporary files a killed run left in it (and in its ``figures/``) are removed first. An
    existing folder with anything else in it is refused unless ``force``, or ``rewritable``
    says it holds the results of this very request (the same command run again after it was
    killed): results of an earlier run are expensive to recompute and must not be overwritten
    by a typo in ``--out``. A folder another simsales is writing into is refused unless
    ``force``.
    """
    out = Path(path)
    if out.exists() and not out.is_dir():
        raise OutputError(f"{out} exists and is not a folder")
    if out.is_dir():
        for folder in (out, *(out / sub for sub in _SUBFOLDERS)):
            remove_stale_temps(folder)
    if out.is_dir() and not force and _holds_anything(out):
        busy = [p for p in (out, *(out / sub for sub in _SUBFOLDERS)) if _temps_in(p)]
        if busy:
            raise OutputError(
                f"output folder {out} is being written by another simsales process "
                f"(temporary files in {busy[0]}); wait for it to finish or choose another folder"
            )
        if rewritable is None or not rewritable(out):
            raise OutputError(
                f"output folder {out} already exists and is not empty; "
                "choose another folder or pass --force to overwrite its files"
            )
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise OutputError(f"cannot create output folder {out}: {err.strerror or err}") from err
    return out


def _holds_anything(folder: Path) -> bool:
    """Whether ``folder`` holds anything but an empty ``figures/`` (simsales makes it before
    its first figure, so a run killed at that moment leaves it empty)."""
    for entry in folder.iterdir():
        if entry.name in _SUBFOLDERS and entry.is_dir() and not any(entry.iterdir()):
            continue
        return True
    return False


def _temps_in(folder: Path, name: str | None = None) -> list[Path]:
    """The files of ``folder`` named as this module's temporaries (of ``name`` only, if given)."""
    try:
        entries = list(os.scandir(folder))
    except OSError:  # missing, or not a folder
        return []
    found = []
    for entry in entries:
        match = _TEMP.fullmatch(entry.name)
        ours = match is not None and (name is None or match["name"] == name)
        if ours and entry.is_file(follow_symlinks=False):
            found.append(Path(entry.path))
    return found


def remove_stale_temps(folder: str | os.PathLike[str], name: str | None = None) -> list[Path]:
    """Delete the temporary files in ``folder`` (those for ``name`` only, if given) that a dead
    run left behind; return the paths deleted.

    Only files of this module's pattern (``.NAME.<8 hex>.tmp``) are looked at, and of those only
    ones that no live process holds locked: a simsales writing into the same folder keeps its own.
    """
    return [p for p in _temps_in(Path(folder), name) if _remove_if_stale(p)]


def _remove_if_stale(path: Path) -> bool:
    """Delete ``path`` if no process holds it locked (see the module's docstring)."""
    if os.fspath(path) in _LIVE:
        return False
    if fcntl is None:  # pragma: no cover - Windows: a file open in another process resists
        try:
            os.unlink(path)
        except OSError:
            return False
        return True
    try:  # for writing: NFS emulates flock with write locks, which need it
        fd = os.open(path, os.O_RDWR | getattr(os, "O_NOFOLLOW", 0))
    except OSError:  # gone already (published or removed), or not ours to write
        return False
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:  # locked by a live writer, or a file system without locks
            return False
        # the lock is ours now: still the same file under that name? Then nobody will publish it
        with suppress(FileNotFoundError):
            if os.path.samestat(os.stat(path, follow_symlinks=False), os.fstat(fd)):
                os.unlink(path)
                return True
        return False
    finally:
        os.close(fd)


def _temp_beside(path: Path, binary: bool, encoding: str | None, newline: str | None) -> IO:
    """A new hidden file next to ``path``, its ``name`` the path of the temporary file; locked
    until it is published or discarded, so that no other simsales takes it for a dead run's.

    Made with ``open(..., "x")`` rather than ``mkstemp``: it honours the user's umask, where
    mkstemp's 0600 would carry over to the published result.
    """
    for _ in range(100):
        name = path.parent / f".{path.name}.{secrets.token_hex(4)}.tmp"
        try:  # closed by _finish or _discard, once published or not
            if binary:
                handle: IO = open(name, "xb")  # noqa: SIM115
            else:
                handle = open(name, "x", encoding=encoding, newline=newline)  # noqa: SIM115
        except FileExistsError:
            continue
        if _claim(handle):
            _LIVE[handle.name] = handle
            return handle
        handle.close()  # removed as stale in the instant before it was locked: take another
    raise FileExistsError(f"cannot create a temporary file beside {path}")  # pragma: no cover


def _claim(handle: IO) -> bool:
    """Lock a new temporary file; False if another process removed it before the lock held."""
    if fcntl is None:  # pragma: no cover
        return True
    try:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:  # a cleaner holds it, and is about to delete it
        return False
    except OSError:  # no locks on this file system: then no cleaner ever takes it either
        return True
    try:
        return os.path.samestat(os.stat(handle.name), os.fstat(handle.fileno()))
    except FileNotFoundError:
        return False


def _sync(handle: IO) -> None:
    """Flush a temporary file to disk (it stays open, and locked, until published)."""
    handle.flush()
    os.fsync(handle.fileno())
    if fcntl is None:  # pragma: no cover - Windows cannot rename a file that is open
        handle.close()


def _release(handle: IO) -> None:
    """Close a temporary file that has been published or deleted; its lock goes with it."""
    _LIVE.pop(handle.name, None)
    handle.close()


def _finish(handle: IO, target: Path) -> None:
    """Flush to disk and give the temporary file its final name."""
    _sync(handle)
    os.replace(handle.name, target)
    _release(handle)


def _discard(handle: IO) -> None:
    with suppress(FileNotFoundError):
        os.unlink(handle.name)  # before the lock goes, so no other process sees it unlocked
    _release(handle)


def _let_go_in_child() -> None:
    """In a forked child (a worker process), let go of the parent's temporary files.

    A fork shares the parent's open files, and with them their locks: a worker that outlived a
    killed parent would keep the dead run's temporaries locked. Each is pointed at /dev/null
    instead (its descriptor stays valid for the copy of the file object the child holds).
    """
    if not _LIVE:
        return
    null = os.open(os.devnull, os.O_RDWR)
    for handle in _LIVE.values():
        with suppress(OSError, ValueError):
            os.dup2(null, handle.fileno())
    os.close(null)
    _LIVE.clear()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_let_go_in_child)


def hold_for_test(point: str) -> None:
    """Test-only: with ``SIMSALES_TEST_HOLD=POINT:FILE`` set, create FILE at ``point`` and wait
    there until killed, so that tests can kill a real run at a known moment."""
    spec = os.environ.get(HOLD_VAR)
    if not spec:
        return
    wanted, _, ready = spec.partition(":")
    if wanted != point:
        return
    Path(ready).touch()
    while True:
        time.sleep(0.05)


@contextmanager
def atomic_open(
    path: str | os.PathLike[str],
    mode: str = "w",
    *,
    encoding: str | None = "utf-8",
    newline: str | None = None,
) -> Iterator[IO]:
    """Open ``path`` for writing; the file appears, complete, only if the block succeeds.

    ``mode`` is ``"w"`` (text) or ``"wb"``. On any exception, KeyboardInterrupt included, the
    temporary file is removed and an existing file at ``path`` is left as it was. Temporaries
    of ``path`` that a killed run left are removed first.
    """
    if mode not in ("w", "wb"):
        raise ValueError(f"atomic_open writes only: mode 'w' or 'wb', not {mode!r}")
    target = Path(path)
    binary = mode == "wb"
    remove_stale_temps(target.parent, target.name)
    handle = _temp_beside(target, binary, None if binary else encoding, newline)
    try:
        yield handle
    except BaseException:
        _discard(handle)
        raise
    _finish(handle, target)


def atomic_write_text(path: str | os.PathLike[str], text: str) -> None:
    """Write a whole text file atomically (UTF-8)."""
    with atomic_open(path) as fh:
        fh.write(text)


class StagedFiles:
    """Several files written side by side and published together, or not at all.

    Use as a context manager: files opened with ``open(name)`` are temporaries until
    ``commit()``; leaving the block without committing (an error, Ctrl-C) deletes them all.
    ``record``, if staged, is published first: the file that says which request wrote the
    folder (``summary.json``, ...), so that a run killed while publishing leaves a folder whose
    rerun recognises it. ``published`` counts the files published so far.
    """

    def __init__(self, folder: str | os.PathLike[str], *, record: str | None = None) -> None:
        self.folder = Path(folder)
        self.record = record
        self.published = 0
        self._open: dict[str, IO] = {}

    def open(self, name: str, *, newline: str | None = None, binary: bool = False) -> IO:
        """A file that will become ``folder/name`` on commit: text (UTF-8), or bytes if ``binary``.

        ``name`` may be in a subfolder (``figures/funnel.png``); the subfolder is created.
        """
        if name in self._open:
            raise ValueError(f"{name} is already being written")
        target = self.folder / name
        target.parent.mkdir(parents=True, exist_ok=True)
        handle = _temp_beside(target, binary, None if binary else "utf-8", newline)
        self._open[name] = handle
        return handle

    def write_text(self, name: str, text: str) -> None:
        self.open(name).write(text)

    @property
    def names(self) -> list[str]:
        return list(self._open)

    def commit(self) -> list[Path]:
        """Publish every staged file under its final name (``record`` first); return their
        paths, in the order staged."""
        hold_for_test("staged")
        for handle in self._open.values():
            _sync(handle)
        names = list(self._open)
        first = [self.record] if self.record in self._open else []
        for name in first + [n for n in names if n not in first]:
            handle = self._open[name]
            os.replace(handle.name, self.folder / name)
            del self._open[name]
            _release(handle)
            self.published += 1
            hold_for_test("publishing")
        return [self.folder / name for name in names]

    def discard(self) -> None:
        """Delete every staged file that was not committed."""
        for handle in self._open.values():
            _discard(handle)
        self._open.clear()

    def __enter__(self) -> StagedFiles:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.discard()
