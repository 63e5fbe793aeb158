"""`rag mcp`: the bench book as Model Context Protocol tools over stdio (search_sources, ask, get_passage, assess).

get_passage takes a document id and a pinpoint (both in every citation and search result) rather than
"citation n of the last answer": it stays right when an assistant calls ask several times, or two
conversations share the server.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from rag.core import pinpoint as pp
from rag.core.config import Settings
from rag.core.errors import RagError
from rag.core.labels import label
from rag.core.records import Chunk
from rag.faces.openai_format import MODEL_ID, check_k, check_where
from rag.faces.shared import SharedAssistant

if TYPE_CHECKING:
    from mcp.server.mcpserver import MCPServer

INSTRUCTIONS = (
    "Sources on the non-punishment principle for victims of trafficking (treaties, statutes, judgments, "
    "official reports and a bench book). Use `ask` for a cited answer, `search_sources` for the passages "
    "themselves, `get_passage` with a citation's doc_id and pinpoint for the full text, and `assess` for a "
    "step-by-step, cited reading of one case. Quote the passages and their pinpoints; when `ask` is "
    "refused, the sources do not address the question. An assessment is not legal advice."
)


@contextlib.contextmanager
def _tool_errors() -> Iterator[None]:
    """A user error becomes the tool's error text (no traceback in the log)."""
    from mcp.server.mcpserver.exceptions import ToolError

    try:
        yield
    except RagError as exc:
        raise ToolError(str(exc)) from None


def _chunk_dict(c: Chunk) -> dict[str, Any]:
    from rag.core.files import display_path

    return {
        "pinpoint": c.pinpoint,
        "page": c.page,
        "heading": " > ".join(c.heading_path) or None,
        "text": c.text,
        "path": display_path(c.source),
    }


def _version() -> str:
    """The installed distribution's version (rag's package root sits above the layers, so not rag.__version__)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("rag-nonpunishment")
    except PackageNotFoundError:
        return "unknown"


def build_server(shared: SharedAssistant) -> MCPServer:
    """An MCP server whose tools call the shared Assistant (one call at a time)."""
    from mcp.server.mcpserver import MCPServer
    from mcp.types import ToolAnnotations

    server = MCPServer(name=MODEL_ID, version=_version(), instructions=INSTRUCTIONS, log_level="WARNING")
    read_only = ToolAnnotations(read_only_hint=True, open_world_hint=False)

    @server.tool(annotations=read_only)
    def search_sources(query: str, k: int = 5, where: dict[str, str] | None = None) -> dict[str, Any]:
        """The passages that best match a query, best first, as citations: doc_id, pinpoint, label, quote, score
        (cosine 0-1), authority ("primary" or "commentary") and, for commentary, the instrument it is `about`.

        `where` filters by doc, jurisdiction, type, language, citation or pinpoint, e.g. {"jurisdiction": "UK"}.
        `relevant` is false when even the best passage falls below the relevance floor.
        """
        from rag.answer import policy
        from rag.answer.citations import citations_for

        with _tool_errors():
            retrieval = shared.search(query, check_k(k), check_where(where))
        passages = [c.as_dict() for c in citations_for(retrieval.hits)]
        return {"query": query, "relevant": policy.addresses(retrieval), "passages": passages}

    @server.tool(annotations=read_only)
    def ask(question: str, k: int | None = None, where: dict[str, str] | None = None) -> dict[str, Any]:
        """A cited answer (the `rag ask --json` object): answer with [n] markers, refused, citations
        (n, doc_id, title, citation, pinpoint, page, quote, verified), verification and timings.
        """
        with _tool_errors():
            return shared.ask(question, (), check_k(k), check_where(where)).as_dict()

    @server.tool(annotations=read_only)
    def get_passage(doc_id: str, pinpoint: str) -> dict[str, Any]:
        """The full text of a provision: doc_id and pinpoint as a citation gives them ("coe-convention",
        "Article 26"). A provision split in parts (Article 4(1), 4(2)) comes back whole, in order.
        """
        with _tool_errors():
            chunks = shared.passages(doc_id, pinpoint)
        meta = chunks[0].meta
        asked = pp.normalise(pinpoint)
        pin = next((c.pinpoint for c in chunks if c.pinpoint and pp.normalise(c.pinpoint) == asked), pinpoint)
        return {
            "doc_id": chunks[0].doc_id,
            "title": meta.title,
            "citation": meta.citation,
            "url": meta.url,
            "pinpoint": pin,
            "label": label(pin, meta),
            "authority": "commentary" if meta.commentary else "primary",
            "about": meta.about,
            "passages": [_chunk_dict(c) for c in chunks],
        }

    @server.tool(annotations=read_only)
    def assess(case: str, forum: str | None = None) -> dict[str, Any]:
        """A structured, cited reading of one case (the `rag assess --json` object): `case` (the facts
        understood, each with the words of the case in `spans`), `steps` of the forum's pathway (id, question,
        status: supports/against/unknown/not applicable, finding, citations), open_questions, coverage,
        not_covered and the disclaimer. `forum`: UK-EW, UK-SC, UK-NI, EU or EU:STATE, AZ or US; read from
        the case when left out.
        """
        with _tool_errors():
            return shared.assess(case, forum).as_dict()

    return server


def serve_stdio(settings: Settings, say: Callable[[str], Any]) -> None:
    """Load the model and index (errors here are one line, before the protocol starts), then serve stdio."""
    from rag.answer.assistant import Assistant

    shared = SharedAssistant(Assistant(settings, on_wait=say))
    with contextlib.redirect_stdout(sys.stderr):  # stdout is the protocol's: nothing else may write there
        shared.warm()
    say(f"{MODEL_ID} MCP server ready on stdio (engine {shared.engine}).")
    build_server(shared).run("stdio")
