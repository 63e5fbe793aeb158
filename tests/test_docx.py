"""Word transcripts: `rag session run --format docx` and the chat's /save FILE.docx, read back with python-docx."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import docx
import pytest
from typer.testing import CliRunner

from rag.core.config import Settings
from rag.core.records import Answer, Citation
from rag.faces.chat import Chat
from rag.faces.cli import app

runner = CliRunner()

SCRIPT = """\
title: "Judges' workshop: basics"
audience: judges
questions:
  - ask: "Is Article 26 of the Sample Convention binding on victims who were compelled?"
    expect: {cite: ["Article 26"], mention: ["compelled"]}
    note: "Discuss penalties versus prosecution."
  - ask: "What does Article 10 require for identification of victims?"
    expect: {cite: ["Article 10"], mention: ["extradition"]}
"""


def ingest(corpus: Path) -> None:
    from rag.ingest.pipeline import ingest as run

    assert not run([corpus], Settings.from_env()).failed


def paragraphs(document: Any, style: str | None = None) -> list[str]:
    return [p.text for p in document.paragraphs if style is None or p.style.name == style]


@pytest.mark.usefixtures("fake_embeddings")
def test_session_run_writes_a_word_transcript(sample_corpus: Path, tmp_path: Path) -> None:
    ingest(sample_corpus)
    script = tmp_path / "workshop.yaml"
    script.write_text(SCRIPT)
    out = tmp_path / "out"
    result = runner.invoke(app, ["session", "run", str(script), "--out", str(out), "--format", "docx"])
    assert result.exit_code == 1, result.output  # question 2 expects a word the answer lacks
    assert f"1 of 2 questions passed; transcript: {out / 'transcript.docx'}" in result.stdout
    assert {p.name for p in out.iterdir()} == {"results.jsonl", "transcript.md", "transcript.html", "transcript.docx"}

    document = docx.Document(str(out / "transcript.docx"))
    assert document.core_properties.title == "Judges' workshop: basics"
    assert paragraphs(document, "Title") == ["Judges' workshop: basics"]
    questions = paragraphs(document, "Heading 1")
    assert questions == [
        "1. Is Article 26 of the Sample Convention binding on victims who were compelled?",
        "2. What does Article 10 require for identification of victims?",
    ]
    assert paragraphs(document, "Heading 2") == ["Sources", "Sources"]
    text = paragraphs(document)
    assert text[1].startswith("Audience: judges · Date: ")
    assert text[2] == "2 of 2 questions answered; 1 of 2 with expectations passed"
    assert "PASS" in text and "FAIL" in text
    assert any(t.endswith("who were compelled to take part in unlawful activities. [1]") for t in text)  # the answer
    sources = [t for t in text if t.startswith("[1] ")]
    assert sources[0].startswith("[1] Article 26, Sample Convention on Trafficking (SCT No. 1)")
    quotes = paragraphs(document, "Quote")
    assert any("not imposing penalties on victims who were compelled" in q for q in quotes)
    assert any(t == "Trainer's note: Discuss penalties versus prosecution." for t in text)

    checks = [[cell.text for cell in row.cells] for table in document.tables for row in table.rows]
    assert checks == [
        ["Check", "Expected", "Result"],
        ["cites", "Article 26", "PASS"],
        ["mentions", "compelled", "PASS"],
        ["Check", "Expected", "Result"],
        ["cites", "Article 10", "PASS"],
        ["mentions", "extradition", "FAIL"],
    ]


@pytest.mark.usefixtures("fake_embeddings")
def test_without_format_docx_no_word_file_is_written(sample_corpus: Path, tmp_path: Path) -> None:
    ingest(sample_corpus)
    script = tmp_path / "workshop.yaml"
    script.write_text(SCRIPT)
    out = tmp_path / "out"
    result = runner.invoke(app, ["session", "run", str(script), "--out", str(out)])
    assert f"transcript: {out / 'transcript.html'}" in result.stdout
    assert not (out / "transcript.docx").exists()
    bad = runner.invoke(app, ["session", "run", str(script), "--out", str(out), "--format", "pdf"])
    assert bad.exit_code == 2 and "'pdf' is not one of 'md', 'html', 'docx'" in bad.stderr


class Replay:
    """An assistant that answers every question with the same two sources, one unverified."""

    engine = type("E", (), {"name": "extractive"})()

    def ask(self, question: str, k: Any = None, filters: Any = None, on_token: Any = None) -> Answer:
        cites = [
            Citation(1, "coe", "Council of Europe Convention", "CETS No. 197", "Article 26", None,
                     "Each Party shall provide for the possibility of not imposing penalties.", "corpus/coe.md", 0.8),
            Citation(2, "dir", "Directive 2011/36/EU", None, "Article 8", 3, "Member States shall ...",
                     "corpus/dir.pdf", 0.6, verified=False),
        ]  # fmt: skip
        return Answer(question, "Article 26 provides for not imposing penalties [1]; see also [2].", False,
                      "extractive", cites, {"total": 5.0}, verification="1 of 2 citations verified")  # fmt: skip


def test_chat_save_docx_writes_a_word_document(tmp_path: Path) -> None:
    from rich.console import Console

    out = io.StringIO()
    settings = Settings.from_env({"RAG_HOME": str(tmp_path / "home"), "RAG_CORPUS": str(tmp_path / "corpus")})
    chat = Chat(settings, Console(file=out, width=200, color_system=None), Replay())  # type: ignore[arg-type]
    chat.handle("Is Article 26 binding?")
    chat.handle("/filter jurisdiction=EU")
    chat.handle("And under the EU Directive?")
    target = tmp_path / "Notes.DOCX"
    chat.handle(f"/save {target}")
    assert f"Saved 2 question(s) to {target}" in out.getvalue()
    assert [p.name for p in tmp_path.iterdir() if p.is_file()] == ["Notes.DOCX"]  # no temporary file left

    document = docx.Document(str(target))
    assert paragraphs(document, "Title") == ["Chat transcript: non-punishment reference assistant"]
    assert paragraphs(document, "Heading 1")[0] == "1. Is Article 26 binding?"
    assert paragraphs(document, "Heading 1")[1].startswith("2. And under the EU Directive?")
    text = paragraphs(document)
    assert any(t.startswith("Engine: extractive") for t in text)
    assert "Filters: jurisdiction=EU" in text
    assert "Article 26 provides for not imposing penalties [1]; see also [2]." in text
    assert "[1] Article 26, Council of Europe Convention (CETS No. 197)" in text
    assert "[2] Article 8, Directive 2011/36/EU, p. 3 [NOT VERIFIED]" in text
    assert paragraphs(document, "Quote")[0] == "Each Party shall provide for the possibility of not imposing penalties."
    assert "1 of 2 citations verified" in text

    md = tmp_path / "notes.md"
    chat.handle(f"/save {md}")  # any other name is still Markdown
    assert md.read_text().startswith("# Chat transcript")
