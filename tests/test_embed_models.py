"""The embedding model is chosen in one place and recorded in the index; a store is never queried with another."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from rag.core import config
from rag.core.config import Settings
from rag.core.errors import ConfigError, IndexModelMismatch
from rag.faces.cli import app
from rag.index import embed, store
from rag.ingest.pipeline import ingest

runner = CliRunner()
E5_NAME = embed.MODELS["e5"].name
HASH_NAME = embed.MODELS["hash"].name


def chunks(settings: Settings) -> store.Collection:
    return store.chunk_collection(store.open_client(settings), settings)


def one_line_error(args: list[str], *needles: str) -> str:
    result = runner.invoke(app, args)
    assert result.exit_code == 1, result.output
    assert result.stderr.startswith("Error: ") and result.stderr.count("\n") == 1, result.stderr
    assert "Traceback" not in result.output
    for needle in needles:
        assert needle in result.stderr, result.stderr
    return result.stderr


def test_the_kinds_are_the_same_in_config_and_embed() -> None:
    assert config.EMBEDDINGS == embed.KINDS
    assert Settings.from_env({"RAG_EMBEDDINGS": "e5"}).embeddings == "e5"
    with pytest.raises(ConfigError, match="'e5'"):
        Settings.from_env({"RAG_EMBEDDINGS": "labse"})
    with pytest.raises(ConfigError, match="unknown embeddings"):
        embed.make_embeddings("labse")


def test_ingest_records_the_model_and_keeps_it_through_updates(fake_embeddings: None, sample_corpus: Path) -> None:
    settings = Settings.from_env()
    ingest([sample_corpus], settings)
    meta = chunks(settings).metadata
    assert meta[store.MODEL_KEY] == HASH_NAME and meta[store.DIMENSIONS_KEY] == 384
    assert "keyword_generation" in meta  # the keyword stamp and the model record live side by side
    (sample_corpus / "sample-act.md").write_text((sample_corpus / "sample-act.md").read_text() + "\nMore text.\n")
    ingest([sample_corpus], settings)
    assert chunks(settings).metadata[store.MODEL_KEY] == HASH_NAME


def test_asking_with_another_model_is_one_line_and_rebuild_fixes_it(
    fake_embeddings: None, sample_corpus: Path, isolated_home: Path
) -> None:
    settings = Settings.from_env()
    ingest([sample_corpus], settings)
    collection = chunks(settings)
    collection.modify(metadata={**collection.metadata, store.MODEL_KEY: E5_NAME})  # as if built with e5
    message = one_line_error(
        ["ask", "What does Article 26 of the Sample Convention require?"],
        f"the index in {isolated_home} was built with {E5_NAME}",
        f"run `rag ingest --rebuild` to rebuild it with {HASH_NAME}",
        "set RAG_EMBEDDINGS=e5",
    )
    assert message.count("Error") == 1
    one_line_error(["ingest", str(sample_corpus)], f"built with {E5_NAME}")  # no silent mixing of two models
    one_line_error(["sources"], "rag ingest --rebuild")
    rebuilt = runner.invoke(app, ["ingest", str(sample_corpus), "--rebuild"])
    assert rebuilt.exit_code == 0, rebuilt.output
    assert chunks(settings).metadata[store.MODEL_KEY] == HASH_NAME
    assert runner.invoke(app, ["ask", "What does Article 26 of the Sample Convention require?"]).exit_code == 0


def test_an_index_from_before_the_record_counts_as_minilm(fake_embeddings: None) -> None:
    settings = Settings.from_env()
    client = store.open_client(settings, create=True)
    old = client.get_or_create_collection(settings.collection, configuration=store.CHUNK_SPACE)  # type: ignore[arg-type]
    old.add(ids=["a"], embeddings=[[0.1] * 384], documents=["Article 26"], metadatas=[{"doc_id": "x"}])
    with pytest.raises(IndexModelMismatch, match="built with all-MiniLM-L6-v2; run `rag ingest --rebuild`"):
        store.chunk_collection(client, settings)
    minilm = Settings.from_env({"RAG_HOME": str(settings.home), "RAG_EMBEDDINGS": "minilm"})
    store.chunk_collection(client, minilm, create=True)  # the ingest that finds it stamps it
    assert chunks(minilm).metadata[store.MODEL_KEY] == "all-MiniLM-L6-v2"


def test_an_empty_collection_takes_any_model(fake_embeddings: None) -> None:
    settings = Settings.from_env()
    client = store.open_client(settings, create=True)
    client.get_or_create_collection(settings.collection, configuration=store.CHUNK_SPACE)  # type: ignore[arg-type]
    e5 = Settings.from_env({"RAG_HOME": str(settings.home), "RAG_EMBEDDINGS": "e5"})
    assert store.chunk_collection(client, e5).count() == 0  # readers say "empty", not "another model"
    store.chunk_collection(client, settings, create=True)
    assert chunks(settings).metadata[store.MODEL_KEY] == HASH_NAME
