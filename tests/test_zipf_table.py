"""The Zipf table (rag.retrieve.zipf_table) gives wordfreq's own figures without importing wordfreq."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from wordfreq import top_n_list, zipf_frequency

from rag.retrieve import asks, zipf_table

ODD = ["", "26", "art.", "non-punishment", "don't", "Article", "ŞİKAYET", "наказание", "pénal", "e-mail", "x2", "_"]
RARE = ["zoletic", "qzxv", "departmant", "thre", "reprot", "kumquat", "exculpatory", "non", "aa", "zzzzzz"]


@pytest.fixture
def fresh_table(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A cache folder of the test's own: the table is built from wordfreq's data here."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    zipf_table._table.cache_clear()
    asks.zipf.cache_clear()
    yield tmp_path / "cache"
    zipf_table._table.cache_clear()
    asks.zipf.cache_clear()


def test_the_table_gives_wordfreqs_figures(fresh_table: Path) -> None:
    words = top_n_list("en", 300) + top_n_list("en", 40000)[-300:] + RARE + ODD
    for word in words:
        assert asks.zipf(word) == zipf_frequency(word, "en"), word
    path = zipf_table.table_path()
    assert path is not None and path.is_file() and fresh_table in path.parents
    assert zipf_table.zipf("convention") == zipf_frequency("convention", "en")
    assert zipf_table.zipf("26") is None  # not a plain word: wordfreq answers it


def test_an_unwritable_cache_falls_back_to_wordfreq(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    blocker = tmp_path / "cache"
    blocker.write_text("a file where the cache folder would be")
    monkeypatch.setenv("XDG_CACHE_HOME", str(blocker))
    zipf_table._table.cache_clear()
    asks.zipf.cache_clear()
    try:
        assert zipf_table.zipf("convention") is None
        assert asks.zipf("convention") == zipf_frequency("convention", "en")
    finally:
        zipf_table._table.cache_clear()
        asks.zipf.cache_clear()
