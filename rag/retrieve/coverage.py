"""Does the corpus know what the question is about? One assessment per question, apart from the ranking.

Everything the question asks (rag.retrieve.asks: its rare words, terms of art and figures asked for; and
the things it names: a country's own law, a case, an instrument, a provision number, a year of figures) is
judged the same way: held when the retrieved passages, or failing them the store, contain it (a term of
art only as the phrase), and weighed by rarity, so a plain word around a named case never counts. What is
not held, as the user wrote it, is `not_covered`; the answer layer's policy grades the answer from it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from rag.core.knowledge import Knowledge
from rag.core.knowledge import load as load_knowledge
from rag.core.records import Hit
from rag.index.keyword import tokens
from rag.retrieve import asks as ask_parts
from rag.retrieve.held import TERM_WEIGHT, aliased, merge, not_held, term_held
from rag.retrieve.places import country_lookup, country_pattern, not_the_forum
from rag.retrieve.spelling import known
from rag.retrieve.unverified import unverified


@dataclass
class Coverage:
    """What the indexed sources hold of one question."""

    uncovered: list[str] = field(default_factory=list)  # the named things it is about that the corpus never names
    not_covered: list[str] = field(default_factory=list)  # all it asks that the sources do not hold, as written
    on_topic: bool = True  # the question uses the field's vocabulary at all
    term_coverage: float = 0.0  # share of the question's words found in the top passages
    cited: bool = False  # a document number the question cites appears in a top passage


def assess(
    question: str,
    vocabulary: set[str],
    top: list[Hit],
    contains: Callable[[str], bool] | None = None,
    knowledge: Knowledge | None = None,
    share: Callable[[str], float] | None = None,
) -> Coverage:
    """The coverage of a question by its top passages and, for a name they lack, the store (`contains`).

    `share(word)` is the share of the store's chunks that hold a word: a term of art is judged as a phrase
    only when both its words are rare in the store too ("residence permit", not "EU trafficking")."""
    known_ = knowledge or load_knowledge()
    passages = [h.chunk.text for h in top]
    names = uncovered(question, vocabulary, passages, contains, known_)
    framed = [f"{h.chunk.meta.title} {h.chunk.meta.citation} {h.chunk.text}" for h in top]
    # What a top passage says is not verified is not covered either, though the passage names it; it comes
    # first, in place of the words it spans.
    gaps = unverified(question, top, known_)
    within = [n for n in names if not any(n.casefold() in g.casefold() for g in gaps)]
    return Coverage(
        uncovered=names,
        not_covered=merge(question, [*gaps, *within], not_held(question, vocabulary, framed, contains, share, known_)),
        on_topic=on_topic(question, known_),
        term_coverage=term_coverage(question, passages),
        # A document number the question cites counts where it stands in the passage's citation too.
        cited=reference_found(question, [f"{h.chunk.meta.citation} {h.chunk.text}" for h in top]),
    )


def _mentioned(country: str, vocabulary: set[str], knowledge: Knowledge) -> bool:
    """Some name or adjective of the country occurs in the corpus."""
    return any(known(f, vocabulary) for f, c in knowledge.country_forms.items() if c == country)


_DOMESTIC = re.compile(
    r"\b(?:laws?|code|act|statutes?|legislation|courts?|case[- ]law|judgments?|constitution|equivalent|"
    r"limitations?|penal|criminal|prosecutors?|prosecution (?:service|authorit\w*)|police|government|ministry|"
    r"parliament)\b",
    re.I,
)
_ASKS_EU_LAW = re.compile(r"\b(?:EU|European Union|Directive)\b")
_STATISTICS = re.compile(r"\b(?:how many|number of|statistics|figures|data|referrals|tier|ranking|latest)\b", re.I)


def _country_subjects(question: str, knowledge: Knowledge) -> set[str]:
    """Countries whose own law, courts or figures the question asks about (not a client's nationality)."""
    found = set()
    for m in country_pattern(knowledge).finditer(question):
        country = country_lookup(knowledge)[m.group(0).casefold()]
        if not_the_forum(question, m):
            continue
        if knowledge.by_name[country].eu and _ASKS_EU_LAW.search(question):
            continue  # "brought to Italy ... does EU law let the prosecutor drop it?": EU law is Italy's law here
        window = question[max(0, m.start() - 60) : m.end() + 60]
        if _DOMESTIC.search(window) or _STATISTICS.search(question):
            found.add(country)
    return found


def _case_names(question: str) -> set[str]:
    """Party names of cases the question cites: 'Zoletić and Others v. Azerbaijan', 'the Smith case'."""
    names = set(
        re.findall(
            r"\b((?:[A-Z][\w'’.-]+\s+){0,3}[A-Z][\w'’.-]+)(?: and [Oo]thers)?\s+v\.?\s+(?:the\s+)?[A-Z]", question
        )
    )
    names |= set(re.findall(r"\b([A-Z][\w'’-]{2,}) (?:case|judgment|judgement|decision)\b", question))
    return {n for n in names if n.split()[0] not in _OPENERS}


# Capitalised words that open a sentence rather than name something.
_OPENERS = {"The", "A", "An", "In", "Under", "Does", "Do", "Did", "Is", "Was", "What", "Which", "How", "Has", "Can"}
# Instruments named in the question: 'the ASEAN Convention'. Not courts: 'I sit in the Crown Court' names
# the asker's forum, not what is asked about.
_NAMED = re.compile(
    r"((?:\b[A-Z][\w'’-]*\s+(?:(?:and|of|on|for|against)\s+)?){0,5})"
    r"(?:Convention|Protocol|Directive|Act|Code|Charter|Treaty|Guidance|Guidelines|Regulation)\b"
    r"((?:\s+(?:of|on|for|against)(?:\s+(?:the\s+)?[A-Z][\w'’-]*)+)?)"  # "Code of Criminal Procedure"
)
_RESPONDENT = re.compile(r"\bv\.?\s+(?:the\s+)?([A-Z][\w'’-]+(?:\s+[A-Z][\w'’-]+)?)")
_CONNECTORS = {"and", "of", "on", "for", "against", "the"}
# A provision number ('Article 144-1', 's. 991') or a neutral citation's court ('[2013] EWCA Crim 991').
_PROVISION_NUMBER = re.compile(r"\b(?:article|art\.?|section|s\.|§|rule|paragraph|para\.?)\s*(\d+)", re.I)
_NEUTRAL_CITATION = re.compile(r"\[(?:19|20)\d\d\]\s+([A-Z]{2,})\b")


def _named_things(
    question: str, vocabulary: set[str], knowledge: Knowledge, contains: Callable[[str], bool] | None = None
) -> list[str]:
    """Instruments, provision numbers and neutral citations the question names that no indexed passage mentions.

    With `contains` (does any passage contain this text?), a name whose words are each known must also have
    its runs of two or more words somewhere: "Criminal Procedure", "Nationality and Borders" are not in the
    corpus even where "criminal", "procedure" and "border" are.
    """
    missing: list[str] = []
    for m in _NAMED.finditer(question):
        words = [w for w in f"{m.group(1)} {m.group(2)}".split() if w not in _OPENERS and w not in _CONNECTORS]
        if not words:
            continue  # "the Convention", "that Act": no name
        unknown = not all(known(w, vocabulary) or w in knowledge.country_forms for w in words)
        runs = _runs(m.group(1), knowledge) + _runs(m.group(2), knowledge)
        if unknown or (contains is not None and not all(contains(r) for r in runs)):
            missing.append(m.group(0).strip())
    for m in _PROVISION_NUMBER.finditer(question):
        if m.group(1) not in vocabulary:
            missing.append(m.group(0))
    for m in _NEUTRAL_CITATION.finditer(question):
        if not known(m.group(1), vocabulary):
            missing.append(m.group(0))
    return missing


_REGIONS = {"Europe", "European", "Africa", "African", "Asia", "Asian", "Americas", "Arab", "Nordic", "Baltic"}


def _runs(name: str, knowledge: Knowledge) -> list[str]:
    """Two or more ordinary capitalised words in a row ('Criminal Procedure'); acronyms and places end a run."""
    runs: list[list[str]] = [[]]
    for word in name.split():
        place = word in knowledge.country_forms or word in _REGIONS
        ordinary = word[:1].isupper() and sum(c.isupper() for c in word) == 1 and not place
        if ordinary and word not in _OPENERS:
            runs[-1].append(word)
        elif word not in _CONNECTORS or not runs[-1]:
            runs.append([])
        else:
            runs[-1].append(word)
    return [" ".join(r).removesuffix(" and").removesuffix(" of") for r in runs if sum(w[0].isupper() for w in r) >= 2]


_REFERENCE = re.compile(r"\b\d{2,4}/\d+\b|\bNo\.\s*\d+|\b[A-Z]{2,}[./][A-Z0-9/.]+\b|\b(?:s|art)\.?\s?\d+", re.I)


def on_topic(question: str, knowledge: Knowledge | None = None) -> bool:
    """Whether the question uses any of the field's words or cites anything (football scores do not)."""
    if _REFERENCE.search(question):
        return True
    from rag.index.keyword import fold

    words = re.findall(r"[^\W\d_][\w.\-]*", fold(question))  # any script: the field's words in ru/az/tr/fr too
    domain = tuple(fold(d) for d in (knowledge or load_knowledge()).domain)
    return any(w.startswith(domain) for w in words)


def reference_found(question: str, passages: list[str]) -> bool:
    """The question cites a document number (PC.DEC/557, 2011/36, No. 958-IIQ) that a passage contains."""
    text = " ".join(passages).casefold()
    refs = [r.rstrip(".-/") for r in re.findall(r"[A-Za-z0-9][\w./-]*\d[\w./-]*", question)]
    return any(len(r) >= 5 and not r.isdigit() and r.casefold() in text for r in refs)


def term_coverage(question: str, passages: list[str]) -> float:
    """Share of the question's content words found in the passages."""
    wanted = set(tokens(question))
    if not wanted:
        return 0.0
    found: set[str] = set()
    for text in passages:
        found |= wanted & set(tokens(text))
    return len(found) / len(wanted)


def uncovered(
    question: str,
    vocabulary: set[str],
    passages: list[str] | None = None,
    contains: Callable[[str], bool] | None = None,
    knowledge: Knowledge | None = None,
) -> list[str]:
    """What the question is about that the corpus never mentions (empty when all is covered).

    A year in a question about figures or rankings must appear in the passages that answer it:
    the 2013 report's tier does not answer a question about the 2024 report.
    """
    k = knowledge or load_knowledge()
    missing: list[str] = [c for c in sorted(_country_subjects(question, k)) if not _mentioned(c, vocabulary, k)]
    for name in sorted(_case_names(question)):
        # A party's name is missing when a word of it that is not plain English ('Post VCL': not 'Post') is
        # nowhere in the store; initials count as the sources write them (V.C.L.).
        if name.isupper() and len(name) <= 5:
            continue  # VCL, AN, VLC: initials, perhaps misspelt, that the corpus writes with dots
        rare = [w for w in name.split() if ask_parts.rarity(w) >= TERM_WEIGHT and w not in k.country_forms]
        if any(not term_held(w, vocabulary, contains) and not aliased(w, k) for w in rare):
            missing.append(name)
    lookup = country_lookup(k)
    for m in _RESPONDENT.finditer(question):  # "S.M. v. Croatia": a case against a state no source mentions
        state = lookup.get(m.group(1).casefold()) or lookup.get(m.group(1).split()[0].casefold())
        if state and state not in missing and not _mentioned(state, vocabulary, k):
            missing.append(state)
    missing += [name for name in _named_things(question, vocabulary, k, contains) if name not in missing]
    for year in sorted(set(re.findall(r"\b(?:19[5-9]\d|20[0-4]\d)\b", question))):
        if not _STATISTICS.search(question):
            continue
        where = " ".join(passages) if passages is not None else " ".join(vocabulary)
        if not re.search(rf"\b{year}\b", where):
            missing.append(year)
    return missing
