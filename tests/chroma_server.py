"""A real Chroma server for tests (`chroma run` on a free loopback port), and what tests compare indexes with.

Test modules load it with `pytest_plugins = ["chroma_server"]`: the session-scoped `chroma_server`
fixture is then shared by every module, so the server starts once per run.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import random
import signal
import socket
import subprocess
import time
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from conftest import venv_bin

START_TIMEOUT = 60.0


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class ChromaServer:
    """One `chroma run` process serving a data folder on 127.0.0.1."""

    def __init__(self, path: Path, port: int | None = None) -> None:
        self.path = path
        self.port = port or free_port()
        self.proc: subprocess.Popen[bytes] | None = None
        self.log = path.with_name(path.name + ".log")

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def heartbeat(self) -> bool:
        try:
            with urllib.request.urlopen(f"{self.url}/api/v2/heartbeat", timeout=2) as response:
                return bool(response.status == 200)
        except OSError:
            return False

    def start(self) -> ChromaServer:
        env = {**os.environ, "ANONYMIZED_TELEMETRY": "False", "NO_COLOR": "1"}
        with self.log.open("ab") as log:
            self.proc = subprocess.Popen(
                [venv_bin("chroma"), "run", "--path", str(self.path), "--host", "127.0.0.1", "--port", str(self.port)],
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env=env,
                start_new_session=True,
            )
        deadline = time.monotonic() + START_TIMEOUT
        while not self.heartbeat():
            if self.proc.poll() is not None:
                raise RuntimeError(f"chroma run exited with {self.proc.returncode}; see {self.log}")
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"chroma run did not answer within {START_TIMEOUT:.0f} s; see {self.log}")
            time.sleep(0.2)
        return self

    def kill(self) -> None:
        """Take the server away abruptly (SIGKILL), as a crash or a pulled cable would."""
        if self.proc is not None and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=30)
        self.proc = None

    def stop(self) -> None:
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill()
        self.proc = None


@pytest.fixture(scope="session")
def chroma_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ChromaServer]:
    """One real Chroma server for the whole run; each test uses its own collection on it."""
    server = ChromaServer(tmp_path_factory.mktemp("chroma-server") / "data").start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def on_server(chroma_server: ChromaServer, monkeypatch: pytest.MonkeyPatch) -> ChromaServer:
    """Point this test's commands at the shared server, in a collection of its own."""
    monkeypatch.setenv("RAG_CHROMA_URL", chroma_server.url)
    monkeypatch.setenv("RAG_COLLECTION", f"t-{uuid.uuid4().hex[:12]}")
    return chroma_server


# --- comparing indexes and guarding sources --------------------------------------------------------

WORDS = [
    *("victim", "trafficking", "penalty", "prosecution", "compelled", "offence", "provision", "state", "party"),
    *("court", "identification", "assistance", "shelter", "exploitation", "labour", "migrant", "child"),
    *("defence", "recovery", "reflection", "period"),
]


def many_notes(folder: Path, count: int, seed: int = 1) -> list[Path]:
    """count small Markdown notes of four paragraphs each under one Article heading."""
    folder.mkdir(parents=True, exist_ok=True)
    rnd = random.Random(seed)
    paths = []
    for i in range(count):
        body = "\n\n".join(" ".join(rnd.choice(WORDS) for _ in range(60)) + "." for _ in range(4))
        path = folder / f"note-{i:04d}.md"
        path.write_text(f"---\ntitle: Note {i}\n---\n# Note {i}\n\n## Article {i + 1}\n\n{body}\n")
        paths.append(path)
    return paths


def fingerprint(*folders: Path) -> dict[str, str]:
    """sha256 of every file under the folders (and their sizes and modes, through the bytes and the stat)."""
    prints: dict[str, str] = {}
    for folder in folders:
        for path in sorted(folder.rglob("*")):
            if path.is_file() and not path.is_symlink():
                st = path.stat()
                prints[str(path)] = f"{hashlib.sha256(path.read_bytes()).hexdigest()} {st.st_mode:o} {st.st_mtime_ns}"
    return prints


@contextlib.contextmanager
def untouched(*folders: Path) -> Iterator[None]:
    """Fail when anything under the folders was written while the block ran (sources are read-only to rag)."""
    before = fingerprint(*folders)
    yield
    assert fingerprint(*folders) == before, "a source file was changed by rag"


@dataclass(frozen=True)
class Snapshot:
    """What an index holds: its own ids and records, and its chunks in a form two indexes can be compared by."""

    ids: frozenset[str]
    recorded: frozenset[str]
    keyword_ids: frozenset[str]
    count: int
    chunks: frozenset[tuple[str, int, int, str]]  # (file name, start, end, stored text): the same for any folder


def snapshot(settings: object) -> Snapshot:
    from rag.core.config import Settings
    from rag.index import keyword, store

    assert isinstance(settings, Settings)
    client = store.open_client(settings)
    collection = store.chunk_collection(client, settings)
    data = collection.get(include=["metadatas", "documents"])
    records = client.get_collection(settings.collection + store.RECORDS_SUFFIX).get(include=[])
    metas, texts = data["metadatas"] or [], data["documents"] or []
    return Snapshot(
        ids=frozenset(data["ids"]),
        recorded=frozenset(records["ids"]),
        keyword_ids=frozenset(keyword.load(settings, collection).ids),
        count=collection.count(),
        chunks=frozenset(
            (Path(str(m["source"])).name, int(m["start"]), int(m["end"]), t) for m, t in zip(metas, texts, strict=True)
        ),
    )


def expected(folder: Path) -> frozenset[tuple[str, int, int, str]]:
    """The chunks a clean ingest of folder stores, computed straight from the files."""
    from rag.ingest.chunk import chunk_document
    from rag.ingest.discover import discover
    from rag.ingest.load import load_document
    from rag.ingest.pipeline import to_document

    chunks = set()
    for path in discover([folder]):
        for c in chunk_document(load_document(path)):
            chunks.add((path.name, c.start, c.end, to_document(c).page_content))
    return frozenset(chunks)


def assert_same_index(got: Snapshot, clean: Snapshot | frozenset[tuple[str, int, int, str]]) -> None:
    """The same chunks as a clean ingest: nothing missing, nothing doubled, nothing orphaned or unrecorded."""
    want = clean.chunks if isinstance(clean, Snapshot) else clean
    assert got.chunks == want, f"{len(got.chunks - want)} extra, {len(want - got.chunks)} missing chunks"
    assert got.count == len(got.ids) == len(want), "duplicate chunks"
    assert got.recorded == got.ids, "ledger and store disagree (orphans or ghosts)"
    assert got.keyword_ids == got.ids, "the keyword index lags behind the store"
