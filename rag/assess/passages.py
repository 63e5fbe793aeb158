"""The passages a pathway cites, fetched from the index by document id and pinpoint or section heading."""

from __future__ import annotations

from typing import Any

from rag.answer.verify import SUPPORT_THRESHOLD, Scorer
from rag.assess.pathways import Cite
from rag.core import pinpoint as pp
from rag.core.files import display_path
from rag.core.labels import label
from rag.core.records import Chunk, Citation
from rag.index.schema import HEADING_SEPARATOR, chunk_from
from rag.retrieve.hybrid import Retriever


def listing(retriever: Retriever) -> list[tuple[str, str | None, str]]:
    """(doc id, pinpoint, last heading) of every indexed chunk: what a pathway may cite."""
    out = []
    for meta in retriever.keywords.metas:
        heading = str(meta.get("heading", "")).split(HEADING_SEPARATOR)[-1]
        out.append((str(meta.get("doc_id", "")), meta.get("pinpoint"), heading))
    return out


def _chosen(retriever: Retriever, cite: Cite) -> str | None:
    """The id of the chunk that opens the cited section (the summary, before its subsections)."""
    best: tuple[int, int, str] | None = None
    for cid, meta in zip(retriever.keywords.ids, retriever.keywords.metas, strict=True):
        if meta.get("doc_id") != cite.doc:
            continue
        path = str(meta.get("heading", "")).split(HEADING_SEPARATOR)
        if cite.pinpoint:
            ok = meta.get("pinpoint") == cite.pinpoint or pp.matches(cite.pinpoint, meta.get("pinpoint"))
        else:
            ok = cite.section in path
        if ok:
            key = (len(path), int(meta.get("start", 0)), cid)
            best = key if best is None or key < best else best
    return best[2] if best else None


def fetch(retriever: Retriever, cites: tuple[Cite, ...], cache: dict[Cite, Chunk | None]) -> list[tuple[Cite, Chunk]]:
    """The chunks for the cites, in order; a cite the index lacks is left out (check_cited reports it)."""
    todo = [c for c in cites if c not in cache]
    ids = {c: _chosen(retriever, c) for c in todo}
    wanted = [i for i in ids.values() if i]
    if wanted:
        data: Any = retriever.collection.get(ids=wanted, include=["documents", "metadatas"])
        by_id = {
            str(cid): chunk_from(dict(meta or {}), doc or "")
            for cid, doc, meta in zip(data["ids"], data["documents"], data["metadatas"], strict=True)
        }
        for c, i in ids.items():
            cache[c] = by_id.get(i or "")
    for c in todo:
        cache.setdefault(c, None)
    return [(c, chunk) for c in cites if (chunk := cache.get(c)) is not None]


def citation(n: int, chunk: Chunk) -> Citation:
    return Citation(
        n=n,
        doc_id=chunk.doc_id,
        title=chunk.meta.title,
        citation=chunk.meta.citation,
        pinpoint=chunk.pinpoint,
        page=chunk.page,
        quote=chunk.text,
        path=display_path(chunk.source),
        score=1.0,
        verified=True,
        heading_path=chunk.heading_path,
        authority="commentary" if chunk.meta.commentary else "primary",
        about=chunk.meta.about,
        label=label(chunk.pinpoint, chunk.meta),
    )


def verified(scorer: Scorer, cite: Cite, c: Citation) -> bool:
    """Whether the passage supports what the pathway says it states (the answer verifier's own test)."""
    return scorer.support(cite.states, c) >= SUPPORT_THRESHOLD
