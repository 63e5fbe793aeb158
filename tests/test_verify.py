"""Citation verification: invented numbers, unsupported claims, refusals, calibration, extractive answers."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rag.answer.policy import REFUSAL
from rag.answer.verify import SUPPORT_THRESHOLD, Claim, Scorer, claims, support, verify
from rag.core.records import Answer, Chunk, Citation, DocMeta, Hit
from rag.index.embed import make_embeddings
from rag.retrieve.hybrid import Retrieval
from rag.retrieve.query import parse

LABELS = Path(__file__).parent / "data" / "support_labels.jsonl"
GOLD = Path(__file__).parent / "gold" / "gold.jsonl"
QUESTIONS = 30  # answerable gold questions put to the extractive engine (all 91 in bench/llm_bench.py)

ART26 = (
    "Article 26 of the Convention requires each Party to provide for the possibility of not imposing penalties on "
    "victims who were compelled to take part in unlawful activities. It is a binding treaty obligation."
)
ART10 = (
    "Article 10 of the Convention requires competent authorities to identify victims early, with trained staff and "
    "in co-operation with support organisations."
)
S45 = "Section 45(4) gives children a defence where the act was a direct consequence of exploitation."


def hit(doc: str, pinpoint: str, text: str, title: str = "Sample Convention", citation: str = "SCT No. 1") -> Hit:
    meta = DocMeta(title=title, citation=citation, type="treaty")
    chunk = Chunk(f"{doc}:{pinpoint}", doc, text, pinpoint, (title,), 0, len(text), None, meta, f"/c/{doc}.md")
    return Hit(chunk=chunk, score=1.0, dense=0.8)


def retrieval() -> Retrieval:
    hits = [hit("conv", "Article 26", ART26), hit("conv", "Article 10", ART10), hit("act", "Section 45(4)", S45)]
    return Retrieval(hits=hits, best=0.8, parsed=parse("What does Article 26 require?"))


def answer(text: str, numbers: tuple[int, ...] = (1, 2, 3)) -> Answer:
    from rag.answer.citations import citations_for

    cites = [c for c in citations_for(retrieval().hits) if c.n in numbers]
    return Answer("What does Article 26 require?", text, False, "llm:test", cites)


def check(text: str, numbers: tuple[int, ...] = (1, 2, 3)) -> Answer:
    return verify(answer(text, numbers), retrieval(), embeddings=make_embeddings("hash"))


def test_claims_give_a_leading_marker_to_the_sentence_before() -> None:
    found = claims("Article 26 is binding. [1] Article 10 is about identification. [2][3]\nUncited line here.")
    assert found == [
        Claim("Article 26 is binding.", (1,)),
        Claim("Article 10 is about identification.", (2, 3)),
        Claim("Uncited line here.", ()),
    ]


def test_claims_drop_list_numbering() -> None:
    assert claims("Two points:\n1. Article 26 is binding [1].\n- Article 10 too [2].") == [
        Claim("Two points:", ()),
        Claim("Article 26 is binding.", (1,)),
        Claim("Article 10 too.", (2,)),
    ]


def test_claims_keep_a_quote_broken_across_lines_whole() -> None:
    found = claims("Article 26, SCT No. 1: Each Party must provide for the possibility\nof not imposing penalties. [1]")
    whole = "Article 26, SCT No. 1: Each Party must provide for the possibility of not imposing penalties."
    assert found == [Claim(whole, (1,))]


def test_a_verbatim_quote_under_the_extractive_label_is_verified() -> None:
    result = check(f"Article 26, SCT No. 1: {ART26.split('. ')[0]}. [1]", (1,))
    assert result.verification == "1 of 1 citations verified"
    assert result.citations[0].verified and not result.warnings and not result.refused


def test_a_label_naming_another_instrument_is_not_a_quote() -> None:
    c = Citation(1, "conv", "Sample Convention", "SCT No. 1", "Article 26", None, ART26, "", 0.8)
    scorer = Scorer(make_embeddings("hash"))
    assert scorer.assess(f"Article 26, SCT No. 1: {ART26.split('. ')[0]}.", c).quoted
    assert not scorer.assess(f"Directive 2011/36/EU: {ART26.split('. ')[0]}.", c).quoted


def test_an_invented_number_is_removed_and_reported() -> None:
    result = check("Article 26 requires the possibility of not imposing penalties on compelled victims [1][7].", (1,))
    assert "[7]" not in result.answer and "[1]" in result.answer
    assert "citation [7] names no retrieved passage and was removed" in result.warnings
    assert result.verification == "1 of 2 citations verified"
    assert not result.refused


def test_an_unsupported_claim_is_flagged_but_the_supported_one_stays() -> None:
    text = (
        "Article 26 requires the possibility of not imposing penalties on compelled victims [1]. "
        "Judges must order the release of every detained migrant within six months [2]."
    )
    result = check(text, (1, 2))
    by_n = {c.n: c for c in result.citations}
    assert by_n[1].verified and not by_n[2].verified
    assert any(w.startswith("citation [2] does not support “Judges must order") for w in result.warnings)
    assert result.verification == "1 of 2 citations verified"
    assert not result.refused and result.answer == text


def test_a_wrong_number_is_never_supported() -> None:
    c = Citation(1, "conv", "Sample Convention", "SCT No. 1", "Article 26", None, ART26, "", 0.8)
    hashed = make_embeddings("hash")
    claim = "Article {} requires the possibility of not imposing penalties on compelled victims."
    assert support(claim.format(27), c, hashed) == 0.0
    assert support(claim.format(26), c, hashed) > SUPPORT_THRESHOLD


def test_a_negated_claim_scores_lower_than_the_faithful_one() -> None:
    c = Citation(1, "conv", "Sample Convention", "SCT No. 1", "Article 26", None, ART26, "", 0.8)
    scorer = Scorer(make_embeddings("hash"))
    faithful = scorer.assess("It is a binding treaty obligation.", c)
    negated = scorer.assess("It is not a binding treaty obligation.", c)
    assert negated.flipped and not faithful.flipped and negated.score < faithful.score


def test_nothing_supported_becomes_a_refusal_with_the_nearest_sources() -> None:
    result = check("The defendant must be convicted [1]. Castles are given to every victim [2].", (1, 2))
    assert result.refused and result.answer == REFUSAL
    assert [c.n for c in result.citations] == [1, 2, 3] and not any(c.verified for c in result.citations)
    assert result.verification == "0 of 2 citations verified"
    assert "the answer was withheld because none of its 2 citations is supported" in result.warnings


def test_an_answer_citing_nothing_is_withheld() -> None:
    result = check("Article 26 requires the possibility of not imposing penalties on compelled victims.", ())
    assert result.refused and result.answer == REFUSAL
    assert "the answer was withheld because it cites no passage" in result.warnings


def test_only_invented_citations_is_a_refusal() -> None:
    result = check("Article 26 requires the possibility of not imposing penalties [5].", ())
    assert result.refused and result.verification == "0 of 1 citations verified"


def test_a_refusal_is_left_alone() -> None:
    refused = Answer("q", REFUSAL, True, "extractive", [])
    assert verify(refused, retrieval()) is refused and refused.verification is None


def test_a_claim_drawing_on_two_passages_verifies_both() -> None:
    text = (
        "Article 26 requires the possibility of not imposing penalties on compelled victims, and Article 10 requires "
        "competent authorities to identify victims early with trained staff [1][2]."
    )
    result = check(text, (1, 2))
    assert result.verification == "2 of 2 citations verified"
    assert all(c.verified for c in result.citations)


def test_uncited_sentences_are_counted_in_a_warning() -> None:
    text = "Article 26 requires the possibility of not imposing penalties on compelled victims [1]. Courts love it too."
    result = check(text, (1,))
    assert "1 sentence of the answer cites no passage" in result.warnings


def test_a_label_split_at_an_abbreviation_is_not_an_uncited_sentence() -> None:
    quote = "It asks whether victims are not jailed for acts that were a direct result of their trafficking."
    hits = [hit("tvpa", "22 U.S.C. 7106(b)(2)", quote, "Trafficking Victims Protection Act", "Pub. L. 106-386")]
    found = Retrieval(hits=hits, best=0.8, parsed=parse("TVPA jailing victims?"))
    from rag.answer.citations import citations_for

    text = f"22 U.S.C. 7106(b)(2), Pub. L. 106-386: {quote} [1]"
    result = verify(Answer("q", text, False, "extractive", citations_for(hits)), found, make_embeddings("hash"))
    assert [c.cited for c in claims(text)] == [(1,)]  # "Pub. L." does not split the label from its sentence
    assert result.verification == "1 of 1 citations verified" and not result.warnings


def labelled() -> list[dict[str, object]]:
    return [json.loads(line) for line in LABELS.read_text().splitlines() if line.strip()]


def test_the_labelled_set_covers_the_cases_the_verifier_must_tell_apart() -> None:
    rows = labelled()
    kinds = {str(r["kind"]) for r in rows}
    assert len(rows) >= 40 and {"verbatim", "paraphrase", "wrong-instrument", "contradiction"} <= kinds
    assert 0.3 < sum(bool(r["supported"]) for r in rows) / len(rows) < 0.7


@pytest.mark.slow
def test_thresholds_hold_on_the_labelled_set_with_minilm() -> None:
    """Precision and recall of the support threshold on tests/data/support_labels.jsonl."""
    scorer = Scorer(make_embeddings("minilm"))
    tp = fp = fn = 0
    for r in labelled():
        c = Citation(1, str(r["doc_id"]), str(r["title"]), r["citation"], r["pinpoint"], None, str(r["passage"]), "", 0)  # type: ignore[arg-type]
        ok = scorer.support(str(r["sentence"]), c) >= SUPPORT_THRESHOLD
        if r["kind"] == "verbatim" or r["kind"] == "injected":
            assert ok == r["supported"], r["sentence"]
        tp += ok and bool(r["supported"])
        fp += ok and not r["supported"]
        fn += not ok and bool(r["supported"])
    precision, recall = tp / (tp + fp), tp / (tp + fn)
    print(f"support labels: precision {precision:.3f}, recall {recall:.3f} (tp {tp}, fp {fp}, fn {fn})")
    assert precision >= 0.88 and recall >= 0.95


@pytest.mark.slow
def test_extractive_answers_are_fully_verified_over_the_gold_questions(real_home: Path) -> None:
    from rag.answer.assistant import Assistant
    from rag.core.config import Settings

    assistant = Assistant(Settings.from_env())
    answered = 0
    rows = [json.loads(line) for line in GOLD.read_text().splitlines() if line.strip()]
    for question in [r["question"] for r in rows if r["answerable"]][:QUESTIONS]:
        result = assistant.ask(question)
        if result.refused:
            continue
        answered += 1
        n = sum(len(c.cited) for c in claims(result.answer))
        assert result.verification == f"{n} of {n} citations verified", (question, result.warnings)
        assert all(c.verified for c in result.citations) and not result.warnings, question
    assert answered >= QUESTIONS * 0.9
