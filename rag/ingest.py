"""Incremental ingest: load, chunk, embed and store files; unchanged ones cost no embedding."""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rag.chunk import chunk_document, context_line
from rag.config import Settings
from rag.errors import LoadError, RagError
from rag.load import discover, load_document
from rag.records import Chunk, IngestReport

if TYPE_CHECKING:
    from langchain_core.documents import Document

Progress = Callable[[str, int, int], None]  # (path, files done, files in all)


def chunk_metadata(chunk: Chunk, quote_at: int) -> dict[str, Any]:
    """Flat, Chroma-safe metadata: everything needed to rebuild the Chunk from the store."""
    meta: dict[str, Any] = {
        **chunk.meta.as_dict(),
        "doc_id": chunk.doc_id,
        "chunk_id": chunk.chunk_id,
        "source": chunk.source,
        "pinpoint": chunk.pinpoint,
        "heading": " > ".join(chunk.heading_path),
        "start": chunk.start,
        "end": chunk.end,
        "page": chunk.page,
        "quote_at": quote_at,
    }
    return {k: v for k, v in meta.items() if v is not None and v != ""}


def to_document(chunk: Chunk) -> Document:
    from langchain_core.documents import Document

    prefix = context_line(chunk) + "\n\n"
    return Document(page_content=prefix + chunk.text, metadata=chunk_metadata(chunk, len(prefix)))


def record_key(doc: Document) -> str:
    """A chunk's store id: changes when its text or any metadata changes, so edits are re-embedded."""
    payload = json.dumps(doc.metadata, sort_keys=True) + "\x00" + doc.page_content
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()[:32]


def _under(path: str, roots: Sequence[Path]) -> bool:
    for root in roots:
        r = str(root.resolve())
        if path == r or path.startswith(r.rstrip(os.sep) + os.sep):
            return True
    return False


def default_roots(settings: Settings) -> list[Path]:
    """The corpus, plus the official texts `rag corpus fetch` downloaded, when there are any."""
    official = settings.home / "official"
    return [settings.corpus, official] if official.is_dir() else [settings.corpus]


def ingest(
    paths: Sequence[Path] | None,
    settings: Settings,
    progress: Progress | None = None,
    wait: bool = False,
    rebuild: bool = False,
) -> IngestReport:
    """Bring the index in step with the files under paths (default: the corpus)."""
    from langchain_chroma import Chroma
    from langchain_core.indexing import index

    from rag import keyword, store
    from rag.embed import make_embeddings
    from rag.ledger import ChromaRecordManager

    roots = list(paths) if paths else default_roots(settings)
    files = discover(roots)
    report = IngestReport()
    with store.write_lock(settings, wait=wait):
        if rebuild:
            store.drop(settings)
        client = store.open_client(settings)
        collection = store.chunk_collection(client, settings, create=True)
        vectors = Chroma(
            client=client,
            collection_name=settings.collection,
            embedding_function=make_embeddings(settings.embeddings),
            create_collection_if_not_exists=False,
        )
        ledger = ChromaRecordManager(client, settings.collection + store.RECORDS_SUFFIX)
        _remove_orphans(collection, ledger)
        known = ledger.groups()
        for done, path in enumerate(files):
            if progress:
                progress(str(path), done, len(files))
            try:
                chunks = chunk_document(load_document(path))
            except LoadError as exc:
                report.failed.append((str(path), str(exc).removeprefix(f"{path}: ")))
                continue
            if not chunks:
                report.failed.append((str(path), "no text to index"))
                continue
            result = _index_file(index, [to_document(c) for c in chunks], ledger, vectors)
            changed = result["num_added"] + result["num_updated"] + result["num_deleted"]
            report.embedded += result["num_added"] + result["num_updated"]
            if not changed:
                report.unchanged.append(str(path))
            elif str(path) in known:
                report.updated.append(str(path))
            else:
                report.added.append(str(path))
        present = {str(p) for p in files}
        for group in sorted(known):
            if group not in present and _under(group, roots) and not Path(group).exists():
                keys = ledger.list_keys(group_ids=[group])
                if keys:
                    vectors.delete(ids=keys)
                ledger.delete_keys(keys)
                report.removed.append(group)
        if progress:
            progress("", len(files), len(files))
        report.chunks = collection.count()
        keyword.rebuild(settings, collection)
    return report


def _index_file(index: Callable[..., Any], docs: list[Document], ledger: Any, vectors: Any) -> dict[str, int]:
    try:
        result: dict[str, int] = index(
            docs,
            ledger,
            vectors,
            cleanup="scoped_full",
            source_id_key="source",
            key_encoder=record_key,
            batch_size=64,
        )
    except RagError:
        raise
    except Exception as exc:  # a server going away mid-run: say so; the ledger was not advanced
        raise RagError(f"indexing stopped while writing {docs[0].metadata['source']}: {exc}") from None
    return result


def _remove_orphans(collection: Any, ledger: Any) -> None:
    """Chunks written by a run that was killed before it recorded them."""
    stored = set(collection.get(include=[])["ids"])
    recorded = set(ledger.collection.get(include=[])["ids"])
    if orphans := sorted(stored - recorded):
        collection.delete(ids=orphans)
    if ghosts := sorted(recorded - stored):
        ledger.delete_keys(ghosts)
