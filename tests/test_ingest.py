"""Incremental ingest decisions on a real on-disk Chroma with deterministic fake embeddings."""

from pathlib import Path

import pytest

from rag.core.config import Settings
from rag.core.errors import CorpusNotFound, StoreBusy
from rag.index import locks, store
from rag.ingest.pipeline import ingest


def chunk_texts(settings: Settings) -> list[str]:
    client = store.open_client(settings)
    data = store.chunk_collection(client, settings).get(include=["documents"])
    return sorted(data["documents"] or [])


def test_second_run_embeds_nothing(fake_embeddings: None, sample_corpus: Path) -> None:
    settings = Settings.from_env()
    first = ingest([sample_corpus], settings)
    assert len(first.added) == 2 and first.embedded == first.chunks > 0
    second = ingest([sample_corpus], settings)
    assert second.embedded == 0 and len(second.unchanged) == 2 and not second.added and not second.updated
    assert second.chunks == first.chunks


def test_edited_file_leaves_no_old_chunks(fake_embeddings: None, sample_corpus: Path) -> None:
    settings = Settings.from_env()
    ingest([sample_corpus], settings)
    note = sample_corpus / "sample-convention.md"
    note.write_text(note.read_text().replace("identify victims early", "identify victims at once"))
    report = ingest([sample_corpus], settings)
    assert report.updated == [str(note.resolve())] and report.embedded == 1
    texts = " ".join(chunk_texts(settings))
    assert "identify victims at once" in texts and "identify victims early" not in texts


def test_deleted_file_is_removed(fake_embeddings: None, sample_corpus: Path) -> None:
    settings = Settings.from_env()
    ingest([sample_corpus], settings)
    act = sample_corpus / "sample-act.md"
    act.unlink()
    report = ingest([sample_corpus], settings)
    assert report.removed == [str(act.resolve())]
    assert not any("Section 45(4) gives children" in t for t in chunk_texts(settings))


def test_ingesting_one_folder_keeps_another(fake_embeddings: None, sample_corpus: Path, tmp_path: Path) -> None:
    settings = Settings.from_env()
    other = tmp_path / "other"
    other.mkdir()
    (other / "extra.md").write_text("---\ntitle: Extra\n---\n# Extra\n\nAn extra note on shelters.\n")
    ingest([sample_corpus], settings)
    report = ingest([other], settings)
    assert not report.removed and len(report.added) == 1
    assert any("shelters" in t for t in chunk_texts(settings)) and any("Article 26" in t for t in chunk_texts(settings))


def test_bad_files_are_listed_and_the_rest_goes_on(fake_embeddings: None, sample_corpus: Path) -> None:
    (sample_corpus / "empty.md").write_text("")
    (sample_corpus / "broken.md").write_text("---\ntitle: [x\n---\nbody\n")
    report = ingest([sample_corpus], Settings.from_env())
    assert len(report.added) == 2
    assert {Path(p).name for p, _ in report.failed} == {"empty.md", "broken.md"}


def test_missing_path_is_named(fake_embeddings: None, tmp_path: Path) -> None:
    with pytest.raises(CorpusNotFound, match="nowhere"):
        ingest([tmp_path / "nowhere"], Settings.from_env())


def test_a_second_writer_is_turned_away(fake_embeddings: None, sample_corpus: Path) -> None:
    settings = Settings.from_env()
    with locks.write_lock(settings), pytest.raises(StoreBusy, match="--wait"):
        ingest([sample_corpus], settings)


def test_orphans_from_a_killed_run_are_removed(fake_embeddings: None, sample_corpus: Path) -> None:
    settings = Settings.from_env()
    report = ingest([sample_corpus], settings)
    collection = store.chunk_collection(store.open_client(settings), settings)
    collection.add(ids=["orphan"], embeddings=[[0.1] * 384], documents=["half-written"], metadatas=[{"doc_id": "x"}])
    again = ingest([sample_corpus], settings)
    assert again.chunks == report.chunks and "orphan" not in collection.get(include=[])["ids"]


def test_whole_collections_are_read_a_page_at_a_time(
    fake_embeddings: None, sample_corpus: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """SQLite refuses one read of ~100,000 rows; paged reads see every row, and ingest works through them."""
    settings = Settings.from_env()
    monkeypatch.setattr(store, "PAGE", 2)
    first = ingest([sample_corpus], settings)
    collection = store.chunk_collection(store.open_client(settings), settings)
    whole = collection.get(include=["documents", "metadatas"])
    paged = store.get_all(collection, ["documents", "metadatas"])
    assert first.chunks > 2 and sorted(paged["ids"]) == sorted(whole["ids"]) and len(paged["ids"]) == first.chunks
    assert dict(zip(paged["ids"], paged["documents"], strict=True)) == dict(
        zip(whole["ids"], whole["documents"] or [], strict=True)
    )
    again = ingest([sample_corpus], settings)
    assert again.embedded == 0 and again.chunks == first.chunks


def test_a_corpus_without_a_single_latin_word_still_indexes(fake_embeddings: None, tmp_path: Path) -> None:
    """The keyword index has no words to hold; building it must not fail the ingest."""
    folder = tmp_path / "cyrillic"
    folder.mkdir()
    (folder / "zakon.md").write_text("# Закон\n\nЖертвы торговли людьми не подлежат наказанию.\n", encoding="utf-8")
    report = ingest([folder], Settings.from_env())
    assert report.chunks >= 1 and not report.failed
