"""The ONNX path gives sentence-transformers' vectors, and falls back to it silently."""

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from conftest import CORPUS, REPO

from rag.index import embed, onnx_embed
from rag.ingest.chunk import chunk_document
from rag.ingest.discover import discover
from rag.ingest.load import load_document

EDGE_CASES = [
    "",
    " ",
    "\n\t  \n",
    "a",
    "Article 26",
    "ARTICLE 26 — NON-PUNISHMENT PROVISION",
    "art. 26(1)(b) CETS No. 197; Dir. 2011/36/EU, Recital 14; 22 U.S.C. § 7101(b)(21)",
    "Zoletić and Others v. Azerbaijan, no. 20116/12, § 155 (ECtHR, 7 October 2021)",
    "Qanunun 6-cı maddəsi: insan alverinin qurbanı cinayət məsuliyyətinə cəlb edilmir.",
    "Статья 26 Конвенции Совета Европы о противодействии торговле людьми",
    "人口贩运受害者不受惩罚原则",
    "café naïve façade Ångström ß œ ﬁ",
    "victims 🙂 who were compelled… “quoted” ‘words’ – and — dashes",
    "   leading and trailing whitespace   ",
    "line one\nline two\n\nparagraph three",
    "non-punishment non-punishment non-punishment non-punishment",
    "1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20",
    "<b>html</b> &amp; [markdown](https://example.org) `code` **bold**",
    "s45 defence for kids?",
    "What's the UK's position?",
    " ".join(["trafficking"] * 400),  # far past the 256-token limit: truncated the same way
    "The principle of non-punishment " * 60,
]


def varied_texts() -> list[str]:
    """200 texts: the gold questions, real passages of every length, and odd inputs."""
    gold = [json.loads(line)["question"] for line in (REPO / "tests/gold/gold.jsonl").read_text().splitlines() if line]
    passages = [c.text for path in discover([CORPUS]) for c in chunk_document(load_document(path))]
    texts = EDGE_CASES + gold
    texts += passages[: 200 - len(texts)]
    assert len(texts) == 200
    return texts


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The real model exported into a private cache (the user's cache is left alone)."""
    folder = tmp_path_factory.mktemp("onnx-cache")
    (folder / f"{onnx_embed.PREFIX}0.0.9-older.onnx").write_bytes(b"an export for a model version since replaced")
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(onnx_embed, "cache_file", lambda: folder / f"{onnx_embed.PREFIX}current.onnx")
        path = onnx_embed.export(embed._sentence_transformer())
    onnx_embed.load.cache_clear()
    assert path is not None and path.is_file()
    assert list(folder.iterdir()) == [path], "the older export is removed, no temporary file is left"
    return path


def reference(texts: list[str]) -> np.ndarray:
    return np.asarray(embed.reference_encode(texts))


@pytest.mark.slow
def test_onnx_vectors_equal_sentence_transformers_on_200_texts(exported: Path) -> None:
    texts = varied_texts()
    fast = onnx_embed.OnnxMiniLM(exported, Path(embed.model_path()))
    ours = fast.encode(texts)  # batches of 32 texts of similar length, padded to the longest
    theirs = reference(texts)
    cosines = np.sum(ours * theirs, axis=1)
    worst = int(np.argmin(cosines))
    assert cosines.min() > 0.9999, f"text {worst} ({texts[worst][:60]!r}): cosine {cosines[worst]:.6f}"
    assert np.abs(np.linalg.norm(ours, axis=1) - 1).max() < 1e-5
    assert np.abs(ours - theirs).max() < 1e-4


@pytest.mark.slow
def test_the_embeddings_use_the_exported_model_in_any_order_and_batch(
    exported: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(onnx_embed, "cache_file", lambda: exported)
    onnx_embed.load.cache_clear()
    monkeypatch.setattr(embed, "reference_encode", lambda *a: pytest.fail("sentence-transformers was used"))
    texts = [*EDGE_CASES[:8], "Is Article 26 binding on Azerbaijan?", "x " * 300]
    minilm = embed.make_embeddings("minilm")
    one_by_one = np.array([minilm.embed_query(t) for t in texts])  # unpadded, as a question is embedded
    together = np.array(minilm.embed_documents(texts))  # sorted by length, batched, put back in order
    monkeypatch.undo()
    expected = reference(texts)
    assert np.sum(one_by_one * expected, axis=1).min() > 0.9999
    assert np.sum(together * expected, axis=1).min() > 0.9999
    onnx_embed.load.cache_clear()


@pytest.mark.slow
def test_without_a_usable_cache_queries_fall_back_silently(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the cache folder would go")
    monkeypatch.setattr(onnx_embed, "cache_file", lambda: blocker / "onnx" / "minilm.onnx")
    onnx_embed.load.cache_clear()
    question = "What does Article 26 of the Council of Europe Convention require?"
    vector = embed.make_embeddings("minilm").embed_query(question)
    assert onnx_embed.load() is None
    assert np.dot(vector, reference([question])[0]) > 0.99999
    onnx_embed.load.cache_clear()


def test_a_damaged_or_missing_file_means_no_fast_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    damaged = tmp_path / "minilm.onnx"
    damaged.write_bytes(b"not an onnx model")
    monkeypatch.setattr(onnx_embed, "cache_file", lambda: damaged)
    onnx_embed.load.cache_clear()
    assert onnx_embed.load() is None
    monkeypatch.setattr(onnx_embed, "cache_file", lambda: tmp_path / "absent.onnx")
    onnx_embed.load.cache_clear()
    assert onnx_embed.load() is None
    onnx_embed.load.cache_clear()


def test_an_export_that_fails_is_not_an_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(onnx_embed, "cache_file", lambda: tmp_path / "minilm.onnx")
    assert onnx_embed.export(object()) is None  # not a SentenceTransformer: nothing written, nothing raised
    assert not list(tmp_path.iterdir())


def test_only_a_mean_pooled_normalised_model_is_exported_like_this(tmp_path: Path) -> None:
    model_dir = tmp_path / "model"
    shutil.copytree(Path(embed.model_path()), model_dir, ignore=shutil.ignore_patterns("*.safetensors"))
    assert onnx_embed._pipeline(model_dir) == 256
    pooling = model_dir / "1_Pooling" / "config.json"
    config = json.loads(pooling.read_text())
    pooling.write_text(json.dumps({**config, "pooling_mode_mean_tokens": False, "pooling_mode_cls_token": True}))
    with pytest.raises(ValueError, match="mean-pooled"):
        onnx_embed._pipeline(model_dir)
