"""Legal-structure-aware chunking: one chunk per provision where it fits, each with its pinpoint."""

from __future__ import annotations

import bisect
import hashlib
import re
from collections.abc import Iterator
from dataclasses import dataclass

from rag.core import pinpoint as pp
from rag.core.records import Chunk, SourceDocument

MAX_CHARS = 1600  # a section up to this length stays one chunk: provisions are never cut
TARGET_CHARS = 900  # pieces of a longer section aim for this length

# The closing #s are stripped in Python: a lazy (.+?) before [ \t#]*$ retries at every character of the line.
_MD_HEADING = re.compile(r"^(#{1,6})[ \t]+(.+)$", re.M)
_FENCE = re.compile(r"\n```")  # where code blocks open and close; a heading between an odd count is code
_PLAIN_PART = re.compile(r"^(?:CHAPTER|Chapter|PART|Part|SECTION|TITLE)\s+(?:[IVXLCDM]+|\d+)\b.{0,100}$")
_PLAIN_ARTICLE = re.compile(r"^(?:Article|ARTICLE|Art\.)\s+(\d+[a-z]?)(?:\s*[-–—:.]\s*\S.{0,100})?\s*$")
_PLAIN_USC = re.compile(r"^§\s*(\d+[a-z]?)\.\s*(.{0,150})$")
_PLAIN_USC_TITLE = re.compile(r"^#?\s*Title\s+(\d+)\b", re.I)
_PLAIN_SUBSECTION = re.compile(r"^\(([a-z])\)\s+([^.]{1,80})$")
_PLAIN_NAMED = re.compile(r"^(Preamble|PREAMBLE|Annex|ANNEX|Schedule \d+|SCHEDULE \d+)\s*$")
_PLAIN_NOISE = re.compile(r"^-{3,}.*-{3,}$|^#\s*Title\s+\d+")  # file separators in compiled texts
_NUMBERED_UNIT = re.compile(r"^(?:(\d{1,3})\.\s|\((\d{1,3}|[a-z])\)\s)")
_SENTENCE_END = re.compile(r"(?<=[.;:!?])\s+(?=[\"'(\[A-Z0-9])")


@dataclass(frozen=True)
class Section:
    """A stretch of text under one heading path, with the pinpoint it inherits."""

    heading_path: tuple[str, ...]
    pinpoint: str | None
    start: int
    end: int


def _markdown_sections(text: str) -> list[Section]:
    sections: list[Section] = []
    stack: list[tuple[int, str, str | None]] = []
    cursor = 0
    fences = [m.start() for m in _FENCE.finditer(text)]
    for m in _MD_HEADING.finditer(text):
        if bisect.bisect_left(fences, m.start()) % 2 == 1:  # an odd number of fences before it: inside code
            continue
        sections.append(_section(stack, cursor, m.start()))
        level = len(m.group(1))
        while stack and stack[-1][0] >= level:
            stack.pop()
        title = m.group(2).rstrip(" \t#").strip() or m.group(2)[:1]  # "## Article 5 ##" is "Article 5"
        stack.append((level, title, pp.from_heading(title)))
        cursor = m.end()
    sections.append(_section(stack, cursor, len(text)))
    return sections


def _section(stack: list[tuple[int, str, str | None]], start: int, end: int) -> Section:
    pin = next((p for _, _, p in reversed(stack) if p), None)
    return Section(tuple(t for _, t, _ in stack if t), pin, start, end)


def _plain_sections(text: str) -> list[Section]:
    """Headings in plain legal text: CHAPTER / Article N / § 7101. / (b) Findings."""
    sections: list[Section] = []
    stack: list[tuple[int, str, str | None]] = []
    usc_title: str | None = None
    cursor = 0
    offset = 0
    for line in text.splitlines(keepends=True):
        stripped = line.strip()
        heading: tuple[int, str, str | None] | None = None
        if m := _PLAIN_USC_TITLE.match(stripped):
            usc_title = m.group(1)
        if _PLAIN_NOISE.match(stripped):
            heading = (0, "", None)
        elif m := _PLAIN_ARTICLE.match(stripped):
            heading = (2, f"Article {m.group(1)}", f"Article {m.group(1)}")
        elif m := _PLAIN_USC.match(stripped):
            usc_pin = f"{usc_title} U.S.C. {m.group(1)}" if usc_title else f"§ {m.group(1)}"
            heading = (2, stripped, usc_pin)
        elif (
            (m := _PLAIN_SUBSECTION.match(stripped))
            and stack
            and stack[-1][0] >= 2
            and "U.S.C." in (_parent_pin(stack) or "")
        ):
            heading = (3, stripped, f"{_usc_root(stack)}({m.group(1)})")
        elif _PLAIN_PART.match(stripped) or _PLAIN_NAMED.match(stripped):
            level = 2 if _PLAIN_NAMED.match(stripped) else 1
            pin: str | None = stripped.title() if stripped.upper().startswith("SCHEDULE") else None
            heading = (level, stripped, pin)
        if heading is not None:
            sections.append(_section(stack, cursor, offset))
            while stack and stack[-1][0] >= heading[0]:
                stack.pop()
            stack.append(heading)
            cursor = offset + len(line)
        offset += len(line)
    sections.append(_section(stack, cursor, len(text)))
    return sections


