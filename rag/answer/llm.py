"""Opt-in LLM engines: a LangChain chat model chosen by RAG_LLM answers from the numbered passages."""

from __future__ import annotations

import html
import os
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rag.answer import llamacpp
from rag.answer.citations import MARKER, citations_for, markers, quoted, without_markers
from rag.answer.prompts import Prompts, load_prompts
from rag.core.errors import LLMConfigError, LLMError, RagError
from rag.core.records import Answer, Hit
from rag.retrieve.hybrid import Retrieval

if TYPE_CHECKING:
    from langchain_core.language_models import BaseChatModel
    from langchain_core.messages import BaseMessage

FORMS = "openai:MODEL@http://HOST:PORT/v1, openai:MODEL, ollama:MODEL or llamacpp:/path/to/model.gguf"
TIMEOUT = 120.0  # seconds for one answer from a model server, in all (retries included)
MAX_TOKENS = 512
_TAG = re.compile(r"<(/?\s*passages?\b)", re.IGNORECASE)
# Marker styles small models use instead of [n]: [1, 2], [Passage 1], [passage 1][2].
_LOOSE_MARK = re.compile(r"(?<!\\)\[(?:passages?\s*)?(\d+(?:\s*[,;]\s*(?:passages?\s*)?\d+)*)\]", re.IGNORECASE)


@dataclass(frozen=True)
class Spec:
    """A parsed RAG_LLM value."""

    provider: str  # openai, ollama or llamacpp
    model: str
    url: str | None = None

    @property
    def label(self) -> str:
        return f"{self.provider}:{Path(self.model).name if self.provider == 'llamacpp' else self.model}"

    @property
    def where(self) -> str:
        """The server or file a failure message should name."""
        if self.provider == "llamacpp":
            return self.model
        if self.provider == "ollama":
            return self.url or ollama_host()
        return self.url or "the OpenAI API"


def parse_spec(spec: str) -> Spec:
    """openai:MODEL[@URL], ollama:MODEL[@URL] or llamacpp:PATH.gguf; LLMConfigError otherwise."""
    provider, sep, rest = spec.strip().partition(":")
    provider = provider.lower()
    if not sep or not rest or provider not in ("openai", "ollama", "llamacpp"):
        raise LLMConfigError(f"RAG_LLM={spec!r} is not an engine; use {FORMS}")
    if provider == "llamacpp":
        path = Path(rest).expanduser()
        if path.suffix.lower() != ".gguf":
            raise LLMConfigError(f"RAG_LLM={spec!r}: give the path of a .gguf model file, e.g. llamacpp:/models/m.gguf")
        if not path.is_file():
            raise LLMConfigError(f"RAG_LLM={spec!r}: no model file at {path}; check the path")
        return Spec("llamacpp", str(path.resolve()))
    model, at, url = rest.partition("@")
    if not model or (at and not re.match(r"https?://[^/\s]+", url)):
        raise LLMConfigError(f"RAG_LLM={spec!r} is malformed; use {FORMS}")
    return Spec(provider, model, url.rstrip("/") if at else None)


def ollama_host() -> str:
    host = os.environ.get("OLLAMA_HOST") or "http://127.0.0.1:11434"
    return host if host.startswith(("http://", "https://")) else f"http://{host}"


def make_chat_model(spec: Spec, max_tokens: int = MAX_TOKENS) -> BaseChatModel:
    """The LangChain chat model for a spec; LLMConfigError names the package to install."""
    if spec.provider == "openai":
        try:
            from langchain_openai import ChatOpenAI
        except ImportError:
            raise LLMConfigError("RAG_LLM=openai:... needs langchain-openai: pip install langchain-openai") from None
        return ChatOpenAI(
            model=spec.model,
            base_url=spec.url,
            api_key=os.environ.get("OPENAI_API_KEY", "not-needed"),  # type: ignore[arg-type]
            temperature=0,
            timeout=TIMEOUT,
            max_retries=1,
            max_completion_tokens=max_tokens,
            # OpenAI-compatible servers (llama.cpp, vLLM) read the older max_tokens; unbounded without it.
            extra_body={"max_tokens": max_tokens} if spec.url and "api.openai.com" not in spec.url else None,
        )
    if spec.provider == "ollama":
        try:
            from langchain_ollama import ChatOllama
        except ImportError:
            raise LLMConfigError("RAG_LLM=ollama:... needs langchain-ollama: pip install langchain-ollama") from None
        return ChatOllama(
            model=spec.model,
            base_url=spec.url or ollama_host(),
            temperature=0,
            num_predict=max_tokens,
            client_kwargs={"timeout": TIMEOUT},
        )
    try:
        import llama_cpp  # noqa: F401
    except ImportError:
        raise LLMConfigError(f"RAG_LLM=llamacpp:... needs llama-cpp-python: {llamacpp.INSTALL}") from None
    return llamacpp.chat_class()(model_path=spec.model, max_tokens=max_tokens)


