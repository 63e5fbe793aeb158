"""`rag serve` routes with a fake assistant: the official openai client over Starlette's in-process transport."""

from __future__ import annotations

import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from starlette.testclient import TestClient
from typer.testing import CliRunner

from rag.core.errors import EmptyIndex, ServeError, StoreBusy
from rag.core.records import Answer, Citation
from rag.faces import openai_format as wire
from rag.faces.cli import app as cli_app
from rag.faces.serve import check_bind, create_app, is_loopback, listen
from rag.faces.shared import SharedAssistant, standalone

ART26 = "Is Article 26 of the CoE Convention binding?"
TEXT = "Article 26, CETS No. 197: a binding obligation of a particular kind. [1]\nGRETA monitors it. [1]"


def citation(n: int = 1, **changes: Any) -> Citation:
    values: dict[str, Any] = {
        "n": n,
        "doc_id": "coe-convention",
        "title": "Council of Europe Convention on Action against Trafficking in Human Beings",
        "citation": "CETS No. 197",
        "pinpoint": "Article 26",
        "page": None,
        "quote": "Each Party shall provide for the possibility of not imposing penalties on victims.",
        "path": "corpus/instruments/coe-convention.md",
        "score": 0.8,
        "verified": True,
    }
    values.update(changes)
    return Citation(**values)


def an_answer(question: str, text: str = TEXT, **kw: Any) -> Answer:
    return Answer(question, text, kw.pop("refused", False), "extractive", kw.pop("citations", [citation()]), **kw)


@dataclass
class FakeEngine:
    name: str = "extractive"


@dataclass
class StreamingEngine:
    """Has `stream`, so the server forwards tokens as the engine produces them."""

    name: str = "llm:fake"

    def stream(self, *args: Any) -> Answer:  # never called: the fake assistant replays tokens itself
        raise AssertionError


@dataclass
class FakeAssistant:
    """Replays one answer (or raises), records what it was asked, and how many asks ran at once."""

    engine: Any = field(default_factory=FakeEngine)
    asked: list[tuple[str, int | None, dict[str, str]]] = field(default_factory=list)
    fail: BaseException | None = None
    tokens: list[str] = field(default_factory=list)
    delay: float = 0.0
    active: int = 0
    most_at_once: int = 0
    floor: float = 0.4

    def ask(
        self,
        question: str,
        k: int | None = None,
        filters: dict[str, str] | None = None,
        on_token: Callable[[str], Any] | None = None,
    ) -> Answer:
        self.active += 1
        self.most_at_once = max(self.most_at_once, self.active)
        try:
            time.sleep(self.delay)
            self.asked.append((question, k, dict(filters or {})))
            if self.fail is not None:
                raise self.fail
            for token in self.tokens if on_token else []:
                on_token(token)  # type: ignore[misc]
            return an_answer(question)
        finally:
            self.active -= 1


def client_for(fake: FakeAssistant, token: str | None = None, **kw: Any) -> TestClient:
    return TestClient(create_app(SharedAssistant(fake), token), **kw)  # type: ignore[arg-type]


def openai_client(http: TestClient, key: str = "unused") -> Any:
    from openai import OpenAI

    return OpenAI(base_url="http://testserver/v1", api_key=key, http_client=http, max_retries=0)


def test_models_lists_the_one_model_with_its_engine() -> None:
    models = openai_client(client_for(FakeAssistant())).models.list()
    assert [m.id for m in models.data] == [wire.MODEL_ID]
    assert models.data[0].model_extra["engine"] == "extractive"


