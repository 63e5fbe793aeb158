"""The OpenAI chat-completions wire format: requests read and checked, answers written as completions and chunks."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from rag.core.errors import BadRequest
from rag.core.labels import coverage_note, source_name
from rag.core.records import Answer
from rag.faces.render import short_quote

MODEL_ID = "rag-nonpunishment"
QUOTE_CHARS = 400
ROLES = ("system", "developer", "user", "assistant", "tool", "function")


@dataclass
class AskRequest:
    """One question with its retrieval options, and the earlier user questions it may lean on."""

    question: str
    earlier: list[str] = field(default_factory=list)
    k: int | None = None
    filters: dict[str, str] = field(default_factory=dict)
    stream: bool = False
    param: str = "question"  # the field the question came in, named when it cannot be asked


def _object(body: Any, name: str = "body") -> dict[str, Any]:
    if not isinstance(body, dict):
        raise BadRequest(name, "must be a JSON object")
    return body


def check_k(k: Any) -> int | None:
    """How many passages to retrieve: None (the default) or 1-50."""
    if k is None:
        return None
    if isinstance(k, bool) or not isinstance(k, int) or not 1 <= k <= 50:
        raise BadRequest("k", f"must be a whole number from 1 to 50, got {k!r}")
    return k


def check_where(where: Any) -> dict[str, str]:
    """`where` as {"jurisdiction": "UK"} or ["jurisdiction=UK"], keys as `rag ask --where` takes them."""
    from rag.retrieve.filters import FILTER_KEYS

    if where is None:
        return {}
    if isinstance(where, list) and all(isinstance(x, str) and "=" in x for x in where):
        where = dict(x.split("=", 1) for x in where)
    if not isinstance(where, dict):
        raise BadRequest("where", 'must be an object such as {"jurisdiction": "UK"} or a list of "KEY=VALUE"')
    keys = ", ".join(sorted(set(FILTER_KEYS) - {"doc_id"}))
    filters: dict[str, str] = {}
    for key, value in where.items():
        name = str(key).strip().lower()
        if name not in FILTER_KEYS:
            raise BadRequest(f"where.{key}", f"unknown filter; use one of {keys}")
        if not isinstance(value, str) or not value.strip():
            raise BadRequest(f"where.{key}", "must be a non-empty string")
        filters[FILTER_KEYS[name]] = value.strip()
    return filters


def parse_ask(body: Any) -> AskRequest:
    """The body of POST /v1/ask: {"question": ..., "k": 5, "where": {...}}."""
    body = _object(body)
    question = body.get("question")
    if not isinstance(question, str):
        raise BadRequest("question", 'must be a string, e.g. "Is Article 26 of the CoE Convention binding?"')
    return AskRequest(question=question, k=check_k(body.get("k")), filters=check_where(body.get("where")))


def parse_assess(body: Any) -> tuple[str, str | None]:
    """The body of POST /v1/assess: {"case": "...", "forum": "UK-EW"} (forum optional)."""
    body = _object(body)
    case, forum = body.get("case"), body.get("forum")
    if not isinstance(case, str):
        raise BadRequest("case", 'must be a string, e.g. "A 15-year-old found in a cannabis farm in Leeds"')
    if forum is not None and not isinstance(forum, str):
        raise BadRequest("forum", "must be a string: UK-EW, UK-SC, UK-NI, EU or EU:STATE, AZ or US")
    return case, forum


def _text(content: Any, where: str) -> str:
    """A message's text: a string, or the text parts of a list of content parts."""
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if not isinstance(content, list):
        raise BadRequest(where, "must be a string or a list of text parts")
    texts = []
    for i, part in enumerate(content):
        if not isinstance(part, dict) or part.get("type") != "text" or not isinstance(part.get("text"), str):
            raise BadRequest(f"{where}[{i}]", 'only text parts ({"type": "text", "text": "..."}) are supported')
        texts.append(part["text"])
    return "\n".join(texts)


