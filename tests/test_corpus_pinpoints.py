"""Every pinpoint of the bench book is one its own text supports, and every note says what it is.

A chunk's pinpoint comes from the nearest heading that names a provision. In a commentary note such a
heading must sit over a summary of that provision (the heading says "(summary)"), over a judgment's own
section (its neutral citation) or a Strasbourg holding ("§ Holdings — Article 4"); the section must name
the provision in its own words; and the bench book's own groupings are never numbered like a provision
("Recommendation 5" of a note is not the OSCE paper's Recommendation 5).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from rag.core import pinpoint as pp
from rag.ingest.chunk import chunk_document
from rag.ingest.discover import discover
from rag.ingest.load import load_document

CORPUS = Path(__file__).resolve().parent.parent / "corpus"
DOCUMENTS = [load_document(p) for p in discover([CORPUS])]


def number(pinpoint: str) -> str:
    """The provision's number as a note writes it: '26' of 'Article 26', '45(4)', '7101(b)(19)', '2018] EWCA'."""
    if pinpoint.startswith("["):
        return pinpoint
    if pinpoint.startswith("§"):
        m = re.search(r"Article\s+\d+(?:\s*§\s*\d+)?", pinpoint)
        return m.group(0) if m else ""
    return pinpoint.split(" ", 1)[1] if " " in pinpoint and "U.S.C." not in pinpoint else pinpoint.split()[-1]


def test_every_note_says_whether_it_is_the_text_or_commentary_on_it() -> None:
    for doc in DOCUMENTS:
        assert doc.meta.authority in ("primary", "commentary"), doc.path
        if doc.meta.authority == "commentary" and doc.meta.type not in ("guidance", "conference", "report"):
            assert doc.meta.about, f"{doc.path}: a commentary note on an instrument names it in `about:`"


@pytest.mark.parametrize("doc", DOCUMENTS, ids=[d.doc_id for d in DOCUMENTS])
def test_pinpoints_stand_only_over_text_that_states_the_provision(doc) -> None:  # type: ignore[no-untyped-def]
    problems = []
    for chunk in chunk_document(doc):
        if chunk.pinpoint is None:
            continue
        giving = next((h for h in reversed(chunk.heading_path) if pp.from_heading(h)), "")
        section = " ".join([*chunk.heading_path, chunk.text])
        if doc.meta.authority == "commentary":
            judgment = giving.startswith("[") or giving.startswith("§")
            if not (judgment or "(summary)" in giving):
                problems.append(f"{chunk.pinpoint}: heading {giving!r} is neither a summary nor a judgment's own")
        if number(chunk.pinpoint) not in section:
            problems.append(f"{chunk.pinpoint}: the section never names {number(chunk.pinpoint)!r}")
        if chunk.pinpoint.startswith("Recommendation") and re.search(r"\b(?:theme|grouping)s?\b", doc.text, re.I):
            problems.append(f"{chunk.pinpoint}: the note numbers its own themes like the paper's recommendations")
    assert not problems, f"{doc.path}:\n" + "\n".join(problems)


def test_the_check_catches_a_theme_posing_as_a_recommendation(tmp_path: Path) -> None:
    note = tmp_path / "osce-paper.md"
    note.write_text(
        "---\ntitle: OSCE paper\ntype: guidance\njurisdiction: OSCE\nauthority: commentary\nabout: OSCE 2013\n---\n"
        "# OSCE paper\n\nThe bench book groups the paper's advice into five themes.\n\n"
        "## Recommendation 5 — Remedies\n\nThe paper calls for remedies such as expunging records.\n"
    )
    with pytest.raises(AssertionError, match=r"neither a summary|numbers its own themes"):
        test_pinpoints_stand_only_over_text_that_states_the_provision(load_document(note))


def test_every_pinpoint_a_gold_set_expects_is_one_of_its_documents() -> None:
    """A label naming a heading the note does not have can never be found (a judgment's holding on Article 4
    is "§ Holdings — Article 4", not "Article 4")."""
    import json

    have: dict[str, set[str]] = {}
    for doc in DOCUMENTS:
        for chunk in chunk_document(doc):
            if chunk.pinpoint:
                have.setdefault(chunk.doc_id, set()).add(chunk.pinpoint)
    for gold in sorted((CORPUS.parent / "tests" / "gold").glob("*.jsonl")):
        for line in gold.read_text(encoding="utf-8").splitlines():
            item = json.loads(line) if line.strip() else {}
            for entry in (e for x in item.get("expected", []) for e in (x, *x.get("or", []))):
                if entry.get("pinpoint"):
                    pins = have.get(entry["doc"], set())
                    assert any(pp.matches(entry["pinpoint"], p) for p in pins), (gold.name, item["id"], entry)
