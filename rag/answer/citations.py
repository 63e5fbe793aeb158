"""Citations: numbered, with the quoted passage and a path the user can open; their [n] markers in an answer.

An answer's text carries the engine's markers as [n]. A bracketed number that belongs to the quoted text
itself (a judgment's paragraph "[12]", a neutral citation "[2013] EWCA Crim 991", a footnote "[1]") is
written \\[n] in the answer, so that no reader (the verifier, a renderer, a tool reading the JSON) takes it
for a marker; plain() gives the text as a person reads it.
"""

from __future__ import annotations

import re

from rag.core.files import display_path
from rag.core.labels import label
from rag.core.records import Citation, Hit

MARKER = re.compile(r"(?<!\\)\[(\d+)\]")  # a marker the engine placed
_ESCAPED = re.compile(r"\\(\[\d+\])")
_BRACKETED = re.compile(r"\[\d+\]")


def quoted(text: str) -> str:
    """Source text as it goes into an answer: its own bracketed numbers escaped, \\[2013]."""
    return _BRACKETED.sub(lambda m: "\\" + m.group(0), text)


def plain(text: str) -> str:
    """Answer text as a person reads it: the escapes gone, the markers kept."""
    return _ESCAPED.sub(r"\1", text)


def markers(text: str) -> list[int]:
    """The numbers of the engine's markers, in order of first appearance."""
    return list(dict.fromkeys(int(n) for n in MARKER.findall(text)))


def without_markers(text: str) -> str:
    """The answer text with the engine's markers removed (the quoted text's own brackets kept, unescaped)."""
    return plain(MARKER.sub("", text))


def segments(text: str) -> list[tuple[str, int | None]]:
    """The answer text cut into plain pieces (None) and the engine's markers (their number), for renderers."""
    out: list[tuple[str, int | None]] = []
    at = 0
    for m in MARKER.finditer(text):
        if m.start() > at:
            out.append((plain(text[at : m.start()]), None))
        out.append((m.group(0), int(m.group(1))))
        at = m.end()
    if at < len(text):
        out.append((plain(text[at:]), None))
    return out


def citations_for(hits: list[Hit], verified: bool = True) -> list[Citation]:
    return [
        Citation(
            n=n,
            doc_id=h.chunk.doc_id,
            title=h.chunk.meta.title,
            citation=h.chunk.meta.citation,
            pinpoint=h.chunk.pinpoint,
            page=h.chunk.page,
            quote=h.chunk.text,
            path=display_path(h.chunk.source),
            score=round(h.dense if h.dense is not None else h.score, 3),
            verified=verified,
            heading_path=h.chunk.heading_path,
            authority="commentary" if h.chunk.meta.commentary else "primary",
            about=h.chunk.meta.about,
            label=label(h.chunk.pinpoint, h.chunk.meta),
        )
        for n, h in enumerate(hits, start=1)
    ]
