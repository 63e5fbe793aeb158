"""One Assistant shared by the requests of a server (HTTP or MCP), used by one request at a time."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from rag.answer.assistant import Assistant, clean_question
from rag.core.records import Answer, Chunk
from rag.retrieve.hybrid import Retrieval

if TYPE_CHECKING:
    from rag.assess.records import Assessment


def standalone(question: str, earlier: Sequence[str]) -> str:
    """The last question made to stand on its own from the earlier ones (oldest first), as the chat does.

    Each earlier question is first made standalone from the ones before it, so "And Article 10?" after
    "And under the EU Directive?" after a question on Article 26 of the CoE Convention follows the thread.
    """
    from rag.answer.followup import contextualise

    question = clean_question(question)
    history: list[str] = []
    for text in earlier:
        flat = " ".join(text.split())
        if flat:
            history.append(contextualise(flat, history))
    return contextualise(question, history) if history else question


class SharedAssistant:
    """The Assistant (not thread-safe) behind a lock; it reads the store under the chat's locks."""

    def __init__(self, assistant: Assistant) -> None:
        from rag.assess.service import CaseReader

        self.assistant = assistant
        self.lock = threading.Lock()
        self.cases = CaseReader(assistant)

    @property
    def engine(self) -> str:
        return self.assistant.engine.name

    def ask(
        self,
        question: str,
        earlier: Sequence[str] = (),
        k: int | None = None,
        filters: dict[str, str] | None = None,
        on_token: Callable[[str], Any] | None = None,
    ) -> Answer:
        """The answer to the last question of a conversation whose earlier user questions are given."""
        searched = standalone(question, earlier)
        with self.lock:
            return self.assistant.ask(searched, k, filters, on_token=on_token)

    def search(self, query: str, k: int | None = None, filters: dict[str, str] | None = None) -> Retrieval:
        with self.lock:
            return self.assistant.retrieve(clean_question(query), k, filters)

    def passages(self, doc_id: str, pinpoint: str) -> list[Chunk]:
        from rag.retrieve.passage import find_passages

        with self.lock, self.assistant.reading("reading a passage") as retriever:
            return find_passages(retriever, doc_id, pinpoint)

    def assess(self, case: str, forum: str | None = None) -> Assessment:
        """One case read against its forum's pathway (the JSON of `rag assess --json`)."""
        from rag.assess.service import check_input

        check_input(case, forum, self.assistant.settings)
        with self.lock:
            return self.cases.read(case, forum)

    def warm(self) -> None:
        """Open the store and load the model now, so the first request is as fast as the rest (EmptyIndex if empty)."""
        with self.lock:
            self.assistant.retrieve("non-punishment", 1)
