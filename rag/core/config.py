"""Settings in one place: defaults, then a rag.toml file, then RAG_* environment variables, then CLI options."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rag.core.errors import ConfigError
from rag.core.resources import REPO_ROOT, data_dir
from rag.core.settings_file import find_config, read_config

__all__ = ["KEYS", "REPO_ROOT", "Key", "Settings", "find_config"]

LANGUAGES = ("ru", "az", "tr", "fr", "en")
# The embedding models (rag.index.embed.MODELS): English MiniLM, multilingual e5, and a hash for fast tests.
EMBEDDINGS = ("minilm", "e5", "hash")


def _default_home() -> Path:
    from platformdirs import user_data_dir

    return Path(user_data_dir("rag-nonpunishment", appauthor=False))


def _default_corpus() -> Path:
    packaged = data_dir("corpus")
    return packaged if packaged.is_dir() else Path.cwd() / "corpus"


def _between(low: float, high: float, what: str) -> Callable[[Any], str | None]:
    return lambda v: None if low <= v <= high else what


def _one_of(choices: tuple[str, ...], what: str) -> Callable[[Any], str | None]:
    return lambda v: None if v in choices else what


def _collection(name: str) -> str | None:
    ok = 3 <= len(name) <= 200 and name[0].isalnum() and name[-1].isalnum()
    ok = ok and all(ch.isalnum() or ch in "._-" for ch in name)
    return None if ok else "use 3 to 200 letters, digits, '.', '_' or '-', starting and ending with a letter or digit"


def _url(url: str) -> str | None:
    return None if url.startswith(("http://", "https://")) else "give it as http://HOST:PORT"


@dataclass(frozen=True)
class Key:
    """One setting: its type ("path", "text", "int", "float"), whether it may be unset, and its check."""

    kind: str
    help: str
    optional: bool = False
    check: Callable[[Any], str | None] | None = None

    def from_text(self, raw: str) -> Any:
        """The value of an environment variable; ValueError when it is not of the key's type."""
        if self.kind == "path":
            return Path(raw).expanduser()
        if self.kind == "int":
            return int(raw)
        if self.kind == "float":
            return float(raw)
        return raw

    def from_toml(self, value: Any, base: Path) -> Any:
        """The value written in a file (relative paths from the file's folder); ValueError naming the type wanted."""
        if self.kind in ("path", "text"):
            if not isinstance(value, str):
                raise ValueError('give it as a string in quotes, e.g. "..."')
            if self.kind == "path":
                path = Path(value).expanduser()
                return path if path.is_absolute() else base / path
            return value
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ValueError(f"give a number, e.g. {'8' if self.kind == 'int' else '0.5'}")
        if self.kind == "int" and not isinstance(value, int):
            raise ValueError("give a whole number, e.g. 8")
        return float(value) if self.kind == "float" else value


# The settings a rag.toml, the RAG_<KEY> variables and the options share; add a key here and it works in all three.
KEYS: dict[str, Key] = {
    "home": Key("path", "where the index and state live"),
    "corpus": Key("path", "the default corpus folder"),
    "chroma_url": Key("text", "a Chroma server (http://HOST:PORT) instead of the embedded store", True, _url),
    "llm": Key("text", "opt-in LLM engine, e.g. ollama:MODEL (unset: extractive)", True),
    "collection": Key("text", "the Chroma collection", check=_collection),
    "embeddings": Key(
        "text",
        "minilm (English) or e5 (multilingual); the index records which one built it",
        check=_one_of(EMBEDDINGS, "use 'minilm' (English) or 'e5' (multilingual), 'hash' in tests"),
    ),
    "k": Key("int", "passages retrieved per question", check=_between(1, 50, "choose between 1 and 50 passages")),
    "min_score": Key(
        "float", "relevance floor (0: calibrated)", check=_between(0, 1, "give a relevance between 0 and 1")
    ),
    "lock_timeout": Key(
        "float", "seconds a reader waits for an ingest", check=_between(0, 86400, "give seconds, from 0 to 86400")
    ),
    "lang": Key(
        "text", "answer language (unset: the question's)", True, _one_of(LANGUAGES, "use " + ", ".join(LANGUAGES))
    ),
}


@dataclass(frozen=True)
class Settings:
    """The effective configuration of one run, and where each value came from."""

    home: Path
    corpus: Path
    chroma_url: str | None = None
    llm: str | None = None
    collection: str = "nonpunishment"
    embeddings: str = "e5"  # one of EMBEDDINGS; the index records which one built it (bench/EMBEDDINGS.md: why e5)
    k: int = 5
    min_score: float = 0.0  # 0 means: use the calibrated floor in rag.retrieve
    lock_timeout: float = 120.0
    lang: str | None = None  # None: answer in the question's language
    config_file: Path | None = field(default=None, compare=False)
    # key -> "default", "FILE:LINE", "$RAG_X" or "--option"
    origins: Mapping[str, str] = field(default_factory=dict, compare=False, hash=False, repr=False)

    @property
    def store_dir(self) -> Path:
        return self.home / "chroma"

    @classmethod
    def from_env(
        cls, env: Mapping[str, str] | None = None, config: Path | str | None = None, **overrides: Any
    ) -> Settings:
        """Defaults < the config file (config, else RAG_CONFIG, else the user's rag.toml) < RAG_* < options."""
        env = dict(os.environ if env is None else env)
        values: dict[str, Any] = {"home": _default_home(), "corpus": _default_corpus()}
        origins = dict.fromkeys(KEYS, "default")
        shown: dict[str, str] = {}  # how each value was written where it came from, for error messages
        path = find_config(env, config)
        if path is not None:
            for name, (raw, line) in read_config(path, KEYS).items():
                where = f"{path}:{line}: {name} = {raw!r}"
                try:
                    values[name] = _unset(KEYS[name], KEYS[name].from_toml(raw, path.parent))
                except ValueError as exc:
                    raise ConfigError(f"{where}: {exc}") from None
                origins[name], shown[name] = f"{path}:{line}", where
        for name, key in KEYS.items():
            var = "RAG_" + name.upper()
            if env.get(var) or (key.optional and var in env):
                try:
                    values[name] = _unset(key, key.from_text(env[var]))
                except ValueError:
                    raise ConfigError(f"{var}={env[var]!r} is not a valid {key.kind}") from None
                origins[name], shown[name] = f"${var}", f"{var}={env[var]!r}"
        for name, value in overrides.items():
            if value is not None and name in KEYS:
                flag = "--" + name.replace("_", "-")
                values[name] = value
                origins[name], shown[name] = flag, f"{flag} {value}"
        settings = cls(**values, config_file=path, origins=origins)
        settings.validate(shown)
        return settings

    def validate(self, shown: Mapping[str, str] | None = None) -> None:
        """ConfigError naming the first bad value where it was set (file and line, variable or option)."""
        for name, key in KEYS.items():
            value = getattr(self, name)
            if key.check is None or value is None:
                continue
            problem = key.check(value)
            if problem is None:
                continue
            where = (shown or {}).get(name) or f"{name}={value!r}"
            raise ConfigError(f"{where}: {problem}")

    def explain(self) -> list[tuple[str, Any, str]]:
        """(key, value, origin) for every setting, for `rag config`."""
        return [(name, getattr(self, name), self.origins.get(name, "default")) for name in KEYS]

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


def _unset(key: Key, value: Any) -> Any:
    """An optional key given as "" is unset (RAG_LLM= switches an engine from the file back off)."""
    return None if key.optional and value == "" else value
