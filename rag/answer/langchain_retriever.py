"""The bench book's hybrid search as a LangChain retriever: Documents that carry their citation."""

from __future__ import annotations

from typing import Any

from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever
from pydantic import ConfigDict, Field

from rag.answer import policy
from rag.answer.assistant import Assistant, clean_question
from rag.core.config import Settings
from rag.core.labels import label
from rag.core.records import Hit


def to_document(n: int, hit: Hit) -> Document:
    """One retrieved passage; its metadata is what a citation needs (scalars only, so any vector store takes it)."""
    chunk = hit.chunk
    meta: dict[str, Any] = {
        "n": n,
        "doc_id": chunk.doc_id,
        "chunk_id": chunk.chunk_id,
        "title": chunk.meta.title,
        "citation": chunk.meta.citation,
        "pinpoint": chunk.pinpoint,
        "label": label(chunk.pinpoint, chunk.meta),  # what the rag faces print: "Article 26, CETS No. 197"
        "authority": chunk.meta.authority or "primary",
        "about": chunk.meta.about,
        "page": chunk.page,
        "path": chunk.source,
        "score": round(hit.score, 3),
        "heading": " > ".join(chunk.heading_path),
        "type": chunk.meta.type,
        "jurisdiction": chunk.meta.jurisdiction,
        "date": chunk.meta.date,
        "url": chunk.meta.url,
        "language": chunk.meta.language,
        "forum": chunk.meta.forum,
    }
    return Document(page_content=chunk.text, metadata=meta, id=chunk.chunk_id)


class RagRetriever(BaseRetriever):
    """Hybrid (dense + keyword) search over the index, under the same locks and refusal floor as `rag ask`.

    Returns no Documents when the sources do not address the question (the floor `rag ask` refuses below),
    so a chain built on it cannot be handed unrelated passages; pass `refuse=False` to get the nearest anyway.

    >>> retriever = RagRetriever.from_settings(k=4)
    >>> docs = retriever.invoke("Is Article 26 of the CoE Convention binding?")
    >>> docs[0].metadata["pinpoint"], docs[0].metadata["citation"]
    ('Article 26', 'CETS No. 197')
    """

    model_config = ConfigDict(arbitrary_types_allowed=True)

    assistant: Assistant
    k: int | None = None  # None: the settings' k
    filters: dict[str, str] = Field(default_factory=dict)  # e.g. {"jurisdiction": "EU"}, as `rag ask --where`
    refuse: bool = True

    @classmethod
    def from_settings(cls, settings: Settings | None = None, **kwargs: Any) -> RagRetriever:
        """A retriever over the index the `rag` command uses (defaults < rag.toml < RAG_* unless settings given)."""
        return cls(assistant=Assistant(settings or Settings.from_env()), **kwargs)

    def _get_relevant_documents(self, query: str, *, run_manager: CallbackManagerForRetrieverRun) -> list[Document]:
        retrieval = self.assistant.retrieve(clean_question(query), self.k, self.filters or None)
        if self.refuse and not policy.addresses(retrieval):
            return []
        return [to_document(n, hit) for n, hit in enumerate(retrieval.hits, 1)]