def test_a_completion_carries_the_answer_its_sources_and_the_ask_json() -> None:
    fake = FakeAssistant()
    done = openai_client(client_for(fake)).chat.completions.create(
        model=wire.MODEL_ID, messages=[{"role": "system", "content": "Be brief."}, {"role": "user", "content": ART26}]
    )
    content = done.choices[0].message.content
    assert content.startswith("Article 26, CETS No. 197: a binding obligation of a particular kind. [1]\n\nGRETA")
    assert "**Sources**\n\n[1] Article 26, Council of Europe Convention" in content
    assert "> “Each Party shall provide for the possibility" in content
    assert done.choices[0].finish_reason == "stop"
    rag = done.model_extra["rag"]
    assert rag["citations"][0]["pinpoint"] == "Article 26" and rag["answer"] == TEXT
    assert fake.asked == [(ART26, None, {})]


def test_a_stream_ends_with_the_sources_and_the_ask_json_and_matches_the_completion() -> None:
    client = openai_client(client_for(FakeAssistant()))
    chunks = list(client.chat.completions.create(model="x", messages=[{"role": "user", "content": ART26}], stream=True))
    streamed = "".join(c.choices[0].delta.content or "" for c in chunks)
    whole = client.chat.completions.create(model="x", messages=[{"role": "user", "content": ART26}])
    assert streamed == whole.choices[0].message.content
    assert chunks[0].choices[0].delta.role == "assistant"
    assert chunks[-1].choices[0].finish_reason == "stop"
    assert chunks[-1].model_extra["rag"]["citations"][0]["doc_id"] == "coe-convention"


def test_a_streaming_engine_s_tokens_arrive_one_by_one_before_the_sources() -> None:
    fake = FakeAssistant(engine=StreamingEngine(), tokens=["Compelled victims ", "need not be ", "punished [1]."])
    client = openai_client(client_for(fake))
    chunks = list(client.chat.completions.create(model="x", messages=[{"role": "user", "content": ART26}], stream=True))
    deltas = [c.choices[0].delta.content for c in chunks if c.choices[0].delta.content]
    assert deltas[:3] == fake.tokens
    assert deltas[3].startswith("\n\n**Sources**\n\n[1] Article 26")
    assert chunks[-1].model_extra["rag"]["answer"] == TEXT


def test_a_failure_inside_a_live_stream_reaches_the_client_as_an_error() -> None:
    from openai import APIError

    fake = FakeAssistant(engine=StreamingEngine(), fail=StoreBusy("an ingest is running; try again in a minute"))
    client = openai_client(client_for(fake))
    with pytest.raises(APIError, match="an ingest is running"):
        list(client.chat.completions.create(model="x", messages=[{"role": "user", "content": ART26}], stream=True))


def test_earlier_user_messages_make_a_followup_stand_on_its_own() -> None:
    fake = FakeAssistant()
    messages = [
        {"role": "user", "content": "What does Article 26 of the CoE Convention require?"},
        {"role": "assistant", "content": "Article 26 ... [1]"},
        {"role": "user", "content": [{"type": "text", "text": "And under the EU Directive?"}]},
    ]
    openai_client(client_for(fake)).chat.completions.create(model="x", messages=messages)
    assert fake.asked[0][0] == "What does the EU Directive require on non-punishment?"


def test_standalone_follows_a_thread_of_followups() -> None:
    earlier = ["What does Article 26 of the CoE Convention require?", "And under the EU Directive?"]
    assert standalone("And under the UK Modern Slavery Act?", earlier) == (
        "What does the UK Modern Slavery Act require on non-punishment?"
    )
    assert standalone("  Is Article 26 binding? ", []) == "Is Article 26 binding?"


def test_ask_returns_the_ask_json_with_k_and_filters_applied() -> None:
    fake = FakeAssistant()
    http = client_for(fake)
    got = http.post("/v1/ask", json={"question": ART26, "k": 3, "where": {"jurisdiction": "CoE", "doc": "coe"}})
    assert got.status_code == 200
    assert got.json()["citations"][0]["pinpoint"] == "Article 26" and got.json()["question"] == ART26
    assert fake.asked == [(ART26, 3, {"jurisdiction": "CoE", "doc_id": "coe"})]
    assert http.post("/v1/ask", json={"question": ART26, "where": ["type=treaty"]}).status_code == 200
    assert fake.asked[-1][2] == {"type": "treaty"}


