"""The index lock through portalocker: shared readers, one exclusive writer, waiting readers, and portability."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

import pytest

from rag.core.config import Settings
from rag.core.errors import StoreBusy
from rag.index import locks


def settings(home: Path, **env: str) -> Settings:
    return Settings.from_env({"RAG_HOME": str(home), "RAG_EMBEDDINGS": "hash", **env})


def test_the_lock_module_does_not_use_fcntl() -> None:
    source = Path(locks.__file__).read_text()
    assert "import fcntl" not in source and "import portalocker" in source


def test_readers_share_and_exclude_a_writer(tmp_path: Path) -> None:
    config = settings(tmp_path / "home")
    with locks.write_lock(config):
        pass  # creates the lock file
    with (
        locks.read_lock(config),
        locks.read_lock(config),  # two readers at once
        pytest.raises(StoreBusy, match="another `rag ingest` is writing to"),
        locks.write_lock(config),
    ):
        pass
    with locks.write_lock(config):  # free again once the readers are done
        pass


def test_a_reader_waits_for_the_writer_then_reads(tmp_path: Path) -> None:
    config = settings(tmp_path / "home", RAG_LOCK_TIMEOUT="20")
    told: list[str] = []
    done: list[float] = []
    with locks.write_lock(config):
        reader = threading.Thread(target=lambda: _read(config, told, done))
        reader.start()
        time.sleep(0.6)
        assert not done and told == [f"an ingest is updating {config.home}; waiting up to 20 s"]
        released = time.monotonic()
    reader.join(10)
    assert done and done[0] >= released


def _read(config: Settings, told: list[str], done: list[float]) -> None:
    with locks.read_lock(config, told.append):
        done.append(time.monotonic())


def test_a_reader_gives_up_after_the_timeout(tmp_path: Path) -> None:
    config = settings(tmp_path / "home", RAG_LOCK_TIMEOUT="0.4")
    with locks.write_lock(config):
        started = time.monotonic()
        with pytest.raises(StoreBusy, match=r"an ingest has held .* for over 0 s"), locks.read_lock(config):
            pass
        assert 0.4 <= time.monotonic() - started < 5


def test_a_waiting_writer_gets_the_lock_when_the_reader_leaves(tmp_path: Path) -> None:
    config = settings(tmp_path / "home")
    with locks.write_lock(config):
        pass
    got: list[float] = []
    with locks.read_lock(config):
        writer = threading.Thread(target=lambda: _write(config, got))
        writer.start()
        time.sleep(0.4)
        assert not got
    writer.join(10)
    assert got and (config.home / "index.lock").read_text() == str(os.getpid())


def _write(config: Settings, got: list[float]) -> None:
    with locks.write_lock(config, wait=True):
        got.append(time.monotonic())


def test_no_process_probe_on_windows(monkeypatch: pytest.MonkeyPatch) -> None:
    """os.kill(pid, 0) sends CTRL_C_EVENT on Windows: a server lease there is judged by its renewal time only."""
    import socket

    killed: list[int] = []
    holder = {"host": socket.gethostname(), "pid": 999_999_999, "renewed": time.time()}
    monkeypatch.setattr(locks.os, "kill", lambda pid, sig: killed.append(sig))
    monkeypatch.setattr(locks.os, "name", "nt")
    try:
        fresh = locks._abandoned(holder)
        stale = locks._abandoned({**holder, "renewed": time.time() - locks.STALE_AFTER - 1})
    finally:
        monkeypatch.undo()  # before anything else builds a Path
    assert killed == []
    assert (fresh, stale) == (False, True)
    assert locks._abandoned(holder) is True  # on POSIX a vanished pid on this host is abandoned at once
