"""The default engine: answers made only of sentences quoted from the retrieved passages."""

from __future__ import annotations

import math
import re

from rag import sentences
from rag.keyword import tokens
from rag.records import Answer, Hit
from rag.retrieve import Retrieval

REFUSAL = "The indexed sources do not address this."
# Binding instruments and judgments first, then guidance, then reports and plans, then news.
AUTHORITY = {
    "treaty": 0,
    "eu-law": 0,
    "national-law": 0,
    "case-law": 0,
    "guidance": 1,
    "report": 2,
    "action-plan": 2,
    "conference": 3,
}
MAX_SOURCES = 4
MAX_SENTENCES = 6
RELEVANT_MARGIN = 0.12  # passages this far below the best one are not quoted


def authority(hit: Hit) -> int:
    return AUTHORITY.get(hit.chunk.meta.type or "", 2)


def label(hit: Hit) -> str:
    """How a lawyer names the source in one breath: 'Article 26, CETS No. 197'."""
    meta = hit.chunk.meta
    name = meta.citation or meta.title
    return f"{hit.chunk.pinpoint}, {name}" if hit.chunk.pinpoint else name


def _weights(question: str, hits: list[Hit]) -> dict[str, float]:
    """Question words weighted by how rare they are among the retrieved passages."""
    q_terms = set(tokens(question))
    docs = [set(tokens(h.chunk.text)) for h in hits] or [set()]
    return {t: 1.0 + math.log((1 + len(docs)) / (1 + sum(t in d for d in docs))) for t in q_terms}


def _score(sentence: str, weights: dict[str, float]) -> float:
    words = tokens(sentence)
    if not words:
        return 0.0
    overlap = sum(weights.get(w, 0.0) for w in set(words))
    return overlap / math.sqrt(len(words) + 4)


def _clean(sentence: str) -> str | None:
    text = re.sub(r"^\s*(?:[-*•]|#+)\s*", "", sentence).strip()
    text = re.sub(r"\*\*|__|`", "", text)
    if text.startswith("|") or len(text) < 25:
        return None
    return text


def _similar(a: str, b: str) -> bool:
    ta, tb = set(tokens(a)), set(tokens(b))
    return bool(ta and tb) and len(ta & tb) / len(ta | tb) > 0.6


def select(question: str, retrieval: Retrieval) -> list[tuple[Hit, list[str]]]:
    """The passages to quote, most authoritative first, each with the sentences that answer."""
    if not retrieval.hits:
        return []
    floor = retrieval.best - RELEVANT_MARGIN
    relevant = [h for h in retrieval.hits if h.exact or (h.dense or 0.0) >= floor] or retrieval.hits[:1]
    weights = _weights(question, relevant)
    ordered = sorted(enumerate(relevant[: MAX_SOURCES + 1]), key=lambda p: (authority(p[1]), p[0]))
    chosen: list[tuple[Hit, list[str]]] = []
    picked: list[str] = []
    for rank, hit in ordered:
        text = hit.chunk.text
        candidates = [c for a, b in sentences.split(text) if (c := _clean(text[a:b]))]
        scored = sorted(
            ((_score(s, weights) + (0.15 if i == 0 else 0.0), i, s) for i, s in enumerate(candidates)),
            key=lambda t: (-t[0], t[1]),
        )
        take = 2 if rank == 0 else 1
        best_sentences = [s for sc, _, s in scored if sc > 0.2 and not any(_similar(s, p) for p in picked)][:take]
        if not best_sentences and (hit.exact or rank == 0) and candidates:
            best_sentences = [candidates[0]]
        if best_sentences:
            in_order = sorted(best_sentences, key=candidates.index)
            chosen.append((hit, in_order))
            picked.extend(in_order)
        if len(chosen) == MAX_SOURCES or len(picked) >= MAX_SENTENCES:
            break
    return chosen


def refusal(question: str, retrieval: Retrieval, engine: str) -> Answer:
    """The plain refusal, with the nearest sources so the user can check for themselves."""
    from rag.cite import citations_for

    answer = Answer(question, REFUSAL, True, engine, citations_for(retrieval.hits[:3], verified=False))
    if retrieval.uncovered:
        answer.warnings.append("nothing in the indexed sources on: " + ", ".join(retrieval.uncovered))
    return answer


class ExtractiveEngine:
    """Cannot invent: every sentence of its answer is a sentence of a cited passage."""

    name = "extractive"

    def answer(self, question: str, retrieval: Retrieval, floor: float) -> Answer:
        from rag.cite import citations_for

        if not retrieval.addresses(floor):
            return refusal(question, retrieval, self.name)
        chosen = select(question, retrieval)
        if not chosen:
            return refusal(question, retrieval, self.name)
        cites = citations_for([hit for hit, _ in chosen])
        lines = [
            f"{label(hit)}: " + " ".join(f"{s} [{n}]" for s in said) for n, (hit, said) in enumerate(chosen, start=1)
        ]
        return Answer(question, "\n".join(lines), False, self.name, cites)
