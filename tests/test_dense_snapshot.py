"""The embedded store's read cache (rag.index.dense_snapshot): the same answers as Chroma, never stale, no chromadb."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from rag.core.config import Settings
from rag.core.errors import IndexModelMismatch
from rag.index import dense_snapshot, keyword
from rag.ingest import pipeline
from rag.ingest.pipeline import ingest
from rag.retrieve.hybrid import Retriever, hit_key
from rag.retrieve.query import parse

REPO = Path(__file__).resolve().parent.parent
CORPUS = REPO / "corpus"
GOLD = [json.loads(line) for line in (REPO / "tests" / "gold" / "gold.jsonl").read_text().splitlines() if line.strip()]


def _settings(home: Path, corpus: Path = CORPUS, embeddings: str = "hash") -> Settings:
    return Settings.from_env({"RAG_HOME": str(home), "RAG_CORPUS": str(corpus), "RAG_EMBEDDINGS": embeddings})


@pytest.fixture(scope="module")
def hash_index(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """corpus/ indexed with the hash embeddings (fast), snapshot included."""
    home = tmp_path_factory.mktemp("snapshot-home")
    report = ingest(None, _settings(home))
    assert not report.failed, report.failed
    return home


def _chroma_retriever(settings: Settings) -> Retriever:
    """A Retriever that must use Chroma: opened while the store is marked as being written."""
    dense_snapshot.begin(settings)
    try:
        retriever = Retriever(settings)
    finally:
        dense_snapshot.done(settings)
    assert retriever.snapshot is None
    return retriever


def _same_dense(a: dict[str, float], b: dict[str, float]) -> None:
    """The same cosines rank by rank, and the same neighbours above the last one (ties there may be cut either way)."""
    assert len(a) == len(b)
    assert list(a.values()) == pytest.approx(list(b.values()), abs=1e-5)
    if a:
        last = min(a.values()) + 1e-5
        assert {c for c, v in a.items() if v > last} == {c for c, v in b.items() if v > last}


def _exact(slow: Retriever, qvec: list[float], allowed: set[str] | None, n: int) -> dict[str, float]:
    """The true nearest neighbours over the vectors Chroma holds (its HNSW index is approximate)."""
    import numpy as np

    data = slow.collection.get(include=["embeddings"])  # a small index: one page
    keep = [i for i, c in enumerate(data["ids"]) if allowed is None or c in allowed]
    vectors = np.asarray(data["embeddings"], dtype=np.float32)[keep]
    query = np.asarray(qvec, dtype=np.float32)
    sims = vectors @ query / (np.linalg.norm(vectors, axis=1) * np.linalg.norm(query))
    order = np.argsort(-sims, kind="stable")[:n]
    return {data["ids"][keep[i]]: float(sims[i]) for i in order}


def _no_worse(fast: dict[str, float], hnsw: dict[str, float]) -> None:
    """Chroma's approximate neighbours: each at the snapshot's cosine, none nearer than the snapshot's."""
    assert len(fast) == len(hnsw)
    for (_, mine), (cid, theirs) in zip(fast.items(), hnsw.items(), strict=True):
        assert mine >= theirs - 1e-5
        if cid in fast:
            assert fast[cid] == pytest.approx(theirs, abs=1e-5)


