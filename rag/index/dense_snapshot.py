"""A read cache of the embedded store, so a question is answered without importing chromadb (1-2 s).

Chroma stays the store. At the end of each successful ingest, under the index lock, every chunk's vector
(float32, aligned with the keyword index's ids) and text are written beside the keyword index, in the same
folder and so with the same generation. A reader uses them only when they are provably current:

- no ingest is under way or was interrupted (ingest writes `COLLECTION.changing` before it touches Chroma
  and removes it last, after Chroma and the keyword index are both committed), and
- the generation and the model Chroma's own database records for the collection (read with the stdlib
  sqlite3) are the snapshot's, and that model is the configured one.

Otherwise (server mode, an index made before the snapshot, anything unexpected) the caller uses Chroma.
"""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

from rag.core.config import Settings
from rag.index import store

VECTORS = "vectors.npy"
NORMS = "norms.npy"
TEXTS = "texts.json"
STATE = "dense.json"
GENERATION_KEY = "keyword_generation"  # the same key rag.index.keyword stamps on the collection
_SEP = "\x00"  # between texts in the full-text scan: no question's words hold it


def marker(settings: Settings) -> Path:
    """Present while an ingest may be changing the store (and left behind by one that was killed)."""
    return settings.home / "keyword" / f"{settings.collection}.changing"


def begin(settings: Settings) -> None:
    """Before an ingest touches the store: readers stop trusting the snapshot."""
    if settings.chroma_url:
        return
    path = marker(settings)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w") as f:
        f.write(str(os.getpid()))
        f.flush()
        os.fsync(f.fileno())


def done(settings: Settings) -> None:
    """After the store and the keyword index (with its snapshot) are committed: readers may use it again."""
    if not settings.chroma_url:
        marker(settings).unlink(missing_ok=True)


def write(folder: Path, collection: Any, ids: list[str], texts: list[str], generation: str) -> None:
    """Every chunk's vector (rows in the order of ids), its norm and text, into folder (a keyword index's)."""
    import numpy as np

    model = str((collection.metadata or {}).get(store.MODEL_KEY, ""))
    position = {cid: i for i, cid in enumerate(ids)}
    matrix: Any = None
    filled = 0
    offset = 0
    while True:
        page = collection.get(include=["embeddings"], limit=store.PAGE, offset=offset)
        rows = np.asarray(page["embeddings"] if len(page["ids"]) else [], dtype=np.float32)
        if len(page["ids"]):
            if matrix is None:
                matrix = np.lib.format.open_memmap(
                    folder / VECTORS, mode="w+", dtype=np.float32, shape=(len(ids), rows.shape[1])
                )
            for cid, row in zip(page["ids"], rows, strict=True):
                matrix[position[cid]] = row
                filled += 1
        if len(page["ids"]) < store.PAGE:
            break
        offset += store.PAGE
    if matrix is None or filled != len(ids):
        return  # empty, or the store moved under us: no snapshot, readers use Chroma
    matrix.flush()
    np.save(folder / NORMS, np.linalg.norm(matrix, axis=1).astype(np.float32))
    dimensions = int(matrix.shape[1])
    del matrix
    (folder / TEXTS).write_text(json.dumps(texts))
    state = {"generation": generation, "model": model, "dimensions": dimensions, "count": len(ids)}
    (folder / STATE).write_text(json.dumps(state))  # last: its presence says the rest is whole


def stored_metadata(settings: Settings) -> dict[str, str]:
    """The collection's metadata as Chroma's database records it (string and number values); {} when unreadable."""
    path = settings.store_dir / store.SQLITE
    if not path.is_file():
        return {}
    query = (
        "SELECT m.key, COALESCE(m.str_value, m.int_value, m.float_value) FROM collections c "
        "JOIN collection_metadata m ON m.collection_id = c.id WHERE c.name = ?"
    )
    try:
        with contextlib.closing(sqlite3.connect(path.resolve().as_uri() + "?mode=ro", uri=True, timeout=2)) as db:
            ids = db.execute("SELECT COUNT(*) FROM collections WHERE name = ?", (settings.collection,)).fetchone()
            rows = db.execute(query, (settings.collection,)).fetchall() if ids and ids[0] == 1 else []
    except sqlite3.Error:
        return {}
    return {str(key): str(value) for key, value in rows if value is not None}


def stored_generation(settings: Settings) -> str | None:
    """The keyword generation Chroma's database records for the collection; None when it cannot tell."""
    return stored_metadata(settings).get(GENERATION_KEY) or None


@dataclass
class Snapshot:
    """The vectors and texts of one keyword generation; ids are the keyword index's."""

    folder: Path
    generation: str
    vectors: Any  # (n, d) float32, memory-mapped
    norms: Any  # (n,) float32
    texts_file: BinaryIO  # opened when the snapshot was, read when a passage is first wanted
    _texts: list[str] | None = None
    _joined: str | None = None
    _position: dict[str, int] = field(default_factory=dict)

    def positions(self, ids: list[str]) -> dict[str, int]:
        if not self._position:
            self._position = {cid: i for i, cid in enumerate(ids)}
        return self._position

    def texts(self) -> list[str]:
        """The passages' texts, read on first use from the file opened with the vectors (an ingest that
        replaces the folder meanwhile does not mix generations)."""
        if self._texts is None:
            with self.texts_file as f:
                self._texts = json.load(f)
        return self._texts

    def close(self) -> None:
        """Let go of the texts file (of a snapshot not used after all, or whose texts were never wanted)."""
        self.texts_file.close()

    def __del__(self) -> None:
        self.close()

    def cosines(self, qvec: list[float], rows: Any = None) -> Any:
        """Cosine of the query with every stored vector (or those of the row numbers given)."""
        import numpy as np

        query = np.asarray(qvec, dtype=np.float32)
        vectors, norms = (self.vectors, self.norms) if rows is None else (self.vectors[rows], self.norms[rows])
        scale = norms * (np.linalg.norm(query) or 1.0)
        return (vectors @ query) / np.where(scale == 0, 1.0, scale)

    def holds(self, text: str) -> bool:
        """Whether some passage contains the text, as written or in lower case (as store.contains)."""
        if self._joined is None:
            self._joined = _SEP.join(self.texts())
        return any(form in self._joined for form in dict.fromkeys([text, text.lower()]) if _SEP not in form)


def open_current(settings: Settings, model: str, dimensions: int) -> Snapshot | None:
    """The snapshot when it is current and of the configured model; None means: ask Chroma.

    Everything is read or opened here, before the caller reads the keyword index's ids.json and checks its
    generation: an ingest that replaced the folder in between is then caught by that check.
    """
    import numpy as np

    if settings.chroma_url or marker(settings).exists():
        return None
    folder = settings.home / "keyword" / settings.collection
    try:
        state = json.loads((folder / STATE).read_text())
        if state.get("model") != model or int(state.get("dimensions", 0)) != dimensions or not state.get("count"):
            return None
        recorded = stored_metadata(settings)  # Chroma's own record: this generation, embedded by this model
        if recorded.get(GENERATION_KEY) != state.get("generation") or recorded.get(store.MODEL_KEY) != model:
            return None
        vectors = np.load(folder / VECTORS, mmap_mode="r")
        norms = np.load(folder / NORMS)
        texts_file = open(folder / TEXTS, "rb")  # noqa: SIM115 - kept open until the texts are read
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if vectors.shape != (state["count"], dimensions) or norms.shape != (state["count"],):
        texts_file.close()
        return None
    generation = str(state["generation"])
    return Snapshot(folder=folder, generation=generation, vectors=vectors, norms=norms, texts_file=texts_file)
