"""The Chroma store: embedded on disk or a server, opened the same way."""

from __future__ import annotations

import contextlib
import errno
import os
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from rag.core.config import Settings
from rag.core.errors import EmptyIndex, IndexModelMismatch, RagError, StoreCorrupt, StoreUnavailable

if TYPE_CHECKING:
    from chromadb.api import ClientAPI
    from chromadb.api.models.Collection import Collection

RECORDS_SUFFIX = "-records"
CHUNK_SPACE = {"hnsw": {"space": "cosine"}}
WRITTEN = "index.written"  # "PID TIME" of the last embedded ingest, so readers in other processes reopen
SQLITE = "chroma.sqlite3"  # the embedded store's database, beside one folder of vectors per collection
MODEL_KEY = "embedding_model"  # chunk collection metadata: the model that embedded it, and its dimensions
DIMENSIONS_KEY = "embedding_dimensions"
FULL_BELOW = 16 * 2**20  # free bytes under which a failed write is put down to a full disk

# Embedded stores opened by this process: path -> (client, WRITTEN stamp when last looked at).
_opened: dict[str, tuple[Any, str]] = {}


def open_client(settings: Settings, create: bool = False) -> ClientAPI:
    """A Chroma client for the settings; telemetry off, never an embedding function of Chroma's own.

    Only a writer (create=True) makes an embedded store that is not there yet: a question asked of a
    missing RAG_HOME is told to ingest, and leaves no folder behind.
    """
    from rag.core.offline import offline_environment

    offline_environment()
    if settings.chroma_url:
        from rag.index.chroma_http import connect

        return connect(settings.chroma_url)  # asks the server before the seconds spent importing chromadb
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    chroma_settings = ChromaSettings(anonymized_telemetry=False)
    check_home(settings)
    if not create and not (settings.store_dir / SQLITE).is_file():
        raise EmptyIndex(f"nothing is indexed in {where(settings)} yet; run `rag ingest` first")
    key = str(settings.store_dir)
    stamp = _written(settings)
    if key in _opened:
        client, seen = _opened[key]
        if stamp == seen or stamp.split(" ")[0] == str(os.getpid()):
            _opened[key] = (client, stamp)
            return client
        # Another process ingested since: this process's Chroma holds stale segments in memory
        # (reads fail with "Error finding id"), so open the store afresh.
        from chromadb.api.client import SharedSystemClient

        SharedSystemClient.clear_system_cache()
    try:
        settings.store_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StoreUnavailable(
            f"{settings.store_dir}: cannot create the index folder ({exc.strerror}); "
            "set RAG_HOME to a folder you can write to"
        ) from None
    try:
        client = chromadb.PersistentClient(path=key, settings=chroma_settings)
    except Exception as exc:  # a damaged sqlite file or segment surfaces as many types
        raise failure(settings, exc, "opening the index") from None
    _opened[key] = (client, stamp)
    return client


def check_home(settings: Settings) -> None:
    if settings.home.exists() and not settings.home.is_dir():
        raise StoreUnavailable(f"{settings.home}: RAG_HOME is a file, not a folder; set RAG_HOME to a folder")


def _written(settings: Settings) -> str:
    try:
        return (settings.home / WRITTEN).read_text()
    except OSError:
        return ""


def _nearly_full(settings: Settings) -> bool:
    """Chroma reports a full disk as a failed compaction; the free space tells what it was."""
    try:
        stat = os.statvfs(settings.home)
    except OSError:
        return False
    return stat.f_bavail * stat.f_frsize < FULL_BELOW


