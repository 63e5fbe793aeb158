"""How every face names a source: a primary text by its own citation, commentary always as commentary.

"Article 26, CETS No. 197" is the treaty's own text only; the bench book's paraphrase under the same
heading is "Bench book note on CETS No. 197, Article 26".
"""

from __future__ import annotations

from rag.core.records import Answer, Citation, DocMeta

COMMENTARY_PREFIX = "Bench book note"


def label(pinpoint: str | None, meta: DocMeta) -> str:
    """The name a lawyer gives the source in one breath."""
    if meta.commentary:
        name = f"{COMMENTARY_PREFIX} on {meta.about}" if meta.about else f"{COMMENTARY_PREFIX}: {meta.title}"
        return f"{name}, {pinpoint}" if pinpoint else name
    name = meta.citation or meta.title
    return f"{pinpoint}, {name}" if pinpoint else name


def source_name(c: Citation) -> str:
    """The longer name of a source list: 'Article 26, Council of Europe Convention ... (CETS No. 197), p. 3'."""
    if c.authority == "commentary":
        name = c.label or f"{COMMENTARY_PREFIX}: {c.title}"
        if c.title and c.title not in name:
            name += f" ({c.title})"
    else:
        name = f"{c.pinpoint}, {c.title}" if c.pinpoint else c.title
        if c.citation and c.citation not in c.title:
            name += f" ({c.citation})"
    if c.page is not None:
        name += f", p. {c.page}"
    return name


def coverage_note(answer: Answer) -> str | None:
    """The line every face prints under a partial answer: how far the sources cover the question."""
    if answer.coverage != "partial":
        return None
    from rag.core.language import say

    return say("coverage_partial", answer.language or "en", items="; ".join(answer.not_covered))
