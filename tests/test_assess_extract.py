"""Fact extraction from case texts: each fact with the words of the case it came from (fast, no index)."""

from __future__ import annotations

import pytest

from rag.assess import pathways
from rag.assess.extract import extract
from rag.assess.records import CaseFacts
from rag.core import knowledge


def read(text: str) -> CaseFacts:
    return extract(text, knowledge.load(), pathways.load())


@pytest.mark.parametrize(
    ("text", "age", "child"),
    [
        ("A 15-year-old found in a cannabis farm in Leeds", 15, True),
        ("the defendant, aged 16, was arrested", 16, True),
        ("She was 17 when she was recruited", 17, True),
        ("a sixteen-year-old boy", 16, True),
        ("An adult man stopped at Baku airport", None, False),
        ("a minor found in a nail bar", None, True),
        ("A woman of 34 was charged", None, False),
        ("He was 24 years old", 24, False),
        ("He threatened her children", None, None),
    ],
)
def test_age_and_child_status(text: str, age: int | None, child: bool | None) -> None:
    facts = read(text)
    assert (facts.age, facts.child) == (age, child)
    if child is not None:
        assert facts.spans["child"] and facts.spans["child"].lower() in text.lower()


@pytest.mark.parametrize(
    ("text", "forum", "member"),
    [
        ("A 15-year-old found in a cannabis farm in Leeds", "UK-EW", None),
        ("A Vietnamese boy charged at Manchester Crown Court", "UK-EW", None),
        ("A man arrested in Glasgow", "UK-SC", None),
        ("The procurator fiscal is considering charges", "UK-SC", None),
        ("She was arrested in Belfast", "UK-NI", None),
        ("An adult man with a false passport at Baku airport", "AZ", None),
        ("A woman arrested in Madrid for using a forged passport", "EU", "Spain"),
        ("A Nigerian woman charged in Houston", "US", None),
        ("A Nigerian woman was charged with soliciting", None, None),
        ("A Romanian man trafficked to the UK was found in a car wash in Bristol", "UK-EW", None),
    ],
)
def test_forum_from_places_and_courts_not_from_nationality(text: str, forum: str | None, member: str | None) -> None:
    facts = read(text)
    assert (facts.forum, facts.member_state) == (forum, member)
    if forum:
        assert facts.spans["forum"].lower() in text.lower()


def test_nationality_is_read_and_is_not_the_forum() -> None:
    facts = read("A Vietnamese boy was found working in a cannabis farm")
    assert facts.nationality == "Vietnamese" and facts.forum is None
    assert read("a national of Albania arrested in Leeds").nationality == "Albanian"


@pytest.mark.parametrize(
    ("text", "offence", "klass"),
    [
        ("found in a cannabis farm", "cannabis production", "drugs"),
        ("charged with robbery after threats", "robbery", "property"),
        ("stopped with a false passport", "use of a false document", "documents"),
        ("convicted of possession with intent to supply heroin (county lines)", "drug supply", "drugs"),
        ("charged with murder", "murder", "homicide"),
        ("arrested for shoplifting", "shoplifting", "property"),
        ("charged with soliciting", "prostitution-related offence", "prostitution"),
    ],
)
def test_offence_and_its_class(text: str, offence: str, klass: str) -> None:
    facts = read(text)
    assert (facts.offence, facts.offence_class) == (offence, klass)


@pytest.mark.parametrize(
    ("text", "stage"),
    [
        ("He was arrested yesterday", "investigation"),
        ("She was charged with theft", "charge"),
        ("His trial starts next week", "trial"),
        ("She pleaded guilty and awaits sentence", "sentence"),
        ("He was convicted in 2014 and wants to appeal", "post-conviction"),
    ],
)
def test_stage(text: str, stage: str) -> None:
    assert read(text).stage == stage


def test_indicators_each_with_its_words() -> None:
    text = (
        "The gang took her passport, said she owed a debt of 20,000 pounds, threatened her family, "
        "never paid her, and she was not allowed to leave the house; she slept at the salon where she worked."
    )
    facts = read(text)
    assert {
        "documents taken",
        "debt",
        "threats",
        "no pay",
        "controlled movement",
        "living at the place of work",
    } <= set(facts.indicators)
    for words in facts.spans["indicators"].split("; "):
        assert words.lower() in " ".join(text.lower().split())


@pytest.mark.parametrize(
    ("text", "identification"),
    [
        ("she was referred to the NRM and got a positive conclusive grounds decision", "positive conclusive grounds"),
        ("a positive reasonable grounds decision was made", "positive reasonable grounds"),
        ("he was referred to the NRM last week", "referred"),
        ("nobody referred him to the NRM", "not referred"),
        ("the competent authority made a negative conclusive grounds decision", "negative conclusive grounds"),
    ],
)
def test_identification(text: str, identification: str) -> None:
    assert read(text).identification == identification


@pytest.mark.parametrize(
    ("text", "link"),
    [
        ("he was forced to water the plants", "compelled"),
        ("she was ordered to carry the drugs", "ordered"),
        ("he robbed the shop after threats to his family", "threatened"),
        ("he sold the drugs of his own accord for his own profit", "voluntary"),
        ("he was found in a flat", None),
    ],
)
def test_link(text: str, link: str | None) -> None:
    assert read(text).link == link


def test_unknown_facts_stay_none() -> None:
    facts = read("Something happened.")
    assert facts == CaseFacts()


def test_a_later_message_changes_only_what_it_says() -> None:
    first = read("An adult charged with theft in Leeds after threats to his family")
    later = first.merged(read("she was 16"))
    assert (later.age, later.child, later.offence, later.forum) == (16, True, "theft", "UK-EW")
    assert later.spans["age"] == "was 16"
    again = later.merged(read("the offence is robbery"))
    assert again.offence == "robbery" and again.age == 16


def test_present_tense_debt_tending_plants_and_a_locked_flat() -> None:
    facts = read("A man found tending cannabis plants in a locked flat says he owes 20,000 pounds for the journey")
    assert facts.offence == "cannabis production"
    assert {"debt", "controlled movement"} <= set(facts.indicators)
