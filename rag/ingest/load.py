"""Load files into SourceDocuments: Markdown with front matter, plain text, and other formats."""

from __future__ import annotations

import errno
import os
import re
from collections.abc import Callable, Iterable
from pathlib import Path

from rag.core.errors import CorpusNotFound, LoadError
from rag.core.records import META_KEYS, DocMeta, SourceDocument

TEXT_SUFFIXES = {".md", ".markdown", ".txt"}
SKIPPED_NAMES = {"readme.md", "sources.yaml"}
MAX_BYTES = 64 * 1024 * 1024  # PDF, DOCX and HTML files, whose bytes are mostly not text
# A text file's words are all embedded: 10 MB is some 12,000 passages, about three minutes of MiniLM on
# two cores; at 50 MB a single file would hold the index for a quarter of an hour (see README "Limits").
MAX_TEXT_BYTES = 10 * 1024 * 1024
# Control characters other than newline, tab and form feed, dropped from text files (str.translate runs in C).
_UTF8_SEQUENCE = re.compile(rb"[\xc2-\xdf][\x80-\xbf]|[\xe0-\xef][\x80-\xbf]{2}|[\xf0-\xf4][\x80-\xbf]{3}")
_CONTROL = dict.fromkeys(c for c in range(32) if chr(c) not in "\n\t\f")

_FRONT_MATTER = re.compile(r"\A---[ \t]*\r?\n(.*?)\r?\n---[ \t]*(?:\r?\n|\Z)", re.S)
_PROVENANCE = re.compile(r"\A=+\r?\n(.*?)\r?\n=+\r?\n", re.S)


def supported_suffixes() -> set[str]:
    return TEXT_SUFFIXES | set(_extra_loaders())


def _extra_loaders() -> dict[str, Callable[[Path], SourceDocument]]:
    """Loaders for binary formats, registered by rag.formats when it is present."""
    try:
        from rag.ingest.formats import LOADERS
    except ImportError:
        return {}
    return LOADERS


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


def doc_id_for(path: Path) -> str:
    """A stable, readable id from the file name: 'coe-convention' for corpus/.../coe-convention.md."""
    return re.sub(r"[^a-z0-9]+", "-", path.stem.lower()).strip("-") or "document"


def decode(data: bytes, path: Path) -> str:
    """Text from bytes in UTF-8, UTF-16 (with BOM) or a legacy single-byte encoding."""
    if not data.strip():
        raise LoadError(f"{path}: empty file; add text or remove it")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError:
            raise LoadError(f"{path}: starts like UTF-16 but is not valid UTF-16; re-save it as UTF-8") from None
    binary = f"{path}: looks binary, not text; convert it to text or give it its real extension"
    if b"\x00" in data[:8192]:
        raise LoadError(binary)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        if _UTF8_SEQUENCE.search(data):  # UTF-8 with a few stray bytes: keep the rest right, mark those with U+FFFD
            text = data.decode("utf-8-sig", errors="replace")
        else:
            try:
                text = data.decode("cp1252")
            except UnicodeDecodeError:
                text = data.decode("latin-1")
    sample = text[:8192]
    if sum(1 for ch in sample if ch < " " and ch not in "\n\r\t\f") * 10 > len(sample):
        raise LoadError(binary)  # control characters everywhere: a binary file without NUL bytes
    return text


def read_text(path: Path) -> str:
    try:
        size = path.stat().st_size
        if size > MAX_TEXT_BYTES:
            raise LoadError(
                f"{path}: {size / 2**20:.1f} MB is over the {MAX_TEXT_BYTES // 2**20} MB limit for a text file; "
                "split it into one file per instrument or part"
            )
        data = path.read_bytes()
    except OSError as exc:
        raise LoadError(f"{path}: cannot read ({exc.strerror or exc})") from None
    text = decode(data, path).replace("\r\n", "\n").replace("\r", "\n")
    return text.translate(_CONTROL)


def meta_from(values: dict[str, object], fallback_title: str, path: Path) -> DocMeta:
    meta = {k: str(values[k]).strip() for k in META_KEYS if values.get(k) not in (None, "")}
    meta.setdefault("title", fallback_title)
    for key in ("type", "jurisdiction"):
        if key in meta and not re.fullmatch(r"[\w-]+", meta[key]):
            raise LoadError(f"{path}: front matter '{key}: {meta[key]}' must be one word such as 'treaty'")
    return DocMeta(**meta)


def _first_heading(text: str) -> str | None:
    m = re.search(r"^#\s+(.+)$", text, re.M)
    return m.group(1).strip() if m else None


def load_markdown(path: Path) -> SourceDocument:
    import yaml

    raw = read_text(path)
    values: dict[str, object] = {}
    body = raw
    m = _FRONT_MATTER.match(raw)
    if m:
        try:
            parsed = yaml.safe_load(m.group(1)) or {}
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            where = f" line {mark.line + 2}" if mark is not None else ""
            raise LoadError(f"{path}:{where} malformed front matter; fix the YAML between the --- lines") from None
        if not isinstance(parsed, dict):
            raise LoadError(f"{path}: front matter must be KEY: VALUE lines")
        values = parsed
        body = raw[m.end() :]
    if not body.strip():
        raise LoadError(f"{path}: no text after the front matter")
    meta = meta_from(values, _first_heading(body) or path.stem, path)
    doc_id = str(values.get("id") or doc_id_for(path))
    return SourceDocument(doc_id=doc_id, path=path, text=body, meta=meta, structured=True)


def load_text(path: Path) -> SourceDocument:
    """Plain text; a provenance header (=== lines with TITLE: ...) becomes metadata."""
    raw = read_text(path)
    values: dict[str, object] = {}
    body = raw
    m = _PROVENANCE.match(raw)
    if m:
        for line in m.group(1).splitlines():
            key, sep, value = line.partition(":")
            if sep and key.strip().isupper():
                values[key.strip().lower()] = value.strip()
        body = raw[m.end() :]
    title = str(values.get("title") or next((ln.strip() for ln in body.splitlines() if ln.strip()), path.stem))
    meta = meta_from({"title": title[:200], **{k: v for k, v in values.items() if k != "title"}}, path.stem, path)
    return SourceDocument(doc_id=doc_id_for(path), path=path, text=body, meta=meta)


def load_document(path: Path) -> SourceDocument:
    """Load one file by its suffix; raises LoadError with a one-line reason."""
    suffix = path.suffix.lower()
    if suffix in (".md", ".markdown"):
        return load_markdown(path)
    if suffix == ".txt":
        return load_text(path)
    loader = _extra_loaders().get(suffix)
    if loader is None:
        raise LoadError(f"{path}: unsupported file type '{suffix}'; use .md, .txt, .pdf, .docx or .html")
    return loader(path)