def passage_block(n: int, hit: Hit) -> str:
    """One retrieved passage, delimited so that its text cannot pass for instructions or close the tag."""
    meta = hit.chunk.meta
    source = meta.title + (f" ({meta.citation})" if meta.citation and meta.citation not in meta.title else "")
    attrs = f'n="{n}" source="{html.escape(quoted(source))}"'
    if hit.chunk.pinpoint:
        attrs += f' pinpoint="{html.escape(hit.chunk.pinpoint)}"'
    # The passage's own bracketed numbers are shown escaped (\[2013]) so they do not read as passage numbers.
    text = _TAG.sub(r"&lt;\1", quoted(hit.chunk.text.strip()))
    return f"<passage {attrs}>\n{text}\n</passage>"


def normalise_marks(text: str) -> str:
    """[1, 2] and [Passage 1] become [1][2] and [1], the form the verifier reads."""
    return _LOOSE_MARK.sub(lambda m: "".join(f"[{n}]" for n in re.findall(r"\d+", m.group(1))), text)


def own_marks(text: str, hits: Sequence[Hit]) -> str:
    """The model's text with only its own markers left as [n].

    A bracketed number it copied from a passage ("[2013] EWCA Crim 991") that names no passage is escaped
    as the passage's text; any other is left as a marker, for the verifier to report as invented.
    """
    copied = {
        m.group(0)
        for h in hits
        for field in (h.chunk.text, h.chunk.meta.title, h.chunk.meta.citation or "")
        for m in re.finditer(r"\[\d+\]", field)
    }

    def mark(m: re.Match[str]) -> str:
        names_passage = 1 <= int(m.group(1)) <= len(hits)
        return m.group(0) if names_passage or m.group(0) not in copied else "\\" + m.group(0)

    return MARKER.sub(mark, text)


