"""A team on one real Chroma server: every command goes there, the ledger lives there, users share one index."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from chroma_server import ChromaServer, free_port, snapshot, untouched
from conftest import CORPUS
from typer.testing import CliRunner

from rag.answer.assistant import Assistant
from rag.core.config import Settings
from rag.core.errors import StoreBusy
from rag.faces.cli import app
from rag.index import locks, store
from rag.ingest.pipeline import ingest

pytest_plugins = ["chroma_server"]
pytestmark = pytest.mark.slow
runner = CliRunner()
ARTICLE_26 = "What does Article 26 of the Sample Convention require?"
SCRIPT = """\
title: "Team server check"
questions:
  - ask: "What does Article 26 of the Sample Convention require?"
    expect:
      cite: ["Article 26"]
      mention: ["compelled"]
  - ask: "Does a child need to show compulsion under Section 45(4)?"
    expect:
      cite: ["Section 45(4)"]
"""


def server_collections(server: ChromaServer) -> dict[str, int]:
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    quiet = ChromaSettings(anonymized_telemetry=False)
    client = chromadb.HttpClient(host="127.0.0.1", port=server.port, settings=quiet)
    return {c.name: c.count() for c in client.list_collections()}


def test_ingest_goes_to_the_server_and_a_second_run_embeds_nothing(
    fake_embeddings: None, on_server: ChromaServer, sample_corpus: Path, isolated_home: Path
) -> None:
    settings = Settings.from_env()
    with untouched(sample_corpus):
        first = ingest([sample_corpus], settings)
        second = ingest([sample_corpus], settings)
    assert len(first.added) == 2 and first.embedded == first.chunks > 0
    assert second.embedded == 0 and len(second.unchanged) == 2 and second.chunks == first.chunks
    on_server_now = server_collections(on_server)
    assert on_server_now[settings.collection] == first.chunks
    assert on_server_now[settings.collection + store.RECORDS_SUFFIX] == first.chunks  # the ledger is there too
    assert settings.collection + locks.WRITER_SUFFIX not in on_server_now  # the writer lease was given back
    assert not (isolated_home / "chroma").exists()  # nothing was stored on this machine but the keyword cache


def test_two_users_share_one_index_and_see_each_others_updates(
    fake_embeddings: None, on_server: ChromaServer, sample_corpus: Path, tmp_path: Path
) -> None:
    alice = Settings.from_env()
    bob = Settings.from_env({**_env(), "RAG_HOME": str(tmp_path / "bob")})
    with untouched(sample_corpus):
        ingest([sample_corpus], alice)
        bobs = ingest([sample_corpus], bob)  # Bob's own machine state is empty, but the server's ledger is not
    assert bobs.embedded == 0 and len(bobs.unchanged) == 2 and not bobs.added

    bob_chat = Assistant(bob)  # Bob keeps a chat open while Alice edits and re-ingests
    first = bob_chat.ask(ARTICLE_26)
    assert first.as_dict()["citations"] == Assistant(alice).ask(ARTICLE_26).as_dict()["citations"]
    assert first.citations[0].pinpoint == "Article 26"

    note = sample_corpus / "sample-convention.md"
    note.write_text(note.read_text() + "\n## Article 27 — Shelters\n\nArticle 27 requires quokka shelters.\n")
    report = ingest([sample_corpus], alice)
    assert report.updated == [str(note.resolve())]
    generation = store.chunk_collection(store.open_client(bob), bob).metadata["keyword_generation"]
    answer = bob_chat.ask("What does Article 27 of the Sample Convention say about quokka shelters?")
    assert answer.citations[0].pinpoint == "Article 27" and "quokka" in answer.citations[0].quote
    # Bob's keyword index was rebuilt on his machine from the server's texts, stamped with the new generation.
    cache = json.loads((tmp_path / "bob" / "keyword" / bob.collection / "ids.json").read_text())
    assert cache["generation"] == generation
    assert snapshot(bob).ids == snapshot(alice).ids


def _env() -> dict[str, str]:
    import os

    return {k: v for k, v in os.environ.items() if k.startswith("RAG_")}


def test_cli_ask_and_a_session_run_against_the_server(
    fake_embeddings: None, on_server: ChromaServer, sample_corpus: Path, tmp_path: Path
) -> None:
    with untouched(sample_corpus):
        result = runner.invoke(app, ["ingest", str(sample_corpus), "--json"])
    assert result.exit_code == 0, result.output
    assert len(json.loads(result.stdout)["added"]) == 2

    asked = runner.invoke(app, ["ask", ARTICLE_26, "--json"])
    assert asked.exit_code == 0, asked.output
    assert json.loads(asked.stdout)["citations"][0]["pinpoint"] == "Article 26"

    assert "session" in {c.name for c in app.registered_groups}, "`rag session` is not registered"
    script = tmp_path / "team.yaml"
    script.write_text(SCRIPT)
    out = tmp_path / "out"
    ran = runner.invoke(app, ["session", "run", str(script), "--out", str(out)])
    assert ran.exit_code == 0, ran.output
    lines = [json.loads(line) for line in (out / "results.jsonl").read_text().splitlines()]
    assert [line["citations"][0]["pinpoint"] for line in lines] == ["Article 26", "Section 45(4)"]
    assert (out / "transcript.html").is_file() and (out / "transcript.md").is_file()


def test_a_second_writer_on_the_server_is_told_and_an_abandoned_lease_is_taken_over(
    fake_embeddings: None, on_server: ChromaServer, sample_corpus: Path
) -> None:
    settings = Settings.from_env()
    with locks.write_lock(settings), pytest.raises(StoreBusy, match=r"--wait") as busy:
        ingest([sample_corpus], settings)
    assert on_server.url in str(busy.value) and "pid" in str(busy.value)

    # An ingest on another machine died an hour ago without giving its lease back.
    client = store.open_client(settings)
    gone = time.time() - 3600
    lease = {"host": "elsewhere", "pid": 1, "since": gone, "renewed": gone}
    client.create_collection(settings.collection + locks.WRITER_SUFFIX, metadata=lease)
    assert len(ingest([sample_corpus], settings).added) == 2


def test_a_server_that_is_not_running_is_one_line(fake_embeddings: None, monkeypatch: pytest.MonkeyPatch) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    monkeypatch.setenv("RAG_CHROMA_URL", url)
    for args in (["ingest"], ["ask", "Is Article 26 binding?"], ["sources"]):
        started = time.monotonic()
        result = runner.invoke(app, args)
        assert result.exit_code == 1 and result.stderr.count("\n") == 1, result.output
        assert result.stderr.startswith(f"Error: Chroma server at {url} is not answering")
        assert "chroma run" in result.stderr and time.monotonic() - started < 10


def test_the_real_model_on_the_server_answers_as_the_embedded_store_does(
    on_server: ChromaServer, real_index: Path
) -> None:
    settings = Settings.from_env({**_env(), "RAG_CORPUS": str(CORPUS)})
    with untouched(CORPUS):
        report = ingest(None, settings)
        assert not report.failed and report.embedded == report.chunks > 100
        assert ingest(None, settings).embedded == 0
    embedded = Assistant(Settings.from_env({"RAG_HOME": str(real_index), "RAG_CORPUS": str(CORPUS)}))
    served = Assistant(settings)
    refused = []
    for question in (
        "What does Article 26 of the Council of Europe Convention require?",
        "What was the score of the football match last night?",
        # The store's full-text search decides these: a name found, and one that is not.
        "Does the Modern Slavery Act defence protect a child?",
        "Which article of the Code of Criminal Procedure lets an investigator drop a case against a victim?",
    ):
        here, there = embedded.ask(question).as_dict(), served.ask(question).as_dict()
        assert there["answer"] == here["answer"] and there["refused"] == here["refused"]
        assert [c["pinpoint"] for c in there["citations"]] == [c["pinpoint"] for c in here["citations"]]
        refused.append(there["refused"])
    assert refused == [False, True, False, True]
