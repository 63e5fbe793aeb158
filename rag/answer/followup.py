"""Follow-up questions: turn "And under the EU Directive?" into a question that stands on its own."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from rag.core.knowledge import Knowledge
from rag.core.knowledge import load as load_knowledge
from rag.index.keyword import tokens

# What the whole corpus is about: the topic a follow-up inherits when the earlier question named none.
DEFAULT_TOPIC = "non-punishment"
SHORT_WORDS = 6  # a verbless question this short leans on the one before

_OPENER = re.compile(
    r"^\s*(?:and\s+(?:what|how)\s+(?:about|of)|what\s+about|how\s+about|what\s+of|same\s+for|"
    r"and\s+(?:also\s+)?(?:under|in|for)|and|also|under|in|for|as\s+for)\b[\s,:]*",
    re.I,
)
_PREPOSITIONS = re.compile(r"^(?:under|in|for|of|about|regarding|according\s+to)\s+|\s+(?:under|in|for|of)$", re.I)

_PIN = r"(?:Articles?|Art\.?|Recitals?|Sections?|s\.|§|Principles?|Guidelines?|Schedule|para(?:graph)?\.?)\s*\d+[a-z]?(?:\.\d+)?(?:\s?\(\w{1,3}\))*"  # noqa: E501
_NOT_A_NAME = (
    r"(?!(?:what|which|who|how|why|when|where|does|do|did|is|are|was|were|can|could|must|should|would|will|"
    r"and|or|of|under|in|on|for|about|to|by|with|say|says|require|requires|the|a|an)\b)(?![\d(])"
)
_GENERIC_INSTRUMENT = (
    rf"(?:the\s+)?(?:{_NOT_A_NAME}[\w.'’/-]+\s+){{0,4}}"
    r"(?:Convention|Directive|Protocol|Action\s+Plan|Act|Principles|Guidelines|Recommendations|Model\s+Law)"
    r"(?:\s+(?:No\.?\s*\d+|\(EU\)\s*\d{4}/\d+|\d{4}/\d+(?:/EU)?|of\s+\d{4}|\d{4}))?"
)


@lru_cache(maxsize=4)
def _subject_pattern(knowledge: Knowledge) -> re.Pattern[str]:
    """Provisions, instruments (the knowledge's names first, then any "... Convention") and jurisdictions."""
    instrument = "(?:" + "|".join([*knowledge.instrument_names, _GENERIC_INSTRUMENT]) + r")(?!\w)"
    jurisdiction = (
        r"(?:the\s+law\s+(?:of|in)\s+)?(?P<place>(?:the\s+)?(?:"
        + "|".join(knowledge.follow_up_places)
        + r"))\b(?:\s+law)?"
    )
    return re.compile(
        rf"\b(?P<pin>{_PIN})(?:\s*,?\s*(?:(?:of|in|under)\s+)?(?P<pin_instr>{instrument}))?"
        rf"|(?P<instr>\b(?:{instrument}))"
        rf"|(?P<jur>\b{jurisdiction})",
        re.I,
    )


# Words that frame a question without saying what it is about.
_FRAME_WORDS = set(
    tokens(
        "what does do did is are was were can could must should would will say says said require requires required "
        "provide provides mean means apply applies cover covers define defines state states set sets contain "
        "contains establish establishes go goes differ compare oblige obliges need needs tell tells have has "
        "how which who why where when law provision provisions article rule rules text instrument same also "
        "regarding concerning matter "
    )
)
_VERBS = set(
    tokens(
        "does do did is are was were can could must should would will say says said require requires required "
        "provide provides mean means apply applies cover covers define defines state states contain contains "
        "establish establishes differ compare oblige obliges need needs tell tells have has protect protects "
        "allow allows permit permits prohibit prohibits bind binds give gives"
    )
)


_PRONOUN = re.compile(
    r"\b(?:(?:this|that|the\s+same)\s+(?:provision|article|rule|instrument|section|principle|judgment|case)|"
    r"the\s+provision|it|this|that)\b",
    re.I,
)
_NO_ARTICLE = re.compile(
    r"(?:the|a|an)\s|(?:Directive|Article|Recital|Section|Principle|Guideline)\s|[^,]*\sv\.?\s", re.I
)
_NEEDS_ARTICLE = re.compile(
    r"\b(?:Convention|Directive|Protocol|Act|Principles|Guidelines|Recommendations|Plan|Law|Court|reports?|"
    r"GRETA|OSCE|ECHR|ECtHR|TVPA|MSA|OHCHR)$",
    re.I,
)


@dataclass(frozen=True)
class Subject:
    """What a question names: a provision, an instrument or a jurisdiction, and where it stands."""

    text: str
    start: int
    end: int
    pinpoint: str | None = None
    instrument: str | None = None
    jurisdiction: str | None = None


def subjects(text: str) -> list[Subject]:
    """The provisions, instruments and jurisdictions a question names, in order."""
    found: list[Subject] = []
    for m in _subject_pattern(load_knowledge()).finditer(text):
        instrument = m.group("pin_instr") or m.group("instr")
        found.append(
            Subject(
                text=m.group(0).strip(),
                start=m.start(),
                end=m.end(),
                pinpoint=m.group("pin"),
                instrument=instrument.strip() if instrument else None,
                jurisdiction=m.group("place"),
            )
        )
    return found


def _without(text: str, found: list[Subject]) -> str:
    for s in reversed(found):
        text = text[: s.start] + " " + text[s.end :]
    return " ".join(text.split())


def topic_words(text: str) -> list[str]:
    """What a question is about once its named subjects and its question frame are taken out."""
    return [w for w in tokens(_without(text, subjects(text))) if w not in _FRAME_WORDS and not w.isdigit()]


def has_verb(text: str) -> bool:
    return any(w in _VERBS for w in tokens(text)) or bool(re.search(r"\b(?:is|are|does|do|can|must)\b", text, re.I))


def with_article(name: str) -> str:
    """'EU Directive' -> 'the EU Directive'; 'Directive 2011/36/EU' and 'Article 8' stay as they are."""
    name = name.strip()
    if _NO_ARTICLE.match(name) or not _NEEDS_ARTICLE.search(name):
        return name
    return f"the {name}"


def phrase(subject: Subject, previous: Subject | None = None) -> str:
    """The subject as it reads in a standalone question ("Article 10 of the CoE Convention", "the law of the UK")."""
    if subject.pinpoint and not subject.instrument and previous is not None and previous.instrument:
        return f"{subject.pinpoint} of {with_article(previous.instrument)}"
    if subject.jurisdiction:
        place = subject.jurisdiction.strip()
        if not re.match(r"the\s", place, re.I) and re.match(r"(?:UK|US|USA|EU|United|European|Council)\b", place):
            place = f"the {place}"
        return f"the law of {place}"
    return with_article(subject.text)


def _ask(text: str) -> str:
    text = " ".join(text.split()).rstrip("?.! ,")
    return text[:1].upper() + text[1:] + "?"


def _reframe(previous: str, old: Subject | None, new_phrase: str) -> str:
    """The previous question asked again about the new subject, keeping (or supplying) its topic."""
    if old is None:
        framed = f"{previous.rstrip('?.! ')} under {new_phrase}"
    else:
        framed = previous[: old.start] + new_phrase + previous[old.end :]
    framed = framed.rstrip("?.! ")
    return framed if topic_words(framed) else f"{framed} on {DEFAULT_TOPIC}"


def contextualise(question: str, history: Sequence[str]) -> str:
    """A question that stands on its own, given the earlier standalone questions (oldest first).

    Unchanged when there is no history or the question names its subject and its topic. Otherwise:
    a new instrument, provision or jurisdiction is put into the previous question's frame ("What
    does Article 26 of the CoE Convention require?" + "And under the EU Directive?" -> "What does
    the EU Directive require on non-punishment?"); a bare topic is asked about the previous
    subject; "it" or "this provision" becomes what the previous question named.
    """
    question = " ".join(question.split())
    if not history or not question:
        return question
    previous = " ".join(history[-1].split())
    opener = _OPENER.match(question)
    body = question[opener.end() :] if opener else question
    body = body.strip().rstrip("?.! ").strip()
    if not body:
        return previous
    new, old = subjects(body), subjects(previous)
    old_main = old[0] if old else None
    topics = topic_words(body)
    verb = has_verb(body)
    leaning = bool(opener) or (not verb and len(body.split()) <= SHORT_WORDS)

    if new:
        new_phrase = phrase(new[0], old_main)
        if not topics:
            return _ask(_reframe(previous, old_main, new_phrase))
        if verb or not leaning:
            return question
        extra = _PREPOSITIONS.sub("", _without(body, new).strip(" ,")).strip(" ,")
        return _ask(f"{_reframe(previous, old_main, new_phrase)}, as regards {extra}")
    pronoun = _PRONOUN.search(body)
    if verb and pronoun and old_main:
        return _ask(body[: pronoun.start()] + phrase(old_main) + body[pronoun.end() :])
    if verb and topics and not opener:
        return question
    if verb and old_main:
        return _ask(f"{body} regarding {phrase(old_main)}")
    if topics and leaning:
        return _ask(f"{previous.rstrip('?.! ')}, as regards {_PREPOSITIONS.sub('', body.strip(' ,')).strip(' ,')}")
    if leaning:
        return f"{previous} ({question})"
    return question


def is_followup(question: str, previous: str | None) -> bool:
    """True when the question leans on the previous one (so it is rewritten before searching)."""
    return previous is not None and contextualise(question, [previous]) != " ".join(question.split())
