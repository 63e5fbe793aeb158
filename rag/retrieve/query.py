"""Legal query understanding: abbreviations, instrument names and explicit pinpoints in a question."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

# Abbreviations practitioners type, expanded so both keyword and dense search see the full words.
ALIASES: dict[str, str] = {
    r"\bthb\b": "trafficking in human beings",
    r"\bcoe\b": "Council of Europe",
    r"\bcets\s*(?:no\.?\s*)?197\b": "Council of Europe Convention CETS No. 197",
    r"\bmsa\b": "Modern Slavery Act",
    r"\bv\.?\s?c\.?\s?l\.?(?=[\s,?]|$)": "V.C.L. and A.N. v. the United Kingdom",
    r"\bp\s?029\b|\bp29\b": "Protocol of 2014 to the Forced Labour Convention ILO",
    r"\bnaps?\b": "National Action Plan",
    r"\bnrm\b": "National Referral Mechanism identification referral",
    r"\bgreta\b": "GRETA Group of Experts on Action against Trafficking",
    r"\bpalermo\b": "UN Trafficking in Persons Protocol",
    r"\btvpa\b": "Trafficking Victims Protection Act",
    r"\btip report\b|\btip\b": "Trafficking in Persons Report tier",
    r"\bohchr\b": "OHCHR Recommended Principles and Guidelines",
    r"\bunodc\b": "UNODC",
    r"\becthr\b|\bstrasbourg court\b": "European Court of Human Rights",
    r"\bechr\b": "European Convention on Human Rights",
    r"\baz\b": "Azerbaijan",
    r"\bnon[- ]?punish\w*": "non-punishment",
    r"\b(?:kids?|minors?|juveniles?|teen(?:ager)?s?|under[- ]18s?)\b": "child under 18",
    r"\b(?:1[0-7]|[1-9])[- ]year[- ]old\b": "child under 18",
    r"\bforced\b|\bcoerced\b|\bduress\b": "compelled",
    r"\bpunish(?:ed|ing)?\b|\bsanction(?:ed|s)?\b": "penalties",
    r"\bcharg(?:e|ed|ing)\b": "prosecute",
    r"\b(?:remov(?:e|ed|al)|deport(?:ed|ing|ation)?|expel(?:led|ling)?)\b": "expulsion removal from the territory",
    r"\bstrasbourg court\b|\bthe court\b": "European Court of Human Rights",
}

# Words that name an instrument, with the document ids (file stems) they point at.
INSTRUMENT_HINTS: list[tuple[str, tuple[str, ...]]] = [
    (
        r"council of europe|coe\b|cets|warsaw convention|anti-trafficking convention",
        ("coe-convention", "coe-convention-2005"),
    ),
    (r"\beu\b|directive|2011/36|european union", ("eu-directive-2011-36",)),
    (r"2024/1712|amending directive", ("eu-directive-2024-1712",)),
    (
        r"\bilo\b|forced labour protocol|forced labor protocol|p0?29",
        ("ilo-forced-labour-protocol", "ilo-forced-labour-protocol-2014"),
    ),
    (r"ohchr|recommended principles", ("ohchr-principles-guidelines",)),
    (r"model law", ("unodc-model-law",)),
    (
        r"palermo|un protocol|trafficking in persons protocol|un trafficking protocol",
        ("un-trafficking-protocol", "un-trafficking-protocol-2000"),
    ),
    (r"modern slavery (?:act|defen[cs]e)|\bs\.?\s?45\b|section 45", ("uk-modern-slavery-act-s45",)),
    (r"v\.c\.l|\bvcl\b|a\.n\. v", ("vcl-and-an-v-uk",)),
    (r"chowdh?ury|manolada", ("chowdury-v-greece",)),
    (r"rants[eo]v", ("rantsev-v-cyprus-and-russia",)),
    (
        r"european convention on human rights|\bechr\b|\becthr\b|european court of human rights|strasbourg",
        ("echr-convention", "echr-1950", "vcl-and-an-v-uk", "rantsev-v-cyprus-and-russia", "chowdury-v-greece"),
    ),
    (r"tvpa|22 u\.?s\.?c|trafficking victims protection act", ("us-tvpa", "us-tvpa-22usc-ch78-selected")),
]

CASES = ("vcl-and-an-v-uk", "chowdury-v-greece", "rantsev-v-cyprus-and-russia")
ECHR_TEXTS = ("echr-convention", "echr-1950")

_PINPOINTS = [
    (re.compile(r"\b(?:article|art)\.?\s*(\d+[a-z]?)((?:\s?\(\w{1,3}\))*)", re.I), "Article {0}{1}"),
    (re.compile(r"\brecital\s*\(?(\d+)\)?()", re.I), "Recital {0}{1}"),
    (re.compile(r"(?:\bsection|\bs\.|\bs(?=\d)|§)\s*(\d+[A-Z]?)((?:\s?\(\w{1,3}\))*)", re.I), "Section {0}{1}"),
    (re.compile(r"\bschedule\s+(\d+)()", re.I), "Schedule {0}{1}"),
    (re.compile(r"\bprinciple\s+(\d+)()", re.I), "Principle {0}{1}"),
    (re.compile(r"\bguideline\s+(\d+(?:\.\d+)?)()", re.I), "Guideline {0}{1}"),
    (re.compile(r"\b(\d{4})\((\w{1,3})\)((?:\(\w{1,3}\))*)"), "USC {0}({1}){2}"),
]


@dataclass
class ParsedQuery:
    """What retrieval needs to know about a question."""

    text: str  # the question with abbreviations expanded
    pinpoints: list[str] = field(default_factory=list)
    doc_hints: list[str] = field(default_factory=list)


def _expander(expansion: str) -> Callable[[re.Match[str]], str]:
    return lambda m: f"{m.group(0)} ({expansion})"


def expand(question: str) -> str:
    text = question
    for pattern, expansion in ALIASES.items():
        text = re.sub(pattern, _expander(expansion), text, flags=re.I)
    return text


def find_pinpoints(question: str) -> list[str]:
    found: list[str] = []
    for pattern, template in _PINPOINTS:
        for m in pattern.finditer(question):
            groups = [re.sub(r"\s+", "", g or "") for g in m.groups()]
            if template.startswith("USC"):
                pin = f"22 U.S.C. {groups[0]}({groups[1]}){groups[2]}"
            else:
                pin = template.format(*groups)
            if pin not in found:
                found.append(pin)
    return found


def doc_hints(question: str) -> list[str]:
    """Documents the question names; a named judgment outranks the Court or Convention in general."""
    low = question.lower()
    hints: list[str] = []
    for pattern, ids in INSTRUMENT_HINTS:
        if re.search(pattern, low):
            hints.extend(i for i in ids if i not in hints)
    named_cases = [ids[0] for pattern, ids in INSTRUMENT_HINTS if ids[0] in CASES and re.search(pattern, low)]
    if named_cases:
        hints = [h for h in hints if h in named_cases or (h not in CASES and h not in ECHR_TEXTS)]
    return hints


def parse(question: str) -> ParsedQuery:
    return ParsedQuery(text=expand(question), pinpoints=find_pinpoints(question), doc_hints=doc_hints(question))