def _compare(settings: Settings, same_top: float) -> None:
    """Over the gold questions: the snapshot's neighbours are the exact ones over Chroma's vectors, never worse than
    Chroma's own search, its passages Chroma's; the final top 5 is Chroma's wherever Chroma found the same
    neighbours (at least the share same_top of the questions)."""
    fast = Retriever(settings)
    assert fast.snapshot is not None
    slow = _chroma_retriever(settings)
    assert fast.keywords.ids == slow.keywords.ids
    agreed = 0
    metas = zip(fast.keywords.ids, fast.keywords.metas, strict=True)
    one_doc = {c for c, m in metas if m["doc_id"] == "coe-convention"}
    for case in GOLD:
        parsed = parse(case["question"], fast.knowledge)
        qvec = fast.embeddings.embed_query(parsed.text)
        for allowed in (None, one_doc):
            dense = fast._dense(qvec, allowed)
            _same_dense(dense, _exact(slow, qvec, allowed, len(dense)))
            _no_worse(dense, slow._dense(qvec, allowed))
        ids = list(fast._dense(qvec, None))[:12]
        mine = {hit_key(h): h for h in fast._materialise(ids, qvec)}
        theirs = {hit_key(h): h for h in slow._materialise(ids, qvec)}
        assert mine.keys() == theirs.keys() == set(ids)
        for cid, hit in mine.items():
            assert hit.chunk == theirs[cid].chunk
            assert hit.dense == pytest.approx(theirs[cid].dense, abs=1e-5)
        if list(fast._dense(qvec, None)) == list(slow._dense(qvec, None)):
            agreed += 1
            top, chroma_top = fast.search(case["question"]), slow.search(case["question"])
            assert [hit_key(h) for h in top.hits] == [hit_key(h) for h in chroma_top.hits], case["id"]
            assert [h.dense for h in top.hits] == pytest.approx([h.dense for h in chroma_top.hits], abs=1e-5)
    assert agreed >= same_top * len(GOLD), agreed


def test_snapshot_and_chroma_agree_on_the_gold_questions(hash_index: Path) -> None:
    _compare(_settings(hash_index), same_top=0.3)


@pytest.mark.slow
def test_snapshot_and_chroma_agree_with_the_default_model(real_index: Path) -> None:
    _compare(Settings.from_env({"RAG_HOME": str(real_index), "RAG_CORPUS": str(CORPUS)}), same_top=0.9)


def test_full_text_scan_matches_the_store(hash_index: Path) -> None:
    from rag.index import store

    settings = _settings(hash_index)
    fast, slow = Retriever(settings), _chroma_retriever(settings)
    assert fast.snapshot is not None
    for text in ["Palermo Protocol", "palermo protocol", "PALERMO", "compelled", "Zoletić", "no such phrase xyzzy"]:
        assert store.contains(fast.snapshot, text) == store.contains(slow.collection, text), text


def test_saved_scores_match_bm25s(hash_index: Path) -> None:
    import bm25s
    import numpy as np

    folder = hash_index / "keyword" / "nonpunishment" / "bm25"
    theirs = bm25s.BM25.load(str(folder), show_progress=False)
    mine = keyword.saved_scores.load(folder)
    assert type(mine).__name__ == "SavedScores"
    for case in GOLD:
        terms = [*keyword.tokens(case["question"]), "article", "article", "nowordlikethis"]
        assert np.allclose(mine.get_scores(terms), theirs.get_scores(terms), atol=1e-6)


def _sample(tmp_path: Path) -> Path:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "note.md").write_text("---\ntitle: Note\njurisdiction: CoE\n---\n# Note\n\nThe first passage.\n")
    return corpus


