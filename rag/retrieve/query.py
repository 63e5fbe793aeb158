"""Legal query understanding: abbreviations, instrument names and explicit pinpoints in a question.

What the names and abbreviations mean is legal knowledge (corpus/knowledge.yaml); the grammar of a
pinpoint ("art 26", "s.45(4)", "7101(b)(19)") is here."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache

from rag.core.knowledge import Instrument, Knowledge
from rag.core.knowledge import load as load_knowledge

_PINPOINTS = [
    (re.compile(r"\b(?:article|art)\.?\s*(\d+[a-z]?(?:\.\d+)*)((?:\s?\(\w{1,3}\))*)", re.I), "Article {0}{1}"),
    (re.compile(r"\brecital\s*\(?(\d+)\)?()", re.I), "Recital {0}{1}"),
    (re.compile(r"(?:\bsection|\bs\.|\bs(?=\d)|§)\s*(\d+[A-Z]?)((?:\s?\(\w{1,3}\))*)", re.I), "Section {0}{1}"),
    (re.compile(r"\bschedule\s+(\d+)()", re.I), "Schedule {0}{1}"),
    (re.compile(r"\bprinciple\s+(\d+)()", re.I), "Principle {0}{1}"),
    (re.compile(r"\bguideline\s+(\d+(?:\.\d+)?)()", re.I), "Guideline {0}{1}"),
    (re.compile(r"\b(\d{4})\((\w{1,3})\)((?:\(\w{1,3}\))*)"), "USC {0}({1}){2}"),
    (re.compile(r"\[((?:19|20)\d\d)\]\s+([A-Z]{2,}(?:\s+(?:Crim|Civ|Admin|Fam))?)\s+(\d+)\b"), "[{0}] {1} {2}"),
]


_NUMBER = r"(\d+[a-z]?(?:\.\d+)*)((?:\s?\(\w{1,3}\))*)"
_ORDINAL = r"(\d+[a-z]?)(?:\s?-\s?[^\W\d_]{1,4}|\.)?((?:\s?\(\w{1,3}\))*)"  # 26-cı, 26-я, 26.


@lru_cache(maxsize=4)
def _foreign(knowledge: Knowledge) -> list[tuple[re.Pattern[str], str]]:
    """The provision words of other languages in the legal knowledge, as patterns with the English kind."""
    found = []
    for provision in knowledge.provisions:
        if provision.before:
            words = "|".join(provision.before)
            found.append((re.compile(rf"(?<!\w)(?:{words})\s*{_NUMBER}", re.I), provision.kind))
        if provision.after:
            words = "|".join(provision.after)
            found.append((re.compile(rf"(?<![\w.]){_ORDINAL}\s+(?:{words})(?!\w)", re.I), provision.kind))
    return found


def foreign_pinpoints(question: str, knowledge: Knowledge | None = None) -> list[tuple[re.Match[str], str]]:
    """Each provision named in another language ("статья 26", "26-cı maddə") and its English pinpoint."""
    found = []
    for pattern, kind in _foreign(knowledge or load_knowledge()):
        for m in pattern.finditer(question):
            parts = "".join((m.group(2) or "").split())
            found.append((m, f"{kind} {m.group(1)}{parts}"))
    return found


@dataclass
class ParsedQuery:
    """What retrieval needs to know about a question."""

    text: str  # the question with abbreviations expanded
    pinpoints: list[str] = field(default_factory=list)
    doc_hints: list[str] = field(default_factory=list)


def _expander(expansion: str) -> Callable[[re.Match[str]], str]:
    return lambda m: f"{m.group(0)} ({expansion})"


def expand(question: str, knowledge: Knowledge | None = None) -> str:
    """The question with each alias of the legal knowledge followed by its expansion in brackets, and each
    provision named in another language by its English pinpoint ("статья 26 (Article 26)")."""
    known = knowledge or load_knowledge()
    text = question
    for m, pin in sorted(foreign_pinpoints(question, known), key=lambda f: -f[0].end()):
        text = f"{text[: m.end()]} ({pin}){text[m.end() :]}"
    for pattern, expansion in known.aliases:
        text = re.sub(pattern, _expander(expansion), text, flags=re.I)
    return text


def find_pinpoints(question: str, knowledge: Knowledge | None = None) -> list[str]:
    """The pinpoints a question names, as lawyers write them in English, whatever its language."""
    found: list[str] = [pin for _, pin in foreign_pinpoints(question, knowledge)]
    for pattern, template in _PINPOINTS:
        for m in pattern.finditer(question):
            groups = [re.sub(r"\s+", "", g or "") for g in m.groups()]
            if template.startswith("USC"):
                pin = f"22 U.S.C. {groups[0]}({groups[1]}){groups[2]}"
            elif template.startswith("["):  # a neutral citation keeps its court's words apart: "EWCA Crim"
                pin = template.format(m.group(1), " ".join(m.group(2).split()), m.group(3))
            else:
                pin = template.format(*groups)
            if pin not in found:
                found.append(pin)
    return found


def _named(question: str, known: Knowledge) -> list[Instrument]:
    low = question.lower()
    return [i for i in known.instruments if re.search(i.mentions, low)]


def in_units(pinpoints: list[str], question: str, knowledge: Knowledge | None = None) -> list[str]:
    """Article N as Section N when every instrument the question names is a statute counted in sections
    ("45. maddesi of the Modern Slavery Act", "l'article 45(4) du Modern Slavery Act")."""
    named = _named(question, knowledge or load_knowledge())
    if not named or any(i.units != "Section" for i in named):
        return pinpoints
    return list(dict.fromkeys(re.sub(r"^Article ", "Section ", p) for p in pinpoints))


def doc_hints(question: str, knowledge: Knowledge | None = None) -> list[str]:
    """Documents the question names; a named judgment outranks the Court or Convention in general."""
    known = knowledge or load_knowledge()
    named = _named(question, known)
    hints = list(dict.fromkeys(d for i in named for d in i.docs))
    judgments = set(known.judgments)
    named_cases = {d for i in named if i.docs[0] in judgments for d in i.docs}
    if named_cases:
        general = judgments | set(known.convention_texts)
        hints = [h for h in hints if h in named_cases or h not in general]
    return hints


def parse(question: str, knowledge: Knowledge | None = None) -> ParsedQuery:
    known = knowledge or load_knowledge()
    return ParsedQuery(
        text=expand(question, known),
        pinpoints=in_units(list(dict.fromkeys(find_pinpoints(question, known))), question, known),
        doc_hints=doc_hints(question, known),
    )
