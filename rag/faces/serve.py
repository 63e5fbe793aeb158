"""`rag serve`: an OpenAI-compatible HTTP API (Starlette on uvicorn) over one shared Assistant."""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import ipaddress
import json
import logging
import socket
import time
from collections.abc import AsyncIterator, Callable, Iterator
from typing import TYPE_CHECKING, Any

from rag.core.config import Settings
from rag.core.errors import (
    BadCase,
    BadFilter,
    BadQuestion,
    BadRequest,
    EmptyQuestion,
    NotFound,
    RagError,
    ServeError,
)
from rag.core.records import Answer
from rag.faces import openai_format as wire
from rag.faces.shared import SharedAssistant

if TYPE_CHECKING:
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import Response
    from starlette.types import ASGIApp, Receive, Scope, Send

MAX_BODY = 1_000_000
TOKEN_ENV = "RAG_SERVE_TOKEN"
log = logging.getLogger("rag.serve")


def is_loopback(host: str) -> bool:
    if host.strip().lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False  # a host name other than localhost may resolve to any interface


def check_bind(host: str, token: str | None) -> None:
    """Refuse an address other machines can reach unless a token guards it."""
    if not token and not is_loopback(host):
        raise ServeError(
            f"--host {host} can be reached from other machines; set a token with --token or {TOKEN_ENV} "
            "(clients then send Authorization: Bearer TOKEN), or serve on 127.0.0.1"
        )


