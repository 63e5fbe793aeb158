"""A client of a Chroma server whose calls cannot hang: bounded connect and read times.

chromadb's HttpClient talks through an httpx session built with timeout=None and no setting to change it
(chromadb 1.5.9; chroma-core/chroma issue 5805), and it calls the server while it is being built. So the
server is first asked for its heartbeat here, with a bound, and the session's timeout is set as soon as the
client exists. A server that accepts connections and never answers is then one "not answering" error.
"""

from __future__ import annotations

import urllib.error
import urllib.request
from typing import TYPE_CHECKING, Any
from urllib.parse import urlparse

from rag.core.errors import StoreUnavailable

if TYPE_CHECKING:
    from chromadb.api import ClientAPI

CONNECT_TIMEOUT = 5.0  # seconds to open a connection to the server
ANSWER_TIMEOUT = 5.0  # seconds for the first answer (a heartbeat takes milliseconds)
READ_TIMEOUT = 60.0  # seconds without a byte on any later call (a large write or query on a busy server)


def not_answering(url: str, why: str) -> StoreUnavailable:
    return StoreUnavailable(
        f"Chroma server at {url} is not answering ({why}); start it (chroma run --path DIR --port N) "
        "or unset RAG_CHROMA_URL"
    )


def probe(url: str) -> None:
    """Ask the server for its heartbeat within the bounds; any HTTP answer counts, silence is an error."""
    parsed = urlparse(url)
    base = f"{parsed.scheme or 'http'}://{parsed.hostname or '127.0.0.1'}:{parsed.port or 8000}"
    try:
        with urllib.request.urlopen(f"{base}/api/v2/heartbeat", timeout=ANSWER_TIMEOUT) as response:
            response.read(1024)
    except urllib.error.HTTPError:
        return  # it answered, if not with a heartbeat: chromadb names what is wrong
    except TimeoutError:
        raise not_answering(url, f"no answer within {ANSWER_TIMEOUT:.0f} s") from None
    except urllib.error.URLError as exc:
        reason = exc.reason
        if isinstance(reason, TimeoutError):
            raise not_answering(url, f"no connection within {CONNECT_TIMEOUT:.0f} s") from None
        raise not_answering(url, str(getattr(reason, "strerror", None) or reason)) from None
    except (OSError, ValueError) as exc:
        raise not_answering(url, str(exc) or type(exc).__name__) from None


def bound(client: Any) -> None:
    """Give the client's httpx session connect and read timeouts (it has none of its own)."""
    import httpx

    session = getattr(getattr(client, "_server", None), "_session", None)
    if not isinstance(session, httpx.Client):  # pinned by tests/test_hung_servers.py
        raise TypeError("chromadb's HttpClient no longer keeps an httpx session in _server._session")
    session.timeout = httpx.Timeout(READ_TIMEOUT, connect=CONNECT_TIMEOUT)


def connect(url: str) -> ClientAPI:
    """A heartbeat-checked client of the server at url (telemetry off); StoreUnavailable when it does not answer."""
    probe(url)
    import chromadb
    from chromadb.config import Settings

    parsed = urlparse(url)
    try:
        client = chromadb.HttpClient(
            host=parsed.hostname or "127.0.0.1",
            port=parsed.port or 8000,
            ssl=parsed.scheme == "https",
            settings=Settings(anonymized_telemetry=False),
        )
    except Exception as exc:  # chromadb raises several unrelated types for a dead server
        raise not_answering(url, type(exc).__name__) from None
    bound(client)
    try:
        client.heartbeat()
    except Exception as exc:
        raise not_answering(url, type(exc).__name__) from None
    return client
