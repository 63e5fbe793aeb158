"""Settings in one place: defaults, then RAG_* environment variables, then CLI options."""

from __future__ import annotations

import os
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any

from rag.core.errors import ConfigError

REPO_ROOT = Path(__file__).resolve().parent.parent.parent


def _default_home() -> Path:
    from platformdirs import user_data_dir

    return Path(user_data_dir("rag-nonpunishment", appauthor=False))


def _default_corpus() -> Path:
    packaged = REPO_ROOT / "corpus"
    return packaged if packaged.is_dir() else Path.cwd() / "corpus"


@dataclass(frozen=True)
class Settings:
    """The effective configuration of one run."""

    home: Path
    corpus: Path
    chroma_url: str | None = None
    llm: str | None = None
    collection: str = "nonpunishment"
    embeddings: str = "minilm"  # "minilm" (the packaged model) or "hash" (fast tests only)
    k: int = 5
    min_score: float = 0.0  # 0 means: use the calibrated floor in rag.retrieve
    lock_timeout: float = 120.0

    @property
    def store_dir(self) -> Path:
        return self.home / "chroma"

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None, **overrides: Any) -> Settings:
        """Defaults, overridden by RAG_* variables, overridden by non-None keyword options."""
        env = dict(os.environ if env is None else env)
        values: dict[str, Any] = {
            "home": Path(env["RAG_HOME"]).expanduser() if env.get("RAG_HOME") else _default_home(),
            "corpus": Path(env["RAG_CORPUS"]).expanduser() if env.get("RAG_CORPUS") else _default_corpus(),
            "chroma_url": env.get("RAG_CHROMA_URL") or None,
            "llm": env.get("RAG_LLM") or None,
        }
        for name, var, conv in (
            ("collection", "RAG_COLLECTION", str),
            ("embeddings", "RAG_EMBEDDINGS", str),
            ("k", "RAG_K", int),
            ("min_score", "RAG_MIN_SCORE", float),
            ("lock_timeout", "RAG_LOCK_TIMEOUT", float),
        ):
            if env.get(var):
                try:
                    values[name] = conv(env[var])
                except ValueError:
                    raise ConfigError(f"{var}={env[var]!r} is not a valid {conv.__name__}") from None
        settings = cls(**values)
        known = {f.name for f in fields(cls)}
        chosen = {k: v for k, v in overrides.items() if v is not None and k in known}
        settings = replace(settings, **chosen)
        settings.validate()
        return settings

    def validate(self) -> None:
        if self.embeddings not in ("minilm", "hash"):
            raise ConfigError(f"RAG_EMBEDDINGS={self.embeddings!r}: use 'minilm' (or 'hash' for tests)")
        if not 1 <= self.k <= 50:
            raise ConfigError(f"k={self.k}: choose between 1 and 50 passages")
        if self.chroma_url and not self.chroma_url.startswith(("http://", "https://")):
            raise ConfigError(f"RAG_CHROMA_URL={self.chroma_url!r}: give it as http://HOST:PORT")

    def describe(self) -> dict[str, str]:
        """The effective settings, for `rag config` and the chat's welcome line."""
        return {
            "home": str(self.home),
            "corpus": str(self.corpus),
            "store": self.chroma_url or str(self.store_dir),
            "collection": self.collection,
            "engine": self.llm or "extractive",
            "embeddings": self.embeddings,
        }