def failure(settings: Settings, exc: Exception, doing: str, ingesting: bool = False) -> StoreUnavailable | StoreCorrupt:
    """The named error for a store operation that failed: server gone, disk full, read-only, or damaged.

    The embedded client that failed is not used again: after a failed write Chroma can hang on its next
    call, so the next open_client in this process starts afresh.
    """
    if not settings.chroma_url and _opened.pop(str(settings.store_dir), None) is not None:
        from chromadb.api.client import SharedSystemClient

        SharedSystemClient.clear_system_cache()
    lines = str(exc).strip().splitlines()
    detail = f"{type(exc).__name__}: {lines[0][:160]}" if lines else type(exc).__name__
    text = str(exc).lower()
    err = getattr(exc, "errno", None)
    again = "run `rag ingest` again (files finished before are kept)" if ingesting else "try again"
    if settings.chroma_url:
        return StoreUnavailable(
            f"Chroma server at {settings.chroma_url} failed while {doing} ({detail}); "
            f"make sure the server runs, then {again}"
        )
    if err == errno.ENOSPC or "disk is full" in text or "no space left" in text or _nearly_full(settings):
        return StoreUnavailable(f"{settings.home}: the disk is full ({doing}); free some space, then {again}")
    if err in (errno.EROFS, errno.EACCES, errno.EPERM) or "readonly" in text or "read-only" in text:
        return StoreUnavailable(
            f"{settings.home}: the index folder is read-only ({doing}); set RAG_HOME to a folder you can write to"
        )
    return StoreCorrupt(
        f"{settings.store_dir}: the index failed while {doing} ({detail}); "
        "run `rag ingest` again, or `rag ingest --rebuild` to build it anew"
    )


@contextlib.contextmanager
def guarded(settings: Settings, doing: str, ingesting: bool = False) -> Iterator[None]:
    """Store calls whose failure (a server gone, a full disk, a read-only folder) becomes one named error.

    Chroma raises many types for these, down to a bare Exception for an unknown server error; RagError passes.
    """
    try:
        yield
    except RagError:
        raise
    except Exception as exc:
        raise failure(settings, exc, doing, ingesting) from None


def damaged(settings: Settings) -> str | None:
    """What SQLite finds wrong with the embedded store's database, or None when it reads whole (or is absent).

    Damaged pages can sit where an ingest never reads (it reads ids and metadata, questions read documents
    and vectors), so only SQLite's own check tells; it reads every page once (a second at 300 MB).
    """
    import sqlite3

    path = settings.store_dir / SQLITE
    if settings.chroma_url or not path.is_file():
        return None
    try:
        with contextlib.closing(sqlite3.connect(path.resolve().as_uri() + "?mode=ro", uri=True)) as db:
            rows = db.execute("PRAGMA quick_check(1)").fetchall()
    except sqlite3.DatabaseError as exc:
        text = str(exc)
        if "malformed" in text or "not a database" in text or "corrupt" in text:
            return text
        return None  # cannot open it here (read-only folder, locked): Chroma says so with its own message
    problem = str(rows[0][0]) if rows else "no result from the integrity check"
    if problem == "ok":
        return None
    lines = [ln for ln in problem.splitlines() if ln.strip() and not ln.startswith("***")]  # "*** in database main"
    return (lines[0] if lines else problem)[:160]


def check_readable(settings: Settings) -> None:
    """StoreCorrupt, saying to rebuild, when the embedded store's database is damaged."""
    if problem := damaged(settings):
        raise StoreCorrupt(
            f"{settings.store_dir}: the index is damaged ({problem}); "
            "run `rag ingest --rebuild` to build it anew from your files"
        )


def drop(settings: Settings) -> None:
    """Remove this collection, its ledger and its keyword cache, so it can be built again.

    Other collections in the same RAG_HOME stay. Only a damaged embedded store, from which no collection can
    be read any more, is deleted whole.
    """
    import shutil

    from chromadb.errors import NotFoundError

    shutil.rmtree(settings.home / "keyword" / settings.collection, ignore_errors=True)
    if not settings.chroma_url and damaged(settings):
        _wipe(settings)
        return
    try:
        client = open_client(settings, create=True)
    except StoreCorrupt:
        if settings.chroma_url:
            raise
        _wipe(settings)
        return
    for name in (settings.collection, settings.collection + RECORDS_SUFFIX):
        try:
            client.delete_collection(name)
        except NotFoundError:  # absent already: nothing to drop
            pass
        except Exception as exc:
            if settings.chroma_url:
                raise failure(settings, exc, f"dropping the collection {name}", ingesting=True) from None
            _wipe(settings)  # a store that cannot delete a collection cannot be built in either
            return


