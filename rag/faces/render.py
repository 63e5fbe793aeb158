"""Rendering answers, ingest reports and source lists for the terminal and as JSON."""

from __future__ import annotations

import json
import textwrap
from typing import Any

from rag.answer.citations import plain
from rag.core.labels import coverage_note, source_name
from rag.core.language import name, say
from rag.core.records import Answer, Citation, IngestReport, SourceInfo


def to_json(data: Any) -> str:
    return json.dumps(data, ensure_ascii=False, indent=2)


def citation_heading(c: Citation) -> str:
    return f"[{c.n}] {source_name(c)}"


def short_quote(text: str, width: int = 240) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= width else flat[: width - 1].rsplit(" ", 1)[0] + " …"


def sources_heading(answer: Answer) -> str:
    """ "Sources", or "Nearest sources (none answers the question)" for a refusal, in the answer's language."""
    return say("nearest_sources" if answer.refused else "sources", answer.language)


def not_verified(answer: Answer) -> str:
    return say("not_verified", answer.language)


def preamble(answer: Answer) -> list[str]:
    """The lines before an answer's quotes: a lead-in when it is not in English, and the quotes' language when
    it differs from the answer's ("The quoted passages are in English.")."""
    if answer.refused:
        return []
    lines = [say("lead_in", answer.language)] if answer.language != "en" else []
    if answer.quotes_language:
        source = name(answer.quotes_language, answer.language)
        lines.append(say("quotes_language", answer.language, source_language=source))
    return lines


def answer_text(answer: Answer, full_quotes: bool = False) -> str:
    """Plain text: the answer, then the numbered sources with quotes and paths."""
    lines = [*preamble(answer), plain(answer.answer), ""]
    lines.append(sources_heading(answer) + ":")
    for c in answer.citations:
        mark = "" if c.verified or answer.refused else f"  [{not_verified(answer)}]"
        lines.append(f"{citation_heading(c)}{mark}")
        quote = " ".join(c.quote.split()) if full_quotes else short_quote(c.quote)
        lines.extend(textwrap.wrap(f"“{quote}”", width=100, initial_indent="    ", subsequent_indent="    "))
        lines.append(f"    {c.path}  (relevance {c.score:.2f})")
    for w in answer.warnings:
        lines.append(f"! {w}")
    if answer.verification and not answer.refused:
        lines.append(answer.verification)
    if note := coverage_note(answer):
        lines.append(note)
    return "\n".join(lines)


def ingest_text(report: IngestReport) -> str:
    lines = [
        f"{len(report.added)} added, {len(report.updated)} updated, {len(report.unchanged)} unchanged, "
        f"{len(report.removed)} removed, {len(report.failed)} failed; "
        f"{report.chunks} chunks in the index ({report.embedded} embedded now)"
    ]
    for path, error in report.failed:
        lines.append(f"  failed: {path}: {error}")
    for path, first in report.duplicates:
        lines.append(f"  duplicate: {path} (same as {first})")
    for path in report.removed:
        lines.append(f"  removed: {path}")
    return "\n".join(lines)


def sources_text(sources: list[SourceInfo]) -> str:
    if not sources:
        return "Nothing is indexed."
    lines = []
    for s in sources:
        meta = s.meta
        kind = f"commentary on {meta.about}" if meta.commentary and meta.about else meta.authority or "primary"
        tags = ", ".join(x for x in (kind, meta.type, meta.forum or meta.jurisdiction, meta.date) if x)
        lines.append(f"{s.doc_id}: {meta.title}" + (f" ({meta.citation})" if meta.citation else ""))
        lines.append(f"    {tags}; {s.chunks} chunks; {s.path}")
    lines.append(f"{len(sources)} documents, {sum(s.chunks for s in sources)} chunks")
    return "\n".join(lines)
