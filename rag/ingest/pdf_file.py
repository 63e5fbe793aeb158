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
            pages = [clean_text(page.extract_text() or "") for page in reader.pages]
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
