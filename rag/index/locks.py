"""Who may write and read the store: a lock file for the embedded store, a lease collection on a server."""

from __future__ import annotations

import contextlib
import os
import socket
import time
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

import portalocker

from rag.core.config import Settings
from rag.core.errors import StoreBusy, StoreUnavailable
from rag.index.store import WRITTEN, check_home, failure, open_client

if TYPE_CHECKING:
    from chromadb.api import ClientAPI

WRITER_SUFFIX = "-writer"  # on a server, the collection whose existence says an ingest is writing
STALE_AFTER = 600.0  # seconds without renewal after which a server's writer lock is taken to be abandoned
RENEW_EVERY = 30.0
# portalocker: flock(2) on POSIX (so old and new versions of rag exclude each other), LockFileEx on Windows.
EXCLUSIVE, SHARED, NOW = portalocker.LOCK_EX, portalocker.LOCK_SH, portalocker.LOCK_NB


def _open_lock(settings: Settings, writing: bool) -> int | None:
    """The lock file's descriptor; None for a reader of a home nobody can write (so nobody is ingesting)."""
    check_home(settings)
    path = settings.home / "index.lock"
    try:
        if writing:
            settings.home.mkdir(parents=True, exist_ok=True)
        return os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as exc:
        if writing:
            raise StoreUnavailable(
                f"{settings.home}: cannot write the index folder ({exc.strerror}); set RAG_HOME to a folder you can "
                "write to"
            ) from None
    try:
        return os.open(path, os.O_RDONLY)
    except OSError:
        return None


def running(pid: int) -> bool:
    """Whether a process of this machine with that id is running (a lease or temporary file may be its)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (OSError, OverflowError):
        return True  # someone else's process: running
    return True


def _stamp_written(settings: Settings) -> None:
    """Tell readers in other processes that the store changed (they reopen it on their next question)."""
    path = settings.home / WRITTEN
    for left in settings.home.glob(f"{WRITTEN}.*"):  # a writer killed between writing and renaming its stamp
        if left.suffix[1:].isdigit() and not running(int(left.suffix[1:])):
            left.unlink(missing_ok=True)
    tmp = path.with_name(f"{WRITTEN}.{os.getpid()}")
    try:
        tmp.write_text(f"{os.getpid()} {time.time_ns()}")
        os.replace(tmp, path)
    except OSError:
        tmp.unlink(missing_ok=True)  # a full disk: readers then reopen only on the next ingest


@contextlib.contextmanager
def write_lock(settings: Settings, wait: bool = False) -> Iterator[Callable[[], None]]:
    """Exclusive ownership of the store while ingesting; yields renew(), to call now and then.

    Embedded: a lock file (Chroma's files are not process-safe). Server: a lease kept on the server,
    so two users' ingests do not interleave (one would delete chunks the other has not yet recorded).
    """
    if settings.chroma_url:
        with _server_lock(settings, wait) as renew:
            yield renew
        return
    fd = _open_lock(settings, writing=True)
    assert fd is not None
    try:
        try:
            portalocker.lock(fd, EXCLUSIVE if wait else EXCLUSIVE | NOW)
        except portalocker.AlreadyLocked:
            raise StoreBusy(
                f"another `rag ingest` is writing to {settings.home}; wait for it to finish or pass --wait"
            ) from None
        os.ftruncate(fd, 0)
        os.write(fd, str(os.getpid()).encode())
        try:
            yield lambda: None
        finally:
            _stamp_written(settings)
    finally:
        os.close(fd)


@contextlib.contextmanager
def _server_lock(settings: Settings, wait: bool) -> Iterator[Callable[[], None]]:
    """A lease on the server: creating a collection is atomic there, so only one ingest gets it."""
    client = open_client(settings)
    name = settings.collection + WRITER_SUFFIX
    me: dict[str, Any] = {"host": socket.gethostname(), "pid": os.getpid()}
    vanished = 0
    while True:
        now = time.time()
        try:
            lease = client.create_collection(name, metadata={**me, "since": now, "renewed": now})
            break
        except Exception as exc:  # "already exists" is a ChromaError, as is every other failure
            holder = _holder(client, settings, exc)
            if holder is None:
                vanished += 1
                if vanished > 5:  # not a lease in the way: the server refuses to create collections at all
                    raise failure(settings, exc, "taking the writer lock", ingesting=True) from None
                continue  # released meanwhile: try again
            if _abandoned(holder):
                with contextlib.suppress(Exception):
                    client.delete_collection(name)
                continue
            if not wait:
                since = time.strftime("%H:%M", time.localtime(float(holder.get("since", 0))))
                raise StoreBusy(
                    f"another `rag ingest` (pid {holder.get('pid')} on {holder.get('host')}, since {since}) is writing "
                    f"to {settings.chroma_url}; wait for it to finish or pass --wait"
                ) from None
            time.sleep(1.0)
    renewed = [time.time()]

    def renew() -> None:
        if time.time() - renewed[0] > RENEW_EVERY:
            renewed[0] = time.time()
            lease.modify(metadata={**(lease.metadata or {}), "renewed": renewed[0]})

    try:
        yield renew
    finally:
        with contextlib.suppress(Exception):  # a server that went away keeps the lease until it goes stale
            if (client.get_collection(name).metadata or {}).get("pid") == me["pid"]:
                client.delete_collection(name)


def _holder(client: ClientAPI, settings: Settings, cause: Exception) -> dict[str, Any] | None:
    """Who holds the server's writer lease; None when nobody does any more."""
    try:
        return dict(client.get_collection(settings.collection + WRITER_SUFFIX).metadata or {})
    except Exception:
        try:
            client.heartbeat()
        except Exception:
            raise failure(settings, cause, "taking the writer lock", ingesting=True) from None
        return None


def _abandoned(holder: dict[str, Any]) -> bool:
    """A lease whose ingest died: its process is gone from this host, or it has not been renewed for long."""
    # On Windows os.kill(pid, 0) would send CTRL_C_EVENT, not probe: there only the renewal time tells.
    if holder.get("host") == socket.gethostname() and os.name != "nt":
        try:
            if not running(int(holder.get("pid", 0))):
                return True
        except ValueError:
            pass
    return time.time() - float(holder.get("renewed", 0)) > STALE_AFTER


@contextlib.contextmanager
def read_lock(settings: Settings, on_wait: Callable[[str], Any] | None = None) -> Iterator[None]:
    """Shared access for readers: waits (telling on_wait) while an ingest holds the store."""
    if settings.chroma_url:
        yield
        return
    fd = _open_lock(settings, writing=False)
    if fd is None:
        yield
        return
    try:
        try:
            portalocker.lock(fd, SHARED | NOW)
        except portalocker.AlreadyLocked:
            if on_wait:
                on_wait(f"an ingest is updating {settings.home}; waiting up to {settings.lock_timeout:.0f} s")
            deadline = time.monotonic() + settings.lock_timeout
            while True:
                try:
                    portalocker.lock(fd, SHARED | NOW)
                    break
                except portalocker.AlreadyLocked:
                    if time.monotonic() > deadline:
                        raise StoreBusy(
                            f"an ingest has held {settings.home} for over {settings.lock_timeout:.0f} s; "
                            "try again later"
                        ) from None
                    time.sleep(0.2)
        yield
    finally:
        os.close(fd)
