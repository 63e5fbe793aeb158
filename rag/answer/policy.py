"""The refusal policy: one decision, for every engine, on whether the indexed sources address a question.

Retrieval ranks; rag.retrieve.coverage says what of the question the sources hold; this module decides.
An engine is only asked to answer a question the sources address, so the extractive engine and an LLM
never disagree on whether to refuse.
"""

from __future__ import annotations

import re

from rag.core.records import Answer
from rag.retrieve.hybrid import Retrieval

REFUSAL = "The indexed sources do not address this."
# Below this cosine similarity between the question and the best passage, the sources are taken not to
# address the question (calibrated on tests/gold; see README "Refusals").
RELEVANCE_FLOOR = 0.40
KEYWORD_EVIDENCE = 0.75  # or: this share of the question's words appears in the top passages
# A not_covered entry that is a figure asked for ("how many NRM referrals"): said as "give no figure for".
COUNT_ASK = re.compile(r"(?:how many|how much|how long|number of|how often|what share|what percentage)\b")


def addresses(retrieval: Retrieval) -> bool:
    """Whether the sources speak to the question at all (else every engine refuses)."""
    return grade(retrieval) != "none"


def grade(retrieval: Retrieval) -> str:
    """How far the sources cover the question: "full", "partial" (see `not_covered`) or "none".

    None when no passage is near the question, or when what it names is absent from the sources and no
    passage is the very provision it cites: a question about the ASEAN Convention is not answered from
    Article 26, but "Post VCL v UK, must the prosecutor wait?" is answered from V.C.L. whatever "Post" is.
    """
    found = retrieval.coverage
    if not retrieval.hits or not found.on_topic:
        return "none"
    exact = any(h.exact for h in retrieval.hits)
    near = exact or found.cited or retrieval.best >= retrieval.floor or found.term_coverage >= KEYWORD_EVIDENCE
    if not near or (found.uncovered and not retrieval.hits[0].exact):
        return "none"
    return "partial" if found.not_covered else "full"


def not_mentioned(items: list[str]) -> str:
    """The sentence a partial answer opens with."""
    figures = [i for i in items if COUNT_ASK.match(i)]
    things = [i for i in items if i not in figures]
    said = []
    if things:
        said.append(
            "do not cover " + (things[0] if len(things) == 1 else ", ".join(things[:-1]) + " or " + things[-1])
        )
    if figures:
        said.append("give no figure for " + "; ".join(f"“{f}”" for f in figures))
    return "The indexed sources " + " and ".join(said) + "."


def graded(answer: Answer, retrieval: Retrieval) -> Answer:
    """A partial answer says first what the sources do not address, then quotes what they do."""
    gaps = retrieval.coverage.not_covered
    if answer.refused or not gaps:
        return answer
    answer.coverage = "partial"
    answer.not_covered = list(gaps)
    answer.answer = f"{not_mentioned(gaps)}\n\n{answer.answer}"
    return answer


def refusal(question: str, retrieval: Retrieval, engine: str) -> Answer:
    """The plain refusal, with the nearest sources so the user can check for themselves."""
    from rag.answer.citations import citations_for

    answer = Answer(question, REFUSAL, True, engine, citations_for(retrieval.hits[:3], verified=False))
    answer.not_covered = list(retrieval.coverage.not_covered)
    if retrieval.coverage.uncovered:
        answer.warnings.append("nothing in the indexed sources on: " + ", ".join(retrieval.coverage.uncovered))
    return answer
