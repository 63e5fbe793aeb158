"""Incremental ingest: load, chunk, embed and store files; unchanged ones cost no embedding."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rag.core.config import Settings
from rag.core.errors import LoadError
from rag.core.records import Chunk, IngestReport
from rag.index import dense_snapshot, locks, store
from rag.index.schema import chunk_metadata
from rag.ingest.chunk import chunk_document, context_line
from rag.ingest.discover import discover
from rag.ingest.document import MAX_TEXT_BYTES, open_regular
from rag.ingest.load import load_document

if TYPE_CHECKING:
    from langchain_core.documents import Document

Progress = Callable[[str, int, int], None]  # (path, files done, files in all)
FLUSH_CHUNKS = 256  # chunks written to the store at once: few round trips, little work lost to a kill


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


class _Writer:
    """Writes changed files to the store in batches; each batch is stored, then recorded, then old chunks go.

    That order is what makes a killed run harmless: chunks stored but not recorded are orphans the next
    run deletes; recorded keys are always stored; a file whose old chunks were not yet removed differs
    from the ledger, so the next run finishes it.
    """

    def __init__(self, settings: Settings, client: Any, renew: Callable[[], None]) -> None:
        from langchain_chroma import Chroma

        from rag.index.embed import for_langchain, make_embeddings
        from rag.index.ledger import ChromaRecordManager

        self.settings = settings
        self.renew = renew
        self.embeddings = make_embeddings(settings.embeddings)
        self.vectors = Chroma(
            client=client,
            collection_name=settings.collection,
            embedding_function=for_langchain(self.embeddings),
            create_collection_if_not_exists=False,
        )
        self.ledger = ChromaRecordManager(client, settings.collection + store.RECORDS_SUFFIX)
        self.pending: list[Document] = []
        self.stale: list[str] = []
        self.embedded = 0
        self.changed = False

    def add(self, docs: list[Document], stale: set[str]) -> None:
        self.pending.extend(docs)
        self.stale.extend(sorted(stale))
        if len(self.pending) >= FLUSH_CHUNKS:
            self.flush()

    def flush(self) -> None:
        from langchain_core.indexing import index

        if self.pending:
            with storing(self.settings, f"indexing {self.pending[0].metadata['source']}"):
                result = index(
                    self.pending,
                    self.ledger,
                    self.vectors,
                    cleanup=None,  # old chunks go by key below, not by time: clocks on a team differ
                    source_id_key="source",
                    key_encoder=record_key,
                    batch_size=FLUSH_CHUNKS,  # one embedding call per flush: texts sorted by length across files
                )
            self.embedded += result["num_added"] + result["num_updated"]
            self.sentences_ahead(self.pending)
            self.pending = []
            self.changed = True
        if self.stale:
            self.forget(self.stale)
            self.stale = []
        with storing(self.settings, "renewing the writer lock"):
            self.renew()

    def sentences_ahead(self, docs: list[Document]) -> None:
        """Embed the sentences answers quote from these chunks now, so that no question waits for them.

        They are saved per model on this machine (rag.index.saved_vectors); the extractive engine reads them
        back. Nothing to do for the test embeddings or with the saved vectors turned off.
        """
        from rag.core.sentences import quotable
        from rag.index import saved_vectors

        if self.settings.embeddings == "hash" or not saved_vectors.enabled():
            return
        passages = (doc.page_content[int(doc.metadata.get("quote_at", 0)) :] for doc in docs)
        texts = list(dict.fromkeys(s for text in passages for s in quotable(text)))
        self.embeddings.embed_documents(texts)

    def forget(self, keys: Sequence[str]) -> None:
        """Delete chunks from the store, then from the ledger (never recorded-but-missing)."""
        if not keys:
            return
        with storing(self.settings, "removing old chunks"):
            self.vectors.delete(ids=list(keys))
            self.ledger.delete_keys(list(keys))
        self.changed = True


def storing(settings: Settings, doing: str) -> contextlib.AbstractContextManager[None]:
    """Store failures (a server gone, a full disk, a read-only folder) become one named error."""
    return store.guarded(settings, doing, ingesting=True)


def _digest(path: Path) -> str:
    try:
        with open_regular(path) as f:
            return hashlib.file_digest(f, "sha256").hexdigest()
    except OSError as exc:
        raise LoadError(f"{path}: cannot read ({exc.strerror or exc})") from None


def _documents(path: Path) -> list[Document]:
    doc = load_document(path)
    if len(doc.text) > MAX_TEXT_BYTES:  # a PDF or DOCX can hold more text than a text file may
        raise LoadError(f"{path}: {len(doc.text):,} characters of text, over the {MAX_TEXT_BYTES:,} limit; split it")
    return [to_document(c) for c in chunk_document(doc)]


def ingest(
    paths: Sequence[Path] | None,
    settings: Settings,
    progress: Progress | None = None,
    wait: bool = False,
    rebuild: bool = False,
) -> IngestReport:
    """Bring the index in step with the files under paths (default: the corpus)."""
    roots = list(paths) if paths else default_roots(settings)
    report = IngestReport()
    files = discover(roots, report.failed)  # links inside folders are listed, not followed
    with locks.write_lock(settings, wait=wait) as renew:
        with storing(settings, "marking the index as being written"):
            dense_snapshot.begin(settings)  # readers use Chroma until this ingest has committed everything
        if rebuild:
            store.drop(settings)
        else:
            store.check_readable(settings)  # a damaged store would otherwise read "unchanged" and stay broken
        client = store.open_client(settings, create=True)
        collection = store.chunk_collection(client, settings, create=True)
        writer = _Writer(settings, client, renew)
        with storing(settings, "reading the ledger"):
            writer.changed = _remove_orphans(collection, writer.ledger)
            recorded = writer.ledger.groups()
        first_with: dict[str, str] = {}  # sha256 of a file's bytes -> the first path with them
        for done, path in enumerate(files):
            if progress:
                progress(str(path), done, len(files))
            key = str(path)
            try:
                digest = _digest(path)
                if digest in first_with:
                    report.duplicates.append((key, first_with[digest]))
                    writer.forget(sorted(recorded.pop(key, set())))  # indexed under this name before
                    continue
                docs = _documents(path)
            except LoadError as exc:
                report.failed.append((key, str(exc).removeprefix(f"{path}: ")))
                continue
            if not docs:
                report.failed.append((key, "no text to index"))
                continue
            first_with[digest] = key
            old, new = recorded.get(key, set()), {record_key(d) for d in docs}
            if new == old:
                report.unchanged.append(key)
                continue
            (report.updated if old else report.added).append(key)
            writer.add(docs, old - new)
        writer.flush()
        present = {str(p) for p in files}
        for group in sorted(recorded):
            if group not in present and _under(group, roots) and not Path(group).exists():
                writer.forget(sorted(recorded[group]))
                report.removed.append(group)
        if progress:
            progress("", len(files), len(files))
        report.embedded = writer.embedded
        with storing(settings, "updating the keyword index"):
            report.chunks = collection.count()
            _refresh_keywords(settings, collection, writer.changed)
        dense_snapshot.done(settings)
    return report


def _refresh_keywords(settings: Settings, collection: Any, changed: bool) -> None:
    """Rebuild the keyword index (and tell every reader) when the store changed or the index lags behind it."""
    from rag.index import keyword

    if not changed:
        current = keyword.load(settings, collection)
        if set(current.ids) == set(store.get_all(collection, [])["ids"]) and keyword.has_snapshot(settings):
            return  # unchanged: readers' keyword caches stay valid (an index from before the snapshot gets one)
    keyword.rebuild(settings, collection)


def _remove_orphans(collection: Any, ledger: Any) -> bool:
    """Chunks written by a run that was killed before it recorded them; True when there were any."""
    stored = set(store.get_all(collection, [])["ids"])
    recorded = set(store.get_all(ledger.collection, [])["ids"])
    if orphans := sorted(stored - recorded):
        collection.delete(ids=orphans)
    if ghosts := sorted(recorded - stored):
        ledger.delete_keys(ghosts)
    return bool(orphans or ghosts)