@pytest.mark.parametrize(
    ("path", "body", "param"),
    [
        ("/v1/ask", b"{not json", "body"),
        ("/v1/ask", b"[1, 2]", "body"),
        ("/v1/ask", b'{"k": 3}', "question"),
        ("/v1/ask", b'{"question": "   "}', "question"),
        ("/v1/ask", b'{"question": "x", "k": 0}', "k"),
        ("/v1/ask", b'{"question": "x", "k": true}', "k"),
        ("/v1/ask", b'{"question": "x", "where": {"colour": "red"}}', "where.colour"),
        ("/v1/ask", b'{"question": "x", "where": "jurisdiction"}', "where"),
        ("/v1/chat/completions", b'{"model": "x"}', "messages"),
        ("/v1/chat/completions", b'{"messages": [{"role": "robot", "content": "hi"}]}', "messages[0].role"),
        ("/v1/chat/completions", b'{"messages": [{"role": "user", "content": 7}]}', "messages[0].content"),
        (
            "/v1/chat/completions",
            b'{"messages": [{"role": "user", "content": [{"type": "image_url", "image_url": {}}]}]}',
            "messages[0].content[0]",
        ),
        (
            "/v1/chat/completions",
            b'{"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "yes"}]}',
            "messages[1].role",
        ),
        ("/v1/chat/completions", b'{"messages": [{"role": "user", "content": "hi"}], "n": 2}', "n"),
        ("/v1/chat/completions", b'{"messages": [{"role": "user", "content": "hi"}], "stream": "yes"}', "stream"),
        ("/v1/chat/completions", b'{"messages": [{"role": "user", "content": "a"}, {"role": "user"}]}', "messages[1]"),
    ],
)
def test_a_bad_request_is_a_400_naming_the_field(path: str, body: bytes, param: str) -> None:
    fake = FakeAssistant()
    got = client_for(fake).post(path, content=body, headers={"Content-Type": "application/json"})
    assert got.status_code == 400, got.text
    error = got.json()["error"]
    assert error["param"].startswith(param) and error["message"].startswith(error["param"] + ": ")
    assert error["type"] == "invalid_request_error"


def test_the_store_s_failures_are_503_with_their_message() -> None:
    for fail in (EmptyIndex("the index is empty; run `rag ingest` first"), StoreBusy("an ingest is running")):
        got = client_for(FakeAssistant(fail=fail)).post("/v1/ask", json={"question": ART26})
        assert got.status_code == 503 and got.json()["error"]["message"] == str(fail)


def test_an_unexpected_failure_is_a_500_json_error_without_details() -> None:
    http = client_for(FakeAssistant(fail=ZeroDivisionError("secret detail")), raise_server_exceptions=False)
    got = http.post("/v1/ask", json={"question": ART26})
    assert got.status_code == 500 and "secret" not in got.text
    assert got.json()["error"]["message"] == "internal error; see the server's log"


def test_a_malformed_assess_body_is_a_400_naming_the_field_and_unknown_routes_are_json_404() -> None:
    http = client_for(FakeAssistant())
    for body, param in (({"text": "A 16-year-old"}, "case"), ({"case": "A 16-year-old", "forum": 7}, "forum")):
        got = http.post("/v1/assess", json=body)
        assert got.status_code == 400 and got.json()["error"]["param"] == param
    missing = http.get("/v1/nothing")
    assert missing.status_code == 404 and missing.json()["error"]["message"] == "GET /v1/nothing: Not Found"


def test_a_token_is_required_on_every_route_when_set() -> None:
    from openai import AuthenticationError

    http = client_for(FakeAssistant(), token="s3cret")
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": "Basic s3cret"}):
        got = http.get("/v1/models", headers=headers)
        assert got.status_code == 401 and got.json()["error"]["type"] == "authentication_error"
        assert got.headers["WWW-Authenticate"] == "Bearer"
    assert http.post("/v1/ask", json={"question": ART26}).status_code == 401
    with pytest.raises(AuthenticationError):
        openai_client(http, key="wrong").models.list()
    assert openai_client(http, key="s3cret").models.list().data[0].id == wire.MODEL_ID