def _wipe(settings: Settings) -> None:
    """Delete a damaged embedded store from disk, with every keyword cache built from it."""
    import shutil

    from chromadb.api.client import SharedSystemClient

    SharedSystemClient.clear_system_cache()  # this process may hold the old files open
    _opened.pop(str(settings.store_dir), None)
    shutil.rmtree(settings.store_dir, ignore_errors=True)
    shutil.rmtree(settings.home / "keyword", ignore_errors=True)


def chunk_collection(client: ClientAPI, settings: Settings, create: bool = False) -> Collection:
    """The collection of chunks; EmptyIndex when it does not exist and create is False.

    In embedded mode the collection comes from the client open_client holds now, which is a new one
    after another process ingested: a long-lived reader (chat, sessions) then sees the update.
    """
    from chromadb.errors import NotFoundError

    if not settings.chroma_url:
        client = open_client(settings, create=create)
    try:
        if create:
            collection = client.get_or_create_collection(
                settings.collection,
                embedding_function=None,
                configuration=CHUNK_SPACE,  # type: ignore[arg-type]
            )
        else:
            collection = client.get_collection(settings.collection, embedding_function=None)
    except NotFoundError:
        raise EmptyIndex(f"nothing is indexed in {where(settings)} yet; run `rag ingest` first") from None
    except Exception as exc:  # a damaged store, a server gone: named by failure()
        raise failure(settings, exc, f"opening the collection {settings.collection}") from None
    with guarded(settings, f"reading the model of the collection {settings.collection}", ingesting=create):
        check_model(collection, settings, record=create)
    return collection


def check_model(collection: Collection, settings: Settings, record: bool = False) -> None:
    """IndexModelMismatch unless the collection was embedded with the configured model.

    With record (ingest), a collection with nothing in it yet is stamped with the configured model. An index
    from before models were recorded was built with MiniLM, the only model then, and is stamped as such.
    """
    from rag.index.embed import MODELS, model_for

    wanted = model_for(settings.embeddings)
    meta = dict(collection.metadata or {})
    built = meta.get(MODEL_KEY)
    if built is None:
        if collection.count() == 0:
            built = wanted.name
        else:
            built = MODELS["minilm"].name
            meta.setdefault(DIMENSIONS_KEY, MODELS["minilm"].dimensions)
        if record and built == wanted.name:
            meta.pop("hnsw:space", None)  # set at creation; Chroma refuses to be told it again
            collection.modify(metadata={**meta, MODEL_KEY: wanted.name, DIMENSIONS_KEY: wanted.dimensions})
    dimensions = int(meta.get(DIMENSIONS_KEY, wanted.dimensions))
    if built == wanted.name and dimensions == wanted.dimensions:
        return
    place = f"collection {settings.collection} on {settings.chroma_url}" if settings.chroma_url else str(settings.home)
    kind = next((k for k, m in MODELS.items() if m.name == built), None)
    as_is = f", or set RAG_EMBEDDINGS={kind} to use it as it is" if kind else ""
    raise IndexModelMismatch(
        f"the index in {place} was built with {built}; run `rag ingest --rebuild` to rebuild it with {wanted.name}"
        + as_is
    )


PAGE = 5000  # rows per read of a whole collection: SQLite refuses one query over ~100,000 ids


def get_all(collection: Any, include: list[str]) -> dict[str, list[Any]]:
    """Every row of a collection, read a page at a time, as one `get` result (ids and the fields asked)."""
    out: dict[str, list[Any]] = {"ids": [], **{field: [] for field in include}}
    offset = 0
    while True:
        page = collection.get(include=include, limit=PAGE, offset=offset)
        out["ids"] += page["ids"]
        for field in include:
            out[field] += list(page[field] or [])
        if len(page["ids"]) < PAGE:
            return out
        offset += PAGE


def contains(collection: Any, text: str) -> bool:
    """Whether some stored passage contains the text, as written or in lower case (a scan of the store's texts).

    The collection may be the embedded store's read cache (rag.index.dense_snapshot), which scans its own copy.
    """
    if callable(holds := getattr(collection, "holds", None)):
        return bool(holds(text))
    return any(
        collection.get(where_document={"$contains": form}, limit=1, include=[])["ids"]
        for form in dict.fromkeys([text, text.lower()])
    )


def where(settings: Settings) -> str:
    return settings.chroma_url or str(settings.store_dir)
