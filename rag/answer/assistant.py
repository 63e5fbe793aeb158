"""The one library call behind every face: ask a question, get an Answer."""

from __future__ import annotations

import contextlib
import time
import unicodedata
from collections.abc import Callable, Iterator
from typing import Any, Protocol

from rag.answer import policy
from rag.core import language
from rag.core.config import Settings
from rag.core.errors import BadQuestion, EmptyQuestion
from rag.core.records import Answer
from rag.retrieve.hybrid import Retrieval, Retriever

MAX_QUESTION_CHARS = 4000


class Engine(Protocol):
    """Turns a question the sources address, and its retrieved passages, into an Answer."""

    name: str

    def answer(self, question: str, retrieval: Retrieval) -> Answer: ...


def clean_question(question: str) -> str:
    """The question without control characters; EmptyQuestion or BadQuestion when unusable."""
    text = "".join(" " if unicodedata.category(ch).startswith("C") else ch for ch in question)
    text = " ".join(text.split())
    if not text:
        raise EmptyQuestion('the question is empty; type a question, e.g. rag ask "Is Article 26 binding?"')
    if len(text) > MAX_QUESTION_CHARS:
        raise BadQuestion(
            f"the question is {len(text):,} characters; keep it under {MAX_QUESTION_CHARS:,} "
            "(ask about one point at a time)"
        )
    return text


def not_mentioned(items: list[str], lang: str) -> str:
    """The sentence a partial answer opens with, in the answer's language."""
    return policy.not_mentioned(items) if lang == "en" else language.say("not_mentioned", lang, items=", ".join(items))


def in_language(answer: Answer, lang: str, retrieval: Retrieval) -> Answer:
    """The answer marked with its language, a refusal or partial answer's opening worded in it, and the quotes'
    language when it differs."""
    answer.language = lang
    if answer.refused and lang != "en":
        answer.answer = language.say("refusal", lang)
    english = policy.not_mentioned(answer.not_covered) if answer.not_covered else ""
    if lang != "en" and english and answer.answer.startswith(english):
        answer.answer = not_mentioned(answer.not_covered, lang) + answer.answer[len(english) :]
    by_doc = {h.chunk.doc_id: h for h in retrieval.hits}
    quoted = set()
    for c in answer.citations:
        hit = by_doc.get(c.doc_id)
        meta = hit.chunk.meta.language if hit is not None else None
        quoted.add(meta if meta in language.LANGUAGES else language.detect(c.quote))
    if not answer.refused and len(quoted) == 1 and lang not in quoted:
        answer.quotes_language = quoted.pop()
    return answer


def make_engine(settings: Settings) -> Engine:
    if settings.llm:
        from rag.answer.llm import LLMEngine

        return LLMEngine(settings.llm)
    from rag.answer.extractive import ExtractiveEngine

    return ExtractiveEngine(settings.embeddings)


class Assistant:
    """Keeps the model, store and engine open across questions (chat, sessions, eval)."""

    def __init__(
        self, settings: Settings, engine: Engine | None = None, on_wait: Callable[[str], Any] | None = None
    ) -> None:
        self.settings = settings
        self.engine = engine or make_engine(settings)
        self.on_wait = on_wait
        self._retriever: Retriever | None = None

    @contextlib.contextmanager
    def reading(self, doing: str = "searching the index") -> Iterator[Retriever]:
        """The open retriever, under the read lock, reopened after an ingest; store failures become named errors."""
        from rag.index import locks, store

        with locks.read_lock(self.settings, self.on_wait), store.guarded(self.settings, doing):
            if self._retriever is None:
                self._retriever = Retriever(self.settings)
            else:
                self._retriever.refresh()
            yield self._retriever

    def retrieve(self, question: str, k: int | None = None, filters: dict[str, str] | None = None) -> Retrieval:
        """The ranked passages for a question, with the assessment of what of it they cover."""
        with self.reading() as retriever:
            retrieval = retriever.search(question, k or self.settings.k, filters)
            retriever.assess(question, retrieval)
            return retrieval

    def respond(self, question: str, retrieval: Retrieval, on_token: Callable[[str], Any] | None = None) -> Answer:
        """The engine's answer when the policy finds the sources address the question, else the refusal; its own
        words in the question's language (or the `lang` setting)."""
        lang = language.choose(question, self.settings.lang)
        if not policy.addresses(retrieval):
            answer = policy.refusal(question, retrieval, self.engine.name)
        elif on_token is not None and hasattr(self.engine, "stream"):
            if retrieval.coverage.not_covered:  # what the sources lack comes first, on the screen too
                on_token(not_mentioned(retrieval.coverage.not_covered, lang) + "\n\n")
            answer = policy.graded(self.engine.stream(question, retrieval, on_token), retrieval)
        else:
            answer = policy.graded(self.engine.answer(question, retrieval), retrieval)
        return in_language(answer, lang, retrieval)

    def ask(
        self,
        question: str,
        k: int | None = None,
        filters: dict[str, str] | None = None,
        on_token: Callable[[str], Any] | None = None,
    ) -> Answer:
        from rag.answer.verify import verify

        question = clean_question(question)
        t0 = time.perf_counter()
        retrieval = self.retrieve(question, k, filters)
        t1 = time.perf_counter()
        answer = self.respond(question, retrieval, on_token)
        embeddings = self._retriever.embeddings if self._retriever is not None else None
        answer = verify(answer, retrieval, embeddings=embeddings)
        t2 = time.perf_counter()
        answer.timings_ms = {"retrieve": (t1 - t0) * 1000, "answer": (t2 - t1) * 1000, "total": (t2 - t0) * 1000}
        return answer


def ask(question: str, settings: Settings, k: int | None = None, filters: dict[str, str] | None = None) -> Answer:
    """One question, one answer (the `rag ask` command)."""
    return Assistant(settings).ask(question, k, filters)
