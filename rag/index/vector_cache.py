"""Passage-sentence vectors kept across questions: the same sentences recur, so each is embedded once.

The extractive engine and the citation verifier both embed the sentences of the retrieved passages;
the corpus is fixed between ingests, so a warm process answers from vectors it already has.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Sequence
from typing import Any

LIMIT = 50_000  # sentences: about 80 MB of vectors at 384 dimensions
_vectors: OrderedDict[tuple[str, str], list[float]] = OrderedDict()
_lock = threading.Lock()


def embed_documents(embeddings: Any, texts: Sequence[str]) -> list[list[float]]:
    """`embeddings.embed_documents(texts)`, computing only the texts this model has not embedded before."""
    model = type(embeddings).__qualname__
    with _lock:
        todo = [t for t in dict.fromkeys(texts) if (model, t) not in _vectors]
    fresh = embeddings.embed_documents(todo) if todo else []
    with _lock:
        for text, vector in zip(todo, fresh, strict=True):
            _vectors[(model, text)] = list(vector)
        out = []
        for text in texts:
            _vectors.move_to_end((model, text))
            out.append(_vectors[(model, text)])
        while len(_vectors) > LIMIT:
            _vectors.popitem(last=False)
    return out
