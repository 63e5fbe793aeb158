"""Exact lookup of a passage by document id and pinpoint ("coe-convention", "Article 26"), no ranking."""

from __future__ import annotations

from typing import Any

from rag.core import pinpoint as pp
from rag.core.errors import NotFound
from rag.core.records import Chunk
from rag.index.schema import chunk_from
from rag.retrieve.hybrid import Retriever

LISTED = 25  # how many known ids or pinpoints an error names


def _listing(names: list[str]) -> str:
    shown = ", ".join(names[:LISTED])
    return shown + (f" and {len(names) - LISTED} more" if len(names) > LISTED else "")


def find_passages(retriever: Retriever, doc_id: str, pinpoint: str) -> list[Chunk]:
    """Every chunk of the document carrying the pinpoint (or a part of it), in document order.

    "Article 4" finds Article 4 and its paragraphs 4(1), 4(2); "Article 4(2)" finds the chunk holding it.
    NotFound names the known documents, or the document's pinpoints, so the caller can correct itself.
    """
    wanted_doc = doc_id.strip().casefold()
    rows = [
        (cid, meta)
        for cid, meta in zip(retriever.keywords.ids, retriever.keywords.metas, strict=True)
        if str(meta.get("doc_id", "")).casefold() == wanted_doc
    ]
    if not rows:
        known = sorted({str(m.get("doc_id", "")) for m in retriever.keywords.metas})
        raise NotFound(f"no document '{doc_id}' in the index; known ids: {_listing(known)}")
    chosen = [cid for cid, meta in rows if pp.matches(pinpoint, meta.get("pinpoint"))]
    if not chosen:
        in_order = sorted(rows, key=lambda row: int(row[1].get("start", 0)))
        pins = list(dict.fromkeys(str(m["pinpoint"]) for _, m in in_order if m.get("pinpoint")))
        raise NotFound(
            f"no passage '{pinpoint}' in '{doc_id}'; its pinpoints: {_listing(pins) or 'none (unstructured text)'}"
        )
    data: Any = retriever.collection.get(ids=chosen, include=["documents", "metadatas"])
    chunks = [
        chunk_from(dict(meta or {}), doc or "") for doc, meta in zip(data["documents"], data["metadatas"], strict=True)
    ]
    return sorted(chunks, key=lambda c: (c.start, c.end))
