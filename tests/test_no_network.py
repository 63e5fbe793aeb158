"""Nothing leaves the machine: ingest, ask and chat connect to nothing but the configured Chroma server."""

from __future__ import annotations

import contextlib
import ipaddress
import json
import os
import shutil
import socket
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from chroma_server import ChromaServer, untouched
from conftest import venv_bin
from typer.testing import CliRunner

from rag.answer.assistant import Assistant
from rag.core.config import Settings
from rag.faces.cli import app
from rag.ingest.pipeline import ingest

pytest_plugins = ["chroma_server"]
pytestmark = pytest.mark.slow
LOCAL_NAMES = {"localhost", "127.0.0.1", "::1", "ip6-localhost"}
QUESTION = "What does Article 26 of the Sample Convention require?"


@dataclass
class Guard:
    """Records every connection and name lookup; refuses all but loopback connections to the allowed ports."""

    ports: set[int]
    seen: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)

    def connection(self, address: Any) -> None:
        if isinstance(address, (str, bytes)):  # an AF_UNIX socket: not the network
            self.seen.append(f"unix:{address!r}")
            return
        host, port = str(address[0]), int(address[1])
        self.seen.append(f"{host}:{port}")
        if host not in LOCAL_NAMES or port not in self.ports:
            self.refused.append(f"{host}:{port}")
            raise OSError(101, f"network blocked by the test: {host}:{port}")

    def lookup(self, host: Any) -> None:
        name = host.decode() if isinstance(host, bytes) else str(host)
        with contextlib.suppress(ValueError):
            ipaddress.ip_address(name)
            return  # a numeric address needs no lookup; connection() judges it
        if host is not None and name not in LOCAL_NAMES:
            self.refused.append(f"lookup {name}")
            raise socket.gaierror(socket.EAI_NONAME, f"name lookup blocked by the test: {name}")


@pytest.fixture
def guard(monkeypatch: pytest.MonkeyPatch) -> Iterator[Guard]:
    """The guard around socket connects and name lookups; a test allows its server with guard.ports.add(PORT)."""
    g = Guard(ports=set())
    real_connect, real_connect_ex = socket.socket.connect, socket.socket.connect_ex
    real_getaddrinfo = socket.getaddrinfo

    def connect(self: socket.socket, address: Any) -> None:
        g.connection(address)
        real_connect(self, address)

    def connect_ex(self: socket.socket, address: Any) -> int:
        g.connection(address)
        return real_connect_ex(self, address)

    def getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
        g.lookup(host)
        return real_getaddrinfo(host, *args, **kwargs)

    monkeypatch.setattr(socket.socket, "connect", connect)
    monkeypatch.setattr(socket.socket, "connect_ex", connect_ex)
    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    yield g


def ingest_ask_and_chat(corpus: Path, chat_commands: str = "") -> None:
    """A user's whole day on the sample corpus: ingest, one question, a chat session."""
    settings = Settings.from_env()
    with untouched(corpus):
        report = ingest([corpus], settings)
    answer = Assistant(settings).ask(QUESTION)
    chat = CliRunner().invoke(app, ["chat"], input=f"{QUESTION}\n{chat_commands}/quit\n")
    assert len(report.added) == 2 and answer.citations[0].pinpoint == "Article 26"
    assert chat.exit_code == 0 and "Article 26" in chat.output


def test_the_embedded_store_and_the_real_model_open_no_connection(
    guard: Guard, sample_corpus: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from rag.index import embed

    embed._sentence_transformer.cache_clear()  # load the model under the guard, as a fresh process would
    for var in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE"):  # rag must set these itself
        monkeypatch.delenv(var, raising=False)
    ingest_ask_and_chat(sample_corpus, "/sources\n")
    assert guard.seen == [] and guard.refused == []


def test_with_a_server_only_the_server_is_contacted(guard: Guard, on_server: ChromaServer, sample_corpus: Path) -> None:
    guard.ports.add(on_server.port)
    ingest_ask_and_chat(sample_corpus)
    assert guard.refused == [], guard.refused
    assert guard.seen and set(guard.seen) <= {f"127.0.0.1:{on_server.port}"}


def test_the_guard_itself_refuses_the_network(guard: Guard) -> None:
    with pytest.raises(OSError, match="blocked by the test"):
        socket.create_connection(("192.0.2.1", 443), timeout=1)
    with pytest.raises(OSError, match="blocked by the test"):
        socket.create_connection(("127.0.0.1", 9), timeout=1)
    with pytest.raises(OSError, match="blocked by the test"):
        socket.getaddrinfo("huggingface.co", 443)
    assert guard.refused == ["192.0.2.1:443", "127.0.0.1:9", "lookup huggingface.co"]


def test_ingest_and_ask_work_without_any_network(sample_corpus: Path, tmp_path: Path) -> None:
    """In a network namespace with no interface at all (not even loopback), with the real model."""
    unshare = shutil.which("unshare")
    if unshare is None or subprocess.run([unshare, "-n", "true"], capture_output=True).returncode != 0:
        pytest.skip("unshare -n is not available here (it needs root or user namespaces)")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("RAG_", "HF_", "TRANSFORMERS_"))}
    env["RAG_HOME"] = str(tmp_path / "home")
    script = f'"{venv_bin("rag")}" ingest "{sample_corpus}" --json && "{venv_bin("rag")}" ask "{QUESTION}" --json'
    with untouched(sample_corpus):
        done = subprocess.run([unshare, "-n", "sh", "-c", script], env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    decoder = json.JSONDecoder()
    report, end = decoder.raw_decode(done.stdout)
    answer = json.loads(done.stdout[end:])
    assert len(report["added"]) == 2 and not report["failed"]
    assert answer["citations"][0]["pinpoint"] == "Article 26" and not answer["refused"]
