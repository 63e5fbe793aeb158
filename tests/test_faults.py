"""Nothing lost: killed ingests, a server that dies, concurrent commands, read-only homes and full disks."""

from __future__ import annotations

import fcntl
import json
import os
import pty
import re
import select
import shutil
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from chroma_server import ChromaServer, Snapshot, assert_same_index, expected, many_notes, snapshot, untouched
from conftest import CORPUS, venv_bin
from typer.testing import CliRunner

from rag.core.config import Settings
from rag.faces.cli import app
from rag.ingest.pipeline import ingest

pytest_plugins = ["chroma_server"]
pytestmark = pytest.mark.slow
NOTES = 200
LAST_NOTE = """---
title: Zeta Convention
citation: ZC No. 9
---
# Zeta Convention

## Article 999 — Quokka shelters

Article 999 of the Zeta Convention obliges each Party to run quokka shelters for trafficked persons.
"""
ZETA = "What does Article 999 of the Zeta Convention say about quokka shelters?"


@pytest.fixture(scope="module")
def notes(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Many small notes (slow enough to stop an ingest halfway), and the last one a reader can ask about."""
    folder = tmp_path_factory.mktemp("notes") / "notes"
    many_notes(folder, NOTES)
    (folder / "zz-zeta.md").write_text(LAST_NOTE)
    return folder


@pytest.fixture(scope="module")
def clean(notes: Path, tmp_path_factory: pytest.TempPathFactory) -> Snapshot:
    """The index a clean, uninterrupted ingest of the notes builds."""
    settings = Settings.from_env({"RAG_HOME": str(tmp_path_factory.mktemp("clean")), "RAG_EMBEDDINGS": "hash"})
    ingest([notes], settings)
    return snapshot(settings)


@pytest.fixture(autouse=True, scope="module")
def shipped_corpus_untouched() -> Iterator[None]:
    with untouched(CORPUS):
        yield


def rag_env(home: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAG_")}
    return {**env, "RAG_HOME": str(home), "RAG_EMBEDDINGS": "hash", "COLUMNS": "120", "TERM": "xterm", **extra}


@dataclass
class Killed:
    """How far an ingest had got when the kill came, and how it ended."""

    shown: int  # files the progress bar had shown
    returncode: int
    errors: list[str]  # the "Error: ..." lines it printed after


def kill_when(
    args: list[str], env: dict[str, str], done: int, total: int, kill: Callable[[], None] | None = None
) -> Killed:
    """Run `rag ingest` with its progress bar on a terminal; once done files are past, SIGKILL it (or call kill)."""
    master, slave = pty.openpty()
    proc = subprocess.Popen(args, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=slave)
    os.close(slave)
    shown, seen, after = 0, b"", b""
    deadline = time.monotonic() + 120
    try:
        while time.monotonic() < deadline:
            if not select.select([master], [], [], 0.2)[0]:
                continue
            try:
                data = os.read(master, 65536)
            except OSError:  # the child closed the terminal
                break
            if not data:
                break
            if shown >= done:
                after += data
                continue
            seen = (seen + data)[-2000:]
            counts = re.findall(rb"(\d+)/%d\b" % total, seen)
            shown = int(counts[-1]) if counts else shown
            if shown >= done:
                (kill or (lambda: os.kill(proc.pid, signal.SIGKILL)))()
        proc.wait(timeout=120)
    finally:
        os.close(master)
    assert shown >= done, f"the ingest ended before it was {done} files in (it showed {shown})"
    text = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", after.decode(errors="replace"))
    errors = [ln.strip() for ln in text.replace("\r", "\n").splitlines() if "Error" in ln or "Traceback" in ln]
    return Killed(shown, proc.returncode, errors)


def test_a_killed_ingest_then_a_rerun_equals_a_clean_ingest(notes: Path, clean: Snapshot, tmp_path: Path) -> None:
    corpus = tmp_path / "notes"
    shutil.copytree(notes, corpus)
    home = tmp_path / "home"
    settings = Settings.from_env({"RAG_HOME": str(home), "RAG_EMBEDDINGS": "hash"})
    total = NOTES + 1
    with untouched(corpus):
        kill_when([venv_bin("rag"), "ingest", str(corpus)], rag_env(home), total // 3, total)
        half = snapshot(settings)
        assert 0 < len(half.recorded) < clean.count, "the kill did not land halfway"
        assert half.recorded <= half.ids, "the ledger recorded chunks that were never stored"
        report = ingest([corpus], settings)
        assert report.unchanged and report.added and not report.failed
    assert_same_index(snapshot(settings), clean)

    # Killed again while every file is being replaced by a new version: old and new chunks must not both stay.
    for path in corpus.glob("*.md"):
        path.write_text(path.read_text() + "\nA later amendment adds a reflection period.\n")
    with untouched(corpus):
        kill_when([venv_bin("rag"), "ingest", str(corpus)], rag_env(home), total // 2, total)
        again = ingest([corpus], settings)
        assert again.updated and not again.added and not again.failed
    assert_same_index(snapshot(settings), expected(corpus))
    assert ingest([corpus], settings).embedded == 0


def test_a_server_that_dies_mid_ingest_loses_nothing_once_restarted(
    notes: Path, clean: Snapshot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    server = ChromaServer(tmp_path / "server-data").start()
    try:
        env = rag_env(tmp_path / "home", RAG_CHROMA_URL=server.url)
        settings = Settings.from_env(env)
        with untouched(notes):
            killed = kill_when([venv_bin("rag"), "ingest", str(notes)], env, (NOTES + 1) // 3, NOTES + 1, server.kill)
            # The ingest notices on its next write: one line that says what to do, no traceback, exit 1.
            assert killed.returncode == 1 and len(killed.errors) == 1, killed.errors
            assert killed.errors[0].startswith(f"Error: Chroma server at {server.url} failed while indexing")
            assert "run `rag ingest` again" in killed.errors[0]
            for name in ("RAG_HOME", "RAG_CHROMA_URL", "RAG_EMBEDDINGS"):
                monkeypatch.setenv(name, env[name])
            down = CliRunner().invoke(app, ["ask", ZETA])
            assert down.exit_code == 1 and down.stderr.count("\n") == 1
            assert down.stderr.startswith(f"Error: Chroma server at {server.url} is not answering")

            server.start()  # the same folder and port, as an operator would restart it
            half = snapshot(settings)
            assert half.recorded <= half.ids, "the ledger recorded chunks the server never stored"
            assert 0 < len(half.recorded) < clean.count
            report = ingest([notes], settings)
            assert report.added and report.unchanged and not report.failed
        assert_same_index(snapshot(settings), clean)
    finally:
        server.stop()


def lock_held(home: Path) -> bool:
    try:
        fd = os.open(home / "index.lock", os.O_RDONLY)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        return False
    except BlockingIOError:
        return True
    finally:
        os.close(fd)


def test_concurrent_commands_wait_or_are_told_and_readers_see_a_whole_index(
    notes: Path, sample_corpus: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from rag.answer.assistant import Assistant

    home = tmp_path / "home"
    monkeypatch.setenv("RAG_HOME", str(home))
    monkeypatch.setenv("RAG_EMBEDDINGS", "hash")
    settings = Settings.from_env()
    ingest([sample_corpus], settings)
    waits: list[str] = []
    reader = Assistant(settings, on_wait=waits.append)  # a chat left open during the ingest
    assert not reader.ask("What does Article 26 of the Sample Convention require?").refused

    env = rag_env(home)
    writer = subprocess.Popen([venv_bin("rag"), "ingest", str(notes)], env=env, stdout=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while not lock_held(home):
        assert writer.poll() is None and time.monotonic() < deadline, "the ingest never took the lock"
        time.sleep(0.05)
    asker = subprocess.Popen(
        [venv_bin("rag"), "ask", ZETA, "--json"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    waiter = subprocess.Popen(
        [venv_bin("rag"), "ingest", str(notes), "--wait", "--json"], env=env, stdout=subprocess.PIPE, text=True
    )

    busy = CliRunner().invoke(app, ["ingest", str(notes)])
    assert busy.exit_code == 1 and busy.stderr.count("\n") == 1
    assert busy.stderr.startswith(f"Error: another `rag ingest` is writing to {home}") and "--wait" in busy.stderr

    answer = reader.ask(ZETA)  # waits for the shared lock, then reopens the store the other process changed
    assert waits and "an ingest is updating" in waits[0]
    assert answer.citations[0].doc_id == "zz-zeta" and answer.citations[0].pinpoint == "Article 999"

    out, _ = writer.communicate(timeout=120)
    assert writer.returncode == 0 and f"{NOTES + 1} added" in out
    asked, ask_err = asker.communicate(timeout=120)
    assert asker.returncode == 0, ask_err
    assert "an ingest is updating" in ask_err  # it said why it waited
    assert json.loads(asked)["citations"][0]["pinpoint"] == "Article 999"  # and answered from the whole index

    waited, _ = waiter.communicate(timeout=120)  # it waited for the first ingest, then found nothing to do
    assert waiter.returncode == 0
    second = json.loads(waited)
    assert second["embedded"] == 0 and len(second["unchanged"]) == NOTES + 1


def test_a_home_that_is_a_file_is_one_line(fake_embeddings: None, sample_corpus: Path, tmp_path: Path) -> None:
    home = tmp_path / "home-file"
    home.write_text("not a folder")
    runner = CliRunner()
    for args in (["ingest", str(sample_corpus)], ["ask", "Article 26?"], ["sources"]):
        result = runner.invoke(app, args, env={"RAG_HOME": str(home)})
        assert result.exit_code == 1, (args, result.output)
        assert result.stderr.startswith(f"Error: {home}") and result.stderr.count("\n") == 1, result.stderr
        assert "RAG_HOME" in result.stderr
    assert home.read_text() == "not a folder"


def mount_tmpfs(folder: Path, options: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    if os.geteuid() != 0 or not shutil.which("mount"):
        pytest.skip("mounting a tmpfs needs root")
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(folder)], capture_output=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.decode().strip()}")


@pytest.fixture
def mounts() -> Iterator[list[Path]]:
    mounted: list[Path] = []
    yield mounted
    for folder in reversed(mounted):
        subprocess.run(["umount", "-l", str(folder)], check=False)


def test_a_read_only_index_folder_is_one_line(
    fake_embeddings: None, sample_corpus: Path, tmp_path: Path, mounts: list[Path], isolated_home: Path
) -> None:
    ingest([sample_corpus], Settings.from_env())
    folder = tmp_path / "ro"
    mount_tmpfs(folder, "size=64m")
    mounts.append(folder)
    home = folder / "home"
    shutil.copytree(isolated_home, home)  # a copy this process holds no files of, so it can be remounted
    subprocess.run(["mount", "-o", "remount,ro", str(folder)], check=True)  # read-only even for root
    runner = CliRunner()
    env = {"RAG_HOME": str(home)}
    with untouched(sample_corpus):
        result = runner.invoke(app, ["ingest", str(sample_corpus)], env=env)
        assert result.exit_code == 1 and result.stderr.count("\n") == 1, result.output
        assert result.stderr.startswith(f"Error: {home}") and "RAG_HOME" in result.stderr, result.stderr
        assert "read-only" in result.stderr.lower() or "Read-only" in result.stderr
        # Questions read the embedded store's read cache, which needs no write access: a read-only index
        # (a team's shared copy, say) still answers.
        asked = runner.invoke(app, ["ask", "Article 26?"], env=env)
        assert asked.exit_code == 0 and "Article 26" in asked.stdout, asked.output


def test_a_full_disk_is_one_line_and_the_next_run_completes(
    fake_embeddings: None, tmp_path: Path, mounts: list[Path], clean: Snapshot, notes: Path
) -> None:
    folder = tmp_path / "small"
    mount_tmpfs(folder, "size=2m")
    mounts.append(folder)
    settings = Settings.from_env({"RAG_HOME": str(folder / "home"), "RAG_EMBEDDINGS": "hash"})
    runner = CliRunner()
    with untouched(notes):
        result = runner.invoke(app, ["ingest", str(notes)], env={"RAG_HOME": str(folder / "home")})
        assert result.exit_code == 1 and result.stderr.count("\n") == 1, result.output
        assert result.stderr.startswith(f"Error: {folder / 'home'}: the disk is full"), result.stderr
        assert "free some space" in result.stderr
        subprocess.run(["mount", "-o", "remount,size=256m", str(folder)], check=True)  # space freed
        report = ingest([notes], settings)
        assert not report.failed
    assert_same_index(snapshot(settings), clean)
