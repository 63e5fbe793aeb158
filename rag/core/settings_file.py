"""The rag.toml file: where it is looked for, and its keys read with the line each was written on."""

from __future__ import annotations

import difflib
import re
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from rag.core.errors import ConfigError

CONFIG_NAME = "rag.toml"
_KEY_LINE = re.compile(r"""^\s*(?:\[+\s*)?(?:"([^"]*)"|'([^']*)'|([A-Za-z0-9_.-]+))\s*(?:=|\]+)""")
_AT_LINE = re.compile(r"\s*\(at line (\d+), column \d+\)")


def default_config_path() -> Path:
    """rag.toml in the user's config folder (~/.config/rag-nonpunishment on Linux)."""
    from platformdirs import user_config_dir

    return Path(user_config_dir("rag-nonpunishment", appauthor=False)) / CONFIG_NAME


def find_config(env: Mapping[str, str], explicit: Path | str | None = None) -> Path | None:
    """The file to read: --config, else RAG_CONFIG (each must exist), else the user's rag.toml if there is one."""
    for given, name in ((explicit, "--config"), (env.get("RAG_CONFIG"), "RAG_CONFIG")):
        if given:
            path = Path(given).expanduser()
            if not path.is_file():
                what = "is a folder" if path.is_dir() else "no such file"
                raise ConfigError(f"{name} {path}: {what}; give the path of a rag.toml file (see `rag config --help`)")
            return path.absolute()
    path = default_config_path()
    return path if path.is_file() else None


def _lines(text: str) -> dict[str, int]:
    """The line on which each top-level key (or table) is written; TOML forbids writing one twice."""
    found: dict[str, int] = {}
    for n, line in enumerate(text.splitlines(), 1):
        m = _KEY_LINE.match(line)
        if m:
            key = next(g for g in m.groups() if g is not None)
            found.setdefault(key, n)
    return found


def read_config(path: Path, known: Mapping[str, Any]) -> dict[str, tuple[Any, int]]:
    """key -> (value, line); ConfigError "FILE:LINE: ..." for bad syntax, a table or an unknown key."""
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: not UTF-8 text; save it as UTF-8") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read it ({exc.strerror}); check its permissions") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        message = str(exc)
        m = _AT_LINE.search(message)
        where = f"{path}:{m.group(1)}" if m else str(path)
        reason = _AT_LINE.sub("", message).rstrip(".")
        raise ConfigError(f"{where}: {reason}; write one setting a line as KEY = VALUE, text in quotes") from None
    lines = _lines(text)
    found: dict[str, tuple[Any, int]] = {}
    for key, value in data.items():
        line = lines.get(key, 1)
        if isinstance(value, dict):
            raise ConfigError(
                f"{path}:{line}: [{key}]: rag.toml has no sections; write the settings at the top, e.g. k = 8"
            )
        if key not in known:
            close = difflib.get_close_matches(key.replace("-", "_").lower(), list(known), n=1)
            hint = f"did you mean {close[0]!r}?" if close else "the keys are " + ", ".join(known)
            raise ConfigError(f"{path}:{line}: unknown key {key!r}; {hint}")
        found[key] = (value, line)
    return found
