"""Shared fixtures: an isolated RAG_HOME for every test, fake and real indexes."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

pytest_plugins = ["chroma_server"]

REPO = Path(__file__).resolve().parent.parent
CORPUS = REPO / "corpus"
SHARED = REPO.parent / "shared"
OFFICIAL = SHARED / "corpus-official"

SAMPLE_NOTE = """---
title: "Sample Convention on Trafficking"
citation: "SCT No. 1"
type: treaty
jurisdiction: CoE
date: 2005-05-16
url: https://example.org/sct
language: en
---
# Sample Convention on Trafficking

The Sample Convention is a treaty about trafficking in human beings.

## Article 26 — Non-punishment provision

Article 26 of the Sample Convention requires each Party to provide for the possibility of not
imposing penalties on victims who were compelled to take part in unlawful activities.

## Article 10 — Identification of victims

Article 10 of the Sample Convention requires competent authorities to identify victims early,
with trained staff and in co-operation with support organisations.
"""

SAMPLE_STATUTE = """---
title: "Sample Slavery Act"
citation: "SSA 2015"
type: national-law
jurisdiction: UK
language: en
---
# Sample Slavery Act

## Section 45(4) — Under 18s

Section 45(4) gives children a defence where the act was a direct consequence of exploitation;
no compulsion is needed for a child.
"""


@pytest.fixture(autouse=True)
def isolated_home(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test gets its own RAG_HOME; no test touches the user's index."""
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("RAG_HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / "user-config"))  # no test reads the user's rag.toml
    for var in ("RAG_CHROMA_URL", "RAG_LLM", "RAG_CORPUS", "RAG_K", "RAG_MIN_SCORE", "RAG_EMBEDDINGS", "RAG_CONFIG"):
        monkeypatch.delenv(var, raising=False)
    for var in ("RAG_COLLECTION", "RAG_LOCK_TIMEOUT", "RAG_LANG"):
        monkeypatch.delenv(var, raising=False)
    return home


@pytest.fixture
def fake_embeddings(monkeypatch: pytest.MonkeyPatch) -> None:
    """Deterministic hashing embeddings: fast unit tests without the model."""
    monkeypatch.setenv("RAG_EMBEDDINGS", "hash")


@pytest.fixture
def sample_corpus(tmp_path: Path) -> Path:
    """A two-document corpus with Article and Section pinpoints."""
    folder = tmp_path / "corpus"
    folder.mkdir()
    (folder / "sample-convention.md").write_text(SAMPLE_NOTE)
    (folder / "sample-act.md").write_text(SAMPLE_STATUTE)
    return folder


@pytest.fixture(scope="session")
def real_index(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A RAG_HOME holding corpus/ indexed with the real default model, e5 (built once per run)."""
    from rag.core.config import Settings
    from rag.ingest.pipeline import ingest

    home = tmp_path_factory.mktemp("real-home")
    settings = Settings.from_env({"RAG_HOME": str(home), "RAG_CORPUS": str(CORPUS)})
    report = ingest(None, settings)
    assert not report.failed, report.failed
    return home


@pytest.fixture
def real_home(real_index: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point RAG_HOME at the shared real index (read-only use)."""
    monkeypatch.setenv("RAG_HOME", str(real_index))
    monkeypatch.setenv("RAG_CORPUS", str(CORPUS))
    return real_index


@pytest.fixture
def real_home_copy(real_index: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A private copy of the real index that a test may change."""
    home = tmp_path / "home-copy"
    shutil.copytree(real_index, home)
    monkeypatch.setenv("RAG_HOME", str(home))
    yield home


def official_or_skip() -> Path:
    if not OFFICIAL.is_dir() or not any(OFFICIAL.glob("*.txt")):
        pytest.skip("../shared/corpus-official is not present")
    return OFFICIAL


def venv_bin(name: str) -> str:
    """A console script of the environment running the tests."""
    import sys

    candidate = Path(sys.executable).parent / name
    return str(candidate) if candidate.exists() else shutil.which(name) or name


os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
