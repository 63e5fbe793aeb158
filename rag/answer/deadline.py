"""One total deadline for a call to a model server, its client's retries included.

The clients bound each attempt and each read, not the whole: the OpenAI client with one retry waited twice
its timeout (243 s against a silent server) and a server sending a token now and then is never cut off.
So the call runs in a worker thread and the caller stops waiting when the deadline passes; the worker,
left with nobody to hand its result to, stops at its next item (or when its own client times out).
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable, Iterator
from typing import TypeVar, cast

T = TypeVar("T")
_END = object()


class Overdue(Exception):
    """The deadline passed before the call finished."""


def within(seconds: float, produce: Callable[[], Iterator[T]]) -> Iterator[T]:
    """The items produce() yields, as they come; Overdue once `seconds` have passed since the first was asked.

    An exception raised by produce() (or while iterating it) is raised here, in the caller's thread.
    """
    deadline = time.monotonic() + seconds
    items: queue.Queue[tuple[bool, object]] = queue.Queue()
    stop = threading.Event()

    def work() -> None:
        try:
            for item in produce():
                items.put((True, item))
                if stop.is_set():
                    return
            items.put((True, _END))
        except BaseException as exc:  # handed to the caller, who raises it
            items.put((False, exc))

    threading.Thread(target=work, name="model-call", daemon=True).start()
    try:
        while True:
            try:
                ok, item = items.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                raise Overdue() from None
            if not ok:
                assert isinstance(item, BaseException)
                raise item
            if item is _END:
                return
            yield cast(T, item)
    finally:
        stop.set()
