"""What every command shares: the settings it runs with, its common options, and how a user error is shown."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any

import typer

from rag.core.errors import RagError

JsonOpt = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON.")]
LlmOpt = Annotated[
    str | None, typer.Option("--llm", help="LLM engine, e.g. ollama:MODEL (default: RAG_LLM, else extractive).")
]
LangOpt = Annotated[
    str | None,
    typer.Option(
        "--lang",
        metavar="ru|az|tr|fr|en",
        help="Answer in this language (default: RAG_LANG, the config's lang, else the question's). Quotes stay "
        "in their source's language.",
    ),
]


_invocation: dict[str, Any] = {}  # the common options of the command line being run, and its root context


def _remember(key: str) -> Any:
    """An option callback noting the value for settings(), note() and detail(); click calls it for every
    declared option, given or not, so the first call of a new command line clears the previous one's."""

    def callback(ctx: typer.Context, value: Any) -> Any:
        root = ctx.find_root()
        if _invocation.get("root") is not root:
            _invocation.clear()
            _invocation["root"] = root
        if value:
            _invocation[key] = value
        return value

    return callback


def _option(key: str) -> Any:
    return _invocation.get(key)


# Common options: declared on the root command and on every command; expose_value=False, so command bodies
# need not pass them on: settings(), note() and detail() read them.
ConfigOpt = Annotated[
    Path | None,
    typer.Option(
        "--config",
        metavar="FILE",
        help="Settings file (default: $RAG_CONFIG, else rag.toml in your config folder; see `rag config`).",
        callback=_remember("config"),
        expose_value=False,
    ),
]
VerboseOpt = Annotated[
    bool,
    typer.Option(
        "-v", "--verbose", help="Also say which settings apply and how long each step took (stderr).",
        callback=_remember("verbose"), expose_value=False,
    ),
]  # fmt: skip
QuietOpt = Annotated[
    bool,
    typer.Option(
        "-q", "--quiet", help="No progress, waiting or summary lines on stderr; results and errors only.",
        callback=_remember("quiet"), expose_value=False,
    ),
]  # fmt: skip


def is_quiet() -> bool:
    return bool(_option("quiet"))


def is_verbose() -> bool:
    return bool(_option("verbose")) and not is_quiet()


def note(message: str) -> None:
    """A line for the user on stderr (waiting, progress, hints), unless --quiet."""
    if not is_quiet():
        typer.echo(message, err=True)


def detail(message: str) -> None:
    """A line on stderr only with --verbose."""
    if is_verbose():
        typer.echo(message, err=True)


def examples(*lines: str) -> str:
    """A command's epilog: examples kept on their own lines (click rewraps other paragraphs)."""
    return "\b\nExamples:\n" + "\n".join(f"  {line}" if line else "" for line in lines)


@contextlib.contextmanager
def user_errors() -> Iterator[None]:
    """Expected failures become one line on stderr and exit code 1; Ctrl-C exits quietly."""
    try:
        yield
    except RagError as exc:
        typer.echo(f"Error: {exc}", err=True)
        raise typer.Exit(1) from None
    except KeyboardInterrupt:
        typer.echo("Interrupted.", err=True)
        raise typer.Exit(130) from None


def settings(**overrides: Any) -> Any:
    """Defaults < the config file (--config, $RAG_CONFIG, the user's rag.toml) < RAG_* < these options."""
    from rag.core.config import Settings

    found = Settings.from_env(config=_option("config"), **overrides)
    if is_verbose():
        chosen = [f"{name}={value} ({origin})" for name, value, origin in found.explain() if origin != "default"]
        detail(f"settings: {found.config_file or 'no config file'}; " + (", ".join(chosen) or "all defaults"))
    return found
