"""What is indexed: one SourceInfo per document, from the keyword index's metadata."""

from __future__ import annotations

from rag.core.config import Settings
from rag.core.files import display_path
from rag.core.records import META_KEYS, DocMeta, SourceInfo


def list_sources(settings: Settings) -> list[SourceInfo]:
    from rag.index import keyword, locks, store

    with locks.read_lock(settings):
        client = store.open_client(settings)
        collection = store.chunk_collection(client, settings)
        index = keyword.load(settings, collection)
    counts: dict[str, int] = {}
    first: dict[str, dict[str, object]] = {}
    for meta in index.metas:
        key = str(meta.get("source", ""))
        counts[key] = counts.get(key, 0) + 1
        first.setdefault(key, meta)
    infos = []
    for key, meta in first.items():
        fields = {k: str(meta[k]) for k in META_KEYS if k in meta}
        infos.append(
            SourceInfo(
                doc_id=str(meta.get("doc_id", "")), path=display_path(key), meta=DocMeta(**fields), chunks=counts[key]
            )
        )
    return sorted(infos, key=lambda s: s.path)
