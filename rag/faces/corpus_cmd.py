"""The `rag corpus` commands: download the official texts named in corpus/sources.yaml and index them."""

from __future__ import annotations

import contextlib
import sys
import time
from collections.abc import Callable, Iterator
from typing import Annotated, Any

import typer

from rag.faces.common import ConfigOpt, QuietOpt, VerboseOpt, examples

corpus_app = typer.Typer(
    help="Official primary texts: download them from their official sites (the only command that uses "
    "the network) and index them beside the corpus.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,  # plain click help: importing rich's help renderer costs 0.2 s per start
)


NOTE_EVERY = 15.0  # seconds between the lines that say a slow download is still running


def _notes() -> Callable[[str, int, int | None], None]:
    """Without a terminal: a line on stderr while a download runs longer than NOTE_EVERY seconds.

    One line every NOTE_EVERY seconds, with what has arrived and when the download will be given up.
    """
    from rag.ingest.fetch import DEADLINE

    started: dict[str, float] = {}
    said: dict[str, float] = {}

    def update(name: str, done: int, total: int | None) -> None:
        now = time.monotonic()
        first = started.setdefault(name, now)
        if now - said.get(name, first) >= NOTE_EVERY:
            said[name] = now
            of = f" of {total / 1024:,.0f} KB" if total is not None else ""
            typer.echo(
                f"{name}: {done / 1024:,.0f} KB{of} after {now - first:.0f} s; still downloading "
                f"(given up after {DEADLINE:g} s)",
                err=True,
            )

    return update


@contextlib.contextmanager
def _progress(enabled: bool) -> Iterator[Any]:
    """Download bars on stderr, one per source, when stderr is a terminal; else a line for a slow download."""
    if not enabled or not sys.stderr.isatty():
        yield _notes()
        return
    from rich.console import Console
    from rich.markup import escape
    from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TransferSpeedColumn

    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        console=Console(stderr=True),
        transient=True,
    ) as bar:
        tasks: dict[str, Any] = {}

        def update(name: str, done: int, total: int | None) -> None:
            if name not in tasks:
                tasks[name] = bar.add_task(escape(name[:40]), total=total)
            bar.update(tasks[name], completed=done, total=total)

        yield update


@corpus_app.command(
    "fetch",
    epilog=examples(
        "rag corpus list                 # what can be fetched",
        "rag corpus fetch                # all of it, then index it",
        "rag corpus fetch coe-convention --no-ingest",
    ),
)
def fetch_cmd(
    names: Annotated[list[str] | None, typer.Argument(help="Source names (default: all; `rag corpus list`).")] = None,
    json_out: Annotated[bool, typer.Option("--json", help="Print machine-readable JSON.")] = False,
    no_ingest: Annotated[bool, typer.Option("--no-ingest", help="Download only; do not index.")] = False,
    config_file: ConfigOpt = None,
    verbose: VerboseOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """Download official texts into RAG_HOME/official (resuming partial downloads), then index them."""
    from rag.faces import render
    from rag.faces.common import is_quiet, settings, user_errors
    from rag.ingest.fetch import fetch, official_dir
    from rag.ingest.pipeline import ingest

    with user_errors(), _progress(enabled=not json_out and not is_quiet()) as progress:
        config = settings()
        report = fetch(names, config, progress=progress)
    ingested = None
    folder = official_dir(config)
    if not no_ingest and report.paths:
        with user_errors():
            ingested = ingest([folder], config)
    if json_out:
        typer.echo(render.to_json({**report.as_dict(), "ingest": ingested.as_dict() if ingested else None}))
    else:
        sizes = {p.stem: p.stat().st_size for p in report.paths if p.exists()}
        for name in report.fetched:
            typer.echo(f"{name}: fetched ({sizes.get(name, 0) / 1024:.0f} KB)")
        for name in report.skipped:
            typer.echo(f"{name}: already present")
        for name, reason in report.failed:
            typer.echo(f"{name}: FAILED: {reason}")
        typer.echo(
            f"{len(report.fetched)} fetched, {len(report.skipped)} already present, {len(report.failed)} failed; "
            f"files in {folder}"
        )
        if ingested is not None:
            typer.echo(render.ingest_text(ingested))
    if report.failed:
        names_failed = ", ".join(n for n, _ in report.failed)
        typer.echo(
            f"Error: {len(report.failed)} of {len(report.failed) + len(report.fetched) + len(report.skipped)} "
            f"sources could not be fetched ({names_failed}); run `rag corpus fetch` again to retry",
            err=True,
        )
        raise typer.Exit(1)


@corpus_app.command("list", epilog=examples("rag corpus list", "rag corpus list --json"))
def list_cmd(
    json_out: Annotated[bool, typer.Option("--json", help="Print machine-readable JSON.")] = False,
    config_file: ConfigOpt = None,
    verbose: VerboseOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """List the official sources in sources.yaml and whether each is downloaded."""
    from rag.faces import render
    from rag.faces.common import settings, user_errors
    from rag.ingest.fetch import catalog_path, load_catalog, present

    with user_errors():
        config = settings()
        catalog = load_catalog(catalog_path(config))
        rows = [(s, present(s, config)) for s in catalog]
    if json_out:
        typer.echo(
            render.to_json(
                [
                    {"name": s.name, "url": s.url, "format": s.format, **s.meta, "path": str(p) if p else None}
                    for s, p in rows
                ]
            )
        )
        return
    for source, path in rows:
        title = source.meta.get("title", source.name)
        citation = f" ({source.meta['citation']})" if source.meta.get("citation") else ""
        typer.echo(f"{source.name}: {'fetched' if path else 'not fetched'}")
        typer.echo(f"    {title}{citation}")
        typer.echo(f"    {source.url}")
    fetched = sum(1 for _, p in rows if p)
    typer.echo(f"{len(rows)} sources, {fetched} fetched; `rag corpus fetch [NAME ...]` downloads them")
