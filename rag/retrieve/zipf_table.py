"""wordfreq's English Zipf figures from a small SQLite file, built once: importing wordfreq and reading its table
costs about 0.7 s a process, a lookup here a few microseconds.

Only plain lower-case ASCII words are looked up here: wordfreq's tokenizer leaves such a word whole, so its
figure is that of its entry, the same for every word of one frequency band. Any other word, or a machine where
the file cannot be written, asks wordfreq itself.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import re
import sqlite3
from functools import lru_cache
from pathlib import Path

FORMAT = "1"
_PLAIN = re.compile(r"[a-z]+")


def _data_file(lang: str) -> Path | None:
    """wordfreq's 'best' list for the language (large, else small), found without importing wordfreq."""
    spec = importlib.util.find_spec("wordfreq")
    if spec is None or spec.origin is None:
        return None
    data = Path(spec.origin).parent / "data"
    for size in ("large", "small"):
        if (path := data / f"{size}_{lang}.msgpack.gz").is_file():
            return path
    return None


def table_path(lang: str = "en") -> Path | None:
    """The cache file for the language's list, named after that list's size and time (a new wordfreq, a new file)."""
    from platformdirs import user_cache_dir

    source = _data_file(lang)
    if source is None:
        return None
    stat = source.stat()
    name = f"zipf-{lang}-{source.stem.split('.')[0]}-{stat.st_size}-{stat.st_mtime_ns}-f{FORMAT}.sqlite"
    return Path(user_cache_dir("rag-nonpunishment", appauthor=False)) / "wordfreq" / name


def build(path: Path, lang: str = "en") -> None:
    """Write every plain word of wordfreq's list with its zipf_frequency, atomically."""
    from wordfreq import get_frequency_list, zipf_frequency

    band: dict[str, int] = {}
    for index, bucket in enumerate(get_frequency_list(lang, "best")):
        for word in bucket:
            if _PLAIN.fullmatch(word):
                band[word] = index  # a word listed twice keeps its last band, as wordfreq's dict does
    one_of: dict[int, str] = {}
    for word, index in band.items():
        one_of.setdefault(index, word)
    figure = {index: float(zipf_frequency(word, lang)) for index, word in one_of.items()}  # wordfreq's own
    figures = {word: figure[index] for word, index in band.items()}
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    tmp.unlink(missing_ok=True)
    try:
        with contextlib.closing(sqlite3.connect(tmp)) as db:
            db.execute("CREATE TABLE zipf (word TEXT PRIMARY KEY, figure REAL NOT NULL) WITHOUT ROWID")
            db.executemany("INSERT INTO zipf VALUES (?, ?)", figures.items())
            db.commit()
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


@lru_cache(maxsize=4)
def _table(lang: str) -> sqlite3.Connection | None:
    path = table_path(lang)
    if path is None:
        return None
    try:
        if not path.is_file():
            build(path, lang)
        return sqlite3.connect(path.resolve().as_uri() + "?mode=ro", uri=True, check_same_thread=False)
    except (OSError, sqlite3.Error):
        return None  # a read-only cache folder: wordfreq answers


def zipf(word: str, lang: str = "en") -> float | None:
    """The word's figure when the table can tell (a plain word, the table at hand); None: ask wordfreq."""
    if lang != "en" or not _PLAIN.fullmatch(word):
        return None
    db = _table(lang)
    if db is None:
        return None
    try:
        row = db.execute("SELECT figure FROM zipf WHERE word = ?", (word,)).fetchone()
    except sqlite3.Error:
        return None
    return float(row[0]) if row else 0.0
