"""Deterministic fact extraction: what a case text says of forum, age, offence, stage, indicators and the link.

Every fact comes with the words of the case it was read from (`spans`), so a user can correct a misreading.
The places, courts and nationalities come from the legal knowledge, the offences and indicators from the
pathways file; only the grammar of how a case states them is here.
"""

from __future__ import annotations

import re

from rag.assess.pathways import Pathways, Term
from rag.assess.records import CaseFacts
from rag.core.knowledge import Knowledge
from rag.retrieve.places import country_lookup, country_pattern, forms_pattern, not_the_forum

_NUMBER_WORDS = {
    "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15, "sixteen": 16, "seventeen": 17, "eighteen": 18,
    "nineteen": 19, "twenty": 20,
}  # fmt: skip
_N = r"(\d{1,2}|" + "|".join(_NUMBER_WORDS) + r")"
_NOT_AGE = r"people|men|women|years? (?:ago|in prison|sentence)|months?|days?|hours?|times|of\b|kg|grams?|plants?"
_AGES = (
    re.compile(rf"\b{_N}[- ]years?[- ]old\b", re.I),
    re.compile(rf"\baged\s+{_N}\b", re.I),
    re.compile(rf"\bage\s+(?:of\s+)?{_N}\b", re.I),
    re.compile(rf"\b(?:was|is|were|turned|being)\s+(?:only\s+|just\s+)?{_N}\b(?!\s*(?:%|percent|{_NOT_AGE}))", re.I),
    re.compile(rf"\b(?:a|the)\s+{_N}\s*-?\s*(?:yo)\b", re.I),
)
_MINOR = re.compile(
    r"(?<!his )(?<!her )(?<!their )(?<!my )(?<!your )\b(?:minor|juvenile|child|boy|girl|teenager|teenage \w+|"
    r"under(?:-| )18|under(?:-| )age|unaccompanied (?:minor|child)|schoolboy|schoolgirl|youth)\b",
    re.I,
)
_ADULT = re.compile(r"\b(?:adult|(?:a|an|the)\s+(?:\w+\s+){0,2}(?:man|woman)|grown man|grown woman)\b", re.I)
# A place of proceedings: near these words a place is where the case is, not only where the person was.
_PROCEEDINGS = re.compile(
    r"\b(?:court|prosecut\w*|charged|arrested|detained|tried|trial|convicted|sentenced|police|found|stopped|"
    r"investigat\w*|judge|magistrates?|sheriff|airport|border)\b",
    re.I,
)
_DESTINATION = re.compile(
    r"\b(?:trafficked|taken|brought|moved|sent|transported|smuggled|travelled|flown|went)\s+(?:\w+\s+){0,2}to\s+"
    r"(?:the\s+)?$",
    re.I,
)
_HOME = re.compile(
    r"\b(?:family|relatives|parents|mother|father|sister|brother|children|home)\s+(?:\w+\s+)?(?:in|at)\s+$", re.I
)
_NATIONAL = re.compile(r"\b(?:national|citizen)\s+of\s+(?:the\s+)?$", re.I)
_PERSON_AFTER = re.compile(
    r"\s+(?:\w+\s+)?(?:wom[ae]n|m[ae]n|boys?|girls?|child|minor|teen\w*|nationals?|citizens?|worker|migrant|person|"
    r"national|defendant|suspect|mother|father|youth)\b",
    re.I,
)
_OFFENCE_LEAD = re.compile(
    r"\b(?:charged with|convicted of|accused of|suspected of|prosecuted for|arrested for|charge of|"
    r"offence (?:is|was)|pleaded guilty to|charging decision on|for the offence of)\b",
    re.I,
)
_AT_THE_TIME = re.compile(r"\b(?:at the time|when|then)\b", re.I)


def _span(m: re.Match[str]) -> str:
    return " ".join(m.group(0).split())


def _age(text: str) -> tuple[int, str] | None:
    found = []
    for pattern in _AGES:
        for m in pattern.finditer(text):
            word = m.group(1).lower()
            n = _NUMBER_WORDS.get(word) or int(word)
            if 5 <= n <= 99:
                near_time = bool(_AT_THE_TIME.search(text, max(0, m.start() - 40), m.end() + 40))
                found.append((not near_time, m.start(), n, _span(m)))
    if not found:
        return None
    _, _, n, span = min(found)
    return n, span


def _country_code(knowledge: Knowledge, country: str) -> tuple[str | None, str | None]:
    """The forum code of proceedings in a country, and the Member State when that forum is the EU."""
    c = knowledge.by_name[country]
    if c.forum:
        return c.forum, None
    if c.law in ("AZ", "US"):
        return c.law, None
    if c.eu:
        return "EU", c.name
    return None, None


def _sentence(text: str, start: int, end: int) -> str:
    """The sentence of the case that holds text[start:end]."""
    left = max(text.rfind(p, 0, start) for p in ".;!?") + 1
    rights = [r for p in ".;!?" if (r := text.find(p, end)) != -1]
    return text[left : min(rights) if rights else len(text)]


