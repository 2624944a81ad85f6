"""Interrupted runs and orphaned workers: a killed run never blocks its own rerun, SIGTERM is
handled like Ctrl-C, and worker processes end with their parent.

The real-process tests stop ``simsales`` at a known moment with the test-only hook
``SIMSALES_TEST_HOLD=POINT:FILE`` (``simsales.output.hold_for_test``): the process creates FILE
when it reaches POINT and waits there to be killed. The points are ``computing`` (a replication
finished and stored), ``staged`` (every file staged, none published), ``publishing`` (the first
file published) and ``published`` (all published, nothing printed yet).
"""

from __future__ import annotations

import fcntl
import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from conftest import MINIMAL_SCENARIO_TOML

from simsales.cli import main
from simsales.output import (
    HOLD_VAR,
    OutputError,
    StagedFiles,
    prepare_out_dir,
    remove_stale_temps,
)

ROOT = Path(__file__).resolve().parent.parent
LINUX = sys.platform.startswith("linux")
#: Long enough for a loaded two-core machine; a passing test waits far less.
TIMEOUT = 120.0

VARIANT_TOML = 'extends = "tiny.toml"\nname = "calls4"\n[policies]\nactivities_per_call = 4\n'
EXPERIMENT_TOML = (
    'name = "exp"\nbase = "tiny.toml"\nmetrics = ["win_rate"]\nreplications = 3\n'
    '[sweep]\n[[sweep.keys]]\nkey = "policies.activities_per_call"\nvalues = [2, 3]\n'
)


def write_inputs(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "tiny.toml").write_text(MINIMAL_SCENARIO_TOML, "utf-8")
    (folder / "calls4.toml").write_text(VARIANT_TOML, "utf-8")
    (folder / "exp.toml").write_text(EXPERIMENT_TOML, "utf-8")
    return folder


