"""PDF files: the text layer page by page, with the page each passage starts on."""

from __future__ import annotations

import contextlib
import logging
import re
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rag.core.errors import LoadError
from rag.core.records import SourceDocument
from rag.ingest.document import (
    MAX_TEXT_BYTES,
    check_size,
    clean_text,
    document_from,
    first_line,
)

if TYPE_CHECKING:
    pass


def _pdf_title(reader: Any) -> str | None:
    try:
        title = (reader.metadata or {}).get("/Title")
    except Exception:  # a broken Info dictionary only costs the title
        return None
    title = str(title or "").strip()
    # Titles like "Microsoft Word - draft.doc" or "untitled" name the tool, not the document.
    if not title or re.search(r"\.(docx?|pdf|rtf|odt)$|^untitled$|^microsoft word", title, re.I):
        return None
    return title


@contextlib.contextmanager
def _quiet_pypdf() -> Iterator[None]:
    """pypdf logs repairs of damaged files ("EOF marker not found") to stderr; a bad file is reported once, here."""
    logger = logging.getLogger("pypdf")
    level = logger.level
    logger.setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        logger.setLevel(level)


def _page_texts(reader: Any, path: Path) -> list[str]:
    """Each page's text, stopping as soon as the running total is over the limit.

    Pages that draw the same content stream with the same resources have the same text, so it is extracted
    once: a 22 KB file whose pages all shared one large stream took six minutes before the limit was seen.
    """
    texts: list[str] = []
    seen: dict[tuple[Any, ...], str] = {}
    total = 0
    for number, page in enumerate(reader.pages, 1):
        key = _content_key(page)
        text = seen.get(key) if key else None
        if text is None:
            text = clean_text(page.extract_text() or "")
            if key:
                seen[key] = text
        total += len(text) + 2
        if total > MAX_TEXT_BYTES:
            raise LoadError(
                f"{path}: over {MAX_TEXT_BYTES:,} characters of text by page {number} of {len(reader.pages)}, "
                "over the limit; split it"
            )
        texts.append(text)
    return texts


def _content_key(page: Any) -> tuple[Any, ...] | None:
    """What a page's text depends on, when its content is shared objects (else None: extract it on its own)."""
    from pypdf.generic import ArrayObject, DictionaryObject, IndirectObject

    contents, resources = page.get("/Contents"), page.get("/Resources")
    if isinstance(contents, IndirectObject):
        refs = [contents]
    elif isinstance(contents, ArrayObject) and all(isinstance(c, IndirectObject) for c in contents):
        refs = list(contents)
    else:
        return None
    if isinstance(resources, IndirectObject):
        used: object = (resources.idnum, resources.generation)
    elif isinstance(resources, DictionaryObject) and len(shown := repr(resources)) < 4096:
        used = shown  # a page's own small dictionary, naming shared fonts: pages with equal ones share the key
    elif resources is None:
        used = repr(page.get("/Parent"))  # inherited from the page tree
    else:
        return None
    return (*((r.idnum, r.generation) for r in refs), used, page.get("/Rotate"))


def load_pdf(path: Path) -> SourceDocument:
    """A PDF's text layer, page by page; each page's start offset is kept for page citations."""
    from pypdf import PdfReader
    from pypdf.errors import DependencyError, FileNotDecryptedError

    check_size(path)
    encrypted = f"{path}: PDF is encrypted (password-protected); save an unprotected copy and ingest that"
    try:
        with _quiet_pypdf():
            reader = PdfReader(path)
            if reader.is_encrypted and not reader.decrypt(""):
                raise LoadError(encrypted)
            pages = _page_texts(reader, path)
    except LoadError:
        raise
    except FileNotDecryptedError:
        raise LoadError(encrypted) from None
    except DependencyError:
        raise LoadError(
            f"{path}: PDF is AES-encrypted and reading it needs the 'cryptography' package; "
            "pip install cryptography, or save an unprotected copy"
        ) from None
    except Exception as exc:  # pypdf raises many types on damaged files; all mean the same to the user
        raise LoadError(f"{path}: not a readable PDF ({type(exc).__name__}); re-download or re-export it") from None
    if not pages:
        raise LoadError(f"{path}: PDF has no pages; re-download or re-export it")
    if not any(pages):
        raise LoadError(f"{path}: PDF has no text layer (scanned?); run OCR first")
    starts: list[int] = []
    offset = 0
    for page in pages:
        starts.append(offset)
        offset += len(page) + 2
    text = "\n\n".join(pages)
    return document_from(path, text, _pdf_title(reader) or first_line(text), page_starts=tuple(starts))
