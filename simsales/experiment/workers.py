"""The worker processes of a local run (``--jobs N``): they end when the process that started
them ends, however it ends.

A ``ProcessPoolExecutor``'s workers are not stopped by the death of their parent: killed with
SIGKILL (or SIGTERM before simsales handled it), the parent left its workers simulating on, each
holding a hundred megabytes and the caller's stdout, so that a program waiting for the end of
that output waited for ever. ``start_worker``, the pool's initializer, prevents all three:

- on Linux the kernel kills the worker as soon as its parent dies (``prctl(PR_SET_PDEATHSIG)``);
- everywhere, a daemon thread looks every ``WATCH_SECONDS`` whether the parent is still there
  (its parent id has changed when it died) and ends the worker if not, which also covers a
  parent that died before the ``prctl`` took effect;
- the worker's stdout is /dev/null from the start: nothing a worker prints belongs in the
  output (it would corrupt ``--format json``), and a worker can then never keep the caller's
  pipe open.

Workers also leave Ctrl-C to the parent (which cancels the run and prints no tracebacks), and
take SIGTERM's default action: a forked worker would otherwise inherit the parent's handler.
A Dask cluster's workers are the cluster's business and untouched by this.

When the parent stops a run (Ctrl-C, SIGTERM) it ends the workers at once, and
``forgive_cancelled_futures`` keeps the pool's own thread from printing a traceback about it.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import signal
import sys
import threading
import time
from concurrent.futures import Executor, InvalidStateError

__all__ = ["WATCH_SECONDS", "forgive_cancelled_futures", "start_worker"]

#: How often a worker looks whether its parent is still alive (seconds).
WATCH_SECONDS = 0.5
#: ``PR_SET_PDEATHSIG`` of ``<linux/prctl.h>``.
_PR_SET_PDEATHSIG = 1


def start_worker(owner: int, *, use_prctl: bool = True) -> None:
    """Set up a worker process of a pool made by process ``owner`` (the pool's initializer).

    ``use_prctl=False`` leaves only the portable watch (for its test).
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    _silence_stdout()
    if use_prctl:
        _die_with_parent_linux()
    _watch_parent(owner)


def _silence_stdout() -> None:
    """Point the worker's stdout (file descriptor 1) at /dev/null."""
    sys.stdout.flush()
    null = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(null, 1)
    finally:
        os.close(null)


def _die_with_parent_linux() -> None:
    """Ask Linux to SIGKILL this process when its parent dies; elsewhere, or if that fails,
    the watch alone does it."""
    if not sys.platform.startswith("linux"):
        return
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):  # no libc to be found: the watch still ends it
        return


def _watch_parent(owner: int) -> None:
    """End this process, from a daemon thread, once its parent has gone.

    The parent is gone when this process's parent id has changed (it was adopted), or when
    ``owner``, the pool's process, no longer exists (it died before this worker looked). With
    the ``forkserver`` start method the parent is the fork server, which ends with ``owner``.
    """
    parent = os.getppid()

    def watch() -> None:
        while os.getppid() == parent and _alive(owner):
            time.sleep(WATCH_SECONDS)
        os._exit(1)  # no cleanup to do: the results went to a parent that is gone

    threading.Thread(target=watch, name="simsales-parent-watch", daemon=True).start()


def _alive(pid: int) -> bool:
    """Whether process ``pid`` exists. (A dead parent not yet reaped still does, but its
    children have been adopted by then, so the parent id has changed.)"""
    if os.name == "nt":  # pragma: no cover - there os.kill(pid, 0) would send Ctrl-C
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # pragma: no cover - exists, under another user
        return True
    return True


def forgive_cancelled_futures(pool: Executor) -> None:
    """Keep ``pool``'s manager thread from printing a traceback when its workers are ended
    while some of its futures are cancelled, as a stopped run does.

    On finding its workers gone, that thread marks every pending future failed, and one
    cancelled meanwhile raises ``InvalidStateError`` there (CPython gh-107219, fixed in 3.12):
    harmless, but a traceback on stderr. Only that error of that one thread is silenced.
    """
    manager = getattr(pool, "_executor_manager_thread", None)
    if manager is None:
        return
    previous = threading.excepthook

    def hook(args: threading.ExceptHookArgs) -> None:
        if args.thread is manager and issubclass(args.exc_type, InvalidStateError):
            return
        previous(args)

    threading.excepthook = hook
