"""The Chroma store: embedded on disk or a server, opened the same way, with its locks."""

from __future__ import annotations

import contextlib
import fcntl
import os
import time
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any
from urllib.parse import urlparse

from rag.config import Settings
from rag.errors import EmptyIndex, StoreBusy, StoreCorrupt, StoreUnavailable

if TYPE_CHECKING:
    from chromadb.api import ClientAPI
    from chromadb.api.models.Collection import Collection

RECORDS_SUFFIX = "-records"
CHUNK_SPACE = {"hnsw": {"space": "cosine"}}


def open_client(settings: Settings) -> ClientAPI:
    """A Chroma client for the settings; telemetry off, never an embedding function of Chroma's own."""
    from rag.embed import offline_environment

    offline_environment()
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    chroma_settings = ChromaSettings(anonymized_telemetry=False)
    if settings.chroma_url:
        url = urlparse(settings.chroma_url)
        try:
            client = chromadb.HttpClient(
                host=url.hostname or "127.0.0.1",
                port=url.port or 8000,
                ssl=url.scheme == "https",
                settings=chroma_settings,
            )
            client.heartbeat()
        except Exception as exc:  # chromadb raises several unrelated types for a dead server
            raise StoreUnavailable(
                f"Chroma server at {settings.chroma_url} is not answering ({type(exc).__name__}); "
                "start it (chroma run --path DIR --port N) or unset RAG_CHROMA_URL"
            ) from None
        return client
    try:
        settings.store_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StoreUnavailable(f"{settings.store_dir}: cannot create the index folder ({exc.strerror})") from None
    try:
        return chromadb.PersistentClient(path=str(settings.store_dir), settings=chroma_settings)
    except Exception as exc:  # a damaged sqlite file or segment surfaces as many types
        raise StoreCorrupt(
            f"{settings.store_dir}: the index cannot be opened ({type(exc).__name__}); "
            "run `rag ingest --rebuild` to build it again"
        ) from None


def drop(settings: Settings) -> None:
    """Remove the index (a damaged embedded store is deleted from disk) so it can be built again."""
    import shutil

    shutil.rmtree(settings.home / "keyword" / settings.collection, ignore_errors=True)
    if not settings.chroma_url:
        from chromadb.api.client import SharedSystemClient

        SharedSystemClient.clear_system_cache()  # this process may hold the old files open
        shutil.rmtree(settings.store_dir, ignore_errors=True)
        return
    client = open_client(settings)
    for name in (settings.collection, settings.collection + RECORDS_SUFFIX):
        try:
            client.delete_collection(name)
        except Exception:  # absent already: nothing to drop
            pass


def chunk_collection(client: ClientAPI, settings: Settings, create: bool = False) -> Collection:
    """The collection of chunks; EmptyIndex when it does not exist and create is False."""
    try:
        if create:
            return client.get_or_create_collection(
                settings.collection,
                embedding_function=None,
                configuration=CHUNK_SPACE,  # type: ignore[arg-type]
            )
        return client.get_collection(settings.collection, embedding_function=None)
    except Exception as exc:
        if create:
            raise StoreCorrupt(f"{settings.collection}: cannot open the collection ({exc})") from None
        raise EmptyIndex(f"nothing is indexed in {where(settings)} yet; run `rag ingest` first") from None


def where(settings: Settings) -> str:
    return settings.chroma_url or str(settings.store_dir)


def _lock_path(settings: Settings) -> str:
    settings.home.mkdir(parents=True, exist_ok=True)
    return str(settings.home / "index.lock")


@contextlib.contextmanager
def write_lock(settings: Settings, wait: bool = False) -> Iterator[None]:
    """Exclusive ownership of the embedded store while ingesting (Chroma's files are not process-safe)."""
    if settings.chroma_url:
        yield
        return
    fd = os.open(_lock_path(settings), os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
        except BlockingIOError:
            raise StoreBusy(
                f"another `rag ingest` is writing to {settings.home}; wait for it to finish or pass --wait"
            ) from None
        os.ftruncate(fd, 0)
        os.write(fd, str(os.getpid()).encode())
        yield
    finally:
        os.close(fd)


@contextlib.contextmanager
def read_lock(settings: Settings, on_wait: Callable[[str], Any] | None = None) -> Iterator[None]:
    """Shared access for readers: waits (telling on_wait) while an ingest holds the store."""
    if settings.chroma_url:
        yield
        return
    fd = os.open(_lock_path(settings), os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            if on_wait:
                on_wait(f"an ingest is updating {settings.home}; waiting up to {settings.lock_timeout:.0f} s")
            deadline = time.monotonic() + settings.lock_timeout
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() > deadline:
                        raise StoreBusy(
                            f"an ingest has held {settings.home} for over {settings.lock_timeout:.0f} s; "
                            "try again later"
                        ) from None
                    time.sleep(0.2)
        yield
    finally:
        os.close(fd)
