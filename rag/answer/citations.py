"""Citations: numbered, with the quoted passage and a path the user can open."""

from __future__ import annotations

import os
from pathlib import Path

from rag.core.records import Citation, Hit


def display_path(source: str) -> str:
    """The source path relative to the working folder when it lies below it."""
    try:
        rel = os.path.relpath(source)
    except ValueError:
        return source
    return source if rel.startswith("..") or Path(rel).is_absolute() else rel


def citations_for(hits: list[Hit], verified: bool = True) -> list[Citation]:
    return [
        Citation(
            n=n,
            doc_id=h.chunk.doc_id,
            title=h.chunk.meta.title,
            citation=h.chunk.meta.citation,
            pinpoint=h.chunk.pinpoint,
            page=h.chunk.page,
            quote=h.chunk.text,
            path=display_path(h.chunk.source),
            score=round(h.dense if h.dense is not None else h.score, 3),
            verified=verified,
        )
        for n, h in enumerate(hits, start=1)
    ]
