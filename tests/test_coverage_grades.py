"""Graded answers (issue 14): one coverage mechanism, weighed by rarity, names what the sources do not hold."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from rag.answer import policy
from rag.answer.assistant import Assistant
from rag.answer.evaluate import names_missing
from rag.core.config import Settings
from rag.core.records import Answer
from rag.faces.cli import app
from rag.faces.render import answer_text
from rag.retrieve import asks, coverage

VOCABULARY = {"prosecutor", "assessment", "strasbourg", "court", "award", "violation", "found", "residence", "permit"}


def test_plain_words_weigh_nothing_and_rare_ones_much() -> None:
    assert asks.rarity("wait") < 0.1
    assert asks.rarity("time") == 0.0
    assert asks.rarity("vacatur") == 1.0
    assert asks.rarity("extradition") > 0.8
    # A slip of a plain word is that word misspelt, not a rare term: 'departmant', 'reprot'.
    assert asks.rarity("departmant") == 0.0 and asks.rarity("reprot") == 0.0


def test_the_asking_sentence_is_judged_not_the_facts_told_before_it() -> None:
    question = "Client picked up at a car wash raid, says the gang took his passport. Can he rely on the defence?"
    offset, asking = asks.asking_part(question)
    assert asking == "Can he rely on the defence?"
    assert all(a.start >= offset for a in asks.extract(question))
    assert asks.asking_part("Is Article 26 binding?") == (0, "Is Article 26 binding?")


def test_a_rare_word_the_store_lacks_is_named_as_the_user_wrote_it() -> None:
    question = "How much did the Strasbourg court award in just satisfaction for the violations it found?"
    missing = coverage.not_held(question, VOCABULARY, ["The court found a violation."], contains=lambda t: False)
    texts = [text for _, text in missing]
    assert texts[0] == "just satisfaction"
    assert texts[1] == "how much did the Strasbourg court award"  # a figure asked for that no passage gives


def test_a_plain_word_around_a_named_case_is_never_a_gap() -> None:
    """'Post VCL v UK': 'Post' is plain English and VCL is held as the sources write it, V.C.L."""
    question = "Post VCL v UK, must the prosecutor wait for an assessment?"
    written = "Duties of prosecutors after V.C.L. and A.N."
    missing = coverage.not_held(question, VOCABULARY, [written], contains=lambda t: t in written)
    assert missing == []


def test_a_term_of_art_counts_only_as_the_phrase() -> None:
    question = "Is a victim entitled to a residence permit under the Convention?"
    rare = {"residence": 0.01, "permit": 0.01}.get

    def share(word: str) -> float:
        return rare(word.lower(), 0.5)

    absent = coverage.not_held(question, VOCABULARY, [], contains=lambda t: False, share=share)
    assert (question.index("residence"), "residence permit") in absent
    held = coverage.not_held(question, VOCABULARY, [], contains=lambda t: "residence permit" in t, share=share)
    assert all(text != "residence permit" for _, text in held)
    # Words common in the store make no term of art: 'EU trafficking' is not a gap.
    common = coverage.not_held(question, VOCABULARY, [], contains=lambda t: False, share=lambda w: 0.5)
    assert all(text != "residence permit" for _, text in common)


def test_a_year_qualifying_the_ask_must_be_in_the_passages() -> None:
    question = "What did the court award in its 2018 report?"
    vocabulary = VOCABULARY | {"report"}
    assert coverage.not_held(question, vocabulary, ["The 2018 report found gaps."]) == []
    assert coverage.not_held(question, vocabulary, ["The 2014 report found gaps."]) == [
        (question.index("2018"), "2018 report")
    ]


def test_the_eval_counts_a_named_gap_as_handled() -> None:
    assert names_missing(["just satisfaction"], ("just satisfaction",))
    assert names_missing(["T visa"], ("a T visa",))
    assert not names_missing(["nail bar"], ("just satisfaction",))


def test_a_partial_answer_says_first_what_the_sources_do_not_mention() -> None:
    answer = Answer("q", "Article 26 provides ...", False, "extractive", [])
    retrieval = type("R", (), {"coverage": coverage.Coverage(not_covered=["just satisfaction", "figures for 2024"])})()
    graded = policy.graded(answer, retrieval)  # type: ignore[arg-type]
    assert graded.coverage == "partial" and graded.not_covered == ["just satisfaction", "figures for 2024"]
    assert graded.answer.startswith("The indexed sources do not cover just satisfaction or figures for 2024.\n\n")
    assert "Coverage: partial. Not in the indexed sources: just satisfaction; figures for 2024" in answer_text(graded)
    assert Answer.from_dict(graded.as_dict()).coverage == "partial"
    refused = Answer("q", policy.REFUSAL, True, "extractive", [])
    assert refused.as_dict()["coverage"] == "none"


@pytest.mark.slow
def test_graded_answers_over_the_real_corpus(real_home: Path) -> None:
    assistant = Assistant(Settings.from_env())
    post = assistant.ask("Post VCL v UK, must the prosecutor wait for an assessment?")
    assert not post.refused and post.coverage == "full", post.not_covered
    partial = assistant.ask("How much did the Strasbourg court award V.C.L. and A.N. in just satisfaction?")
    assert partial.coverage == "partial" and "just satisfaction" in partial.not_covered
    assert partial.answer.startswith("The indexed sources do not cover just satisfaction")
    full = assistant.ask("What does Article 26 of the CoE Convention require?")
    assert full.coverage == "full" and full.not_covered == []
    none = assistant.ask("Does the ASEAN Convention against Trafficking in Persons contain a non-punishment clause?")
    assert none.refused and none.coverage == "none"
    out = CliRunner().invoke(app, ["ask", "Was a T visa granted to the victims in the TIP report?", "--json"])
    data = json.loads(out.stdout)
    assert data["coverage"] in ("partial", "none") and any("visa" in g for g in data["not_covered"]), data
