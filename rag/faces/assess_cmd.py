"""`rag assess`: one case read against the non-punishment pathway of its forum, step by step."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from rag.faces.common import ConfigOpt, JsonOpt, QuietOpt, VerboseOpt, detail, examples, settings, user_errors

EPILOG = examples(
    'rag assess "A 15-year-old found in a cannabis farm in Leeds, charged with cannabis production"',
    'rag assess "An adult man stopped with a false passport at Baku airport" --json',
    "rag assess --file case.md --forum UK-SC",
    'rag assess "She was forced to sell drugs; she is 17" --forum EU:Spain',
    "",
    "Forums: UK-EW, UK-SC, UK-NI, EU (or EU:STATE), AZ, US; without --forum it is read from the case.",
)


def _case_text(text: str | None, file: Path | None) -> str:
    from rag.core.errors import BadCase

    if text and file:
        raise BadCase("give the case as text or with --file, not both")
    if file is None:
        if not text:
            raise BadCase('no case given; write it in quotes (rag assess "...") or use --file FILE')
        return text
    try:
        return file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        why = exc.strerror if isinstance(exc, OSError) and exc.strerror else "not UTF-8 text"
        raise BadCase(f"cannot read the case file {file}: {why}; give a readable text file") from None


def assess(
    text: Annotated[str | None, typer.Argument(help="The case, in quotes.")] = None,
    file: Annotated[Path | None, typer.Option("--file", help="Read the case from a text or Markdown file.")] = None,
    forum: Annotated[
        str | None, typer.Option("--forum", help="The forum: UK-EW, UK-SC, UK-NI, EU[:STATE], AZ or US.")
    ] = None,
    json_out: JsonOpt = False,
    config_file: ConfigOpt = None,
    verbose: VerboseOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """A structured, cited reading of one case: the facts understood, each step of the forum's pathway, what is open."""
    from rag.assess.service import assess as run_assess
    from rag.faces import render
    from rag.faces.assess_render import assessment_text

    with user_errors():
        result = run_assess(_case_text(text, file), settings(), forum)
    detail("timings: " + ", ".join(f"{k} {ms:.0f} ms" for k, ms in result.timings_ms.items()))
    typer.echo(render.to_json(result.as_dict()) if json_out else assessment_text(result))
