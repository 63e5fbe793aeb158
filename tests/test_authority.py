"""Primary text or commentary: every face labels a note as a note, and a named provision's own text comes first."""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from rag.answer.assistant import Assistant
from rag.core.config import Settings
from rag.core.labels import label
from rag.core.records import DocMeta
from rag.faces.chat_render import Exchange, transcript_markdown
from rag.faces.cli import app
from rag.faces.render import answer_text
from rag.faces.script import Question, Result, Script
from rag.faces.transcript import to_html, to_markdown
from rag.ingest.pipeline import ingest

TREATY = """===
TITLE: Sample Convention on Trafficking
CITATION: SCT No. 1
TYPE: treaty
JURISDICTION: CoE
===
Article 26 - Non-punishment provision
Each Party shall provide for the possibility of not imposing penalties on victims for their involvement in
unlawful activities, to the extent that they have been compelled to do so.

Article 27 - Ex parte and ex officio applications
Each Party shall ensure that investigations into offences are not dependent upon a report by a victim.
"""

NOTE = """---
title: "Sample Convention on Trafficking"
citation: "SCT No. 1"
type: treaty
jurisdiction: CoE
authority: commentary
about: "SCT No. 1"
---
# Sample Convention on Trafficking

## Article 26 — Non-punishment provision (summary)

Article 26 of the Sample Convention is, in the bench book's reading, a binding obligation to make non-punishment
possible for victims who were compelled to take part in unlawful activities; it speaks of penalties only.
"""

QUESTION = "What does Article 26 of the Sample Convention say?"
BARE = re.compile(r"(?<!Bench book note on )\bSCT No\. 1, Article 26|Article 26, SCT No\. 1")


@pytest.fixture
def assistant(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Assistant:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "sample-convention-text.txt").write_text(TREATY)
    (corpus / "sample-convention-note.md").write_text(NOTE)
    monkeypatch.setenv("RAG_EMBEDDINGS", "hash")
    monkeypatch.setenv("RAG_CORPUS", str(corpus))
    settings = Settings.from_env()
    assert not ingest(None, settings).failed
    return Assistant(settings)


def test_labels_name_the_text_by_its_citation_and_a_note_as_a_note() -> None:
    text = DocMeta(title="Sample Convention", citation="SCT No. 1", authority="primary")
    note = DocMeta(title="Sample Convention", citation="SCT No. 1", authority="commentary", about="SCT No. 1")
    assert label("Article 26", text) == "Article 26, SCT No. 1"
    assert label("Article 26", note) == "Bench book note on SCT No. 1, Article 26"
    assert label(None, DocMeta(title="Practice guide", authority="commentary")) == "Bench book note: Practice guide"


def test_the_named_provisions_own_text_is_quoted_first_and_whole(assistant: Assistant) -> None:
    answer = assistant.ask(QUESTION)
    first, *rest = answer.citations
    assert (first.authority, first.label) == ("primary", "Article 26, SCT No. 1")
    assert answer.answer.startswith("Article 26, SCT No. 1: Each Party shall provide for the possibility")
    assert "to the extent that they have been compelled to do so. [1]" in answer.answer.splitlines()[0]
    notes = [c for c in rest if c.authority == "commentary"]
    assert notes and all(c.label == "Bench book note on SCT No. 1, Article 26" for c in notes)


def test_no_face_prints_a_note_under_the_bare_instrument_label(assistant: Assistant, tmp_path: Path) -> None:
    answer = assistant.ask(QUESTION, filters={"authority": "commentary"})
    assert answer.citations and all(c.authority == "commentary" for c in answer.citations)
    script = Script(tmp_path / "s.yaml", "Workshop", None, (Question(1, QUESTION, 1),))
    result = Result(1, answer, [], None)
    faces = {
        "terminal": answer_text(answer, full_quotes=True),
        "json": json.dumps(answer.as_dict()),
        "chat transcript": transcript_markdown([Exchange(QUESTION, QUESTION, answer)], {}),
        "session markdown": to_markdown(script, [result], dt.date(2026, 12, 1)),
        "session html": to_html(script, [result], dt.date(2026, 12, 1)),
    }
    for face, text in faces.items():
        assert "Bench book note on SCT No. 1, Article 26" in text, face
        assert not BARE.search(text), face


def test_where_authority_keeps_the_texts_alone(assistant: Assistant) -> None:
    answer = assistant.ask(QUESTION, filters={"authority": "primary"})
    assert answer.citations and {c.authority for c in answer.citations} == {"primary"}


def test_sources_show_what_each_document_is(assistant: Assistant, monkeypatch: pytest.MonkeyPatch) -> None:
    listed = CliRunner().invoke(app, ["sources", "--json"])
    assert listed.exit_code == 0, listed.output
    kinds = {d["doc_id"]: (d["authority"], d.get("about")) for d in json.loads(listed.output)}
    assert kinds == {"sample-convention-text": ("primary", None), "sample-convention-note": ("commentary", "SCT No. 1")}
    text = CliRunner().invoke(app, ["sources"]).output
    assert "commentary on SCT No. 1" in text and "primary" in text


def test_an_unknown_authority_is_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    corpus = tmp_path / "c"
    corpus.mkdir()
    (corpus / "n.md").write_text(NOTE.replace("authority: commentary", "authority: gospel"))
    monkeypatch.setenv("RAG_EMBEDDINGS", "hash")
    result = CliRunner().invoke(app, ["ingest", str(corpus)])
    assert "authority: gospel' must be primary or commentary" in result.output
