"""Vectors saved per model on this machine: nothing is embedded twice, and a question embeds no passage sentence."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from rag.index import embed, saved_vectors


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.delenv("RAG_VECTOR_CACHE", raising=False)
    return tmp_path / "cache"


def test_vectors_come_back_as_saved_in_float32(cache: Path) -> None:
    saved_vectors.save("m-1", ["a text", "another"], [[0.1, 0.2, 0.3], [1.0, 0.0, -1.0]])
    found = saved_vectors.load("m-1", ["another", "a text", "never saved"])
    assert set(found) == {"a text", "another"}
    assert found["a text"] == np.asarray([0.1, 0.2, 0.3], dtype=np.float32).tolist()
    assert saved_vectors.load("m-2", ["a text"]) == {}  # another model's vectors are apart
    assert (cache / "rag-nonpunishment" / "vectors" / "m-1.sqlite").is_file()


def test_a_folder_may_be_chosen_for_them(cache: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RAG_VECTOR_CACHE", str(tmp_path / "team-vectors"))
    saved_vectors.save("m-1", ["text"], [[1.0]])
    assert (tmp_path / "team-vectors" / "m-1.sqlite").is_file() and not cache.exists()
    assert saved_vectors.load("m-1", ["text"]) == {"text": [1.0]}


def test_only_texts_never_embedded_are_computed(cache: Path) -> None:
    calls: list[list[str]] = []

    def compute(texts: list[str]) -> list[list[float]]:
        calls.append(list(texts))
        return [[float(len(t)), 1.0] for t in texts]

    first = embed.saved_or_computed("e5", ["one", "two", "one"], compute)
    again = embed.saved_or_computed("e5", ["two", "three", "one"], compute)
    assert calls == [["one", "two"], ["three"]]
    assert first == [[3.0, 1.0], [3.0, 1.0], [3.0, 1.0]] and again[0] == first[1] and again[1] == [5.0, 1.0]


def test_turned_off_or_unwritable_the_vectors_are_computed(
    cache: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[str] = []

    def compute(texts: list[str]) -> list[list[float]]:
        calls.extend(texts)
        return [[0.5] for _ in texts]

    monkeypatch.setenv("RAG_VECTOR_CACHE", "0")
    embed.saved_or_computed("e5", ["x"], compute)
    embed.saved_or_computed("e5", ["x"], compute)
    assert calls == ["x", "x"] and not cache.exists()
    monkeypatch.delenv("RAG_VECTOR_CACHE")
    blocked = tmp_path / "a-file"
    blocked.write_text("not a folder")
    monkeypatch.setenv("XDG_CACHE_HOME", str(blocked))
    assert embed.saved_or_computed("e5", ["y"], compute) == [[0.5]]  # no error: computed instead


@pytest.mark.slow
def test_ingest_embeds_the_quoted_sentences_ahead_so_a_question_embeds_none(
    cache: Path, sample_corpus: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from rag.answer.assistant import Assistant
    from rag.core.config import Settings
    from rag.index import e5
    from rag.ingest.pipeline import ingest

    settings = Settings.from_env({"RAG_HOME": str(tmp_path / "home"), "RAG_CORPUS": str(sample_corpus)})
    assert settings.embeddings == "e5"  # the default
    assert not ingest(None, settings).failed

    def no_passages(texts: list[str]) -> list[list[float]]:
        raise AssertionError(f"embedded at question time: {texts[:2]}")

    monkeypatch.setattr(e5, "passages", no_passages)
    answer = Assistant(settings).ask("What does Article 26 of the Sample Convention require?")
    assert not answer.refused and "possibility of not imposing penalties" in answer.answer
    # A second index over the same files embeds nothing either: every passage vector was saved.
    other = Settings.from_env({"RAG_HOME": str(tmp_path / "home2"), "RAG_CORPUS": str(sample_corpus)})
    report = ingest(None, other)
    assert not report.failed and report.embedded > 0