def tree(folder: Path) -> dict[str, bytes]:
    """Every file under ``folder``, by relative path, with its bytes."""
    return {
        p.relative_to(folder).as_posix(): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


@contextmanager
def inside(folder: Path) -> Iterator[None]:
    before = Path.cwd()
    os.chdir(folder)
    try:
        yield
    finally:
        os.chdir(before)


def invoke_in(folder: Path, args: list[str]) -> Result:
    """The command in this process, run from ``folder`` (paths in ``args`` relative to it)."""
    with inside(folder):
        return CliRunner().invoke(main, args)


def start(
    folder: Path, args: list[str], hold: str | None = None, **popen: object
) -> subprocess.Popen:
    """``simsales ARGS`` in a new process in ``folder``; with ``hold``, it stops there."""
    env = os.environ | {"PYTHONPATH": str(ROOT)}
    if hold is not None:
        env[HOLD_VAR] = f"{hold}:{folder / 'ready'}"
    popen.setdefault("stdout", subprocess.DEVNULL)
    popen.setdefault("stderr", subprocess.PIPE)
    return subprocess.Popen(  # type: ignore[call-overload]
        [sys.executable, "-m", "simsales.cli", *args], cwd=folder, env=env, **popen
    )


def wait_until(check: Callable[[], bool], timeout: float = TIMEOUT) -> bool:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


def wait_ready(folder: Path, child: subprocess.Popen) -> None:
    """Wait until the child has reached its hold point; fail if it ends or times out first."""
    wait_until(lambda: (folder / "ready").exists() or child.poll() is not None)
    if not (folder / "ready").exists():
        pytest.fail(f"the run never reached its hold point (exit code {child.poll()})")


def running(pid: int) -> bool:
    """Whether process ``pid`` exists and is not a zombie (Linux: from /proc)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return False
    return stat.rpartition(")")[2].split()[0] not in ("Z", "X")


def stop(child: subprocess.Popen, workers: list[int]) -> None:
    """Leave nothing running whatever the test found: the child, and workers it left behind."""
    for pid in workers:
        if running(pid):
            with suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
    if child.poll() is None:
        child.kill()
    with suppress(subprocess.TimeoutExpired, ValueError):
        child.communicate(timeout=10)


def children(pid: int) -> list[int]:
    """The processes whose parent is ``pid`` (Linux: from /proc)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rpartition(")")[2].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                found.append(int(entry.name))
    return found


# --- simsales' own temporary files ------------------------------------------------------------


def test_only_stale_temporaries_of_our_pattern_are_removed(tmp_path: Path) -> None:
    stale = tmp_path / ".deals.csv.0123abcd.tmp"
    live = tmp_path / ".summary.json.89abcdef.tmp"
    others = [".deals.csv.tmp", "deals.csv.0123abcd.tmp", ".x.0123ABCD.tmp", ".x.0123abc.tmp"]
    for path in [stale, live, *(tmp_path / name for name in others)]:
        path.write_text("x")
    with open(live, "rb") as held:  # as a running simsales holds its temporary files
        fcntl.flock(held.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        assert remove_stale_temps(tmp_path) == [stale]
        assert live.exists()
    assert remove_stale_temps(tmp_path, "deals.csv") == []  # by name: another file's
    assert remove_stale_temps(tmp_path, "summary.json") == [live]  # let go of: now stale
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(others)


def test_a_folder_with_a_dead_runs_temporaries_is_not_refused(tmp_path: Path) -> None:
    out = tmp_path / "out"
    (out / "figures").mkdir(parents=True)
    (out / ".deals.csv.0123abcd.tmp").write_text("half")
    (out / "figures" / ".cumulative_flow.png.0123abcd.tmp").write_bytes(b"half")
    assert prepare_out_dir(out, force=False) == out
    assert tree(out) == {}

    (out / "figures" / ".x.png.0123abcd.tmp").write_bytes(b"")
    (out / "notes.txt").write_text("mine")
    with pytest.raises(OutputError, match="not empty"):
        prepare_out_dir(out, force=False)
    assert prepare_out_dir(out, force=False, rewritable=lambda folder: folder == out) == out
    assert tree(out) == {"notes.txt": b"mine"}  # the stale temporary went in any case


def test_a_folder_another_simsales_writes_into_is_refused(tmp_path: Path) -> None:
    with StagedFiles(tmp_path / "out") as staged:
        staged.write_text("summary.json", "{}")
        with pytest.raises(OutputError, match="being written by another simsales process"):
            prepare_out_dir(tmp_path / "out", force=False)
        assert len(list((tmp_path / "out").iterdir())) == 1  # its file is left alone
        staged.commit()
    assert tree(tmp_path / "out") == {"summary.json": b"{}"}


def test_the_record_is_published_first(tmp_path: Path) -> None:
    with StagedFiles(tmp_path, record="summary.json") as staged:
        staged.write_text("deals.csv", "a")
        staged.write_text("summary.json", "{}")
        assert [p.name for p in staged.commit()] == ["deals.csv", "summary.json"]
        assert staged.published == 2


def test_a_forked_child_does_not_keep_the_temporaries_locked(tmp_path: Path) -> None:
    """A worker forked while files are staged must not keep them locked once the parent is gone
    (here the parent is a script that forks, then lets go of its file as a dying process does)."""
    script = tmp_path / "fork.py"
    script.write_text(
        textwrap.dedent(
            """
            import os, sys, time
            from simsales import output
            staged = output.StagedFiles(sys.argv[1])
            handle = staged.open("deals.csv")
            started, ready = os.pipe()
            pid = os.fork()
            if pid == 0:  # a worker: it has run the at-fork hooks once fork returns
                os.write(ready, b"x")
                time.sleep(30)
                os._exit(0)
            os.read(started, 1)
            output._LIVE.clear()
            handle.close()  # the parent's lock is gone, as at its death; the child lives on
            print(len(output.remove_stale_temps(sys.argv[1])), flush=True)
            os.kill(pid, 9)
            os.waitpid(pid, 0)
            """
        ),
        "utf-8",
    )
    env = os.environ | {"PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, str(script), str(tmp_path)],
        env=env,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=True,
    )
    assert done.stdout.strip() == "1"
    assert [p.name for p in tmp_path.iterdir()] == ["fork.py"]


def test_a_run_store_entry_killed_while_written_is_tidied_when_written_again(
    tmp_path: Path,
) -> None:
    from simsales.experiment import run_replications
    from simsales.experiment.store import RunStore
    from simsales.scenario import load_scenario

    tiny = load_scenario(write_inputs(tmp_path) / "tiny.toml")
    store = RunStore(tmp_path / "store")
    entry = store.path(store.key(tiny, seed=7, replication=0, kind="metrics"))
    entry.parent.mkdir(parents=True)
    stale = entry.parent / f".{entry.name}.0123abcd.tmp"
    stale.write_bytes(b"half an entry")  # as a kill in the middle of saving leaves it
    run_replications(tiny, replications=1, seed=7, store=store)
    assert store.computed == 1 and entry.exists() and not stale.exists()


# --- the same command after a kill, at any moment ----------------------------------------------

RUN = ["run", "tiny.toml", "-r", "4", "--out", "out"]
COMPARE = ["compare", "tiny.toml", "calls4.toml", "-r", "3", "--out", "out"]
EXPERIMENT = ["experiment", "exp.toml", "--out", "out"]

CASES = [
    pytest.param(
        [*RUN, "--jobs", "2", "--no-figures"], "computing", signal.SIGKILL, id="run-computing-kill"
    ),
    pytest.param([*RUN, "--no-figures"], "published", signal.SIGTERM, id="run-published-term"),
    pytest.param(COMPARE, "publishing", signal.SIGKILL, id="compare-publishing-kill"),
    pytest.param([*COMPARE, "--no-figures"], "staged", signal.SIGTERM, id="compare-staged-term"),
    pytest.param([*EXPERIMENT, "--no-figures"], "staged", signal.SIGKILL, id="exp-staged-kill"),
    pytest.param(
        [*EXPERIMENT, "--jobs", "2", "--no-figures"],
        "computing",
        signal.SIGTERM,
        id="exp-computing-term",
    ),
    pytest.param(
        [*EXPERIMENT, "--no-figures"], "published", signal.SIGKILL, id="exp-published-kill"
    ),
]


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory: pytest.TempPathFactory) -> Callable[[list[str]], dict]:
    """The files of each command run without interruption (and without the run store)."""
    seen: dict[tuple[str, ...], dict[str, bytes]] = {}

    def files(args: list[str]) -> dict[str, bytes]:
        if tuple(args) not in seen:
            folder = write_inputs(tmp_path_factory.mktemp("whole"))
            result = invoke_in(folder, [*args, "--no-cache"])
            assert result.exit_code == 0, result.output
            seen[tuple(args)] = tree(folder / "out")
        return seen[tuple(args)]

    return files


@pytest.mark.skipif(not LINUX, reason="kills real processes and reads /proc")
@pytest.mark.parametrize(("args", "point", "sig"), CASES)
def test_the_same_command_resumes_after_a_kill(
    tmp_path: Path,
    args: list[str],
    point: str,
    sig: signal.Signals,
    uninterrupted: Callable[[list[str]], dict],
) -> None:
    """Killed at ``point``, the same command run again succeeds without --force and leaves
    exactly the files of an uninterrupted run. With ``--jobs 2``, the workers end with the
    killed parent, and a caller reading its stdout gets end of file."""
    folder = write_inputs(tmp_path / "work")
    child = start(folder, args, hold=point, stdout=subprocess.PIPE)
    workers: list[int] = []
    try:
        wait_ready(folder, child)
        workers += children(child.pid)
        assert len(workers) >= 2 or "--jobs" not in args, workers
        child.send_signal(sig)
        child.wait(timeout=TIMEOUT)
        gone = wait_until(lambda: not any(map(running, workers)), timeout=10)
        assert gone, f"workers still running: {[w for w in workers if running(w)]}"
        out, err = child.communicate(timeout=10)  # end of file on stdout and stderr
    finally:
        stop(child, workers)
    stderr = err.decode()
    left = [name for name in tree(folder / "out") if name.rpartition("/")[2].startswith(".")]
    if sig == signal.SIGTERM:  # handled as Ctrl-C: staged files removed, a message, 143
        assert child.returncode == 143, stderr
        assert stderr.startswith("error: terminated (SIGTERM)"), stderr
        assert "Traceback" not in stderr
        assert left == []
    else:
        assert child.returncode == -signal.SIGKILL, stderr
        if point in ("staged", "publishing") or (point, args[0]) == ("computing", "run"):
            assert left, "a kill while files are staged leaves temporary files to clean up"
    if point == "staged" and sig == signal.SIGKILL:
        assert any(name.startswith(".experiment.json.") for name in left), left
    assert out == b""

    resumed = invoke_in(folder, args)  # the same command: no --force
    assert resumed.exit_code == 0, resumed.output
    assert tree(folder / "out") == uninterrupted(args)
    assert "replications reused from the run store" in resumed.stderr


def test_only_the_same_request_may_rewrite_a_folder(tmp_path: Path) -> None:
    folder = write_inputs(tmp_path)
    args = ["run", "tiny.toml", "-r", "2", "--no-figures", "--out", "out"]
    first = invoke_in(folder, args)
    assert first.exit_code == 0, first.output
    written = tree(folder / "out")
    again = invoke_in(folder, args)  # as after a kill between publishing and printing
    assert again.exit_code == 0, again.output
    assert tree(folder / "out") == written
    for other in (
        ["--seed", "8"],
        ["--set", "team.sellers=3"],
        ["--replications", "3"],
    ):
        refused = invoke_in(folder, [*args, *other])
        assert refused.exit_code == 2, refused.output
        assert "not empty" in refused.stderr
    with_figures = invoke_in(folder, [a for a in args if a != "--no-figures"])
    assert with_figures.exit_code == 2  # figures or not: another request
    (folder / "tiny.toml").write_text(MINIMAL_SCENARIO_TOML.replace("sellers = 2", "sellers = 3"))
    edited = invoke_in(folder, args)  # the same command line, but the file says otherwise now
    assert edited.exit_code == 2 and "not empty" in edited.stderr
    forced = invoke_in(folder, [*args, "--force"])
    assert forced.exit_code == 0, forced.output


# --- workers end with their parent ------------------------------------------------------------


@pytest.mark.skipif(not LINUX, reason="reads /proc")
@pytest.mark.parametrize("use_prctl", [True, False], ids=["pdeathsig", "watch"])
def test_a_pool_of_workers_ends_with_its_killed_parent(tmp_path: Path, use_prctl: bool) -> None:
    """The pool's initializer alone: with Linux's parent-death signal, and with the portable
    watch of the parent id only."""
    script = tmp_path / "pool.py"
    script.write_text(
        textwrap.dedent(
            f"""
            import functools, os, signal, time
            from concurrent.futures import ProcessPoolExecutor
            from simsales.experiment.workers import start_worker
            init = functools.partial(start_worker, use_prctl={use_prctl})
            pool = ProcessPoolExecutor(2, initializer=init, initargs=(os.getpid(),))
            for _ in range(2):
                pool.submit(time.sleep, 60)
            time.sleep(0.2)
            print(*pool._processes, flush=True)
            os.kill(os.getpid(), signal.SIGKILL)
            """
        ),
        "utf-8",
    )
    env = os.environ | {"PYTHONPATH": str(ROOT)}
    child = subprocess.Popen(
        [sys.executable, str(script)], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    workers: list[int] = []
    try:
        assert child.stdout is not None
        workers += [int(pid) for pid in child.stdout.readline().split()]
        assert len(workers) == 2
        child.wait(timeout=TIMEOUT)
        assert child.returncode == -signal.SIGKILL
        assert wait_until(lambda: not any(map(running, workers)), timeout=10)
        assert child.stdout.read() == b""
    finally:
        stop(child, workers)
