"""Transcripts as Word documents, for lawyers and trainers who file or hand out .docx."""

from __future__ import annotations

import contextlib
import datetime as dt
import io
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rag.core.labels import coverage_note, source_name
from rag.core.records import Answer
from rag.faces.render import not_verified, preamble, sources_heading

if TYPE_CHECKING:
    from docx.document import Document

    from rag.faces.chat_render import Exchange
    from rag.faces.script import Result, Script

GREEN, RED, GREY = (0x14, 0x63, 0x2B), (0x9B, 0x1C, 0x1C), (0x55, 0x55, 0x55)
FOOTER = (
    "Answers come only from the indexed sources; each [n] points to the passage quoted under it. "
    "Check every quotation against the official text before relying on it."
)


def _new(title: str) -> Document:
    import docx

    document = docx.Document()
    document.core_properties.title = title
    document.core_properties.subject = "Non-punishment principle: answers with their sources"
    document.add_heading(title, level=0)
    return document


def _run(paragraph: Any, text: str, bold: bool = False, italic: bool = False, color: tuple[int, ...] = ()) -> None:
    from docx.shared import RGBColor

    run = paragraph.add_run(text)
    run.bold, run.italic = bold or None, italic or None
    if color:
        run.font.color.rgb = RGBColor(*color)


def _answer(document: Document, answer: Answer) -> None:
    """The answer's paragraphs (with their [n] markers), warnings, then its numbered sources with quotes."""
    for para in [*preamble(answer), *answer.answer.splitlines()]:
        if para.strip():
            _run(document.add_paragraph(), para.strip(), italic=answer.refused)
    for warning in answer.warnings:
        _run(document.add_paragraph(), f"! {warning}", color=RED)
    if note := coverage_note(answer):
        _run(document.add_paragraph(), note, italic=True)
    if not answer.citations:
        return
    document.add_heading(sources_heading(answer), level=2)
    for c in answer.citations:
        line = document.add_paragraph()
        _run(line, f"[{c.n}] {source_name(c)}", bold=True)
        if not c.verified and not answer.refused:
            _run(line, f" [{not_verified(answer)}]", bold=True, color=RED)
        _run(document.add_paragraph(), f"{c.path} · relevance {c.score:.2f}", color=GREY)
        document.add_paragraph(" ".join(c.quote.split()), style="Quote")


def _word(result: Result) -> str:
    if not result.checks:
        return "NO CHECKS"
    return "PASS" if result.passed else "FAIL"


def _checks(document: Document, result: Result) -> None:
    """The trainer's checks as a table: what was expected and whether the answer met it."""
    table = document.add_table(rows=1, cols=3)
    table.style = "Table Grid"
    for cell, text in zip(table.rows[0].cells, ("Check", "Expected", "Result"), strict=True):
        _run(cell.paragraphs[0], text, bold=True)
    for chk in result.checks:
        cells = table.add_row().cells
        cells[0].text = {"cite": "cites", "mention": "mentions"}.get(chk.kind, chk.kind)
        cells[1].text = chk.expected
        _run(cells[2].paragraphs[0], "PASS" if chk.passed else "FAIL", bold=True, color=GREEN if chk.passed else RED)


def _facts(document: Document, result: Result) -> None:
    """A case's facts as understood, with the words of the case each came from."""
    from rag.faces.assess_render import fact_lines

    assert result.assessment is not None
    table = document.add_table(rows=1, cols=3)
    table.style = "Table Grid"
    for cell, text in zip(table.rows[0].cells, ("Fact", "Understood", "From the case"), strict=True):
        _run(cell.paragraphs[0], text, bold=True)
    for label, shown, words in fact_lines(result.assessment.case):
        cells = table.add_row().cells
        cells[0].text, cells[1].text, cells[2].text = label, shown, f"“{words}”" if words else ""


def session_document(script: Script, results: list[Result], today: dt.date | None = None) -> Document:
    """A session's transcript: each question, its checks, the answer and the quoted sources."""
    from rag.faces.transcript import _summary

    document = _new(script.title)
    meta = [f"Audience: {script.audience}"] if script.audience else []
    meta.append(f"Date: {(today or dt.date.today()).isoformat()}")
    document.add_paragraph(" · ".join(meta))
    document.add_paragraph(_summary(script, results))
    for r in results:
        document.add_heading(f"{r.id}. {r.answer.question}", level=1)
        word = _word(r)
        _run(document.add_paragraph(), word, bold=True, color={"PASS": GREEN, "FAIL": RED}.get(word, GREY))
        if r.checks:
            _checks(document, r)
        if r.assessment:
            _facts(document, r)
        _answer(document, r.answer)
        if r.note:
            note = document.add_paragraph()
            _run(note, "Trainer's note: ", bold=True)
            _run(note, r.note)
    _run(document.add_paragraph(), FOOTER, italic=True, color=GREY)
    return document


def chat_document(exchanges: list[Exchange], header: dict[str, str]) -> Document:
    """A chat's transcript: each question as typed (and as searched), the answer and its quoted sources."""
    document = _new("Chat transcript: non-punishment reference assistant")
    for key, value in header.items():
        line = document.add_paragraph()
        _run(line, f"{key}: ", bold=True)
        _run(line, value)
    for i, ex in enumerate(exchanges, start=1):
        document.add_heading(f"{i}. {ex.question}", level=1)
        if ex.standalone != ex.question:
            _run(document.add_paragraph(), f"Searched for: {ex.standalone}", italic=True)
        if ex.filters:
            filters = ", ".join(f"{k}={v}" for k, v in ex.filters.items())
            _run(document.add_paragraph(), f"Filters: {filters}", italic=True)
        _answer(document, ex.answer)
        if ex.answer.verification and not ex.answer.refused:
            _run(document.add_paragraph(), ex.answer.verification, italic=True, color=GREY)
    _run(document.add_paragraph(), FOOTER, italic=True, color=GREY)
    return document


def save(document: Document, path: Path) -> None:
    """Write the .docx in one step (a temporary file renamed), so a kill never leaves half a document."""
    buffer = io.BytesIO()
    document.save(buffer)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with open(tmp, "wb") as fh:
            fh.write(buffer.getvalue())
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
