"""The in-process llama.cpp engine: one loaded model per file, and a minimal LangChain chat model over it."""

from __future__ import annotations

import atexit
import os
from collections.abc import Iterator
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from rag.core.errors import LLMConfigError

if TYPE_CHECKING:
    from langchain_core.messages import BaseMessage

N_CTX = 8192  # llama.cpp context: the prompt with five passages is about 2,000 tokens
# llama.cpp's own default: half the cores. Its threads spin at every step, so on a busy 2-core machine
# two threads ran five times slower than one (52 s against 9 s for the same 60 tokens).
N_THREADS = max(1, (os.cpu_count() or 2) // 2)
INSTALL = (
    'CMAKE_ARGS="-DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_BMI2=ON" '
    "pip install 'llama-cpp-python[server]'"
)


@lru_cache(maxsize=2)
def model(path: str) -> Any:
    """One loaded llama.cpp model per file, shared by every engine in the process."""
    from llama_cpp import Llama

    try:
        llm = Llama(model_path=path, n_ctx=N_CTX, n_threads=N_THREADS, verbose=False)
    except (ValueError, RuntimeError) as exc:
        raise LLMConfigError(f"llama.cpp cannot load {path} ({exc}); check that it is a GGUF model file") from None
    atexit.register(llm.close)  # freed while the interpreter is whole; left to __del__ it fails noisily at shutdown
    meta = llm.metadata
    if "tokenizer.chat_template" not in meta and meta.get("general.architecture", "").startswith("gemma"):
        llm.chat_format = "gemma"  # no template in the file; llama.cpp would fall back to Llama 2's turn markers
    return llm


@lru_cache(maxsize=1)
def chat_class() -> Any:
    """A minimal chat model over llama_cpp.Llama.create_chat_completion (no langchain-community needed)."""
    from langchain_core.callbacks import CallbackManagerForLLMRun
    from langchain_core.language_models import BaseChatModel
    from langchain_core.messages import AIMessage, AIMessageChunk
    from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult

    roles = {"system": "system", "human": "user", "ai": "assistant"}

    class LlamaCppChat(BaseChatModel):
        model_path: str
        max_tokens: int
        temperature: float = 0.0

        @property
        def _llm_type(self) -> str:
            return "llama-cpp-python"

        def _request(self, messages: list[BaseMessage], stop: list[str] | None) -> dict[str, Any]:
            chat = [{"role": roles.get(m.type, "user"), "content": m.text} for m in messages]
            if model(self.model_path).chat_format == "gemma" and len(chat) > 1 and chat[0]["role"] == "system":
                # Gemma has no system turn (llama.cpp drops it): its own template puts it before the first user turn.
                chat[1] = {"role": chat[1]["role"], "content": chat[0]["content"] + "\n\n" + chat[1]["content"]}
                chat = chat[1:]
            return {"messages": chat, "temperature": self.temperature, "max_tokens": self.max_tokens, "stop": stop}

        def _generate(
            self,
            messages: list[BaseMessage],
            stop: list[str] | None = None,
            run_manager: CallbackManagerForLLMRun | None = None,
            **kwargs: Any,
        ) -> ChatResult:
            out = model(self.model_path).create_chat_completion(**self._request(messages, stop))
            text = out["choices"][0]["message"].get("content") or ""
            return ChatResult(generations=[ChatGeneration(message=AIMessage(content=text))])

        def _stream(
            self,
            messages: list[BaseMessage],
            stop: list[str] | None = None,
            run_manager: CallbackManagerForLLMRun | None = None,
            **kwargs: Any,
        ) -> Iterator[ChatGenerationChunk]:
            for part in model(self.model_path).create_chat_completion(**self._request(messages, stop), stream=True):
                token = part["choices"][0]["delta"].get("content") or ""
                if token:
                    if run_manager:
                        run_manager.on_llm_new_token(token)
                    yield ChatGenerationChunk(message=AIMessageChunk(content=token))

    return LlamaCppChat