def _forum(text: str, knowledge: Knowledge, courts: tuple[Term, ...]) -> tuple[str | None, str | None, str | None, str]:
    """(forum, Member State, the words, the country named) from where the proceedings are.

    A place in a sentence about the proceedings (arrested, charged, court, police ...) ranks first, then
    any other place, then where the person was taken to; nationalities, origins and where family lives
    are skipped. A court or prosecutor of one forum (the Crown Court, the Procurator Fiscal) counts as such
    a place where it stands.
    """
    lookup = {f.casefold(): c for f, c in knowledge.place_forms.items()}
    cities = knowledge.place_forms.keys() - knowledge.country_forms.keys()
    pattern = forms_pattern(knowledge.place_forms, exact=cities)
    found: list[tuple[int, int, str | None, str | None, str]] = []
    for m in pattern.finditer(text):
        before = text[max(0, m.start() - 60) : m.start()]
        if not_the_forum(text, m) or _NATIONAL.search(before) or _HOME.search(before):
            continue
        code, member = _country_code(knowledge, lookup[m.group(0).casefold()])
        rank = 2 if _DESTINATION.search(before) else 0 if _PROCEEDINGS.search(_sentence(text, *m.span())) else 1
        found.append((rank, m.start(), code, member, _span(m)))
    for court in courts:
        for p in court.patterns:
            if hit := p.search(text):
                found.append((0, hit.start(), court.name, None, _span(hit)))
    if not found:
        return None, None, None, ""
    rank, _, code, member, words = min(found, key=lambda f: (f[0], f[2] is None, f[1]))
    return code, member, words, ""


def _nationality(text: str, knowledge: Knowledge) -> tuple[str, str] | None:
    lookup = country_lookup(knowledge)
    for m in country_pattern(knowledge).finditer(text):
        before = text[max(0, m.start() - 30) : m.start()]
        after = text[m.end() : m.end() + 40]
        person = _PERSON_AFTER.match(after)
        if person or _NATIONAL.search(before) or re.search(r"\bfrom\s+(?:the\s+)?$", before, re.I):
            word = m.group(0)
            country = lookup[word.casefold()]
            forms = knowledge.by_name[country].forms
            adjectives = (f for f in forms if f.endswith(("ese", "an", "ish", "i", "ic")))
            adjective = word if word != country else next(adjectives, country)
            return adjective, " ".join((m.group(0) + (person.group(0) if person else "")).split())
    return None


def _first(terms: tuple[Term, ...], text: str) -> tuple[Term, re.Match[str]] | None:
    for term in terms:
        for p in term.patterns:
            m = p.search(text)
            if m:
                return term, m
    return None


def _offence_text(text: str) -> str:
    """The part of the case that names the offence: after 'charged with', 'convicted of' ... if it says so."""
    m = _OFFENCE_LEAD.search(text)
    return text[m.end() :] if m else text


def extract(text: str, knowledge: Knowledge, pathways: Pathways) -> CaseFacts:
    """The facts of a case text, each with its span; what the text does not say stays None."""
    values: dict[str, object] = {}
    spans: dict[str, str] = {}
    forum, member, words, _country = _forum(text, knowledge, pathways.courts)
    if words:
        spans["forum"] = words
    values["forum"], values["member_state"] = forum, member
    if member:
        spans["member_state"] = words or ""
    age = _age(text)
    if age:
        values["age"], spans["age"] = age[0], age[1]
        values["child"], spans["child"] = age[0] < 18, age[1]
    elif m := _MINOR.search(text):
        values["child"], spans["child"] = True, _span(m)
    elif m := _ADULT.search(text):
        values["child"], spans["child"] = False, _span(m)
    nationality = _nationality(text, knowledge)
    if nationality:
        values["nationality"], spans["nationality"] = nationality
    found = _first(pathways.offences, _offence_text(text)) or _first(pathways.offences, text)
    if found:
        term, m = found
        values["offence"], values["offence_class"] = term.name, term.kind
        spans["offence"] = spans["offence_class"] = _span(m)
    if found := _first(pathways.stages, text):
        values["stage"], spans["stage"] = found[0].name, _span(found[1])
    indicators, shown = [], []
    for term in pathways.indicators:
        for p in term.patterns:
            if m := p.search(text):
                indicators.append(term.name)
                shown.append(_span(m))
                break
    if indicators:
        values["indicators"], spans["indicators"] = tuple(indicators), "; ".join(shown)
    if found := _first(pathways.identification, text):
        values["identification"], spans["identification"] = found[0].name, _span(found[1])
    if found := _first(pathways.links, text):
        values["link"], spans["link"] = found[0].name, _span(found[1])
    return CaseFacts(**values, spans=spans)  # type: ignore[arg-type]
