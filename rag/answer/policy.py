"""The refusal policy: one decision, for every engine, on whether the indexed sources address a question.

Retrieval ranks; rag.retrieve.coverage says what of the question the sources hold; this module decides.
An engine is only asked to answer a question the sources address, so the extractive engine and an LLM
never disagree on whether to refuse.
"""

from __future__ import annotations

from rag.core.records import Answer
from rag.retrieve.hybrid import Retrieval

REFUSAL = "The indexed sources do not address this."
# Below this cosine similarity between the question and the best passage, the sources are taken not to
# address the question (calibrated on tests/gold; see README "Refusals").
RELEVANCE_FLOOR = 0.40
KEYWORD_EVIDENCE = 0.75  # or: this share of the question's words appears in the top passages


def addresses(retrieval: Retrieval, floor: float = RELEVANCE_FLOOR) -> bool:
    """Whether the sources speak to the question at all (else every engine refuses)."""
    found = retrieval.coverage
    if not retrieval.hits or found.uncovered or not found.on_topic:
        return False
    exact = any(h.exact for h in retrieval.hits)
    return exact or found.cited or retrieval.best >= floor or found.term_coverage >= KEYWORD_EVIDENCE


def refusal(question: str, retrieval: Retrieval, engine: str) -> Answer:
    """The plain refusal, with the nearest sources so the user can check for themselves."""
    from rag.answer.citations import citations_for

    answer = Answer(question, REFUSAL, True, engine, citations_for(retrieval.hits[:3], verified=False))
    if retrieval.coverage.uncovered:
        answer.warnings.append("nothing in the indexed sources on: " + ", ".join(retrieval.coverage.uncovered))
    return answer
