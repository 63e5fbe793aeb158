"""What every command shares: the settings it runs with, the --json option, and how a user error is shown."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Annotated, Any

import typer

from rag.core.errors import RagError

JsonOpt = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON.")]


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
    from rag.core.config import Settings

    return Settings.from_env(**overrides)
