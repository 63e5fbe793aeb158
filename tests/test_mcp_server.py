"""`rag mcp`: the mcp package's own client, in process over a small hash-embedded index, then over stdio."""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from conftest import CORPUS, REPO, venv_bin

from rag.answer.assistant import Assistant
from rag.core.config import Settings
from rag.faces.mcp_server import build_server
from rag.faces.shared import SharedAssistant
from rag.ingest.pipeline import ingest

TOOLS = {"search_sources", "ask", "get_passage", "assess"}


def run_with_client(server: Any, use: Callable[[Any], Awaitable[Any]]) -> Any:
    from mcp import Client

    async def main() -> Any:
        async with Client(server, mode="legacy") as client:  # legacy: the initialize handshake, as stdio clients do
            return await use(client)

    return asyncio.run(main())


@pytest.fixture
def sample_server(fake_embeddings: None, sample_corpus: Path) -> Any:
    settings = Settings.from_env()
    report = ingest([sample_corpus], settings)
    assert not report.failed
    return build_server(SharedAssistant(Assistant(settings)))


def test_lists_the_four_read_only_tools(sample_server: Any) -> None:
    tools = run_with_client(sample_server, lambda c: c.list_tools()).tools
    assert {t.name for t in tools} == TOOLS
    assert all(t.annotations.read_only_hint for t in tools)
    get_passage = next(t for t in tools if t.name == "get_passage")
    assert get_passage.input_schema["required"] == ["doc_id", "pinpoint"]


def test_search_sources_returns_passages_with_pinpoint_label_quote_and_score(sample_server: Any) -> None:
    query = {"query": "What does Article 26 of the Sample Convention require?", "k": 2}
    result = run_with_client(sample_server, lambda c: c.call_tool("search_sources", query))
    assert not result.is_error
    first = result.structured_content["passages"][0]
    assert first["doc_id"] == "sample-convention" and first["pinpoint"] == "Article 26"
    assert first["label"] == "Article 26, SCT No. 1" and "compelled" in first["quote"]
    assert 0 < first["score"] <= 1 and len(result.structured_content["passages"]) <= 2
    assert json.loads(result.content[0].text) == result.structured_content


def test_search_sources_applies_where(sample_server: Any) -> None:
    query = {"query": "victims", "where": {"jurisdiction": "UK"}}
    result = run_with_client(sample_server, lambda c: c.call_tool("search_sources", query))
    assert {p["doc_id"] for p in result.structured_content["passages"]} == {"sample-act"}


def test_ask_returns_the_ask_json_with_citations(sample_server: Any) -> None:
    question = {"question": "What does Article 26 of the Sample Convention require?"}
    result = run_with_client(sample_server, lambda c: c.call_tool("ask", question))
    data = result.structured_content
    assert not result.is_error and data["refused"] is False and "[1]" in data["answer"]
    assert data["citations"][0]["pinpoint"] == "Article 26" and data["citations"][0]["quote"]


def test_get_passage_finds_a_provision_however_the_pinpoint_is_written(sample_server: Any) -> None:
    asked = {"doc_id": "sample-convention", "pinpoint": "Art. 26"}
    result = run_with_client(sample_server, lambda c: c.call_tool("get_passage", asked))
    data = result.structured_content
    assert not result.is_error
    assert data["pinpoint"] == "Article 26" and data["label"] == "Article 26, SCT No. 1"
    assert [p["pinpoint"] for p in data["passages"]] == ["Article 26"]
    assert "not imposing penalties on victims who were compelled" in " ".join(data["passages"][0]["text"].split())


