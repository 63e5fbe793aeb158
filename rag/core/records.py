"""Typed records that flow through the pipeline: documents, chunks, hits, citations, answers."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

META_KEYS = ("title", "citation", "type", "jurisdiction", "date", "url", "language", "authority", "about", "forum")
AUTHORITIES = ("primary", "commentary")


@dataclass(frozen=True)
class DocMeta:
    """Bibliographic metadata of one source, from front matter or a provenance header."""

    title: str
    citation: str | None = None
    type: str | None = None
    jurisdiction: str | None = None
    date: str | None = None
    url: str | None = None
    language: str | None = None
    authority: str | None = None  # "primary" (the text itself) or "commentary" (the bench book's notes); None: primary
    about: str | None = None  # the instrument a commentary discusses, as a short citation ("CETS No. 197")
    forum: str | None = None  # the forum a national note governs within its jurisdiction ("UK-EW")

    def as_dict(self) -> dict[str, str]:
        return {k: v for k, v in asdict(self).items() if v is not None}

    @property
    def commentary(self) -> bool:
        return self.authority == "commentary"


@dataclass(frozen=True)
class SourceDocument:
    """One loaded file: its text, where each page starts, and its metadata."""

    doc_id: str
    path: Path
    text: str
    meta: DocMeta
    page_starts: tuple[int, ...] = ()
    structured: bool = False  # Markdown headings (True) or plain text (False)

    def page_at(self, offset: int) -> int | None:
        """The 1-based page holding a character offset, or None for unpaged text."""
        if not self.page_starts:
            return None
        page = 0
        for i, start in enumerate(self.page_starts):
            if start <= offset:
                page = i
            else:
                break
        return page + 1


@dataclass(frozen=True)
class Chunk:
    """A quotable passage with its pinpoint and its place in the document."""

    chunk_id: str
    doc_id: str
    text: str
    pinpoint: str | None
    heading_path: tuple[str, ...]
    start: int
    end: int
    page: int | None
    meta: DocMeta
    source: str  # absolute path of the file it came from


@dataclass(frozen=True)
class Hit:
    """A retrieved chunk with its relevance (0..1 cosine for the dense part)."""

    chunk: Chunk
    score: float
    dense: float | None = None
    keyword: float | None = None
    exact: bool = False  # found by an explicit pinpoint in the question


@dataclass
class Citation:
    """A numbered source of an answer, with the passage quoted."""

    n: int
    doc_id: str
    title: str
    citation: str | None
    pinpoint: str | None
    page: int | None
    quote: str
    path: str
    score: float
    verified: bool = True
    heading_path: tuple[str, ...] = ()  # where the passage stands in its document
    authority: str = "primary"
    about: str | None = None
    label: str = ""  # what every face prints: see rag.core.labels

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["heading_path"] = list(self.heading_path)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Citation:
        """A citation as `as_dict` wrote it (results.jsonl), ignoring keys it does not know."""
        known = {f.name for f in fields(cls)}
        values = {k: v for k, v in data.items() if k in known}
        values["heading_path"] = tuple(values.get("heading_path") or ())
        return cls(**values)


@dataclass
class Answer:
    """What every face (CLI, chat, session) shows for one question."""

    question: str
    answer: str
    refused: bool
    engine: str
    citations: list[Citation]
    timings_ms: dict[str, float] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    verification: str | None = None  # "N of M citations verified"
    coverage: str = "full"  # "full" | "partial" | "none" (refused)
    not_covered: list[str] = field(default_factory=list)  # what the sources do not address, as the user wrote it
    language: str = "en"  # of the question (or --lang): the answer's own words are in it, the quotes are not
    quotes_language: str | None = None  # the quoted passages' language, when it is not the answer's

    def __post_init__(self) -> None:
        if self.refused:
            self.coverage = "none"

    def as_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "question": self.question,
            "answer": self.answer,
            "refused": self.refused,
            "coverage": self.coverage,
            "not_covered": list(self.not_covered),
            "engine": self.engine,
            "language": self.language,
            "citations": [c.as_dict() for c in self.citations],
            "timings_ms": {k: round(v, 1) for k, v in self.timings_ms.items()},
        }
        if self.warnings:
            data["warnings"] = list(self.warnings)
        if self.verification is not None:
            data["verification"] = self.verification
        if self.quotes_language is not None:
            data["quotes_language"] = self.quotes_language
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Answer:
        """An answer as `as_dict` wrote it."""
        return cls(
            question=data["question"],
            answer=data["answer"],
            refused=bool(data["refused"]),
            engine=data.get("engine", ""),
            citations=[Citation.from_dict(c) for c in data.get("citations", [])],
            timings_ms=dict(data.get("timings_ms", {})),
            warnings=list(data.get("warnings", [])),
            verification=data.get("verification"),
            coverage=data.get("coverage", "none" if data["refused"] else "full"),
            not_covered=list(data.get("not_covered", [])),
            language=str(data.get("language") or "en"),
            quotes_language=data.get("quotes_language"),
        )


@dataclass
class IngestReport:
    """The outcome of one ingest run, file by file."""

    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)
    duplicates: list[tuple[str, str]] = field(default_factory=list)  # (path, the earlier path with the same bytes)
    chunks: int = 0  # chunks in the index after the run
    embedded: int = 0  # chunks embedded during this run

    def as_dict(self) -> dict[str, Any]:
        return {
            "added": self.added,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "removed": self.removed,
            "failed": [{"path": p, "error": e} for p, e in self.failed],
            "duplicates": [{"path": p, "same_as": first} for p, first in self.duplicates],
            "chunks": self.chunks,
            "embedded": self.embedded,
        }


@dataclass(frozen=True)
class SourceInfo:
    """One indexed document as `rag sources` lists it."""

    doc_id: str
    path: str
    meta: DocMeta
    chunks: int