def parse_chat(body: Any) -> AskRequest:
    """The body of POST /v1/chat/completions: the last user message is the question, earlier ones its context."""
    body = _object(body)
    model = body.get("model")
    if model is not None and not isinstance(model, str):
        raise BadRequest("model", f"must be a string such as {MODEL_ID!r}")
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        raise BadRequest("messages", 'must be a non-empty list of {"role": ..., "content": ...}')
    said: list[tuple[str, str]] = []
    for i, message in enumerate(messages):
        message = _object(message, f"messages[{i}]")
        role = message.get("role")
        if role not in ROLES:
            raise BadRequest(f"messages[{i}].role", f"must be one of {', '.join(ROLES)}, got {role!r}")
        said.append((role, _text(message.get("content"), f"messages[{i}].content")))
    if said[-1][0] != "user":
        raise BadRequest(f"messages[{len(said) - 1}].role", "the last message must be the user's question")
    n = body.get("n", 1)
    if n != 1:
        raise BadRequest("n", "only one choice (n=1) is supported")
    stream = body.get("stream", False)
    if not isinstance(stream, bool):
        raise BadRequest("stream", "must be true or false")
    return AskRequest(
        question=said[-1][1],
        earlier=[text for role, text in said[:-1] if role == "user"],
        k=check_k(body.get("k")),
        filters=check_where(body.get("where")),
        stream=stream,
        param=f"messages[{len(said) - 1}].content",
    )


def sources_markdown(answer: Answer) -> str:
    """The numbered sources, each with its quote, then the warnings and the verification line."""
    lines: list[str] = []
    if answer.citations:
        lines += ["**Nearest sources (none answers the question)**" if answer.refused else "**Sources**", ""]
    for c in answer.citations:
        flag = " **[NOT VERIFIED]**" if not c.verified and not answer.refused else ""
        lines += [f"[{c.n}] {source_name(c)}{flag}", f"> “{short_quote(c.quote, QUOTE_CHARS)}”", ""]
    lines += [f"! {w}" for w in answer.warnings]
    if answer.verification and not answer.refused:
        lines.append(f"*{answer.verification}*")
    if note := coverage_note(answer):
        lines.append(f"*{note}*")
    return "\n".join(lines).strip()


def content(answer: Answer) -> str:
    """The assistant message: the answer with its [n] markers (a paragraph per line), then the numbered sources."""
    text = "\n\n".join(line.strip() for line in answer.answer.splitlines() if line.strip())
    sources = sources_markdown(answer)
    return f"{text}\n\n{sources}" if sources else text


def new_id() -> str:
    return f"chatcmpl-{uuid.uuid4().hex}"


def completion(answer: Answer, completion_id: str, created: int | None = None) -> dict[str, Any]:
    """A chat.completion object; the ask JSON (citations, verification, timings) rides along as "rag"."""
    return {
        "id": completion_id,
        "object": "chat.completion",
        "created": created or int(time.time()),
        "model": MODEL_ID,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": content(answer)},
                "finish_reason": "stop",
                "logprobs": None,
            }
        ],
        "rag": answer.as_dict(),
    }


def chunk(
    completion_id: str,
    created: int,
    delta: dict[str, Any],
    finish_reason: str | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """One chat.completion.chunk of a stream; the last one carries "rag"."""
    return {
        "id": completion_id,
        "object": "chat.completion.chunk",
        "created": created,
        "model": MODEL_ID,
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish_reason, "logprobs": None}],
        **extra,
    }


def error(message: str, kind: str, param: str | None = None, code: str | None = None) -> dict[str, Any]:
    """OpenAI's error body, which its clients parse: {"error": {"message", "type", "param", "code"}}."""
    return {"error": {"message": message, "type": kind, "param": param, "code": code}}


def model_entry(engine: str, created: int) -> dict[str, Any]:
    return {"id": MODEL_ID, "object": "model", "created": created, "owned_by": "rag", "engine": engine}