def test_an_interrupted_ingest_leaves_the_snapshot_unused(
    tmp_path: Path, sample_corpus: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = _settings(tmp_path / "home", sample_corpus)
    ingest(None, settings)
    assert Retriever(settings).snapshot is not None
    (sample_corpus / "new.md").write_text("---\ntitle: Kumquat note\njurisdiction: UK\n---\n# K\n\nKumquat law.\n")

    def killed(*args: Any) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(pipeline, "_refresh_keywords", killed)  # killed after Chroma took the new chunk
    with pytest.raises(KeyboardInterrupt):
        ingest(None, settings)
    monkeypatch.undo()
    stale = Retriever(settings)
    assert stale.snapshot is None  # Chroma answers, and holds the new passage
    assert any("Kumquat" in h.chunk.text for h in stale.search("kumquat law").hits)
    ingest(None, settings)
    fresh = Retriever(settings)
    assert fresh.snapshot is not None
    assert any("Kumquat" in h.chunk.text for h in fresh.search("kumquat law").hits)


def test_a_snapshot_of_another_generation_is_not_used(tmp_path: Path, sample_corpus: Path) -> None:
    settings = _settings(tmp_path / "home", sample_corpus)
    ingest(None, settings)
    state_file = settings.home / "keyword" / settings.collection / dense_snapshot.STATE
    state = json.loads(state_file.read_text())
    assert dense_snapshot.stored_generation(settings) == state["generation"]
    state_file.write_text(json.dumps({**state, "generation": "an-older-one"}))  # as if Chroma moved on alone
    assert Retriever(settings).snapshot is None
    state_file.write_text(json.dumps({**state, "model": "another model"}))
    assert Retriever(settings).snapshot is None
    state_file.write_text(json.dumps(state))
    assert Retriever(settings).snapshot is not None
    collection = Retriever(settings).collection  # Chroma records another model for the collection:
    collection.modify(metadata={**(collection.metadata or {}), "embedding_model": "multilingual-e5-small"})
    with pytest.raises(IndexModelMismatch):
        Retriever(settings)  # not the snapshot: Chroma's own check names the mismatch


def test_an_index_without_a_snapshot_answers_and_the_next_ingest_adds_one(tmp_path: Path, sample_corpus: Path) -> None:
    settings = _settings(tmp_path / "home", sample_corpus)
    ingest(None, settings)
    folder = settings.home / "keyword" / settings.collection
    for name in (dense_snapshot.STATE, dense_snapshot.VECTORS, dense_snapshot.NORMS, dense_snapshot.TEXTS):
        (folder / name).unlink()  # as an index made before the snapshot existed
    old = Retriever(settings)
    assert old.snapshot is None
    assert "Article 26" in old.search("What does Article 26 require?").hits[0].chunk.text
    report = ingest(None, settings)
    assert report.embedded == 0
    assert Retriever(settings).snapshot is not None


def test_rag_ask_does_not_import_chromadb(hash_index: Path) -> None:
    from rag.retrieve import zipf_table

    assert zipf_table.zipf("article") is not None  # the word table is built (once per machine) before the ask
    script = (
        "import sys\n"
        "from rag.faces.cli import main\n"
        "sys.argv = ['rag', 'ask', 'What does Article 26 of the Council of Europe Convention require?']\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        "heavy = ('chromadb', 'bm25s', 'scipy', 'wordfreq', 'langchain_core')\n"
        "print('LOADED', sorted(m for m in heavy if m in sys.modules))\n"
    )
    env = {**os.environ, "RAG_HOME": str(hash_index), "RAG_CORPUS": str(CORPUS), "RAG_EMBEDDINGS": "hash"}
    env["PYTHONPATH"] = str(REPO) + os.pathsep + env.get("PYTHONPATH", "")
    done = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "Article 26" in done.stdout
    assert done.stdout.strip().splitlines()[-1] == "LOADED []"


def test_refresh_picks_up_a_newer_ingest_and_keeps_an_unchanged_snapshot(tmp_path: Path, sample_corpus: Path) -> None:
    settings = _settings(tmp_path / "home", sample_corpus)
    ingest(None, settings)
    chat = Retriever(settings)
    first = chat.snapshot
    assert first is not None
    chat.refresh()
    assert chat.snapshot is first  # nothing changed: what it read stays
    (sample_corpus / "new.md").write_text("---\ntitle: Kumquat note\njurisdiction: UK\n---\n# K\n\nKumquat law.\n")
    ingest(None, settings)
    chat.refresh()
    assert chat.snapshot is not None and chat.snapshot.generation != first.generation
    assert any("Kumquat" in h.chunk.text for h in chat.search("kumquat law").hits)
    dense_snapshot.begin(settings)  # an ingest under way: the chat reads Chroma meanwhile
    chat.refresh()
    assert chat.snapshot is None
    assert any("Kumquat" in h.chunk.text for h in chat.search("kumquat law").hits)
