"""Follow-up questions: the rule-based rewrite, and what retrieval then finds."""

from __future__ import annotations

from pathlib import Path

import pytest

from rag.answer.followup import contextualise, is_followup, phrase, subjects, topic_words, with_article

ART26 = "What does Article 26 of the CoE Convention require?"


@pytest.mark.parametrize(
    ("followup", "standalone"),
    [
        ("And under the EU Directive?", "What does the EU Directive require on non-punishment?"),
        ("What about the ILO Protocol?", "What does the ILO Protocol require on non-punishment?"),
        ("how about the Palermo Protocol", "What does the Palermo Protocol require on non-punishment?"),
        ("Same for Directive 2011/36/EU?", "What does Directive 2011/36/EU require on non-punishment?"),
        ("Under the OHCHR Principles?", "What does the OHCHR Principles require on non-punishment?"),
        ("And Article 10?", "What does Article 10 of the CoE Convention require on non-punishment?"),
        ("And in the UK?", "What does the law of the UK require on non-punishment?"),
        ("What about Azerbaijan?", "What does the law of Azerbaijan require on non-punishment?"),
        ("What does the EU Directive say?", "What does the EU Directive require on non-punishment?"),
        ("Is it binding?", "Is Article 26 of the CoE Convention binding?"),
        ("Does that provision apply to children?", "Does Article 26 of the CoE Convention apply to children?"),
        ("What about children?", "What does Article 26 of the CoE Convention require, as regards children?"),
        ("And what is required?", "What is required regarding Article 26 of the CoE Convention?"),
        (
            "And under the EU Directive, for children?",
            "What does the EU Directive require on non-punishment, as regards children?",
        ),
        ("Why?", f"{ART26} (Why?)"),
    ],
)
def test_elliptical_followups_become_standalone(followup: str, standalone: str) -> None:
    assert contextualise(followup, [ART26]) == standalone


@pytest.mark.parametrize(
    "question",
    [
        "Is the EU Directive binding?",  # names its instrument and its topic
        "What must a prosecutor do before charging a possible victim?",  # a new question of its own
        "Does Section 45 of the Modern Slavery Act apply to children?",
        "Non-punishment of child victims of trafficking in domestic criminal law",  # long, no verb: a query
    ],
)
def test_questions_that_stand_alone_are_left_alone(question: str) -> None:
    assert contextualise(question, [ART26]) == question
    assert not is_followup(question, ART26)


def test_without_history_nothing_changes() -> None:
    assert contextualise("And under the EU Directive?", []) == "And under the EU Directive?"
    assert not is_followup("And under the EU Directive?", None)


def test_the_previous_topic_is_kept_and_chains() -> None:
    assert (
        contextualise("And under the EU Directive?", ["Is Article 26 of the CoE Convention binding on States?"])
        == "Is the EU Directive binding on States?"
    )
    second = contextualise("And under the EU Directive?", [ART26])
    assert contextualise("And the ILO Protocol?", [ART26, second]) == (
        "What does the ILO Protocol require on non-punishment?"
    )
    # "the law of the UK" is recognised again, not nested
    uk = contextualise("And in the UK?", [ART26])
    assert contextualise("And Azerbaijan?", [ART26, uk]) == "What does the law of Azerbaijan require on non-punishment?"


def test_the_previous_pinpoint_and_instrument_never_leak_into_a_new_instrument() -> None:
    # an explicit "Article 26" would pull the CoE passage back to the top of the results
    rewritten = contextualise("And under the EU Directive?", [ART26])
    assert "Article 26" not in rewritten and "CoE" not in rewritten


def test_subjects_name_provisions_instruments_and_places() -> None:
    (art,) = subjects(ART26)
    assert (art.pinpoint, art.instrument, art.text) == (
        "Article 26",
        "the CoE Convention",
        "Article 26 of the CoE Convention",
    )
    (eu,) = subjects("What does Directive 2011/36/EU say?")
    assert eu.instrument == "Directive 2011/36/EU" and eu.pinpoint is None
    (uk,) = subjects("And under UK law?")
    assert uk.jurisdiction == "UK"
    (plan,) = subjects("What does Azerbaijan's national action plan say?")
    assert plan.text == "Azerbaijan's national action plan"  # not "national act" inside "action"
    assert subjects("What must a prosecutor do?") == []


def test_topic_words_ignore_the_frame_and_the_names() -> None:
    assert topic_words(ART26) == []
    assert "bind" in topic_words("Is Article 26 of the CoE Convention binding on States?")
    assert topic_words("What about children?") == ["children"]


def test_names_read_naturally() -> None:
    assert with_article("EU Directive") == "the EU Directive"
    assert with_article("the EU Directive") == "the EU Directive"
    assert with_article("Directive 2011/36/EU") == "Directive 2011/36/EU"
    assert with_article("V.C.L. and A.N. v UK") == "V.C.L. and A.N. v UK"
    (art10,) = subjects("And Article 10?")
    (art26,) = subjects(ART26)
    assert phrase(art10, art26) == "Article 10 of the CoE Convention"


@pytest.mark.slow
def test_the_eu_followup_retrieves_article_8_of_the_directive(real_home: Path) -> None:
    from rag.answer.assistant import Assistant
    from rag.core.config import Settings

    assistant = Assistant(Settings.from_env())
    first = assistant.ask(ART26)
    assert any(c.doc_id == "coe-convention" and c.pinpoint == "Article 26" for c in first.citations[:3])
    standalone = contextualise("And under the EU Directive?", [first.question])
    answer = assistant.ask(standalone)
    assert not answer.refused and answer.citations[0].doc_id == "eu-directive-2011-36", answer.citations
    # The Directive's provision is among the passages found (the answer may open with its note's overview).
    top = [(h.chunk.doc_id, h.chunk.pinpoint) for h in assistant.retrieve(standalone).hits]
    assert ("eu-directive-2011-36", "Article 8") in top, top
