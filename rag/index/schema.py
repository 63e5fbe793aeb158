"""What a stored chunk's metadata holds: written at ingest and read back at retrieval, in this one place."""

from __future__ import annotations

from typing import Any

from rag.core.records import META_KEYS, Chunk, DocMeta

HEADING_SEPARATOR = " > "


def chunk_metadata(chunk: Chunk, quote_at: int) -> dict[str, Any]:
    """Flat, Chroma-safe metadata: everything needed to rebuild the Chunk from the store.

    `quote_at` is where the passage starts in the stored document, after the context line that is
    embedded with it; the quote shown to the user is the passage alone.
    """
    meta: dict[str, Any] = {
        **chunk.meta.as_dict(),
        "doc_id": chunk.doc_id,
        "chunk_id": chunk.chunk_id,
        "source": chunk.source,
        "pinpoint": chunk.pinpoint,
        "heading": HEADING_SEPARATOR.join(chunk.heading_path),
        "start": chunk.start,
        "end": chunk.end,
        "page": chunk.page,
        "quote_at": quote_at,
    }
    return {k: v for k, v in meta.items() if v is not None and v != ""}


def chunk_from(meta: dict[str, Any], document: str) -> Chunk:
    """Rebuild a Chunk from what the store holds."""
    quote_at = int(meta.get("quote_at", 0))
    heading = str(meta.get("heading", ""))
    return Chunk(
        chunk_id=str(meta.get("chunk_id", "")),
        doc_id=str(meta.get("doc_id", "")),
        text=document[quote_at:],
        pinpoint=meta.get("pinpoint"),
        heading_path=tuple(heading.split(HEADING_SEPARATOR)) if heading else (),
        start=int(meta.get("start", 0)),
        end=int(meta.get("end", 0)),
        page=meta.get("page"),
        meta=DocMeta(**{k: meta[k] for k in META_KEYS if k in meta}),
        source=str(meta.get("source", "")),
    )
