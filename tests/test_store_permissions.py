"""The run store is private to its user: a folder others can write to, or that another user
owns, is refused (exit 2 from the CLI, saying how to fix it); new folders are made 0700; an entry
someone else planted is not served.
"""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from simsales.cli import main
from simsales.experiment import run_replications
from simsales.experiment.store import RunStore, RunStoreError
from simsales.scenario import Scenario, load_scenario

pytestmark = pytest.mark.skipif(not hasattr(os, "geteuid"), reason="POSIX owners and modes")


def invoke(*args: str | Path) -> Result:
    return CliRunner().invoke(main, [str(a) for a in args])


@pytest.fixture
def tiny(write_scenario: Callable[..., Path], minimal_scenario_toml: str) -> Scenario:
    return load_scenario(write_scenario(minimal_scenario_toml, "tiny.toml"))


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_a_new_store_folder_and_its_parents_are_private(tmp_path: Path, tiny: Scenario) -> None:
    folder = tmp_path / "cache" / "simsales" / "runs"
    store = RunStore(folder)
    assert store.problem is None
    for path in (folder, folder.parent, folder.parent.parent):
        assert mode(path) & 0o077 == 0, oct(mode(path))
    run_replications(tiny, replications=1, seed=1, store=store)
    (shard,) = [p for p in folder.iterdir() if p.is_dir()]
    assert mode(shard) & 0o077 == 0


@pytest.mark.parametrize(("bits", "who"), [(0o777, "everyone"), (0o770, "its group"),
                                           (0o1777, "everyone")])  # fmt: skip
def test_a_store_others_can_write_to_is_refused(tmp_path: Path, bits: int, who: str) -> None:
    """The sticky bit (``/tmp``'s 1777) is no help: others could still add entries."""
    folder = tmp_path / "shared"
    folder.mkdir()
    folder.chmod(bits)
    with pytest.raises(RunStoreError, match=f"can be written by {who}") as caught:
        RunStore(folder)
    assert f"chmod 700 {folder}" in str(caught.value)


def test_a_store_of_another_user_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "theirs"
    folder.mkdir(mode=0o700)
    monkeypatch.setattr(os, "geteuid", lambda: folder.stat().st_uid + 1)  # as another user
    with pytest.raises(RunStoreError, match="belongs to another user"):
        RunStore(folder)


def test_the_cli_refuses_a_shared_store_with_exit_2_and_the_fixes(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    write_scenario: Callable[..., Path],
    minimal_scenario_toml: str,
) -> None:
    scenario = write_scenario(minimal_scenario_toml, "tiny.toml")
    folder = tmp_path / "world"
    folder.mkdir()
    folder.chmod(0o777)
    result = invoke("run", scenario, "-r", "1", "--cache-dir", folder)
    assert result.exit_code == 2
    assert str(folder) in result.output and f"chmod 700 {folder}" in result.output
    assert "--cache-dir DIR" in result.output and "--no-cache" in result.output
    assert "Traceback" not in result.output
    monkeypatch.setenv("SIMSALES_CACHE_DIR", str(folder))  # the default folder is checked too
    assert invoke("run", scenario, "-r", "1").exit_code == 2
    assert invoke("run", scenario, "-r", "1", "--no-cache").exit_code == 0
    folder.chmod(0o700)  # the fix the message gives
    assert invoke("run", scenario, "-r", "1", "--cache-dir", folder).exit_code == 0


def forge(store: RunStore, tiny: Scenario, metric: str, value: float) -> Path:
    """Change the stored ``metric`` of replication 0 in place, as a planted entry would."""
    import numpy as np

    path = store.path(store.key(tiny, seed=1, replication=0, kind="metrics"))
    with np.load(path, allow_pickle=False) as npz:
        arrays = {name: npz[name] for name in npz.files}
    header = json.loads(arrays["__header__"].tobytes().decode("utf-8"))
    header["metrics"][metric] = value
    arrays["__header__"] = np.frombuffer(json.dumps(header).encode("utf-8"), dtype=np.uint8)
    with open(path, "wb") as fh:
        np.savez(fh, allow_pickle=False, **arrays)
    return path


def test_an_entry_others_could_write_is_not_served(tmp_path: Path, tiny: Scenario) -> None:
    store = RunStore(tmp_path / "store")
    (true,) = run_replications(tiny, replications=1, seed=1, store=store)
    entry = forge(store, tiny, "win_rate", 0.29)
    # the forged entry, still private, would be served: the store trusts its own files...
    (served,) = run_replications(tiny, replications=1, seed=1, store=RunStore(tmp_path / "store"))
    assert served["win_rate"] == 0.29
    # ...so one that others could have written is not: it is computed again and replaced
    entry.chmod(0o666)
    again = RunStore(tmp_path / "store")
    (computed,) = run_replications(tiny, replications=1, seed=1, store=again)
    assert again.reused == 0 and json.dumps(computed) == json.dumps(true)
    assert mode(entry) & 0o022 == 0


def test_an_entry_of_another_user_is_not_served(
    tmp_path: Path, tiny: Scenario, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = RunStore(tmp_path / "store")
    run_replications(tiny, replications=1, seed=1, store=store)
    forge(store, tiny, "win_rate", 0.29)
    me = os.geteuid()
    entry_owner = store.path(store.key(tiny, seed=1, replication=0, kind="metrics")).stat().st_uid
    assert entry_owner == me
    real_fstat = os.fstat

    def planted(fd: int) -> os.stat_result:  # every opened entry as if another user wrote it
        info = real_fstat(fd)
        fields = list(info)
        fields[stat.ST_UID] = me + 1
        return os.stat_result(fields)

    monkeypatch.setattr(os, "fstat", planted)
    again = RunStore(tmp_path / "store")
    (computed,) = run_replications(tiny, replications=1, seed=1, store=again)
    assert again.reused == 0 and computed["win_rate"] != 0.29