class LLMEngine:
    """Answers with a chat model from the numbered passages (the assistant asks only when the sources address it)."""

    def __init__(
        self,
        spec: str,
        model: BaseChatModel | None = None,
        prompts: Prompts | None = None,
        max_tokens: int = MAX_TOKENS,
    ) -> None:
        self.spec = parse_spec(spec)
        self.name = f"llm:{self.spec.label}"
        self.prompts = prompts or load_prompts()
        self.model = model if model is not None else make_chat_model(self.spec, max_tokens)

    def messages(self, question: str, hits: list[Hit]) -> list[BaseMessage]:
        from langchain_core.messages import HumanMessage, SystemMessage

        prompt = self.prompts.answer
        passages = "\n\n".join(passage_block(n, h) for n, h in enumerate(hits, start=1))
        return [
            SystemMessage(content=prompt.render("system", refusal=self.prompts.no_answer)),
            HumanMessage(content=prompt.render("user", passages=passages, question=question)),
        ]

    def answer(self, question: str, retrieval: Retrieval) -> Answer:
        return self.stream(question, retrieval, None)

    def stream(self, question: str, retrieval: Retrieval, on_token: Callable[[str], Any] | None) -> Answer:
        """The model's answer, each token passed to on_token as it arrives (when given)."""
        if not retrieval.hits:
            return self._refusal(question, retrieval)
        messages = self.messages(question, retrieval.hits)
        if on_token is None:
            text = self._complete(messages)
        else:
            parts = []
            for token in self._tokens(messages):
                parts.append(token)
                on_token(token)
            text = "".join(parts)
        return self._answer(question, text, retrieval)

    def condense(self, question: str, history: Sequence[tuple[str, str]]) -> str:
        """The follow-up rewritten as a standalone question, given earlier (question, answer) turns."""
        from langchain_core.messages import HumanMessage, SystemMessage

        if not history:
            return question
        turns = "\n".join(f"User: {q}\nAssistant: {' '.join(a.split())[:400]}" for q, a in history[-3:])
        prompt = self.prompts.condense
        messages = [
            SystemMessage(content=prompt.render("system")),
            HumanMessage(content=prompt.render("user", history=turns, question=question)),
        ]
        text = self._complete(messages)
        lines = [line.strip() for line in text.splitlines() if line.strip()]
        first = re.sub(r"^(standalone question|question)\s*:\s*", "", lines[0], flags=re.I) if lines else ""
        rewritten = first.strip().strip('"“”').strip()
        return rewritten if 0 < len(rewritten) <= 1000 else question

    def _answer(self, question: str, text: str, retrieval: Retrieval) -> Answer:
        text = own_marks(normalise_marks(text.strip()), retrieval.hits)
        bare = " ".join(without_markers(text).split()).casefold()
        refusals = {self.prompts.no_answer.casefold().rstrip("."), _refusal_text().casefold().rstrip(".")}
        if not text or any(bare.startswith(r) or (bare.rstrip(".") == r) for r in refusals):
            return self._refusal(question, retrieval)
        cited = set(markers(text))
        cites = [c for c in citations_for(retrieval.hits) if c.n in cited]
        return Answer(question, text, False, self.name, cites)

    def _refusal(self, question: str, retrieval: Retrieval) -> Answer:
        return Answer(question, _refusal_text(), True, self.name, citations_for(retrieval.hits[:3], verified=False))

    def _complete(self, messages: list[BaseMessage]) -> str:
        return "".join(self._run(lambda: iter([self.model.invoke(messages).text])))

    def _tokens(self, messages: list[BaseMessage]) -> Iterator[str]:
        return self._run(lambda: (chunk.text for chunk in self.model.stream(messages) if chunk.text))

    def _run(self, produce: Callable[[], Iterator[str]]) -> Iterator[str]:
        """What the model produces, within one deadline for the whole call; every failure one LLMError.

        A model in this process (llama.cpp) is not cut off: it cannot hang on a network, and a second call
        must not start while an abandoned one still runs on the same model.
        """
        from rag.answer.deadline import Overdue, within

        started = False
        try:
            for text in produce() if self.spec.provider == "llamacpp" else within(TIMEOUT, produce):
                started = True
                yield text
        except RagError:
            raise
        except Overdue:
            what = "did not finish its answer" if started else "gave no answer"
            raise LLMError(
                f"the model server at {self.spec.where} {what} within {TIMEOUT:.0f} s; retry or use a smaller model"
            ) from None
        except Exception as exc:  # every client library raises its own; the user gets one line that says what to do
            raise LLMError(explain(self.spec, exc)) from None


def _refusal_text() -> str:
    from rag.answer.policy import REFUSAL

    return REFUSAL


def explain(spec: Spec, exc: Exception) -> str:
    """One line naming the model server, what went wrong and what to do."""
    kind = type(exc).__name__
    detail = " ".join(str(exc).split())[:200] or kind
    status = getattr(exc, "status_code", None)
    if "Connect" in kind or isinstance(exc, ConnectionError):
        start = {"ollama": "start it with `ollama serve`", "openai": "start the server"}.get(spec.provider, "")
        return f"cannot reach the model server at {spec.where}; {start or 'check it'} or fix RAG_LLM"
    if "Timeout" in kind or isinstance(exc, TimeoutError):
        return f"the model server at {spec.where} gave no answer within {TIMEOUT:.0f} s; retry or use a smaller model"
    if status == 404 or "NotFound" in kind:
        fix = f"run `ollama pull {spec.model}`" if spec.provider == "ollama" else "check the model name in RAG_LLM"
        return f"the model server at {spec.where} has no model {spec.model!r}; {fix}"
    if status in (401, 403) or "Authentication" in kind or "PermissionDenied" in kind:
        return f"the model server at {spec.where} refused the request ({detail}); set OPENAI_API_KEY"
    return f"the model at {spec.where} failed: {detail}"
