"""The `rag` command: parses arguments, calls the library, renders the result."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any

import typer

from rag.faces.common import JsonOpt, settings, user_errors
from rag.faces.corpus_cmd import corpus_app
from rag.faces.session_cmd import session_app

app = typer.Typer(
    name="rag",
    help="Answers questions on the non-punishment principle for victims of trafficking, "
    "citing the instrument, provision and passage for every point. Offline by default.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,  # plain click help: importing rich's help renderer costs 0.2 s per start
)

app.add_typer(session_app, name="session")
app.add_typer(corpus_app, name="corpus")


@app.command()
def ingest(
    paths: Annotated[list[Path] | None, typer.Argument(help="Files or folders (default: the corpus).")] = None,
    json_out: JsonOpt = False,
    wait: Annotated[bool, typer.Option("--wait", help="Wait for another ingest instead of failing.")] = False,
    rebuild: Annotated[bool, typer.Option("--rebuild", help="Drop the index and build it again.")] = False,
) -> None:
    """Index files and folders; unchanged files are skipped, changed ones re-indexed, vanished ones removed."""
    from rag.faces import render
    from rag.ingest.pipeline import ingest as run_ingest

    with user_errors(), _progress(enabled=not json_out) as progress:
        report = run_ingest(paths, settings(), progress=progress, wait=wait, rebuild=rebuild)
    typer.echo(render.to_json(report.as_dict()) if json_out else render.ingest_text(report))


@contextlib.contextmanager
def _progress(enabled: bool) -> Iterator[Any]:
    """A progress bar on stderr while files are embedded, when stderr is a terminal."""
    if not enabled or not sys.stderr.isatty():
        yield None
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=Console(stderr=True),
        transient=True,
    ) as bar:
        task = bar.add_task("Loading model", total=None)

        def update(path: str, done: int, total: int) -> None:
            bar.update(task, total=total, completed=done, description=f"Indexing {Path(path).name[:40]}")

        yield update


@app.command()
def ask(
    question: Annotated[str, typer.Argument(help="The question, in quotes.")],
    k: Annotated[int | None, typer.Option("--k", help="How many passages to retrieve (1-50).")] = None,
    where: Annotated[
        list[str] | None,
        typer.Option("--where", help="Filter: KEY=VALUE (doc, jurisdiction, type, language, citation, pinpoint)."),
    ] = None,
    llm: Annotated[
        str | None, typer.Option("--llm", help="LLM engine, e.g. ollama:MODEL (default: RAG_LLM, else extractive).")
    ] = None,
    json_out: JsonOpt = False,
) -> None:
    """Answer one question with pinpoint citations, or say the sources do not address it."""
    from rag.answer.assistant import Assistant
    from rag.faces import render
    from rag.retrieve.filters import parse_filters

    with user_errors():
        filters = parse_filters(where)
        assistant = Assistant(settings(k=k, llm=llm), on_wait=lambda msg: typer.echo(msg, err=True))
        answer = assistant.ask(question, k, filters)
    typer.echo(render.to_json(answer.as_dict()) if json_out else render.answer_text(answer))


@app.command()
def sources(json_out: JsonOpt = False) -> None:
    """List the indexed documents with their metadata and chunk counts."""
    from rag.faces import render
    from rag.index.catalog import list_sources

    with user_errors():
        found = list_sources(settings())
    if json_out:
        typer.echo(
            render.to_json(
                [{"doc_id": s.doc_id, "path": s.path, "chunks": s.chunks, **s.meta.as_dict()} for s in found]
            )
        )
    else:
        typer.echo(render.sources_text(found))


@app.command()
def chat(
    llm: Annotated[str | None, typer.Option("--llm", help="LLM engine (default: RAG_LLM, else extractive).")] = None,
) -> None:
    """Open the terminal chat (type /help inside)."""
    from rag.faces.chat import run_chat

    with user_errors():
        run_chat(settings(llm=llm))


@app.command("config")
def show_config(json_out: JsonOpt = False) -> None:
    """Show the effective settings (defaults, then RAG_* variables)."""
    from rag.faces import render

    with user_errors():
        described = settings().describe()
    typer.echo(render.to_json(described) if json_out else "\n".join(f"{k}: {v}" for k, v in described.items()))


def main() -> None:
    app()


@app.command("eval")
def eval_command(
    gold: Annotated[Path, typer.Argument(help="Gold set: one JSON object per line (see README).")],
    k: Annotated[int, typer.Option("--k", help="Passages retrieved per question.")] = 5,
    json_out: JsonOpt = False,
    show: Annotated[bool, typer.Option("--show-misses", help="List the questions that missed.")] = False,
) -> None:
    """Measure retrieval (recall@k, MRR), refusals and latency on a gold set."""
    from rag.answer.assistant import Assistant
    from rag.answer.evaluate import evaluate, load_gold
    from rag.faces import render

    with user_errors():
        items = load_gold(gold)
        report = evaluate(items, Assistant(settings(k=k)), k)
    if json_out:
        typer.echo(render.to_json({**report.summary(), "results": [vars(r) for r in report.results]}))
        return
    for key, value in report.summary().items():
        typer.echo(f"{key:>18}: {value}")
    if show:
        for r in report.results:
            if (r.answerable and (r.pin_recall < 1 or r.refused)) or (not r.answerable and not r.refused):
                typer.echo(f"MISS {r.id} pin={r.pin_recall:.2f} refused={r.refused}: {r.question}\n     top: {r.top}")


ServeToken = Annotated[
    str | None,
    typer.Option("--token", envvar="RAG_SERVE_TOKEN", help="Require Authorization: Bearer TOKEN (or RAG_SERVE_TOKEN)."),
]


@app.command()
def serve(
    host: Annotated[str, typer.Option("--host", help="Address to listen on; off loopback a token is required.")] = (
        "127.0.0.1"
    ),
    port: Annotated[int, typer.Option("--port", help="Port to listen on.", min=0, max=65535)] = 8400,
    token: ServeToken = None,
    llm: Annotated[str | None, typer.Option("--llm", help="LLM engine (default: RAG_LLM, else extractive).")] = None,
) -> None:
    """Serve an OpenAI-compatible API (/v1/chat/completions, /v1/models) and /v1/ask for chat front ends."""
    from rag.faces.serve import serve as run_server

    with user_errors():
        run_server(settings(llm=llm), host, port, token, say=lambda msg: typer.echo(msg, err=True))


@app.command()
def mcp(
    llm: Annotated[str | None, typer.Option("--llm", help="LLM engine (default: RAG_LLM, else extractive).")] = None,
) -> None:
    """Serve the tools search_sources, ask and get_passage to an MCP client over stdio."""
    from rag.faces.mcp_server import serve_stdio

    with user_errors():
        serve_stdio(settings(llm=llm), say=lambda msg: typer.echo(msg, err=True))
