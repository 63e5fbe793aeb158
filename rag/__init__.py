"""A legal reference assistant on the non-punishment principle for victims of trafficking, answering from an index.

The Python API, loaded on first use so that `import rag` (and `rag --help`) stay instant:

    from rag import Assistant, Settings

    assistant = Assistant(Settings.from_env())  # the rag command's settings: rag.toml, RAG_*, defaults
    answer = assistant.ask("Is Article 26 of the CoE Convention binding?")
    for c in answer.citations:
        print(c.n, c.pinpoint, c.citation, c.quote[:60])

`RagRetriever` is the same search as a LangChain retriever.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from rag.core.version import __version__

if TYPE_CHECKING:
    from rag.answer.assistant import Assistant
    from rag.answer.langchain_retriever import RagRetriever
    from rag.core.config import Settings
    from rag.core.errors import RagError
    from rag.core.records import Answer, Citation

_LAZY = {
    "Assistant": "rag.answer.assistant",
    "RagRetriever": "rag.answer.langchain_retriever",
    "Settings": "rag.core.config",
    "RagError": "rag.core.errors",
    "Answer": "rag.core.records",
    "Citation": "rag.core.records",
}
__all__ = ["Answer", "Assistant", "Citation", "RagError", "RagRetriever", "Settings", "__version__"]


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module 'rag' has no attribute {name!r}")
    value = getattr(importlib.import_module(_LAZY[name]), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_LAZY})
