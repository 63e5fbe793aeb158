"""How the chat shows answers, sources and passages (rich), and writes its Markdown transcript."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from rag.core.labels import coverage_note, source_name
from rag.core.records import Answer, Citation
from rag.faces.render import not_verified, preamble, short_quote, sources_heading

if TYPE_CHECKING:
    from rich.console import Console
    from rich.text import Text


@dataclass
class Exchange:
    """One question of the chat: as typed, as searched, with the filters in force and its answer."""

    question: str
    standalone: str
    answer: Answer
    filters: dict[str, str] = field(default_factory=dict)


def source_line(c: Citation, refused: bool = False, flag: str = "NOT VERIFIED") -> Text:
    """One compact line: [n] pinpoint, title (citation) — path, flagged when not verified."""
    from rich.text import Text

    line = Text()
    line.append(f"[{c.n}] ", style="bold cyan")
    line.append(source_name(c))
    line.append(f" — {c.path}", style="dim")
    if not c.verified and not refused:
        line.append(f"  {flag}", style="bold red")
    return line


def answer_line(answer: Answer) -> Text:
    """The answer as rich Text: its markers in colour, the quoted text's own brackets ("[2013]") as written."""
    from rich.text import Text

    from rag.answer.citations import segments

    line = Text(style="yellow" if answer.refused else "")
    for piece, n in segments(answer.answer):
        line.append(piece, style="bold cyan" if n is not None else "")
    return line


def show_answer(console: Console, answer: Answer, streamed: bool = False) -> None:
    """The answer (unless its tokens were already printed as they arrived), then its sources."""
    from rich.text import Text

    for line in preamble(answer):
        console.print(Text(line, style="dim"))
    if not streamed:
        console.print(answer_line(answer))
    else:
        console.print()
    if answer.citations:
        console.print(Text(sources_heading(answer) + ":", style="bold"))
        for c in answer.citations:
            console.print(source_line(c, answer.refused, not_verified(answer)))
    for warning in answer.warnings:
        console.print(Text(f"! {warning}", style="red"))
    footer = [
        answer.verification or "",
        coverage_note(answer) or "",
        f"{answer.timings_ms.get('total', 0.0) / 1000:.1f} s",
    ]
    console.print(Text(" · ".join(x for x in footer if x), style="dim"))
    console.print()


def show_searched_for(console: Console, standalone: str) -> None:
    from rich.text import Text

    console.print(Text(f"(searched for: {standalone})", style="dim italic"))


def show_sources(console: Console, answer: Answer) -> None:
    """Every citation of the answer with its full quote (/sources)."""
    from rich.padding import Padding
    from rich.text import Text

    for c in answer.citations:
        console.print(source_line(c, answer.refused))
        console.print(Padding(Text("“" + " ".join(c.quote.split()) + "”", style="italic"), (0, 0, 1, 4), expand=False))


def show_passage(console: Console, c: Citation, headings: tuple[str, ...]) -> None:
    """The whole passage behind one citation, with its pinpoint, place in the document and path (/open)."""
    from rich.panel import Panel
    from rich.text import Text

    head = Text()
    head.append(f"[{c.n}] {source_name(c)}\n", style="bold")
    if headings:
        head.append(" › ".join(headings) + "\n", style="cyan")
    head.append(c.path + (f", page {c.page}" if c.page is not None else ""), style="dim")
    console.print(head)
    console.print(Panel(Text(c.quote.strip()), border_style="dim", expand=False))


def transcript_markdown(exchanges: list[Exchange], header: dict[str, str]) -> str:
    """The session as Markdown: each question, what was searched, the answer and its quoted sources."""
    lines = ["# Chat transcript: non-punishment reference assistant", ""]
    lines.extend(f"- {key}: {value}" for key, value in header.items())
    for i, ex in enumerate(exchanges, start=1):
        lines.extend(["", f"## {i}. {ex.question}", ""])
        if ex.standalone != ex.question:
            lines.extend([f"*Searched for:* {ex.standalone}", ""])
        if ex.filters:
            lines.extend(["*Filters:* " + ", ".join(f"{k}={v}" for k, v in ex.filters.items()), ""])
        for paragraph in [*preamble(ex.answer), *ex.answer.answer.splitlines()]:
            if paragraph.strip():
                lines.extend([paragraph, ""])
        if ex.answer.citations:
            lines.append(f"**{sources_heading(ex.answer)}**")
            lines.append("")
        for c in ex.answer.citations:
            flag = " **(not verified)**" if not c.verified and not ex.answer.refused else ""
            lines.append(f"{c.n}. {source_name(c)} — `{c.path}`{flag}")
            lines.append(f"   > {short_quote(c.quote, 600)}")
        for warning in ex.answer.warnings:
            lines.append(f"- ! {warning}")
        if ex.answer.verification and not ex.answer.refused:
            lines.extend(["", f"*{ex.answer.verification}*"])
        if note := coverage_note(ex.answer):
            lines.extend(["", f"*{note}*"])
    return "\n".join(lines).rstrip() + "\n"
