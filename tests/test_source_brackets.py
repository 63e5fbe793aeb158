"""Bracketed numbers inside the sources ([12], [2013] EWCA Crim 991, a note's [1]) are text, never markers."""

from __future__ import annotations

import re
from pathlib import Path

from test_llm import ScriptedChat

from rag.answer.extractive import ExtractiveEngine
from rag.answer.llm import LLMEngine
from rag.answer.verify import claims, verify
from rag.core.records import Answer, Chunk, DocMeta, Hit
from rag.faces.render import answer_text
from rag.faces.script import Result, Script
from rag.faces.transcript import to_html
from rag.index.embed import make_embeddings
from rag.retrieve.hybrid import Retrieval
from rag.retrieve.query import parse

QUESTION = "What did the Court of Appeal say about prosecuting victims of trafficking compelled to commit offences?"
JUDGMENT = (
    "[12] In R v L [2013] EWCA Crim 991 the Court of Appeal held that prosecuting victims of trafficking "
    "compelled to commit offences may be an abuse of process."
)
NOTE = (
    "Commentators say the Court of Appeal refuses prosecuting victims of trafficking compelled to commit "
    "offences [1]. The note has no other source."
)


def hit(doc: str, pinpoint: str | None, text: str, title: str, citation: str | None, kind: str, dense: float) -> Hit:
    meta = DocMeta(title=title, citation=citation, type=kind)
    chunk = Chunk(f"{doc}:{pinpoint}", doc, text, pinpoint, (title,), 0, len(text), None, meta, f"/c/{doc}.md")
    return Hit(chunk=chunk, score=dense, dense=dense)


def retrieval() -> Retrieval:
    hits = [
        hit("lm", "para. 12", JUDGMENT, "R v L, HVN, THN and T", "[2013] EWCA Crim 991", "case-law", 0.8),
        hit("note", None, NOTE, "Bench book note on prosecution", None, "guidance", 0.79),
    ]
    return Retrieval(hits=hits, best=0.8, parsed=parse(QUESTION))


def extractive() -> Answer:
    found = retrieval()
    return verify(ExtractiveEngine().answer(QUESTION, found), found, embeddings=make_embeddings("hash"))


def test_escaping_round_trips_and_hides_only_the_texts_own_numbers() -> None:
    from rag.answer.citations import markers, plain, quoted, segments

    text = "In R v L " + quoted("[2013] EWCA Crim 991, at \\[4]") + " [1]"
    assert plain(text) == "In R v L [2013] EWCA Crim 991, at \\[4] [1]"
    assert markers(text) == [1]
    assert [n for _, n in segments(text)] == [None, 1]


def test_a_note_sentence_ending_in_1_is_not_pinned_to_source_1() -> None:
    answer = extractive()
    cited = {c.text.split(":")[0]: c.cited for c in claims(answer.answer)}
    assert cited["Bench book note on prosecution"] == (2,), claims(answer.answer)
    assert all(len(c.cited) == 1 for c in claims(answer.answer))
    assert answer.verification == "3 of 3 citations verified"


def test_a_neutral_citation_and_paragraph_numbers_survive_verification_and_rendering() -> None:
    answer = extractive()
    shown = answer_text(answer)
    assert "para. 12, [2013] EWCA Crim 991: [12] In R v L [2013] EWCA Crim 991 the Court" in shown
    assert "offences [1]. [2]" in shown
    assert not any("names no retrieved passage" in w for w in answer.warnings), answer.warnings


def test_the_json_answer_keeps_the_markers_readable_apart_from_the_text() -> None:
    from rag.answer.citations import markers

    text = extractive().as_dict()["answer"]
    assert markers(text) == [1, 2]
    assert "\\[2013] EWCA Crim 991" in text


def test_renderers_mark_and_link_only_the_engines_markers() -> None:
    from rag.answer.citations import plain
    from rag.faces.chat_render import answer_line

    answer = extractive()
    line = answer_line(answer)
    assert line.plain == plain(answer.answer)
    styled = {line.plain[s.start : s.end] for s in line.spans if s.style}
    assert styled == {"[1]", "[2]"}
    page = to_html(Script(Path(__file__), "t", None, ()), [Result(1, answer, [])])
    assert sorted(set(re.findall(r'href="#q1-s(\d+)"', page))) == ["1", "2"]
    assert "[12] In R v L [2013] EWCA Crim 991" in page


def test_the_llm_engine_reads_only_the_markers_it_placed_for_the_passages() -> None:
    from rag.answer.citations import markers, plain

    reply = (
        "In R v L [2013] EWCA Crim 991 the Court of Appeal held that prosecuting victims of trafficking "
        "compelled to commit offences may be an abuse of process [1]. Commentators say the Court of Appeal "
        "refuses prosecuting victims of trafficking compelled to commit offences [2]. It is settled law [7]."
    )
    model = ScriptedChat(replies=[reply], calls=[])
    engine = LLMEngine("openai:test@http://127.0.0.1:9/v1", model=model)
    found = retrieval()
    answer = verify(engine.answer(QUESTION, found), found, embeddings=make_embeddings("hash"))
    prompt = model.calls[0][1].text
    assert "\\[2013] EWCA Crim 991" in prompt and "offences \\[1]." in prompt  # shown to the model as text
    assert "[2013] EWCA Crim 991 the Court" in plain(answer.answer)
    assert markers(answer.answer) == [1, 2]
    assert answer.warnings == ["citation [7] names no retrieved passage and was removed"]
