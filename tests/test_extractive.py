"""Sentence selection of the extractive engine, on hand-made retrievals (no model)."""

from rag.answer.extractive import select
from rag.core.records import Chunk, DocMeta, Hit
from rag.retrieve.hybrid import Retrieval
from rag.retrieve.query import parse


def hit(doc_id: str, jurisdiction: str, text: str, dense: float) -> Hit:
    kind = "case-law" if jurisdiction == "CoE" else "national-law"
    chunk = Chunk(
        chunk_id=f"{doc_id}-0",
        doc_id=doc_id,
        text=text,
        pinpoint=None,
        heading_path=(),
        start=0,
        end=len(text),
        page=None,
        meta=DocMeta(title=doc_id, type=kind, jurisdiction=jurisdiction),
        source=f"/corpus/{doc_id}.md",
    )
    return Hit(chunk=chunk, score=dense, dense=dense)


QUESTION = "A teenager was found tending cannabis in a house in Leeds. Can he be punished for the drugs?"
CASE = hit("case", "CoE", "Two teenagers found tending cannabis in a house were punished for drugs offences.", 0.7)
STATUTE = hit("msa", "UK", "A person under 18 is not guilty of an act done as a direct consequence of slavery.", 0.4)


def test_the_law_of_the_place_is_quoted_first_though_worded_apart() -> None:
    found = Retrieval(hits=[CASE, STATUTE], best=0.7, parsed=parse(QUESTION), places={"UK"})
    assert [h.chunk.doc_id for h, _ in select(QUESTION, found)] == ["msa", "case"]


def test_a_distant_passage_of_another_place_is_not_quoted() -> None:
    found = Retrieval(hits=[CASE, STATUTE], best=0.7, parsed=parse(QUESTION), places=set())
    assert [h.chunk.doc_id for h, _ in select(QUESTION, found)] == ["case"]


def test_short_sentences_bring_what_they_announce_two_deep_at_most() -> None:
    text = (
        "MK and Gega decided the burden of proof under the defence. "
        "The defendant bears only an evidential burden. "
        "The legal burden then rests wholly on the prosecution, to the criminal standard. "
        "Costs were reserved. Nothing else was said about it."
    )
    question = "Who bears the burden of proof under the defence?"
    case = hit("case", "UK", text, 0.7)
    found = Retrieval(hits=[case], best=0.7, parsed=parse(question), places=set())
    ((_, said),) = select(question, found)
    assert said[:3] == [
        "MK and Gega decided the burden of proof under the defence.",
        "The defendant bears only an evidential burden.",
        "The legal burden then rests wholly on the prosecution, to the criminal standard.",
    ]
    assert "Nothing else was said about it." not in said