def test_requests_are_answered_one_at_a_time() -> None:
    fake = FakeAssistant(delay=0.05)
    shared = SharedAssistant(fake)  # type: ignore[arg-type]
    app = create_app(shared)
    codes: list[int] = []

    def ask() -> None:
        with TestClient(app) as http:
            codes.append(http.post("/v1/ask", json={"question": ART26}).status_code)

    threads = [threading.Thread(target=ask) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert codes == [200] * 4 and len(fake.asked) == 4
    assert fake.most_at_once == 1


def test_a_refused_answer_lists_the_nearest_sources_and_an_unverified_one_is_flagged() -> None:
    refused = an_answer("q", "The sources do not say.", refused=True, citations=[citation(verified=False)])
    assert "**Nearest sources (none answers the question)**" in wire.content(refused)
    assert "NOT VERIFIED" not in wire.content(refused)
    shaky = an_answer("q", verification="0 of 1 citations verified", citations=[citation(verified=False)])
    assert "[1] Article 26, Council of Europe Convention" in wire.content(shaky)
    assert "**[NOT VERIFIED]**" in wire.content(shaky) and wire.content(shaky).endswith("*0 of 1 citations verified*")


@pytest.mark.parametrize(
    ("host", "loopback"),
    [("127.0.0.1", True), ("127.0.0.2", True), ("::1", True), ("[::1]", True), ("localhost", True),
     ("0.0.0.0", False), ("::", False), ("192.168.1.10", False), ("myhost.example", False)],
)  # fmt: skip
def test_is_loopback(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback


def test_an_open_address_needs_a_token() -> None:
    with pytest.raises(ServeError, match=r"^--host 0\.0\.0\.0 can be reached from other machines; set a token"):
        check_bind("0.0.0.0", None)
    with pytest.raises(ServeError):
        check_bind("0.0.0.0", "")
    check_bind("0.0.0.0", "s3cret")
    check_bind("127.0.0.1", None)


def test_serve_refuses_an_open_address_without_a_token_in_one_line() -> None:
    result = CliRunner().invoke(cli_app, ["serve", "--host", "0.0.0.0", "--port", "9"])
    assert result.exit_code == 1
    assert result.output.startswith("Error: --host 0.0.0.0 can be reached from other machines;")
    assert result.output.count("\n") == 1


def test_a_busy_port_is_one_clear_error() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(ServeError, match=rf"^cannot listen on 127\.0\.0\.1:{port} \(.+\); choose another port"):
            listen("127.0.0.1", port)


def test_serve_and_mcp_help_import_no_server_library() -> None:
    code = (
        "import sys; from rag.faces.cli import app; from typer.testing import CliRunner;"
        "[CliRunner().invoke(app, [c, '--help']) for c in ('serve', 'mcp')];"
        "print(','.join(m for m in ('starlette', 'uvicorn', 'mcp', 'openai', 'chromadb') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == ""


@pytest.mark.parametrize("command", [["serve", "--port", "0"], ["mcp"]])
def test_an_empty_index_stops_the_server_before_it_starts(command: list[str], fake_embeddings: None) -> None:
    result = CliRunner().invoke(cli_app, command)
    assert result.exit_code == 1, result.output
    assert result.output.splitlines()[-1].startswith("Error: ") and "rag ingest" in result.output
    assert "Traceback" not in result.output


def test_an_oversized_body_is_refused_before_it_is_asked() -> None:
    fake = FakeAssistant()
    got = client_for(fake).post("/v1/ask", json={"question": "x" * 1_100_000})
    assert got.status_code == 400 and got.json()["error"]["param"] == "body" and fake.asked == []
