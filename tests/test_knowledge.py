"""Legal knowledge as data: the shipped file loads and validates; a bad one is a named error; adding a
jurisdiction is one data entry plus one note."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from rag.core import knowledge
from rag.core.config import Settings
from rag.core.errors import KnowledgeError
from rag.faces.cli import app
from rag.retrieve.places import place_jurisdictions

REPO = Path(__file__).resolve().parent.parent
SHIPPED = REPO / "corpus" / knowledge.FILE_NAME


def shipped() -> dict:
    return yaml.safe_load(SHIPPED.read_text(encoding="utf-8"))


def corpus_with(tmp_path: Path, data: dict, notes: dict[str, str] | None = None) -> Path:
    """A copy of the bench book with its own knowledge file (and extra notes)."""
    folder = tmp_path / "corpus"
    for src in (REPO / "corpus").rglob("*"):
        if src.is_file():
            dest = folder / src.relative_to(REPO / "corpus")
            dest.parent.mkdir(parents=True, exist_ok=True)
            dest.write_bytes(src.read_bytes())
    for name, text in (notes or {}).items():
        (folder / name).write_text(text, encoding="utf-8")
    (folder / knowledge.FILE_NAME).write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return folder


def test_the_shipped_knowledge_loads_and_names_only_documents_the_corpus_has() -> None:
    known = knowledge.load()
    documents = knowledge.known_documents(REPO / "corpus") | set(shipped()["known_texts"])
    assert {d for i in known.instruments for d in i.docs} <= documents
    assert known.by_name["Azerbaijan"].law == "AZ" and "Ganja" in known.by_name["Azerbaijan"].places
    assert known.by_name["Italy"].eu and not known.by_name["Denmark"].eu  # Denmark does not take part in 2011/36


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d["instruments"].append({"docs": ["no-such-note"], "mentions": "nothing"}), "'no-such-note'"),
        (lambda d: d["jurisdictions"].append({"code": "ZZ", "name": "Nowhere"}), "jurisdiction ZZ is used by no note"),
        (lambda d: d["aliases"].append(dict(d["aliases"][0])), "is given twice"),
        (lambda d: d["countries"][0]["forms"].append("British"), "'British' is given to both"),
        (lambda d: d["countries"][0].update(law="XX"), "'XX' is not a declared jurisdiction"),
        (lambda d: d["aliases"].append({"pattern": "(unclosed", "expansion": "x"}), "not a valid regular expression"),
        (lambda d: d.update(domain="traffick"), "'domain' must be a list"),
        (lambda d: d["framing_sections"].append({"pinpoint": "§ Facts"}), "needs a 'pinpoint' and an 'asked_by'"),
        (lambda d: d["children"]["provisions"].append({"doc": "x"}), "needs 'doc', 'child' and 'adult'"),
        (lambda d: d["children"].pop("signs"), "child provisions need 'signs'"),
        (lambda d: d["children"]["provisions"][0].update(doc="no-such-act"), "'no-such-act'"),
    ],
)
def test_a_bad_knowledge_file_is_a_named_error(tmp_path: Path, change, message: str) -> None:  # type: ignore[no-untyped-def]
    data = shipped()
    change(data)
    folder = corpus_with(tmp_path, data)
    with pytest.raises(KnowledgeError, match=message.replace("(", r"\(")):
        knowledge.load(folder)


def test_a_bad_knowledge_file_is_one_line_from_the_cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    data = shipped()
    data["instruments"].append({"docs": ["no-such-note"], "mentions": "nothing"})
    monkeypatch.setenv("RAG_CORPUS", str(corpus_with(tmp_path, data)))
    monkeypatch.setenv("RAG_EMBEDDINGS", "hash")
    assert CliRunner().invoke(app, ["ingest"]).exit_code == 0
    result = CliRunner().invoke(app, ["ask", "Is Article 26 binding?"])
    assert result.exit_code == 1
    assert result.output.startswith("Error: ") and "no-such-note" in result.output and "Traceback" not in result.output


FREEDONIA_NOTE = """---
title: "Freedonia Victims of Exploitation Act 2020"
citation: "FVEA 2020"
type: national-law
jurisdiction: FD
language: en
---
# Freedonia Victims of Exploitation Act 2020

## Section 12 — Victims not to be punished

Section 12 of the Freedonia Victims of Exploitation Act 2020 lets a prosecutor in Freedonia discontinue a
case against a person identified as a victim of exploitation for an offence linked to that exploitation.
"""


def test_adding_a_jurisdiction_is_one_data_entry_and_one_note(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    data = shipped()
    data["jurisdictions"].append({"code": "FD", "name": "Freedonia"})
    data["countries"].append({"name": "Freedonia", "forms": ["Freedonian"], "places": ["Fredville"], "law": "FD"})
    folder = corpus_with(tmp_path, data, {"freedonia-act.md": FREEDONIA_NOTE})
    facts = "A prosecutor in Fredville charged a trafficked woman with theft."
    question = facts + " Is the prosecutor entitled not to prosecute her?"
    known = knowledge.load(folder)
    assert place_jurisdictions(question, known) == {"FD"}
    assert place_jurisdictions(question) == set()  # the shipped knowledge does not know Freedonia

    from rag.answer.assistant import Assistant
    from rag.ingest.pipeline import ingest

    monkeypatch.setenv("RAG_EMBEDDINGS", "hash")
    settings = Settings.from_env(corpus=folder)
    ingest(None, settings)
    found = Assistant(settings).retrieve(question)
    by_merit = [h.chunk.doc_id for h in found.candidates].index("freedonia-act")
    # Not among the best five on its words, it is still quoted: the facts are set in Freedonia.
    assert by_merit >= 5 and found.places == {"FD"}
    assert any(h.chunk.doc_id == "freedonia-act" and h.chunk.pinpoint == "Section 12" for h in found.hits)