def _parent_pin(stack: list[tuple[int, str, str | None]]) -> str | None:
    return next((p for _, _, p in reversed(stack) if p), None)


def _usc_root(stack: list[tuple[int, str, str | None]]) -> str:
    return next((p for level, _, p in stack if level == 2 and p), "")


def _units(text: str, start: int, end: int, numbered: bool) -> Iterator[tuple[int, int, str | None]]:
    """Paragraph blocks (and, in plain text, numbered paragraphs) as (start, end, number)."""
    block_start: int | None = None
    number: str | None = None
    offset = start
    for line in text[start:end].splitlines(keepends=True):
        stripped = line.strip()
        m = _NUMBERED_UNIT.match(stripped) if numbered else None
        if not stripped or m:
            if block_start is not None:
                yield block_start, offset, number
                block_start, number = None, None
            if m:
                block_start, number = offset, m.group(1) or m.group(2)
        elif block_start is None:
            block_start = offset
        offset += len(line)
    if block_start is not None:
        yield block_start, end, number


def _split_long(text: str, start: int, end: int) -> Iterator[tuple[int, int]]:
    """Cut an over-long paragraph at sentence ends (or spaces) into pieces near TARGET_CHARS."""
    piece = start
    while end - piece > MAX_CHARS:
        window = text[piece : piece + TARGET_CHARS + 300]
        cuts = [m.start() for m in _SENTENCE_END.finditer(window) if m.start() >= TARGET_CHARS // 2]
        if not cuts:
            cuts = [m.start() for m in re.finditer(r"\s+", window) if m.start() >= TARGET_CHARS // 2]
        cut = piece + (cuts[0] if cuts else TARGET_CHARS)
        yield piece, cut
        piece = cut
    yield piece, end


def _pieces(doc: SourceDocument, sec: Section) -> Iterator[tuple[int, int, str | None]]:
    text = doc.text
    if sec.end - sec.start <= MAX_CHARS:
        yield sec.start, sec.end, sec.pinpoint
        return
    sub_pins = sec.pinpoint is not None and (sec.pinpoint.startswith("Article") or "U.S.C." in sec.pinpoint)
    current: tuple[int, int, str | None] | None = None
    for u_start, u_end, number in _units(text, sec.start, sec.end, numbered=not doc.structured):
        pin = sec.pinpoint
        if number and sub_pins and pin:
            pin = f"{pin}({number})"
        if current and (pin != current[2] or u_end - current[0] > TARGET_CHARS):
            yield current
            current = None
        if u_end - u_start > MAX_CHARS:
            for a, b in _split_long(text, u_start, u_end):
                yield a, b, pin
            continue
        current = (current[0], u_end, pin) if current else (u_start, u_end, pin)
    if current:
        yield current


def _trim(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


def chunk_id(doc_id: str, start: int, end: int, text: str) -> str:
    digest = hashlib.sha1(text.encode("utf-8")).hexdigest()[:10]
    return f"{doc_id}:{start}-{end}:{digest}"


def sections(doc: SourceDocument) -> list[Section]:
    found = _markdown_sections(doc.text) if doc.structured else _plain_sections(doc.text)
    return [s for s in found if doc.text[s.start : s.end].strip()]


def chunk_document(doc: SourceDocument) -> list[Chunk]:
    """Split a document along its legal structure; every chunk's text is a span of doc.text."""
    chunks: list[Chunk] = []
    for sec in sections(doc):
        for a, b, pin in _pieces(doc, sec):
            start, end = _trim(doc.text, a, b)
            body = doc.text[start:end]
            if not re.search(r"\w", body):
                continue
            chunks.append(
                Chunk(
                    chunk_id=chunk_id(doc.doc_id, start, end, body),
                    doc_id=doc.doc_id,
                    text=body,
                    pinpoint=pin,
                    heading_path=sec.heading_path,
                    start=start,
                    end=end,
                    page=doc.page_at(start),
                    meta=doc.meta,
                    source=str(doc.path),
                )
            )
    return chunks


def context_line(chunk: Chunk) -> str:
    """What is embedded before the passage so it is found by its instrument and provision."""
    parts = [chunk.meta.title]
    if chunk.meta.citation:
        parts.append(f"({chunk.meta.citation})")
    trail = [h for h in chunk.heading_path if h != chunk.meta.title]
    if trail:
        parts.append("— " + " > ".join(trail))
    elif chunk.pinpoint:
        parts.append(f"— {chunk.pinpoint}")
    return " ".join(parts)
