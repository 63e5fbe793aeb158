"""Which files to ingest under the paths given: supported types, no hidden files, links never followed."""

from __future__ import annotations

import errno
import os
from collections.abc import Iterable
from pathlib import Path

from rag.core.errors import CorpusNotFound

SKIPPED_NAMES = {"readme.md", "sources.yaml"}


def supported_suffixes() -> set[str]:
    from rag.ingest.load import LOADERS

    return set(LOADERS)


def discover(paths: Iterable[Path], skipped: list[tuple[str, str]] | None = None) -> list[Path]:
    """Files to ingest under the given paths, sorted; folders are walked without following links.

    Links met inside a folder, and folders that cannot be read, are added to skipped with the reason.
    """
    found: list[Path] = []
    suffixes = supported_suffixes()
    notes = skipped if skipped is not None else []
    for root in paths:
        if not root.exists():
            why = "a symbolic link loop or a broken link" if root.is_symlink() else "no such file or folder"
            raise CorpusNotFound(f"{root}: {why}; give an existing path to ingest")
        if root.is_file():
            found.append(root.resolve())
            continue

        def unreadable(exc: OSError) -> None:
            notes.append((str(exc.filename), f"cannot read the folder ({exc.strerror}); skipped"))

        for dirpath, dirnames, filenames in os.walk(root, followlinks=False, onerror=unreadable):
            for name in dirnames:
                if not name.startswith(".") and os.path.islink(os.path.join(dirpath, name)):
                    notes.append((os.path.join(dirpath, name), _link_problem(Path(dirpath) / name)))
            dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
            for name in sorted(filenames):
                path = Path(dirpath) / name
                if name.startswith(".") or name.lower() in SKIPPED_NAMES or path.suffix.lower() not in suffixes:
                    continue
                if path.is_symlink():
                    notes.append((str(path), _link_problem(path)))
                else:
                    found.append(path.resolve())
    return sorted(dict.fromkeys(found))


def _link_problem(path: Path) -> str:
    """Why a symbolic link inside a folder is not indexed: links are never followed (they can leave the corpus)."""
    try:
        os.stat(path)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            return "symbolic link loop; not followed, remove the link"
        return "broken symbolic link (its target is missing); remove or fix it"
    target, folder = path.resolve(), path.parent.resolve()
    if target == folder or target in folder.parents:
        return "symbolic link loop (it points to a folder above it); not followed, remove the link"
    return "symbolic link; not followed, copy the file or folder into the corpus instead"
