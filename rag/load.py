"""Load files into SourceDocuments: Markdown with front matter, plain text, and other formats."""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterable
from pathlib import Path

from rag.errors import CorpusNotFound, LoadError
from rag.records import META_KEYS, DocMeta, SourceDocument

TEXT_SUFFIXES = {".md", ".markdown", ".txt"}
SKIPPED_NAMES = {"readme.md", "sources.yaml"}
MAX_BYTES = 64 * 1024 * 1024

_FRONT_MATTER = re.compile(r"\A---[ \t]*\r?\n(.*?)\r?\n---[ \t]*(?:\r?\n|\Z)", re.S)
_PROVENANCE = re.compile(r"\A=+\r?\n(.*?)\r?\n=+\r?\n", re.S)


def supported_suffixes() -> set[str]:
    return TEXT_SUFFIXES | set(_extra_loaders())


def _extra_loaders() -> dict[str, Callable[[Path], SourceDocument]]:
    """Loaders for binary formats, registered by rag.formats when it is present."""
    try:
        from rag.formats import LOADERS
    except ImportError:
        return {}
    return LOADERS


def discover(paths: Iterable[Path]) -> list[Path]:
    """Files to ingest under the given paths, sorted; folders are walked without following links."""
    found: list[Path] = []
    suffixes = supported_suffixes()
    for root in paths:
        if not root.exists():
            raise CorpusNotFound(f"{root}: no such file or folder; give an existing path to ingest")
        if root.is_file():
            found.append(root.resolve())
            continue
        for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
            dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
            for name in sorted(filenames):
                path = Path(dirpath) / name
                if name.startswith(".") or name.lower() in SKIPPED_NAMES:
                    continue
                if path.suffix.lower() in suffixes and not path.is_symlink():
                    found.append(path.resolve())
    return sorted(dict.fromkeys(found))


def doc_id_for(path: Path) -> str:
    """A stable, readable id from the file name: 'coe-convention' for corpus/.../coe-convention.md."""
    return re.sub(r"[^a-z0-9]+", "-", path.stem.lower()).strip("-") or "document"


def decode(data: bytes, path: Path) -> str:
    """Text from bytes in UTF-8, UTF-16 (with BOM) or a legacy single-byte encoding."""
    if not data.strip():
        raise LoadError(f"{path}: empty file; add text or remove it")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16")
    if b"\x00" in data[:8192]:
        raise LoadError(f"{path}: looks binary (NUL bytes), not text; convert it or rename it")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1252")
    except UnicodeDecodeError:
        return data.decode("latin-1")


def read_text(path: Path) -> str:
    try:
        size = path.stat().st_size
        if size > MAX_BYTES:
            raise LoadError(f"{path}: {size // 2**20} MB is over the {MAX_BYTES // 2**20} MB limit; split it")
        data = path.read_bytes()
    except OSError as exc:
        raise LoadError(f"{path}: cannot read ({exc.strerror or exc})") from None
    text = decode(data, path).replace("\r\n", "\n").replace("\r", "\n")
    return "".join(ch for ch in text if ch in "\n\t" or ch >= " " or ch == "\f")


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
