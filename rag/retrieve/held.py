"""Is an ask held? One judgement for every thing a question asks (rag.retrieve.asks): by the retrieved
passages, or failing them the store; a term of art only as the phrase; a year or a figure only in the
passages; an abbreviation as the knowledge data spells it out or as the sources write its initials."""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import lru_cache

from rag.core.knowledge import Knowledge
from rag.index.keyword import tokens
from rag.retrieve import asks as ask_parts
from rag.retrieve.spelling import known

# An ask weighs enough to be named when missing at these weights (rag.retrieve.asks: 0 plain, 1 rare).
TERM_WEIGHT = 0.4
PHRASE_WEIGHT = 0.3
PLAIN_NEIGHBOUR = 0.2  # a word this plain is named with the missing word beside it ('just satisfaction')
RARE_SHARE = 0.04  # a word in at most this share of the chunks is rare in the store
REAL_WORD_ZIPF = 3.0  # a word at least this common in English is a word, not a misspelling
_CARDINAL = re.compile(
    r"(?<![\w.])(?!(?:19|20)\d\d\b)\d[\d,.]*(?![\w(])|\b(?:two|three|four|five|six|seven|eight|nine|ten|"
    r"eleven|twelve|fifteen|twenty|thirty|forty|fifty|hundred|thousand|million|dozen)\b",
    re.I,
)
_PROVISION_BEFORE = re.compile(r"(?:article|art|section|s|para|paragraph|rule|no|recital|principle)\.?\s*$", re.I)


def not_held(
    question: str,
    vocabulary: set[str],
    passages: list[str],
    contains: Callable[[str], bool] | None = None,
    share: Callable[[str], float] | None = None,
    knowledge: Knowledge | None = None,
) -> list[tuple[int, str]]:
    """The asks (position, text as written) that neither the passages nor the store hold, weighed by rarity."""
    missing: list[tuple[int, str]] = []

    def beside(word: str) -> bool:
        """A neighbour named with a missing word: plain ('just'), a letter ('T') or missing too ('resist')."""
        return len(word) == 1 or ask_parts.rarity(word) < PLAIN_NEIGHBOUR or not term_held(word, vocabulary, contains)

    from rag.core.language import detect

    # A question in another language than the sources' is judged on its references, years and named things:
    # its words are not the English vocabulary's, and the cross-lingual embedding carries their meaning.
    for ask in ask_parts.extract(question) if detect(question) == "en" else []:
        if ask.kind == "term" and knowledge is not None and aliased(ask.text, knowledge):
            continue  # 'MSA', 'THB': the knowledge data spells them out
        if ask.kind == "term" and ask.weight >= TERM_WEIGHT and not term_held(ask.text, vocabulary, contains):
            missing.append((ask.start, ask_parts.span(question, ask.start, keep=beside)))
        elif ask.kind == "phrase" and ask.weight >= PHRASE_WEIGHT and contains is not None and share is not None:
            words = ask.text.replace("-", " ").split()
            exact = all(t in vocabulary for t in tokens(ask.text))  # a misspelt word is judged on its own
            rare = max(share(w) for w in words) <= RARE_SHARE
            if exact and rare and not _phrase_held(ask.text, contains):
                missing.append((ask.start, ask.text))
        elif ask.kind == "count" and not _figure_held(ask.text, passages, not _YEAR.search(question)):
            missing.append((ask.start, ask.text))
    for m in _YEAR.finditer(question):  # 'its 2018 report': a year qualifies what is asked for
        if not any(m.group(0) in p for p in passages):
            missing.append((m.start(), ask_parts.span(question, m.start()) or m.group(0)))
    for m in _REFERENCE_NUMBER.finditer(question):  # 'stage 3', 's.72': held only as the reference
        word = _REFERENCE_WORDS.get(m.group(1).casefold().rstrip("."), m.group(1).casefold())
        forms = {f"{w} {m.group(2)}" for w in ([word] if word not in _SECTION else _SECTION)}
        held = any(f in p.lower() for f in forms for p in passages)
        if contains is not None and not held and not any(contains(f) for f in forms):
            missing.append((m.start(), m.group(0)))
    return missing


