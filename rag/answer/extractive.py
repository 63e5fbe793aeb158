"""The default engine: answers made only of sentences quoted from the retrieved passages."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

from rag.answer.policy import refusal
from rag.core import sentences
from rag.core.labels import label
from rag.core.records import Answer, Hit
from rag.index.keyword import tokens
from rag.retrieve.hybrid import Retrieval
from rag.retrieve.rank import states_provision

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
MAX_SENTENCES = 7
PASSAGE_SHARE = 0.7  # a passage is quoted when its best sentence scores this share of the best of all
SENTENCE_SHARE = 0.75  # and a sentence when it scores this share
LEAD_CHARS = 160  # a chosen sentence shorter than this brings the next one with it
LEAD_FOLLOWS = 2  # and so on, at most this many sentences after a chosen one
MAX_TEXT_QUOTE = 1500  # a provision's own text up to this length is quoted whole when the question names it


def authority(hit: Hit) -> int:
    return AUTHORITY.get(hit.chunk.meta.type or "", 2)


def _weights(question: str, hits: list[Hit]) -> dict[str, float]:
    """Question words weighted by how rare they are among the retrieved passages."""
    q_terms = set(tokens(question))
    docs = [set(tokens(h.chunk.text)) for h in hits] or [set()]
    return {t: 1.0 + math.log((1 + len(docs)) / (1 + sum(t in d for d in docs))) for t in q_terms}


def _lexical(sentence: str, weights: dict[str, float]) -> float:
    """Weighted share of the question's words that the sentence contains (0..1)."""
    words = set(tokens(sentence))
    total = sum(weights.values())
    if not words or not total:
        return 0.0
    return sum(w for t, w in weights.items() if t in words) / total


def _similar(a: str, b: str) -> bool:
    ta, tb = set(tokens(a)), set(tokens(b))
    return bool(ta and tb) and len(ta & tb) / len(ta | tb) > 0.6


def _dot(a: list[float], b: list[float]) -> float:
    return sum(x * y for x, y in zip(a, b, strict=True))


@dataclass
class _Candidate:
    hit: Hit
    rank: int  # retrieval rank
    sentences: list[str]
    scores: list[float]

    @property
    def best(self) -> float:
        return max(self.scores, default=0.0)


def select(
    question: str, retrieval: Retrieval, embed: Callable[[list[str]], list[list[float]]] | None = None
) -> list[tuple[Hit, list[str]]]:
    """The passages to quote, most authoritative first, each with the sentences that answer.

    A sentence scores by its meaning (embedding similarity to the question) and by the question's
    rarer words it contains; a passage is quoted only if its best sentence is close to the best of all.
    """
    if not retrieval.hits:
        return []
    floor = retrieval.best - retrieval.model.margin
    local = retrieval.local()  # the law of the place the facts are set in is quoted even when it is worded apart
    relevant = [h for h in retrieval.hits if h.exact or h is local or (h.dense or 0.0) >= floor] or retrieval.hits[:1]
    weights = _weights(question, relevant)
    candidates = []
    for rank, hit in enumerate(relevant[: MAX_SOURCES + 1]):
        text = hit.chunk.text
        found = sentences.quotable(text)
        if found:
            candidates.append(_Candidate(hit, rank, found, [_lexical(s, weights) for s in found]))
    if embed is not None and retrieval.query_vector and candidates:
        vectors = embed([s for c in candidates for s in c.sentences])
        it = iter(vectors)
        for c in candidates:
            stretch = retrieval.model.stretch
            c.scores = [0.5 * stretch(_dot(retrieval.query_vector, next(it))) + 0.5 * lex for lex in c.scores]
    if not candidates:
        return []
    top = max(c.best for c in candidates)  # the shares below are of the best plain score
    kept = [c for c in candidates if c.best >= PASSAGE_SHARE * top or c.rank == 0 or c.hit is local]
    kept.sort(key=lambda c: (authority(c.hit), c.hit is not local, c.rank))
    text_first = _the_text_asked_for(retrieval, relevant)
    named = bool(retrieval.parsed.pinpoints)
    if text_first is not None:  # a provision the question names, in its own words: quoted whole, first
        kept = [c for c in kept if c.hit is not text_first]
        whole = sentences.quotable(text_first.chunk.text)
        kept.insert(0, _Candidate(text_first, -1, whole, [top] * len(whole)))
    chosen: list[tuple[Hit, list[str]]] = []
    picked: list[str] = []
    for i, c in enumerate(kept):
        order = sorted(range(len(c.sentences)), key=lambda j: (-c.scores[j], j))
        take = len(c.sentences) if c.hit is text_first else 2 if i == 0 else 1
        best = [
            j
            for j in order
            if c.scores[j] >= SENTENCE_SHARE * top and not any(_similar(c.sentences[j], p) for p in picked)
        ][:take]
        if i == 0 and named and c.hit.exact and states_provision(c.hit) and 0 not in best:
            # The question names the provision: the passage's opening sentence, which says what it provides,
            # leads, then the best of the rest ("Article 8 ... obliges Member States to ...", not a side remark).
            best = [0, *best[:1]]
        if not best and (i == 0 or c.hit is local):
            best = order[:1]
        # A short lead sentence ("... if three conditions are all met.") is followed by what it announces, and a
        # short one that follows by the next ("decided the burden of proof." "The defendant bears only ...").
        wanted = set(best)
        for j in best:
            for k in range(j, min(j + LEAD_FOLLOWS, len(c.sentences) - 1)):
                if len(c.sentences[k]) >= LEAD_CHARS:
                    break
                wanted.add(k + 1)
        said = [c.sentences[j] for j in sorted(wanted)]
        if said:
            chosen.append((c.hit, said))
            picked.extend(said)
        if len(chosen) == MAX_SOURCES or len(picked) >= MAX_SENTENCES:
            break
    return chosen


def _the_text_asked_for(retrieval: Retrieval, relevant: list[Hit]) -> Hit | None:
    """The primary text of a provision the question names, when it was looked up exactly (not a note on it)."""
    if not retrieval.parsed.pinpoints:
        return None
    lead = next((h for h in relevant if h.exact and not h.chunk.meta.commentary), None)
    return lead if lead is not None and len(lead.chunk.text) <= MAX_TEXT_QUOTE else None


class ExtractiveEngine:
    """Cannot invent: every sentence of its answer is a sentence of a cited passage."""

    name = "extractive"

    def __init__(self, embeddings: str | None = None) -> None:
        self._embeddings = embeddings

    def _embed(self, texts: list[str]) -> list[list[float]]:
        from rag.index import vector_cache
        from rag.index.embed import make_embeddings

        return vector_cache.embed_documents(make_embeddings(self._embeddings or "minilm"), texts)

    def answer(self, question: str, retrieval: Retrieval) -> Answer:
        from rag.answer.citations import citations_for, quoted

        chosen = select(question, retrieval, self._embed if self._embeddings else None)
        if not chosen:
            return refusal(question, retrieval, self.name)
        cites = citations_for([hit for hit, _ in chosen])
        # The passages' own bracketed numbers ("[2013] EWCA Crim 991", a paragraph's "[12]") are escaped, so
        # that the only markers of the answer are the ones placed here.
        lines = [
            quoted(f"{label(hit.chunk.pinpoint, hit.chunk.meta)}: ") + " ".join(f"{quoted(s)} [{n}]" for s in said)
            for n, (hit, said) in enumerate(chosen, start=1)
        ]
        return Answer(question, "\n".join(lines), False, self.name, cites)
