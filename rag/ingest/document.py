"""What a loaded file is made of: its decoded text, its size limits, its id, its metadata and its sidecar.

A NAME.meta.yaml sidecar beside a PDF, DOCX or HTML file (written by `rag corpus fetch`) gives its metadata."""

from __future__ import annotations

import io
import os
import re
import stat
from pathlib import Path
from typing import Any

from rag.core import pinpoint as pp
from rag.core.errors import LoadError
from rag.core.records import AUTHORITIES, META_KEYS, DocMeta, SourceDocument

MAX_BYTES = 64 * 1024 * 1024  # PDF, DOCX and HTML files, whose bytes are mostly not text


# A text file's words are all embedded: 10 MB is some 12,000 passages, about three minutes of MiniLM on
# two cores; at 50 MB a single file would hold the index for a quarter of an hour (see README "Limits").
MAX_TEXT_BYTES = 10 * 1024 * 1024


# Control characters other than newline, tab and form feed, dropped from text files (str.translate runs in C).
_UTF8_SEQUENCE = re.compile(rb"[\xc2-\xdf][\x80-\xbf]|[\xe0-\xef][\x80-\xbf]{2}|[\xf0-\xf4][\x80-\xbf]{3}")


_CONTROL = dict.fromkeys(c for c in range(32) if chr(c) not in "\n\t\f")
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")
_CONTROL_EXCEPT_LINES = dict.fromkeys(c for c in range(32) if chr(c) not in "\n\t")  # for PDF, DOCX text


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


def open_regular(path: Path) -> io.BufferedReader:
    """The file opened for reading; LoadError for a named pipe or a device, which would block or never end."""
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)  # opening a pipe without a writer would wait for ever
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise LoadError(f"{path}: not a regular file (a named pipe or a device); only regular files are read")
    return os.fdopen(fd, "rb")


def read_text(path: Path) -> str:
    try:
        with open_regular(path) as f:
            size = os.fstat(f.fileno()).st_size
            if size > MAX_TEXT_BYTES:
                raise LoadError(
                    f"{path}: {size / 2**20:.1f} MB is over the {MAX_TEXT_BYTES // 2**20} MB limit for a text file; "
                    "split it into one file per instrument or part"
                )
            data = f.read()
    except OSError as exc:
        raise LoadError(f"{path}: cannot read ({exc.strerror or exc})") from None
    text = decode(data, path).replace("\r\n", "\n").replace("\r", "\n")
    return text.translate(_CONTROL)


# Longest metadata values accepted from front matter, a sidecar or a provenance header. Every passage carries
# its document's title and citation (embedded, shown, split into sentences): a 40,000-character title made
# every question that found the note take seconds. The corpus's longest title is 148 characters.
MAX_META_CHARS = {"title": 300, "citation": 300, "about": 300, "url": 2000}
MAX_OTHER_META_CHARS = 100  # type, jurisdiction, date, language, authority, forum
MAX_ID_CHARS = 100


def short_title(text: str) -> str:
    """A title taken from the text itself (a heading, a PDF's metadata), cut at a word to the title limit."""
    limit = MAX_META_CHARS["title"]
    text = " ".join(text[: 2 * limit].split())
    return text if len(text) <= limit else text[:limit].rsplit(" ", 1)[0].rstrip(" ,;:-–—") + " …"


def meta_from(values: dict[str, object], fallback_title: str, path: Path) -> DocMeta:
    """The document's metadata; a value that is not text or is too long is an error naming its key."""
    meta: dict[str, str] = {}
    for key in META_KEYS:
        value = values.get(key)
        if value in (None, ""):
            continue
        if isinstance(value, dict | list | set | tuple):
            raise LoadError(f"{path}: metadata '{key}' must be a single value, not a list or mapping")
        text = str(value).strip()
        limit = MAX_META_CHARS.get(key, MAX_OTHER_META_CHARS)
        if len(text) > limit:
            raise LoadError(f"{path}: metadata '{key}' is {len(text):,} characters, over {limit}; shorten it")
        meta[key] = text
    meta.setdefault("title", short_title(fallback_title) or path.stem)
    # A file a user adds without saying otherwise is the text itself; the bench book's notes say `commentary`.
    meta.setdefault("authority", "primary")
    for key in ("type", "jurisdiction", "forum"):
        if key in meta and not re.fullmatch(r"[\w-]+", meta[key]):
            raise LoadError(f"{path}: front matter '{key}: {meta[key]}' must be one word such as 'treaty'")
    if meta["authority"] not in AUTHORITIES:
        raise LoadError(f"{path}: front matter 'authority: {meta['authority']}' must be primary or commentary")
    return DocMeta(**meta)


