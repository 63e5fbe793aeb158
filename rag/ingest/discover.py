"""Which files to ingest under the paths given: supported types, no hidden files, links never followed."""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Iterable
from pathlib import Path

from rag.core.errors import CorpusNotFound

SKIPPED_NAMES = {"readme.md", "sources.yaml"}
BAD_NAME = "the name is not valid UTF-8; rename it (the index stores names as UTF-8 text)"


def supported_suffixes() -> set[str]:
    from rag.ingest.load import LOADERS

    return set(LOADERS)


def shown(path: Path | str) -> str:
    """A path as text that can always be printed: bytes that are not UTF-8 appear as \\xNN."""
    return os.fsencode(path).decode("utf-8", "backslashreplace")


def utf8_name(path: Path | str) -> bool:
    """Whether the path is valid UTF-8 (Python keeps other bytes as surrogates no store or terminal accepts)."""
    try:
        str(path).encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def discover(paths: Iterable[Path], skipped: list[tuple[str, str]] | None = None) -> list[Path]:
    """Files to ingest under the given paths, sorted; folders are walked without following links.

    Links met inside a folder, folders that cannot be read, names that are not UTF-8 and files that are not
    regular files (a named pipe would block the reader for ever) are added to skipped with the reason.
    """
    found: list[Path] = []
    suffixes = supported_suffixes()
    notes = skipped if skipped is not None else []
    for root in paths:
        if not root.exists():
            why = "a symbolic link loop or a broken link" if root.is_symlink() else "no such file or folder"
            raise CorpusNotFound(f"{shown(root)}: {why}; give an existing path to ingest")
        if not utf8_name(root.resolve()):
            notes.append((shown(root), BAD_NAME))
            continue
        if not root.is_dir():
            if problem := _not_regular(root):
                notes.append((str(root), problem))
            else:
                found.append(root.resolve())
            continue

        def unreadable(exc: OSError) -> None:
            notes.append((shown(str(exc.filename)), f"cannot read the folder ({exc.strerror}); skipped"))

        for dirpath, dirnames, filenames in os.walk(root, followlinks=False, onerror=unreadable):
            kept = []
            for name in sorted(dirnames):
                if name.startswith("."):
                    continue
                path = Path(dirpath) / name
                if os.path.islink(path):
                    notes.append((shown(path), _link_problem(path)))
                elif not utf8_name(path):
                    notes.append((shown(path), BAD_NAME))  # once for the folder, not once per file in it
                else:
                    kept.append(name)
            dirnames[:] = kept
            for name in sorted(filenames):
                path = Path(dirpath) / name
                if name.startswith(".") or name.lower() in SKIPPED_NAMES or path.suffix.lower() not in suffixes:
                    continue
                if not utf8_name(path):
                    notes.append((shown(path), BAD_NAME))
                elif path.is_symlink():
                    notes.append((str(path), _link_problem(path)))
                elif problem := _not_regular(path):
                    notes.append((str(path), problem))
                else:
                    found.append(path.resolve())
    return sorted(dict.fromkeys(found))


def _not_regular(path: Path) -> str | None:
    """Why a path is not read as a file (a named pipe, a socket, a device), or None for a regular file."""
    try:
        mode = os.stat(path).st_mode
    except OSError as exc:
        return f"cannot read ({exc.strerror or exc})"
    if stat.S_ISREG(mode):
        return None
    kind = "a named pipe" if stat.S_ISFIFO(mode) else "a socket" if stat.S_ISSOCK(mode) else "a device"
    return f"not a regular file ({kind}); skipped, only regular files are read"


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
