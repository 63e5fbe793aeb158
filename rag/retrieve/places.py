"""Where the facts of a question are set, and so whose law is in point ("arrested in Leeds": UK law).

The countries, cities and which notes state each country's law are legal knowledge (corpus/knowledge.yaml);
what is here is how a question names a place without setting its facts there: a nationality ("a Nigerian
woman"), an origin ("trafficked from Eritrea") or a cited case's respondent ("v. the United Kingdom").
"""

from __future__ import annotations

import re
from collections.abc import Container, Iterable
from functools import lru_cache

from rag.core.knowledge import Knowledge
from rag.core.knowledge import load as load_knowledge

_PERSON = re.compile(
    r"\s+(?:wom[ae]n|m[ae]n|boys?|girls?|child(?:ren)?|minors?|teen\w*|nationals?|citizens?|clients?|"
    r"workers?|victims?|migrants?|famil\w+|national|defendants?|suspects?|mother|father|person|people)\b",
    re.I,
)
_ORIGIN = re.compile(r"\bfrom\s+(?:the\s+)?$", re.I)  # "trafficked from Eritrea": where she came from
CASE_PARTY = re.compile(r"\bv\.?\s+(?:the\s+)?(?:[A-Z][\w'’-]+\s+and\s+)?$")  # just before "Cyprus", "Russia"


def not_the_forum(question: str, m: re.Match[str]) -> bool:
    """A nationality ("a Nigerian woman"), an origin ("from Eritrea") or a case's respondent ("v. the United
    Kingdom") names a country without setting the facts or the law there."""
    before = question[: m.start()]
    return bool(_PERSON.match(question, m.end()) or _ORIGIN.search(before) or CASE_PARTY.search(before))


def forms_pattern(forms: Iterable[str], exact: Container[str] = ()) -> re.Pattern[str]:
    """One pattern for all the forms; short all-caps forms (UK, US, UAE) and the `exact` ones match as written."""
    parts = [
        re.escape(f) if f.isupper() or f in exact else f"(?i:{re.escape(f)})"
        for f in sorted(forms, key=len, reverse=True)
    ]
    return re.compile(r"(?<![\w-])(?:" + "|".join(parts) + r")(?![\w-])")


@lru_cache(maxsize=4)
def country_pattern(knowledge: Knowledge) -> re.Pattern[str]:
    return forms_pattern(knowledge.country_forms)


@lru_cache(maxsize=4)
def country_lookup(knowledge: Knowledge) -> dict[str, str]:
    """Each country form, case-folded, to its country."""
    return {f.casefold(): c for f, c in knowledge.country_forms.items()}


@lru_cache(maxsize=4)
def _place_pattern(knowledge: Knowledge) -> re.Pattern[str]:
    cities = knowledge.place_forms.keys() - knowledge.country_forms.keys()
    return forms_pattern(knowledge.place_forms, exact=cities)  # capitalised only: "Reading", "Bath" are words too


@lru_cache(maxsize=4)
def _place_lookup(knowledge: Knowledge) -> dict[str, str]:
    return {f.casefold(): c for f, c in knowledge.place_forms.items()}


# What "the law of the place" is: its statutes, judgments and the treaties and EU law in force there, before
# guidance or reports that happen to concern that jurisdiction.
LAW_TYPES = ("national-law", "case-law", "eu-law", "treaty")


def local_rank(meta: dict[str, object] | None, places: set[str]) -> int | None:
    """0 for a passage of the place's own law, 1 for other material of that jurisdiction, None for the rest."""
    if not meta or not is_local(meta.get("jurisdiction"), meta.get("forum"), places):  # type: ignore[arg-type]
        return None
    return 0 if meta.get("type") in LAW_TYPES else 1


def is_local(jurisdiction: str | None, forum: str | None, places: set[str]) -> bool:
    """A source governs the facts: its jurisdiction is in point and, where it states one part's law (Scotland's,
    England and Wales's), that part is too, or no part was named ("in the UK")."""
    if jurisdiction not in places:
        return False
    parts = {p for p in places if p.startswith(f"{jurisdiction}-")}  # forum codes: UK-EW, UK-SC, UK-NI
    return forum is None or not parts or forum in parts


def place_jurisdictions(question: str, knowledge: Knowledge | None = None) -> set[str]:
    """Jurisdiction and forum codes of the places the question sets its facts in ("trafficked to England": UK and
    UK-EW; "a prosecutor in Glasgow": UK and UK-SC).

    A nationality, an origin or a cited case's respondent says nothing about the forum and is skipped.
    """
    known = knowledge or load_knowledge()
    codes: set[str] = set()
    lookup = _place_lookup(known)
    for m in _place_pattern(known).finditer(question):
        country = known.by_name[lookup[m.group(0).casefold()]]
        if not_the_forum(question, m):
            continue
        if country.law:
            codes.add(country.law)
        if country.forum:
            codes.add(country.forum)
        if country.eu:
            codes.add("EU")
    return codes