SIDECAR_SUFFIX = ".meta.yaml"
MAX_SIDECAR_BYTES = 64 * 1024  # a sidecar is a dozen KEY: VALUE lines written by `rag corpus fetch`


# A short line that names a provision on its own ("Article 26", "Article 26 – Non-punishment provision")
# is a heading even when the file marks it only by its look (bold text, a CSS class).
PROVISION_LINE = re.compile(
    r"^(?:Article|Art\.|Recital|Section|Principle|Guideline|Schedule|Rule|Regulation)\s+\d+[A-Za-z]?"
    r"(?:\s*[-–—:.]\s*\S.{0,100})?$"
)


def sidecar_path(path: Path) -> Path:
    """Where the metadata written by `rag corpus fetch` sits: coe-convention.pdf -> coe-convention.meta.yaml."""
    return path.with_name(path.stem + SIDECAR_SUFFIX)


def read_sidecar(path: Path) -> dict[str, object]:
    """The sidecar's keys, or {} when the file has none."""
    import yaml

    from rag.ingest import yaml_data

    side = sidecar_path(path)
    if not side.is_file():
        return {}
    try:
        with open_regular(side) as f:
            data = f.read(MAX_SIDECAR_BYTES + 1)
        if len(data) > MAX_SIDECAR_BYTES:
            raise LoadError(f"{side}: metadata sidecar over {MAX_SIDECAR_BYTES // 1024} KB; fix it or delete it")
        values = yaml_data.load(data.decode("utf-8")) or {}
    except yaml.YAMLError as exc:
        if yaml_data.is_alias_error(exc):
            raise LoadError(f"{side}: uses {yaml_data.ALIAS_REFUSED}; write the value out") from None
        raise LoadError(f"{side}: unreadable metadata sidecar; fix its YAML or delete it") from None
    except (OSError, UnicodeDecodeError):
        raise LoadError(f"{side}: unreadable metadata sidecar; fix its YAML or delete it") from None
    if not isinstance(values, dict):
        raise LoadError(f"{side}: the metadata sidecar must be KEY: VALUE lines")
    return values


def document_from(path: Path, text: str, title: str | None, **extra: Any) -> SourceDocument:
    """A document from text a parser extracted (PDF, DOCX, HTML), with its sidecar's metadata."""
    # A lone surrogate (a PDF's broken Unicode map can make one) is text no store accepts: it would fail the
    # whole batch of files being written. Same length, so page offsets stay right.
    text = _LONE_SURROGATE.sub("\ufffd", text)
    title = _LONE_SURROGATE.sub("\ufffd", title) if title else title
    values: dict[str, object] = {"title": short_title(title or "") or path.stem}
    values.update({k: v for k, v in read_sidecar(path).items() if v not in (None, "")})
    meta = meta_from(values, path.stem, path)
    return SourceDocument(doc_id=doc_id_for(path), path=path, text=text, meta=meta, **extra)


def check_size(path: Path) -> None:
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise LoadError(f"{path}: cannot read ({exc.strerror or exc})") from None
    if size == 0:
        raise LoadError(f"{path}: empty file; add text or remove it")
    if size > MAX_BYTES:
        raise LoadError(f"{path}: {size // 2**20} MB is over the {MAX_BYTES // 2**20} MB limit; split it")


def clean_text(text: str) -> str:
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = text.translate(_CONTROL_EXCEPT_LINES)
    lines = [line.rstrip() for line in text.split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def first_line(text: str) -> str | None:
    return next((ln.strip().lstrip("#").strip() for ln in text.splitlines() if ln.strip()), None)


def context_after(level: int, heading: str) -> int:
    """The level a promoted provision heading nests under: a sibling of "## Article 8", a child of "## Chapter"."""
    return level - 1 if pp.from_heading(heading) else level


def is_provision_line(text: str) -> bool:
    return "\n" not in text and len(text) <= 120 and bool(PROVISION_LINE.match(text)) and bool(pp.from_heading(text))
