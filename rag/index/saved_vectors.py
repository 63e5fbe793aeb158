"""Passage and sentence vectors saved on disk, per model, so that no text is embedded twice on this machine.

A text's vector depends only on the model and the text, so it can be kept: `rag ingest --rebuild`, a second
index (RAG_HOME) over the same corpus, and the sentences the extractive engine scores at every question all
reuse what was computed once. One SQLite file per model version in the user's cache folder (beside the ONNX
export); a file that cannot be read or written is skipped, never an error: the vectors are computed instead.
`RAG_VECTOR_CACHE=0` turns it off (the benchmarks that time the model itself do); `RAG_VECTOR_CACHE=/a/folder`
keeps the vectors there instead.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
import threading
from collections.abc import Iterable, Sequence
from functools import lru_cache
from pathlib import Path

_lock = threading.Lock()
BATCH = 500  # keys per SELECT: under SQLite's bound-parameter limit


def _setting() -> str:
    return os.environ.get("RAG_VECTOR_CACHE", "").strip()


def enabled() -> bool:
    return _setting().lower() not in ("0", "off", "no", "false")


def folder() -> Path:
    from platformdirs import user_cache_dir

    chosen = _setting()
    if chosen and chosen.lower() not in ("1", "on", "yes", "true"):
        return Path(chosen).expanduser()
    return Path(user_cache_dir("rag-nonpunishment", appauthor=False)) / "vectors"


def _key(text: str) -> bytes:
    return hashlib.blake2b(text.encode("utf-8"), digest_size=16).digest()


@lru_cache(maxsize=4)
def _open(path: str) -> sqlite3.Connection | None:
    try:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        db = sqlite3.connect(path, timeout=10, check_same_thread=False, isolation_level=None)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("CREATE TABLE IF NOT EXISTS vectors (key BLOB PRIMARY KEY, vector BLOB NOT NULL)")
        return db
    except (OSError, sqlite3.Error):
        return None  # a read-only or damaged cache: compute instead


def _db(model: str) -> sqlite3.Connection | None:
    if not enabled():
        return None
    safe = "".join(c if c.isalnum() or c in "-." else "_" for c in model)
    return _open(str(folder() / f"{safe}.sqlite"))


def load(model: str, texts: Iterable[str]) -> dict[str, list[float]]:
    """The saved vectors of those texts that have one."""
    import numpy as np

    db = _db(model)
    wanted = {_key(t): t for t in texts}
    if db is None or not wanted:
        return {}
    found: dict[str, list[float]] = {}
    keys = list(wanted)
    try:
        with _lock:
            for i in range(0, len(keys), BATCH):
                part = keys[i : i + BATCH]
                rows = db.execute(
                    f"SELECT key, vector FROM vectors WHERE key IN ({','.join('?' * len(part))})", part
                ).fetchall()
                for key, blob in rows:
                    found[wanted[key]] = np.frombuffer(blob, dtype=np.float32).tolist()
    except sqlite3.Error:
        return found
    return found


def save(model: str, texts: Sequence[str], vectors: Sequence[Sequence[float]]) -> None:
    """Keep these vectors (float32) for the next time; a failure to write is not an error."""
    import numpy as np

    db = _db(model)
    if db is None or not texts:
        return
    rows = [(_key(t), np.asarray(v, dtype=np.float32).tobytes()) for t, v in zip(texts, vectors, strict=True)]
    try:
        with _lock:
            db.executemany("INSERT OR REPLACE INTO vectors (key, vector) VALUES (?, ?)", rows)
    except sqlite3.Error:
        pass
