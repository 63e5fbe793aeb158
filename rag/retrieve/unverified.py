"""What the sources say they have not verified: a top passage whose answer to the question is that the point
is not verified, not seen or not recorded ("Stages 3 and 4 of the CPS assessment are not verified in this
bench book"). Such a point is not covered, though the passage mentions it: the answer must say so.

The marks are the corpus's own wording for an unverified fact (`unverified_marks` in corpus/knowledge.yaml).
A marked clause speaks to the question when it holds at least SHARE of the weight of the question's asks
(rag.retrieve.asks); what it leaves open is the question's words from the first of those asks to the last.
"""

from __future__ import annotations

import re

from rag.core import sentences
from rag.core.knowledge import Knowledge
from rag.core.records import Hit
from rag.index.keyword import tokens
from rag.retrieve import asks as ask_parts

SHARE = 0.5  # of the weight of the question's asks that a marked sentence must hold
PASSAGES = 3  # the top passages read, as for the rest of the coverage judgement


def _held(asks: list[ask_parts.Ask], text: str) -> list[ask_parts.Ask]:
    words = set(tokens(text))
    return [a for a in asks if set(tokens(a.text)) <= words]


def clauses(sentence: str) -> list[str]:
    """A sentence's clauses, parenthetical asides left out: "(inferred, not seen)" qualifies a detail of its
    sentence, and "X was amended; whether Article 8 changed is not verified" leaves only the second clause open."""
    return [c for c in re.split(r";|\s[—–]\s", re.sub(r"\([^()]*\)", " ", sentence)) if c.strip()]


def unverified(question: str, top: list[Hit], knowledge: Knowledge) -> list[str]:
    """The part of the question a top passage says is not verified, as the user wrote it (at most one)."""
    if not knowledge.unverified_marks:
        return []
    marks = re.compile(knowledge.unverified_marks, re.I)
    asks = [a for a in ask_parts.extract(question) if a.kind == "term" and a.weight > 0 and tokens(a.text)]
    total = sum(a.weight for a in asks)
    if not total:
        return []
    best: tuple[float, list[ask_parts.Ask]] | None = None
    stated = 0.0  # the most of the question's weight an unmarked sentence holds
    for hit in top[:PASSAGES]:
        for sentence in sentences.quotable(hit.chunk.text):
            for clause in clauses(sentence):
                held = _held(asks, clause)
                weight = sum(a.weight for a in held) / total
                if not marks.search(clause):
                    stated = max(stated, weight)
                elif weight >= SHARE and (best is None or weight > best[0]):
                    best = (weight, held)
    # A passage that states as much of what is asked as the unverified clause holds answers it.
    if best is None or best[0] <= stated:
        return []
    first = min(a.start for a in best[1])
    last = max(a.start + len(a.text) for a in best[1])
    if number := re.match(r"\s+\d[\w.()/-]*", question[last:]):  # "Article 26", not "Article"
        last += number.end()
    return [question[first:last].strip(" ,;:")]
