"""Citations: numbered, with the quoted passage and a path the user can open."""

from __future__ import annotations

from rag.core.files import display_path
from rag.core.labels import label
from rag.core.records import Citation, Hit


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
            heading_path=h.chunk.heading_path,
            authority="commentary" if h.chunk.meta.commentary else "primary",
            about=h.chunk.meta.about,
            label=label(h.chunk.pinpoint, h.chunk.meta),
        )
        for n, h in enumerate(hits, start=1)
    ]
