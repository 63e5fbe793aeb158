"""Word (.docx) files: paragraphs in order, heading styles and provision lines kept as headings."""

from __future__ import annotations

import re
from pathlib import Path
from typing import IO, Any

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

# What python-docx may be given: it holds every part in memory and parses each XML part into a tree. At
# the limits a document took 480 MB and a minute here (2 cores, busy); a 500-page judgment has some 10,000
# paragraphs.
MAX_UNZIPPED_BYTES = 256 * 2**20
MAX_XML_BYTES = 64 * 2**20
MAX_PARAGRAPHS = 100_000
MAX_ELEMENTS = 2_000_000
_PARAGRAPH = re.compile(rb"<w:p[ >/]")


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


def _check_unzipped(path: Path) -> None:
    """Refuse a .docx whose parts unzip to more than python-docx can hold (it reads and parses every part whole).

    A zip bomb of 2 MB unzipped to gigabytes; the sizes in the zip's directory bound what zipfile will inflate,
    and the paragraphs and XML elements, counted while streaming, bound the parse.
    """
    import zipfile

    try:
        with zipfile.ZipFile(path) as archive:
            infos = archive.infolist()
            total = sum(i.file_size for i in infos)
            xml = [i for i in infos if i.filename.endswith((".xml", ".rels"))]
            xml_bytes = sum(i.file_size for i in xml)
            if total > MAX_UNZIPPED_BYTES or xml_bytes > MAX_XML_BYTES:
                raise LoadError(
                    f"{path}: unzips to {max(total, xml_bytes) / 2**20:,.0f} MB, over the "
                    f"{MAX_XML_BYTES // 2**20} MB of XML and {MAX_UNZIPPED_BYTES // 2**20} MB in all a .docx may hold; "
                    "split the document or save it as PDF"
                )
            paragraphs, elements = 0, 0
            for info in xml:
                with archive.open(info) as part:
                    p, e = _count_tags(part)
                paragraphs, elements = paragraphs + p, elements + e
    except LoadError:
        raise
    except Exception as exc:  # not a zip, a damaged or encrypted one
        raise LoadError(f"{path}: not a readable .docx file ({type(exc).__name__}); re-save it from Word") from None
    if paragraphs > MAX_PARAGRAPHS or elements > MAX_ELEMENTS:
        raise LoadError(
            f"{path}: {paragraphs:,} paragraphs and {elements:,} XML elements, over the {MAX_PARAGRAPHS:,} and "
            f"{MAX_ELEMENTS:,} a .docx may hold; split the document"
        )


def _count_tags(part: IO[bytes]) -> tuple[int, int]:
    """Paragraphs (<w:p>, <w:p .../>) and elements (start tags) in an XML part, read a megabyte at a time."""
    paragraphs = elements = 0
    tail = b""

    def count(data: bytes) -> None:
        nonlocal paragraphs, elements
        paragraphs += len(_PARAGRAPH.findall(data))
        elements += data.count(b"<") - data.count(b"</")

    while block := part.read(2**20):
        data = tail + block
        # Every tag counted starts with "<" and is at most 5 bytes long: only one that starts in the last
        # few bytes can run into the next block, so those bytes wait for it.
        last = data.rfind(b"<")
        cut = last if last >= len(data) - 8 else len(data)
        count(data[:cut])
        tail = data[cut:]
    count(tail)
    return paragraphs, elements


def _docx_blocks(document: Any) -> list[str]:
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    blocks: list[str] = []
    context = 1
    levels: dict[str | None, int | None] = {}  # style id -> heading level: a style lookup is an XPath search
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
        style_id = item._p.style
        if style_id not in levels:
            levels[style_id] = _heading_level(item)
        level = levels[style_id]
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
    _check_unzipped(path)
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
