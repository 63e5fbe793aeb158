"""Servers that accept a connection and never answer (or answer a byte at a time): every command gives up in
bounded time with one line that says so. Real sockets on 127.0.0.1 only."""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import venv_bin
from hung_servers import full_backlog, serving, silent, timed

from rag.index import chroma_http

BOUND = 30.0  # seconds a test waits for a command before calling it hung


def run_rag(*args: str, env: dict[str, str]) -> tuple[subprocess.CompletedProcess[str] | None, float]:
    """The command's outcome and its time; None when it was still running after BOUND seconds."""
    start = time.monotonic()
    try:
        done = subprocess.run([venv_bin("rag"), *args], env=env, capture_output=True, text=True, timeout=BOUND)
    except subprocess.TimeoutExpired:
        return None, time.monotonic() - start
    return done, time.monotonic() - start


@pytest.mark.slow
@pytest.mark.parametrize("command", [["ask", "Is Article 26 binding?"], ["sources"], ["ingest"]])
def test_a_chroma_server_that_never_answers_is_one_line_within_seconds(command: list[str], sample_corpus: Path) -> None:
    with serving(silent) as port:
        url = f"http://127.0.0.1:{port}"
        env = {**os.environ, "RAG_CHROMA_URL": url, "RAG_CORPUS": str(sample_corpus), "RAG_EMBEDDINGS": "hash"}
        done, seconds = run_rag(*command, env=env)
    assert done is not None, f"`rag {command[0]}` still hung after {seconds:.0f} s"
    assert done.returncode == 1, done.stderr
    assert done.stderr == (
        f"Error: Chroma server at {url} is not answering (no answer within 5 s); "
        "start it (chroma run --path DIR --port N) or unset RAG_CHROMA_URL\n"
    )
    assert seconds < chroma_http.ANSWER_TIMEOUT + 10, seconds


@pytest.mark.slow
def test_a_chroma_server_that_never_completes_the_connection_is_one_line(sample_corpus: Path) -> None:
    with full_backlog() as port:
        url = f"http://127.0.0.1:{port}"
        env = {**os.environ, "RAG_CHROMA_URL": url, "RAG_EMBEDDINGS": "hash"}
        done, seconds = run_rag("sources", env=env)
    assert done is not None, f"`rag sources` still hung after {seconds:.0f} s"
    assert done.returncode == 1 and done.stderr.startswith(f"Error: Chroma server at {url} is not answering ("), (
        done.stderr
    )
    assert done.stderr.count("\n") == 1 and seconds < chroma_http.CONNECT_TIMEOUT + 10, (done.stderr, seconds)


@pytest.mark.slow
def test_the_client_of_a_real_chroma_server_has_connect_and_read_timeouts(on_server: object) -> None:
    from rag.core.config import Settings
    from rag.index import store

    client = store.open_client(Settings.from_env())
    timeout = client._server._session.timeout  # type: ignore[attr-defined]
    assert (timeout.connect, timeout.read) == (chroma_http.CONNECT_TIMEOUT, chroma_http.READ_TIMEOUT)
    assert client.heartbeat() > 0


def passage_retrieval() -> object:
    from rag.core.records import Chunk, DocMeta, Hit
    from rag.retrieve.hybrid import Retrieval
    from rag.retrieve.query import parse

    text = "Article 26 requires each Party to provide for the possibility of not imposing penalties on victims."
    meta = DocMeta(title="Sample Convention", citation="SCT No. 1", type="treaty")
    chunk = Chunk("c:26", "c", text, "Article 26", (), 0, len(text), None, meta, "/c/c.md")
    return Retrieval(hits=[Hit(chunk, 0.9, dense=0.9)], best=0.9, parsed=parse("Is Article 26 binding?"))


@pytest.mark.slow
@pytest.mark.parametrize(("provider", "streamed"), [("openai", False), ("openai", True), ("ollama", False)])
def test_an_llm_server_that_never_answers_gets_one_total_deadline(
    provider: str, streamed: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    from rag.answer import llm
    from rag.core.errors import LLMError

    monkeypatch.setattr(llm, "TIMEOUT", 3.0)
    with serving(silent) as port:
        url = f"http://127.0.0.1:{port}" + ("/v1" if provider == "openai" else "")
        engine = llm.LLMEngine(f"{provider}:gemma@{url}")
        found = passage_retrieval()
        tokens: list[str] = []
        if streamed:
            outcome, seconds = timed(lambda: engine.stream("Is Article 26 binding?", found, tokens.append))  # type: ignore[arg-type]
        else:
            outcome, seconds = timed(lambda: engine.answer("Is Article 26 binding?", found))  # type: ignore[arg-type]
    assert isinstance(outcome, LLMError), outcome
    assert str(outcome) == (f"the model server at {url} gave no answer within 3 s; retry or use a smaller model"), (
        outcome
    )
    assert 2.9 < seconds < 4.5, f"the error came after {seconds:.1f} s, not 3 s"
    assert not tokens


def test_within_hands_over_items_and_errors_in_the_callers_thread() -> None:
    from rag.answer.deadline import within

    assert list(within(5, lambda: iter(["a", "b"]))) == ["a", "b"]

    def failing() -> Iterator[str]:
        yield "a"
        raise ConnectionError("reset")

    with pytest.raises(ConnectionError, match="reset"):
        list(within(5, failing))


def test_within_stops_waiting_at_the_deadline_however_the_items_trickle() -> None:
    from rag.answer.deadline import Overdue, within

    def trickling() -> Iterator[str]:
        while True:
            time.sleep(0.1)
            yield "."

    got: list[str] = []
    outcome, seconds = timed(lambda: got.extend(within(0.5, trickling)))
    assert isinstance(outcome, Overdue) and 0.45 < seconds < 1.0 and 2 <= len(got) <= 6, (outcome, seconds, got)
