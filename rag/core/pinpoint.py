"""Pinpoints the way a lawyer writes them: Article 26, Section 45(4), Recital 14, para. 12."""

from __future__ import annotations

import re

_SUB = r"((?:\s?\(\w{1,4}\))*)"  # (2), (b)(19)
# A judgment's neutral citation, "[2018] EWCA Crim 667": the pinpoint of a judgment's own section.
NEUTRAL_CITATION = re.compile(r"^\[((?:19|20)\d\d)\]\s+([A-Z]{2,}(?:\s+(?:Crim|Civ|Admin|Fam))?)\s+(\d+)\b")

_HEADING_PATTERNS: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"^(\d+)\s*U\.?\s?S\.?\s?C\.?\s*(?:§+\s*)?(\d+[a-z]?)" + _SUB, re.I), "usc"),
    (re.compile(r"^(?:Article|Art\.?)\s+(\d+[a-z]?(?:\.\d+)*)\b" + _SUB, re.I), "Article"),  # "Article 1.0.2"
    (re.compile(r"^Recital\s*\(?(\d+)\)?()", re.I), "Recital"),
    (re.compile(r"^(?:Section|s\.)\s*(\d+[A-Z]?)\b" + _SUB, re.I), "Section"),
    (re.compile(r"^Schedule\s+(\d+)()", re.I), "Schedule"),
    (re.compile(r"^Principle\s+(\d+)()", re.I), "Principle"),
    (re.compile(r"^Guideline\s+(\d+)(?:\.(\d+)|,?\s*para(?:graph)?\.?\s*(\d+))?", re.I), "Guideline"),
    (re.compile(r"^Recommendation\s+(\d+)()", re.I), "Recommendation"),
    (re.compile(r"^(?:para(?:graph)?\.?|¶)\s*(\d+)()", re.I), "para."),
    (NEUTRAL_CITATION, "neutral"),
]


def _subs(raw: str) -> str:
    return re.sub(r"\s+", "", raw or "")


def from_heading(heading: str) -> str | None:
    """The pinpoint a heading names at its start, or None ("§ Holdings" headings name themselves)."""
    text = heading.strip().lstrip("#").strip()
    if text.startswith("§") and not re.match(r"^§+\s*\d", text):
        return re.sub(r"\s+", " ", text)
    for pattern, kind in _HEADING_PATTERNS:
        m = pattern.match(text)
        if not m:
            continue
        if kind == "usc":
            return f"{m.group(1)} U.S.C. {m.group(2)}{_subs(m.group(3))}"
        if kind == "Guideline":
            para = m.group(2) or m.group(3)
            return f"Guideline {m.group(1)}.{para}" if para else f"Guideline {m.group(1)}"
        if kind == "para.":
            return f"para. {m.group(1)}"
        if kind == "neutral":
            return f"[{m.group(1)}] {m.group(2)} {m.group(3)}"
        return f"{kind} {m.group(1)}{_subs(m.group(2))}"
    return None


def normalise(pinpoint: str) -> str:
    """A canonical, case-folded form for comparing pinpoints."""
    text = from_heading(pinpoint) or pinpoint
    return re.sub(r"\s+", " ", text).strip().casefold()


def matches(expected: str, actual: str | None) -> bool:
    """True when actual is the expected pinpoint or a part of it (Article 4(2) within Article 4)."""
    if actual is None:
        return False
    want, got = normalise(expected), normalise(actual)
    if want == got:
        return True
    # "Article 4" cited for "Article 4(2)" and vice versa: same provision, finer or coarser.
    return want.startswith(got + "(") or got.startswith(want + "(")
