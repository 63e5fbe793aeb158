"""Servers on 127.0.0.1 that take a connection and then never answer, or answer a byte at a time.

Real sockets, so the clients under test (chromadb's httpx, the OpenAI client, urllib) meet them exactly as
they would meet a hung server. Each runs in a thread of the test process and closes with its `with` block.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Callable, Iterator


@contextlib.contextmanager
def serving(handle: Callable[[socket.socket, threading.Event], None], backlog: int = 16) -> Iterator[int]:
    """Accept connections on a free loopback port, each handled in its own thread; yields the port."""
    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    server.bind(("127.0.0.1", 0))
    server.listen(backlog)
    server.settimeout(0.2)
    stop = threading.Event()
    conns: list[socket.socket] = []

    def accept() -> None:
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            conns.append(conn)
            threading.Thread(target=handle, args=(conn, stop), daemon=True).start()

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield int(server.getsockname()[1])
    finally:
        stop.set()
        thread.join(timeout=5)
        for conn in conns:
            with contextlib.suppress(OSError):
                conn.close()
        server.close()


def silent(conn: socket.socket, stop: threading.Event) -> None:
    """Read the request and never answer."""
    conn.settimeout(0.2)
    while not stop.is_set():
        try:
            if not conn.recv(65536):
                return
        except TimeoutError:
            continue
        except OSError:
            return


def trickle(body: bytes, every: float) -> Callable[[socket.socket, threading.Event], None]:
    """Answer 200 with the headers at once, then the body one byte every `every` seconds."""

    def handle(conn: socket.socket, stop: threading.Event) -> None:
        try:
            conn.recv(65536)
            conn.sendall(
                b"HTTP/1.1 200 OK\r\nContent-Type: application/pdf\r\n"
                + f"Content-Length: {len(body)}\r\n\r\n".encode()
            )
            for i in range(len(body)):
                if stop.wait(every):
                    return
                conn.sendall(body[i : i + 1])
        except OSError:
            return

    return handle


def trickle_headers(every: float) -> Callable[[socket.socket, threading.Event], None]:
    """Answer a status line, then one byte of a never-ending header every `every` seconds."""

    def handle(conn: socket.socket, stop: threading.Event) -> None:
        try:
            conn.recv(65536)
            conn.sendall(b"HTTP/1.1 200 OK\r\nX-Slow: ")
            while not stop.wait(every):
                conn.sendall(b"z")
        except OSError:
            return

    return handle


@contextlib.contextmanager
def full_backlog() -> Iterator[int]:
    """A port whose listen queue is full and never drained: a new connection is never completed."""
    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.bind(("127.0.0.1", 0))
    server.listen(0)
    port = int(server.getsockname()[1])
    filler = socket.create_connection(("127.0.0.1", port), timeout=2)
    try:
        probe = socket.socket()
        probe.settimeout(0.5)
        try:
            probe.connect(("127.0.0.1", port))
            raise RuntimeError("the listen queue took a second connection; this kernel cannot stage the test")
        except TimeoutError:
            pass
        finally:
            probe.close()
        yield port
    finally:
        filler.close()
        server.close()


def timed(fn: Callable[[], object]) -> tuple[object, float]:
    """fn's result (or the exception it raised) and the seconds it took."""
    start = time.monotonic()
    try:
        result: object = fn()
    except Exception as exc:  # the tests look at what was raised
        result = exc
    return result, time.monotonic() - start