_YEAR = re.compile(r"(?<![\w/(-])(?:19[5-9]\d|20[0-4]\d)(?![\w/)-])")
_REFERENCE_NUMBER = re.compile(
    r"(\barticle|\bart\.?|\bsection|\bsec\.|\bs\.|§|\bstage|\brecommendation|\bprinciple|\bguideline|\brecital|"
    r"\bschedule|\brule)\s*(\d+[a-z]?)\b",
    re.I,
)
_REFERENCE_WORDS = {"art": "article", "sec": "section", "s": "section", "§": "section"}
_SECTION = ("section", "§", "s.")  # how the sources write a section: 'section 45', '§ 1', 's.45'


def term_held(word: str, vocabulary: set[str], contains: Callable[[str], bool] | None) -> bool:
    """A word, or a misspelling of it, is in the store; initials also as the sources write them ('V.C.L.').

    A word of plain English is itself, not a slip of another: 'refugee' is not 'refuge'."""
    if all(_inflected(t, vocabulary) for t in tokens(word)):
        return True
    # A slip of a stored word counts, but not for a word of plain English ('refugee' is not 'refuge') or an
    # abbreviation written with capitals inside ('StPO' is not 'stop').
    acronym = sum(c.isupper() for c in word) >= 2
    if not acronym and ask_parts.zipf(word.casefold()) < REAL_WORD_ZIPF and known(word, vocabulary):
        return True
    letters = word.replace(".", "")
    if letters.isupper() and 2 <= len(letters) <= 6 and contains is not None:
        return contains(".".join(letters) + ".") or contains(letters)
    return False


@lru_cache(maxsize=4)
def _alias_patterns(knowledge: Knowledge) -> list[re.Pattern[str]]:
    named = [re.compile(p, re.I) for p, _ in knowledge.aliases]
    return named + [re.compile(rf"(?:{i.mentions})", re.I) for i in knowledge.instruments]


def aliased(word: str, knowledge: Knowledge) -> bool:
    """The knowledge data spells the abbreviation out or knows it as an instrument's name ('MSA', 'ECtHR')."""
    return any(p.fullmatch(word.casefold()) for p in _alias_patterns(knowledge))


_SUFFIXES = ("e", "s", "d", "ed", "es", "ing", "er", "ers", "ion", "ly", "al")


def _inflected(stem: str, vocabulary: set[str]) -> bool:
    """The stem or another inflection of the word is in the vocabulary ('conclude' beside 'conclud')."""
    forms = {stem, *(stem + s for s in _SUFFIXES), *(stem.removesuffix(s) for s in _SUFFIXES if stem.endswith(s))}
    if stem.endswith("ee"):  # 'refugee' is not an inflection of 'refuge'
        forms -= {stem[:-1], stem[:-2]}
    return bool(forms & vocabulary)


def _phrase_held(phrase: str, contains: Callable[[str], bool]) -> bool:
    """A term of art is held only as the phrase, in the singular or the plural ('preliminary ruling(s)')."""
    base = phrase.lower().replace("’", "'")
    stem = base[:-1] if base.endswith("s") and not base.endswith("ss") else base
    return contains(stem) or contains(base)


def _figure_held(count: str, passages: list[str], years: bool = True) -> bool:
    """'How many states have ratified': some passage sentence gives a figure beside what is counted (a list
    of years counts, unless the question asks for the figure of a year)."""
    framing = set(tokens("how many much long number often share percentage"))
    wanted = set([t for t in tokens(count) if t not in framing][:2])
    for passage in passages:
        for sentence in re.split(r"(?<=[.;:])\s+", passage):
            if not wanted <= set(tokens(sentence)):
                continue
            if any(not _PROVISION_BEFORE.search(sentence[: m.start()]) for m in _CARDINAL.finditer(sentence)):
                return True
            if years and re.search(r"\b(?:19|20)\d\d\b", sentence):
                return True
    return False


def merge(question: str, names: list[str], held_not: list[tuple[int, str]]) -> list[str]:
    """The named things first, then the other asks in the question's order, none inside another."""
    out: list[str] = list(names)
    for _, text in sorted(held_not):
        lowered = text.casefold()
        if any(lowered in o.casefold() or o.casefold() in lowered for o in out):
            continue
        out.append(text)
    return out
