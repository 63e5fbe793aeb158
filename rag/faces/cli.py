"""The `rag` command: parses arguments, calls the library, renders the result."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any

import typer

from rag.faces.assess_cmd import EPILOG as ASSESS_EPILOG
from rag.faces.assess_cmd import assess as assess_command
from rag.faces.common import (
    ConfigOpt,
    JsonOpt,
    LangOpt,
    LlmOpt,
    QuietOpt,
    VerboseOpt,
    detail,
    examples,
    is_quiet,
    note,
    settings,
    user_errors,
)
from rag.faces.corpus_cmd import corpus_app
from rag.faces.session_cmd import session_app

app = typer.Typer(
    name="rag",
    help="Answers questions on the non-punishment principle for victims of trafficking, "
    "citing the instrument, provision and passage for every point. Offline by default.",
    no_args_is_help=True,
    add_completion=True,  # --install-completion / --show-completion for bash, zsh, fish and PowerShell
    pretty_exceptions_enable=False,
    rich_markup_mode=None,  # plain click help: importing rich's help renderer costs 0.2 s per start
    epilog=examples(
        "rag ingest                      # index the bench book (or: rag ingest FOLDER ...)",
        'rag ask "Is Article 26 of the CoE Convention binding?"',
        'rag assess "A 15-year-old found in a cannabis farm in Leeds"',
        "rag chat",
        "rag config                      # the settings in force and where each comes from",
    ),
)

app.add_typer(session_app, name="session")
app.add_typer(corpus_app, name="corpus")
app.command("assess", epilog=ASSESS_EPILOG)(assess_command)


def _version(value: bool) -> None:
    if value:
        from rag.core.version import __version__

        typer.echo(f"rag {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool, typer.Option("--version", help="Show the version and exit.", is_eager=True, callback=_version)
    ] = False,
    config_file: ConfigOpt = None,
    verbose: VerboseOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """Options every command takes."""


@app.command(
    epilog=examples(
        "rag ingest                      # the corpus (RAG_CORPUS, else the bench book)",
        "rag ingest ~/cases/notes report.pdf --json",
        "rag ingest --wait               # queue behind another ingest instead of failing",
    )
)
def ingest(
    paths: Annotated[list[Path] | None, typer.Argument(help="Files or folders (default: the corpus).")] = None,
    json_out: JsonOpt = False,
    wait: Annotated[bool, typer.Option("--wait", help="Wait for another ingest instead of failing.")] = False,
    rebuild: Annotated[bool, typer.Option("--rebuild", help="Drop the index and build it again.")] = False,
    config_file: ConfigOpt = None,
    verbose: VerboseOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """Index files and folders; unchanged files are skipped, changed ones re-indexed, vanished ones removed."""
    from rag.faces import render
    from rag.ingest.pipeline import ingest as run_ingest

    with user_errors(), _progress(enabled=not json_out and not is_quiet()) as progress:
        report = run_ingest(paths, settings(), progress=progress, wait=wait, rebuild=rebuild)
    typer.echo(render.to_json(report.as_dict()) if json_out else render.ingest_text(report))


@contextlib.contextmanager
def _progress(enabled: bool) -> Iterator[Any]:
    """A progress bar on stderr while files are embedded, when stderr is a terminal."""
    if not enabled or not sys.stderr.isatty():
        yield None
        return
    from rich.console import Console
    from rich.markup import escape
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
            bar.update(task, total=total, completed=done, description=f"Indexing {escape(Path(path).name[:40])}")

        yield update


@app.command(
    epilog=examples(
        'rag ask "Is Article 26 of the CoE Convention binding?"',
        'rag ask "What must a prosecutor do before charging?" --where jurisdiction=UK --k 8',
        'rag ask "What does Azerbaijan\'s action plan say?" --json',
    )
)
def ask(
    question: Annotated[str, typer.Argument(help="The question, in quotes.")],
    k: Annotated[int | None, typer.Option("--k", help="How many passages to retrieve (1-50).")] = None,
    where: Annotated[
        list[str] | None,
        typer.Option("--where", help="Filter: KEY=VALUE (doc, jurisdiction, type, language, citation, pinpoint)."),
    ] = None,
    llm: LlmOpt = None,
    lang: LangOpt = None,
    json_out: JsonOpt = False,
    config_file: ConfigOpt = None,
    verbose: VerboseOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """Answer one question with pinpoint citations, or say the sources do not address it."""
    from rag.answer.assistant import Assistant
    from rag.faces import render
    from rag.retrieve.filters import parse_filters

    with user_errors():
        filters = parse_filters(where)
        assistant = Assistant(settings(k=k, llm=llm, lang=lang), on_wait=note)
        answer = assistant.ask(question, k, filters)
    detail("timings: " + ", ".join(f"{step} {ms:.0f} ms" for step, ms in answer.timings_ms.items()))
    typer.echo(render.to_json(answer.as_dict()) if json_out else render.answer_text(answer))


@app.command(epilog=examples("rag sources", "rag sources --json"))
def sources(
    json_out: JsonOpt = False, config_file: ConfigOpt = None, verbose: VerboseOpt = False, quiet: QuietOpt = False
) -> None:
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


@app.command(
    epilog=examples(
        "rag chat",
        "rag chat --llm ollama:llama3.2     # opt in to a local LLM engine",
        "(inside: /help, /sources, /open 1, /save notes.docx)",
    )
)
def chat(
    llm: LlmOpt = None,
    lang: LangOpt = None,
    config_file: ConfigOpt = None,
    verbose: VerboseOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """Open the terminal chat (type /help inside)."""
    from rag.faces.chat import run_chat

    with user_errors():
        run_chat(settings(llm=llm, lang=lang))


@app.command(
    "config",
    epilog=examples(
        "rag config",
        "rag config --config team.toml --json",
        "",
        "\b",
        "A rag.toml holds any of these keys, e.g.:",
        '  chroma_url = "http://10.0.0.5:8000"',
        '  llm = "ollama:llama3.2"',
        "  k = 8",
        "Relative paths are read from the file's folder. Later sources win: defaults, the file,",
        "RAG_<KEY> variables (RAG_CHROMA_URL, RAG_K, ...), then options.",
    ),
)
def show_config(
    json_out: JsonOpt = False, config_file: ConfigOpt = None, verbose: VerboseOpt = False, quiet: QuietOpt = False
) -> None:
    """Show the effective settings and where each comes from (default, the config file and line, a RAG_*
    variable or an option)."""
    from rag.core.settings_file import default_config_path
    from rag.faces import render

    with user_errors():
        current = settings()
    file_line = str(current.config_file) if current.config_file else f"none ({default_config_path()} does not exist)"
    if json_out:
        listed = {name: {"value": _plain(value), "origin": origin} for name, value, origin in current.explain()}
        read = str(current.config_file) if current.config_file else None
        typer.echo(render.to_json({**current.describe(), "config_file": read, "settings": listed}))
        return
    typer.echo(f"config file: {file_line}")
    for name, value, origin in current.explain():
        typer.echo(f"{name}: {'(unset)' if value is None else value}  ({origin})")
    described = current.describe()
    typer.echo(f"store: {described['store']}\nengine: {described['engine']}")


def _plain(value: Any) -> Any:
    return str(value) if isinstance(value, Path) else value


def main() -> None:
    app()


@app.command("eval", epilog=examples("rag eval tests/gold/questions.jsonl --k 5", "rag eval gold.jsonl --json"))
def eval_command(
    gold: Annotated[Path, typer.Argument(help="Gold set: one JSON object per line (see README).")],
    k: Annotated[int, typer.Option("--k", help="Passages retrieved per question.")] = 5,
    json_out: JsonOpt = False,
    show: Annotated[bool, typer.Option("--show-misses", help="List the questions that missed.")] = False,
    config_file: ConfigOpt = None,
    verbose: VerboseOpt = False,
    quiet: QuietOpt = False,
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
            if (r.answerable and (r.pin_recall < 1 or r.refused)) or (not r.answerable and not r.handled):
                typer.echo(
                    f"MISS {r.id} pin={r.pin_recall:.2f} coverage={r.coverage} not_covered={r.not_covered}: "
                    f"{r.question}\n     top: {r.top}"
                )


ServeToken = Annotated[
    str | None,
    typer.Option("--token", envvar="RAG_SERVE_TOKEN", help="Require Authorization: Bearer TOKEN (or RAG_SERVE_TOKEN)."),
]


@app.command(
    epilog=examples(
        "rag serve                       # http://127.0.0.1:8400/v1, this machine only",
        "RAG_SERVE_TOKEN=$(openssl rand -hex 16) rag serve --host 0.0.0.0",
        "rag serve --port 8500 --llm ollama:llama3.2",
    )
)
def serve(
    host: Annotated[str, typer.Option("--host", help="Address to listen on; off loopback a token is required.")] = (
        "127.0.0.1"
    ),
    port: Annotated[int, typer.Option("--port", help="Port to listen on.", min=0, max=65535)] = 8400,
    token: ServeToken = None,
    llm: LlmOpt = None,
    config_file: ConfigOpt = None,
    verbose: VerboseOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """Serve an OpenAI-compatible API (/v1/chat/completions, /v1/models) and /v1/ask for chat front ends."""
    from rag.faces.serve import serve as run_server

    with user_errors():
        run_server(settings(llm=llm), host, port, token, say=lambda msg: typer.echo(msg, err=True))


@app.command(
    epilog=examples(
        "rag mcp                         # started by the MCP client, which talks to it on stdin/stdout",
        'client config: {"mcpServers": {"rag-nonpunishment": {"command": "rag", "args": ["mcp"]}}}',
    )
)
def mcp(
    llm: LlmOpt = None,
    config_file: ConfigOpt = None,
    verbose: VerboseOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """Serve the tools search_sources, ask, get_passage and assess to an MCP client over stdio."""
    from rag.faces.mcp_server import serve_stdio

    with user_errors():
        serve_stdio(settings(llm=llm), say=lambda msg: typer.echo(msg, err=True))