def listen(host: str, port: int) -> socket.socket:
    """The listening socket, bound now so a busy port is one clear error rather than a log line from uvicorn."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    try:
        return socket.create_server((host.strip("[]"), port), family=family)
    except OSError as exc:
        raise ServeError(f"cannot listen on {host}:{port} ({exc.strerror}); choose another port with --port") from None


def _status(exc: RagError) -> tuple[int, str]:
    if isinstance(exc, BadRequest | BadFilter | EmptyQuestion | BadQuestion):
        return 400, "invalid_request_error"
    if isinstance(exc, NotFound):
        return 404, "not_found_error"
    return 503, "server_error"  # the index is busy, empty or unreachable, or the LLM server failed


def _error_response(exc: RagError) -> Response:
    from starlette.responses import JSONResponse

    status, kind = _status(exc)
    param = exc.param if isinstance(exc, BadRequest) else None
    return JSONResponse(wire.error(str(exc), kind, param), status_code=status)


@contextlib.contextmanager
def _about(param: str) -> Iterator[None]:
    """An unusable question becomes a 400 naming the field it came in."""
    try:
        yield
    except (EmptyQuestion, BadQuestion) as exc:
        raise BadRequest(param, str(exc)) from None


class BearerToken:
    """ASGI middleware: every request must carry `Authorization: Bearer TOKEN`, or gets a JSON 401."""

    def __init__(self, app: ASGIApp, token: str) -> None:
        self.app = app
        self.token = token.encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        from starlette.responses import JSONResponse

        if scope["type"] == "http":
            sent = dict(scope["headers"]).get(b"authorization", b"")
            scheme, _, value = sent.partition(b" ")
            if scheme.lower() != b"bearer" or not hmac.compare_digest(value.strip(), self.token):
                body = wire.error(
                    "missing or wrong bearer token: send Authorization: Bearer TOKEN (the server's --token)",
                    "authentication_error",
                    code="invalid_api_key",
                )
                await JSONResponse(body, status_code=401, headers={"WWW-Authenticate": "Bearer"})(scope, receive, send)
                return
        await self.app(scope, receive, send)


async def _body(request: Request) -> Any:
    declared = request.headers.get("content-length", "")
    raw = b"" if declared.isdigit() and int(declared) > MAX_BODY else await request.body()
    size = max(len(raw), int(declared) if declared.isdigit() else 0)
    if size > MAX_BODY:
        raise BadRequest("body", f"is {size:,} bytes; send at most {MAX_BODY:,}")
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise BadRequest("body", f"is not valid JSON ({exc})") from None


def _sse(data: Any) -> str:
    return f"data: {json.dumps(data, ensure_ascii=False)}\n\n"


def _tail(answer: Answer, cid: str, created: int, streamed: bool) -> Iterator[str]:
    """What follows the tokens: the answer when none streamed, the sources, the ask JSON, [DONE]."""
    text = f"\n\n{wire.sources_markdown(answer)}" if streamed else wire.content(answer)
    yield _sse(wire.chunk(cid, created, {"content": text}))
    yield _sse(wire.chunk(cid, created, {}, "stop", rag=answer.as_dict()))
    yield "data: [DONE]\n\n"


async def _replay(answer: Answer, cid: str, created: int) -> AsyncIterator[str]:
    yield _sse(wire.chunk(cid, created, {"role": "assistant", "content": ""}))
    for event in _tail(answer, cid, created, streamed=False):
        yield event


async def _live(shared: SharedAssistant, req: wire.AskRequest, cid: str, created: int) -> AsyncIterator[str]:
    """The engine's tokens as they come (as the chat prints them), then the verified answer's sources."""
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[tuple[str, Any]] = asyncio.Queue()

    def put(kind: str, value: Any) -> None:
        with contextlib.suppress(RuntimeError):  # the loop closed: the server is stopping
            loop.call_soon_threadsafe(queue.put_nowait, (kind, value))

    def work() -> None:
        try:
            put("done", shared.ask(req.question, req.earlier, req.k, req.filters, lambda t: put("token", t)))
        except Exception as exc:
            put("error", exc)

    yield _sse(wire.chunk(cid, created, {"role": "assistant", "content": ""}))
    worker = asyncio.ensure_future(asyncio.to_thread(work))
    streamed = False
    while True:
        kind, value = await queue.get()
        if kind == "token":
            streamed = True
            yield _sse(wire.chunk(cid, created, {"content": value}))
            continue
        await worker
        if kind == "error":
            if not isinstance(value, RagError):
                log.error("answering failed", exc_info=value)
            message = str(value) if isinstance(value, RagError) else "internal error; see the server's log"
            yield _sse(wire.error(message, "server_error"))  # the status line is sent: the error goes in band
            return
        for event in _tail(value, cid, created, streamed):
            yield event
        return


def create_app(shared: SharedAssistant, token: str | None = None) -> Starlette:
    """The ASGI app: /v1/models, /v1/chat/completions, /v1/ask and /v1/assess."""
    from starlette.applications import Starlette
    from starlette.exceptions import HTTPException
    from starlette.middleware import Middleware
    from starlette.responses import JSONResponse, StreamingResponse
    from starlette.routing import Route

    created = int(time.time())

    async def models(request: Request) -> Response:
        return JSONResponse({"object": "list", "data": [wire.model_entry(shared.engine, created)]})

    async def ask(request: Request) -> Response:
        req = wire.parse_ask(await _body(request))
        with _about("question"):
            answer = await asyncio.to_thread(shared.ask, req.question, (), req.k, req.filters)
        return JSONResponse(answer.as_dict())

    async def chat(request: Request) -> Response:
        from rag.answer.assistant import clean_question

        req = wire.parse_chat(await _body(request))
        cid, now = wire.new_id(), int(time.time())
        with _about(req.param):
            clean_question(req.question)
            if req.stream and hasattr(shared.assistant.engine, "stream"):
                events = _live(shared, req, cid, now)
            else:
                # Answered before the stream opens, so a failure still gets its own status code.
                answer = await asyncio.to_thread(shared.ask, req.question, req.earlier, req.k, req.filters)
                if not req.stream:
                    return JSONResponse(wire.completion(answer, cid, now))
                events = _replay(answer, cid, now)
        headers = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
        return StreamingResponse(events, media_type="text/event-stream", headers=headers)

    async def assess(request: Request) -> Response:
        case, forum = wire.parse_assess(await _body(request))
        try:
            result = await asyncio.to_thread(shared.assess, case, forum)
        except BadCase as exc:
            raise BadRequest("forum" if str(exc).startswith("unknown forum") else "case", str(exc)) from None
        return JSONResponse(result.as_dict())

    async def rag_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, RagError)
        return _error_response(exc)

    async def http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        message = f"{request.method} {request.url.path}: {exc.detail}"
        return JSONResponse(wire.error(message, "invalid_request_error"), status_code=exc.status_code)

    async def internal_error(request: Request, exc: Exception) -> Response:
        log.error("%s %s failed", request.method, request.url.path, exc_info=exc)
        return JSONResponse(wire.error("internal error; see the server's log", "server_error"), status_code=500)

    return Starlette(
        routes=[
            Route("/v1/models", models, methods=["GET"]),
            Route("/v1/chat/completions", chat, methods=["POST"]),
            Route("/v1/ask", ask, methods=["POST"]),
            Route("/v1/assess", assess, methods=["POST"]),
        ],
        middleware=[Middleware(BearerToken, token=token)] if token else [],
        exception_handlers={RagError: rag_error, HTTPException: http_error, Exception: internal_error},
    )


def _log_config() -> dict[str, Any]:
    """uvicorn's logging, with its access lines on stderr too: stdout stays free for a caller's use."""
    import copy

    from uvicorn.config import LOGGING_CONFIG

    config = copy.deepcopy(LOGGING_CONFIG)
    config["handlers"]["access"]["stream"] = "ext://sys.stderr"
    return config


def serve(settings: Settings, host: str, port: int, token: str | None, say: Callable[[str], Any]) -> None:
    """Check the address, load the model and index, then answer requests until Ctrl-C."""
    import uvicorn

    from rag.answer.assistant import Assistant

    token = token or None
    check_bind(host, token)
    sock = listen(host, port)
    try:
        shared = SharedAssistant(Assistant(settings, on_wait=say))
        say("Loading the model and opening the index…")
        shared.warm()
        app = create_app(shared, token)
        bound = sock.getsockname()[1]
        shown = f"[{host}]" if ":" in host else host
        guard = "a bearer token is required" if token else "no token: loopback only"
        say(f"Serving {wire.MODEL_ID} (engine {shared.engine}) on http://{shown}:{bound}/v1 ({guard}); Ctrl-C stops.")
        config = uvicorn.Config(app, log_config=_log_config(), timeout_graceful_shutdown=5)
        uvicorn.Server(config).run(sockets=[sock])
    finally:
        sock.close()