def test_get_passage_errors_name_what_exists(sample_server: Any) -> None:
    async def both(client: Any) -> tuple[Any, Any]:
        no_doc = await client.call_tool("get_passage", {"doc_id": "nowhere", "pinpoint": "Article 1"})
        no_pin = await client.call_tool("get_passage", {"doc_id": "sample-convention", "pinpoint": "Article 99"})
        return no_doc, no_pin

    no_doc, no_pin = run_with_client(sample_server, both)
    assert no_doc.is_error and "no document 'nowhere' in the index; known ids: sample-act, sample-convention" in (
        no_doc.content[0].text
    )
    assert no_pin.is_error
    assert "no passage 'Article 99' in 'sample-convention'; its pinpoints: Article 26, Article 10" in (
        no_pin.content[0].text
    )


def test_bad_arguments_are_tool_errors_naming_the_field(sample_server: Any) -> None:
    async def calls(client: Any) -> list[Any]:
        return [
            await client.call_tool("ask", {"question": "Is Article 26 binding?", "k": 99}),
            await client.call_tool("search_sources", {"query": "victims", "where": {"colour": "red"}}),
            await client.call_tool("ask", {"question": "   "}),
        ]

    k, where, empty = run_with_client(sample_server, calls)
    assert k.is_error and "k: must be a whole number from 1 to 50, got 99" in k.content[0].text
    assert where.is_error and "where.colour: unknown filter" in where.content[0].text
    assert empty.is_error and "the question is empty" in empty.content[0].text


def test_assess_errors_are_tool_errors(sample_server: Any) -> None:
    async def calls(client: Any) -> list[Any]:
        return [
            await client.call_tool("assess", {"case": "A man in Leeds", "forum": "Narnia"}),
            await client.call_tool("assess", {"case": "A 15-year-old found in a cannabis farm in Leeds"}),
        ]

    forum, lacking = run_with_client(sample_server, calls)
    assert forum.is_error and "unknown forum 'Narnia'" in forum.content[0].text
    assert lacking.is_error and "which is not in the index" in lacking.content[0].text  # the sample index


@pytest.mark.slow
def test_the_stdio_client_against_rag_mcp_over_the_real_index(real_index: Path) -> None:
    from mcp import ClientSession, StdioServerParameters, stdio_client

    env = {"RAG_HOME": str(real_index), "RAG_CORPUS": str(CORPUS), "PYTHONPATH": str(REPO)}
    params = StdioServerParameters(command=venv_bin("rag"), args=["mcp"], env=env, cwd=str(REPO))

    async def main() -> tuple[Any, Any, Any, Any]:
        with open(os.devnull, "w") as quiet:
            async with stdio_client(params, errlog=quiet) as (read, write), ClientSession(read, write) as session:
                await session.initialize()
                tools = await session.list_tools()
                asked = await session.call_tool("ask", {"question": "Is Article 26 of the CoE Convention binding?"})
                first = asked.structured_content["citations"][0]
                passage = await session.call_tool(
                    "get_passage", {"doc_id": first["doc_id"], "pinpoint": first["pinpoint"]}
                )
                case = "An adult man with a false passport at Baku airport"
                assessed = await session.call_tool("assess", {"case": case})
                return tools, asked, passage, assessed

    tools, asked, passage, assessed = asyncio.run(asyncio.wait_for(main(), timeout=180))
    reading = assessed.structured_content
    assert not assessed.is_error and reading["case"]["forum"] == "AZ"
    assert [s["id"] for s in reading["steps"]][:2] == ["victim", "identification"]
    assert any(c["pinpoint"] == "Article 26" for s in reading["steps"] for c in s["citations"])
    assert {t.name for t in tools.tools} == TOOLS
    data = asked.structured_content
    assert not asked.is_error and data["refused"] is False and "[1]" in data["answer"]
    first = data["citations"][0]
    assert first["doc_id"] == "coe-convention" and first["pinpoint"] == "Article 26" and first["verified"]
    text = passage.structured_content["passages"][0]["text"]
    assert passage.structured_content["label"] == first["label"] and "CETS No. 197" in first["label"]
    assert " ".join(first["quote"].split())[:80] in " ".join(text.split())
