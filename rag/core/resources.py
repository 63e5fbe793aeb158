"""Where the files the program reads live: inside the installed package, or beside rag/ in a checkout."""

from __future__ import annotations

from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent.parent
# In a wheel the top-level corpus/, prompts/ and sessions/ are mapped to rag/_data/ (see pyproject.toml).
PACKAGED = "_data"
DATA_FOLDERS = ("corpus", "prompts", "sessions")


def data_dir(name: str) -> Path:
    """The folder `name` (corpus, prompts, sessions) of the installed package, else of the checkout."""
    from importlib.resources import files

    packaged = files("rag").joinpath(PACKAGED, name)
    if isinstance(packaged, Path) and packaged.is_dir():
        return packaged
    return REPO_ROOT / name
