"""Writing result files so that a crash or Ctrl-C never leaves a half-written one behind.

Every file is written to a temporary file in the same folder (the same file system, so the final
``os.replace`` is atomic) and only then takes its name. A run writes several files that belong
together; ``StagedFiles`` keeps all of them as temporaries until the run has finished, then
renames them in one quick step, so an interrupted run leaves no mix of old and new results.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from types import TracebackType
from typing import IO

__all__ = ["OutputError", "StagedFiles", "atomic_open", "atomic_write_text", "prepare_out_dir"]


class OutputError(Exception):
    """An output folder or file cannot be used; the message says why and what to do."""


def prepare_out_dir(path: str | os.PathLike[str], force: bool) -> Path:
    """Create the output folder, or check that an existing one may be written into.

    An existing folder with anything in it is refused unless ``force``: results of an earlier
    run are expensive to recompute and must not be overwritten by a typo in ``--out``.
    """
    out = Path(path)
    if out.exists() and not out.is_dir():
        raise OutputError(f"{out} exists and is not a folder")
    if out.is_dir() and not force and any(out.iterdir()):
        raise OutputError(
            f"output folder {out} already exists and is not empty; "
            "choose another folder or pass --force to overwrite its files"
        )
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise OutputError(f"cannot create output folder {out}: {err.strerror or err}") from err
    return out


def _temp_beside(path: Path, binary: bool, encoding: str | None, newline: str | None) -> IO:
    """A new hidden file next to ``path``, its ``name`` the path of the temporary file.

    Made with ``open(..., "x")`` rather than ``mkstemp``: it honours the user's umask, where
    mkstemp's 0600 would carry over to the published result.
    """
    for _ in range(100):
        name = path.parent / f".{path.name}.{secrets.token_hex(4)}.tmp"
        try:
            if binary:
                return open(name, "xb")
            return open(name, "x", encoding=encoding, newline=newline)
        except FileExistsError:
            continue
    raise FileExistsError(f"cannot create a temporary file beside {path}")  # pragma: no cover


def _sync(handle: IO) -> None:
    """Flush a temporary file to disk and close it."""
    handle.flush()
    os.fsync(handle.fileno())
    handle.close()


def _finish(handle: IO, target: Path) -> None:
    """Flush to disk and give the temporary file its final name."""
    _sync(handle)
    os.replace(handle.name, target)


def _discard(handle: IO) -> None:
    handle.close()
    with suppress(FileNotFoundError):
        os.unlink(handle.name)


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
    temporary file is removed and an existing file at ``path`` is left as it was.
    """
    if mode not in ("w", "wb"):
        raise ValueError(f"atomic_open writes only: mode 'w' or 'wb', not {mode!r}")
    target = Path(path)
    binary = mode == "wb"
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
    """

    def __init__(self, folder: str | os.PathLike[str]) -> None:
        self.folder = Path(folder)
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
        """Publish every staged file under its final name; returns their paths."""
        for handle in self._open.values():
            _sync(handle)
        paths = []
        for name, handle in self._open.items():
            os.replace(handle.name, self.folder / name)
            paths.append(self.folder / name)
        self._open.clear()
        return paths

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
