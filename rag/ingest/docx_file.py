"""Word (.docx) files: paragraphs in order, heading styles and provision lines kept as headings."""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rag.core.errors import LoadError
from rag.core.records import SourceDocument
from rag.ingest.document import (
    check_size,
    clean_text,
    context_after,
    document_from,
    first_line,
    is_provision_line,
)

if TYPE_CHECKING:
    pass


def _heading_level(paragraph: Any) -> int | None:
    """1-6 for Word's "Heading N" styles (or styles based on them), 1 for "Title", else None."""
    style = paragraph.style
    for _ in range(5):
        if style is None:
            return None
        name = (style.name or "").strip().lower()
        if name == "title":
            return 1
        m = re.fullmatch(r"heading\s*(\d)", name)
        if m:
            return min(int(m.group(1)), 6)
        style = style.base_style
    return None


def _docx_blocks(document: Any) -> list[str]:
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    blocks: list[str] = []
    context = 1
    for item in document.iter_inner_content():
        if isinstance(item, Table):
            for row in item.rows:
                cells = list(dict.fromkeys(c.text.strip() for c in row.cells if c.text.strip()))
                if cells:
                    blocks.append(" | ".join(cells))
            continue
        if not isinstance(item, Paragraph):
            continue
        text = clean_text(item.text)
        if not text:
            continue
        level = _heading_level(item)
        if level is not None:
            flat = " ".join(text.split())
            blocks.append("#" * level + " " + flat)
            context = context_after(level, flat)
        elif is_provision_line(text):
            blocks.append("#" * min(6, context + 1) + " " + text)
        else:
            blocks.append(text)
    return blocks


def load_docx(path: Path) -> SourceDocument:
    """A Word document as Markdown: Heading styles become # headings, tables become | rows."""
    import docx

    check_size(path)
    try:
        document = docx.Document(str(path))
        blocks = _docx_blocks(document)
        title = (document.core_properties.title or "").strip()
    except Exception as exc:  # python-docx raises zip, XML and key errors on damaged files
        raise LoadError(f"{path}: not a readable .docx file ({type(exc).__name__}); re-save it from Word") from None
    if not blocks:
        raise LoadError(f"{path}: the document has no text")
    text = "\n\n".join(blocks)
    heading = next((b.lstrip("#").strip() for b in blocks if b.startswith("#")), None)
    return document_from(path, text, title or heading or first_line(text), structured=True)
