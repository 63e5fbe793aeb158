"""A top passage saying the point asked is not verified makes it not covered; a caveat on a detail does not."""

from __future__ import annotations

from rag.core.knowledge import load as load_knowledge
from rag.core.records import Chunk, DocMeta, Hit
from rag.retrieve.coverage import assess
from rag.retrieve.unverified import clauses, unverified

KNOWLEDGE = load_knowledge()


def note(text: str, n: int = 0) -> Hit:
    chunk = Chunk(
        chunk_id=f"greta-{n}",
        doc_id="greta-azerbaijan",
        text=text,
        pinpoint=None,
        heading_path=(),
        start=0,
        end=len(text),
        page=None,
        meta=DocMeta(title="GRETA reports on Azerbaijan", type="report", jurisdiction="CoE"),
        source="/corpus/greta-azerbaijan.md",
    )
    return Hit(chunk=chunk, score=1.0, dense=0.9)


FINDINGS = note(
    "GRETA has published two evaluation reports on Azerbaijan. GRETA's findings on Article 26, the "
    "non-punishment provision, for Azerbaijan are not verified in this bench book."
)
DATES = note("The second-round report on Azerbaijan was adopted on 13 July 2018 and published in November 2018.", 1)


def test_what_the_passage_says_is_not_verified_is_not_covered() -> None:
    question = "What did GRETA conclude about Azerbaijan's implementation of Article 26, the non-punishment provision?"
    gap = "GRETA conclude about Azerbaijan's implementation of Article 26, the non-punishment provision"
    assert unverified(question, [FINDINGS, DATES], KNOWLEDGE) == [gap]
    assert gap in assess(question, {"greta", "azerbaijan"}, [FINDINGS, DATES], knowledge=KNOWLEDGE).not_covered


def test_a_passage_stating_as_much_of_the_question_answers_it() -> None:
    question = "When was GRETA's second-round report on Azerbaijan adopted and published?"
    assert unverified(question, [FINDINGS, DATES], KNOWLEDGE) == []


def test_a_parenthetical_caveat_or_another_clause_leaves_the_rest_stated() -> None:
    placed = note("The 2020 TIP Report placed Azerbaijan on the Tier 2 Watch List (inferred for 2019, not seen).")
    assert unverified("Where was Azerbaijan placed in the 2020 TIP Report?", [placed], KNOWLEDGE) == []
    assert clauses("Directive 2011/36/EU was amended; whether Article 8 changed is not verified (see EUR-Lex).") == [
        "Directive 2011/36/EU was amended",
        " whether Article 8 changed is not verified  .",
    ]
