"""`rag session`: check and run a trainer's scripted questions, writing results and transcripts."""

from __future__ import annotations

import contextlib
import enum
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from rag.faces.common import ConfigOpt, LangOpt, LlmOpt, QuietOpt, VerboseOpt, examples

if TYPE_CHECKING:
    from rag.faces.script import Question, Result, Script

MAX_PROBLEMS = 20

session_app = typer.Typer(
    help="Scripted Q&A sessions for workshops: check a script, run it, hand out the transcript.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,  # plain click help: importing rich's help renderer costs 0.2 s per start
)


class Format(enum.StrEnum):
    """Transcript formats: Markdown and HTML are always written; docx on request."""

    md = "md"
    html = "html"
    docx = "docx"


ScriptArg = Annotated[Path, typer.Argument(help="The session script (YAML), e.g. sessions/judges-basics.yaml.")]


@session_app.command(
    epilog=examples(
        "rag session check sessions/judges-basics.yaml",
        "rag session check my-workshop.yaml --json",
    )
)
def check(
    script: ScriptArg,
    json_out: Annotated[bool, typer.Option("--json", help="Print {script, ok, questions, problems} as JSON.")] = False,
    config_file: ConfigOpt = None,
    verbose: VerboseOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """Validate a script; every mistake is reported as SCRIPT:LINE: what is wrong; how to fix."""
    from rag.faces import render
    from rag.faces.common import user_errors
    from rag.faces.script import parse_script

    with user_errors():
        parsed, problems = parse_script(script)
    if json_out:
        typer.echo(
            render.to_json(
                {
                    "script": str(script),
                    "ok": parsed is not None,
                    "questions": len(parsed.questions) if parsed else None,
                    "problems": [{"line": p.line, "message": p.message} for p in problems],
                }
            )
        )
        raise typer.Exit(0 if parsed is not None else 1)
    if parsed is None:
        for problem in problems[:MAX_PROBLEMS]:
            typer.echo(problem.format(script), err=True)
        if len(problems) > MAX_PROBLEMS:
            typer.echo(f"... and {len(problems) - MAX_PROBLEMS} more problems", err=True)
        raise typer.Exit(1)
    typer.echo(f"OK: {len(parsed.questions)} questions")


@session_app.command(
    epilog=examples(
        "rag session run sessions/judges-basics.yaml",
        "rag session run workshop.yaml --out handouts/ --format docx",
        "rag session run workshop.yaml --out handouts/ --resume   # after an interruption",
    )
)
def run(
    script: ScriptArg,
    out: Annotated[
        Path | None, typer.Option("--out", help="Folder for results and transcripts (default: session-out/SCRIPT).")
    ] = None,
    resume: Annotated[bool, typer.Option("--resume", help="Continue an interrupted run in the same --out.")] = False,
    llm: LlmOpt = None,
    lang: LangOpt = None,
    json_out: Annotated[bool, typer.Option("--json", help="Print a machine-readable summary.")] = False,
    formats: Annotated[
        list[Format] | None,
        typer.Option("--format", help="Also write this transcript format (transcript.md and .html always)."),
    ] = None,
    config_file: ConfigOpt = None,
    verbose: VerboseOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """Ask every question of a script; exit 0 only when every expectation passes."""
    from rag.answer.assistant import Assistant
    from rag.assess.service import CaseReader
    from rag.faces import render
    from rag.faces.common import is_quiet, note, settings, user_errors
    from rag.faces.script import load_script
    from rag.faces.sessions import prepare_output, run_session

    out_dir = out or Path("session-out") / script.stem
    docx = Format.docx in (formats or [])
    with user_errors():
        parsed = load_script(script)
        prepare_output(out_dir, resume)
        # The answers' language: --lang, the script's `language:`, RAG_LANG or the config, else each question's.
        assistant = Assistant(settings(llm=llm, lang=lang or parsed.language), on_wait=note)
        try:
            with _progress(enabled=sys.stderr.isatty() and not is_quiet()) as on_question:
                results = run_session(parsed, assistant, out_dir, resume, on_question, CaseReader(assistant))
        except KeyboardInterrupt:
            if docx:
                _write_docx(parsed, out_dir)
            typer.echo(f"Interrupted; answers so far are in {out_dir}; run again with --resume to continue.", err=True)
            raise typer.Exit(130) from None
        if docx:
            _write_docx(parsed, out_dir)
    failed = [r for r in results if not r.passed]
    if json_out:
        typer.echo(render.to_json(_summary(parsed.title, out_dir, results)))
    else:
        if not is_quiet():
            _print_table(results)
        transcript = out_dir / ("transcript.docx" if docx else "transcript.html")
        typer.echo(f"{len(results) - len(failed)} of {len(results)} questions passed; transcript: {transcript}")
    raise typer.Exit(1 if failed else 0)


def _write_docx(script: Script, out_dir: Path) -> None:
    """transcript.docx beside transcript.md and .html, from the results recorded so far."""
    from rag.core.errors import SessionOutputError
    from rag.faces import docx_transcript
    from rag.faces.sessions import RESULTS, answered, read_results

    done = answered(script, read_results(out_dir / RESULTS))
    results = [done[q.id] for q in script.questions if q.id in done]
    try:
        docx_transcript.save(docx_transcript.session_document(script, results), out_dir / "transcript.docx")
    except OSError as exc:
        raise SessionOutputError(f"--out {out_dir}: cannot write transcript.docx ({exc.strerror})") from None


@session_app.command(
    "examples",
    epilog=examples("rag session examples", 'rag session run "$(rag session examples --path judges-basics)"'),
)
def examples_cmd(
    name: Annotated[str | None, typer.Option("--path", help="Print only the path of this example.")] = None,
    config_file: ConfigOpt = None,
    verbose: VerboseOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """List the example session scripts that come with rag, with their paths (copy one to start your own)."""
    from rag.core.resources import data_dir
    from rag.faces.common import user_errors
    from rag.faces.script import load_script

    folder = data_dir("sessions")
    found = sorted(folder.glob("*.yaml"))
    if name is not None:
        match = [p for p in found if p.stem == name.removesuffix(".yaml")]
        if not match:
            names = ", ".join(p.stem for p in found) or "none"
            typer.echo(f"Error: no example session {name!r}; the examples are: {names}", err=True)
            raise typer.Exit(1)
        typer.echo(str(match[0]))
        return
    with user_errors():
        for path in found:
            parsed = load_script(path)
            typer.echo(f"{path.stem}: {parsed.title} ({len(parsed.questions)} questions)\n    {path}")


@contextlib.contextmanager
def _progress(enabled: bool) -> Iterator[Callable[[int, int, Question], Any] | None]:
    """'Question 3/10' on stderr while a terminal watches."""
    if not enabled:
        yield None
        return
    from rich.console import Console
    from rich.text import Text

    with Console(stderr=True).status("Loading the index") as status:

        def update(n: int, total: int, question: Question) -> None:
            status.update(Text(f"Question {n}/{total}: {_cut(question.ask, 60)}"))  # Text: no markup in questions

        yield update


def _cut(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def _summary(title: str, out_dir: Path, results: list[Result]) -> dict[str, Any]:
    return {
        "title": title,
        "out": str(out_dir),
        "questions": len(results),
        "passed": sum(r.passed for r in results),
        "failed": sum(not r.passed for r in results),
        "results": [
            {
                "id": r.id,
                "question": r.answer.question,
                "refused": r.answer.refused,
                "cited": [c.pinpoint for c in r.answer.citations],
                "checks": [c.as_dict() for c in r.checks],
                "passed": r.passed,
            }
            for r in results
        ],
    }


def _print_table(results: list[Result]) -> None:
    """The results as a table; every cell is Text, so "[/]" or "[sic]" in a question or source is shown as typed."""
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    table = Table(title="Session results")
    table.add_column("#", justify="right", no_wrap=True)
    table.add_column("question")
    table.add_column("cited")
    table.add_column("checks")
    table.add_column("result", no_wrap=True, min_width=6)
    for r in results:
        # The pinpoint where there is one, else the short citation of the source (national notes have none).
        cited = "; ".join(dict.fromkeys(c.pinpoint or c.citation or c.title for c in r.answer.citations))
        if r.answer.refused:
            cited = "(refused)"
        checks = "\n".join(f"{'✓' if c.passed else '✗'} {c.expected}" for c in r.checks) or "—"
        result = (Text("PASS", style="green") if r.passed else Text("FAIL", style="red")) if r.checks else Text("—")
        table.add_row(Text(str(r.id)), Text(_cut(r.answer.question, 36)), Text(cited), Text(checks), result)
    Console().print(table)
