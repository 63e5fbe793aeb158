"""Session transcripts to hand out: Markdown and a self-contained, printable HTML page."""

from __future__ import annotations

import datetime as dt
from html import escape
from pathlib import Path
from typing import TYPE_CHECKING

from rag.answer.citations import segments
from rag.core.files import write_atomic
from rag.core.labels import coverage_note, source_name
from rag.faces.render import not_verified, preamble, sources_heading

if TYPE_CHECKING:
    from rag.faces.script import Result, Script

CSS = """
body { font-family: Georgia, "Times New Roman", serif; max-width: 52rem; margin: 2rem auto; padding: 0 1rem;
       color: #1a1a1a; line-height: 1.45; }
header { border-bottom: 2px solid #333; margin-bottom: 1.5rem; }
h1 { font-size: 1.6rem; margin: 0 0 .3rem; }
.meta { color: #444; margin: .2rem 0 .8rem; }
section.q { border: 1px solid #ccc; border-radius: 6px; padding: .8rem 1.1rem; margin: 1.2rem 0;
            break-inside: avoid; page-break-inside: avoid; }
h2 { font-size: 1.15rem; margin: .2rem 0 .6rem; }
h3 { font-size: 1rem; margin: .8rem 0 .3rem; }
.answer p { margin: .35rem 0; }
.refused { font-style: italic; }
a.m { text-decoration: none; color: #1d4f91; }
ol.sources { padding-left: 1.4rem; }
ol.sources li { margin: .5rem 0; }
.src { font-weight: bold; }
.path { font-family: "DejaVu Sans Mono", monospace; font-size: .8rem; color: #555; }
blockquote { margin: .3rem 0 .3rem .2rem; padding: .2rem .8rem; border-left: 3px solid #999; color: #333; }
.checks { list-style: none; padding: 0; margin: .6rem 0; }
.checks li { margin: .15rem 0; }
.badge { display: inline-block; min-width: 2.6rem; text-align: center; font: bold .75rem sans-serif;
         padding: .1rem .35rem; border-radius: 3px; border: 1px solid; margin-right: .4rem; }
.pass { color: #14632b; background: #e3f4e7; border-color: #14632b; }
.fail { color: #9b1c1c; background: #fbe4e4; border-color: #9b1c1c; }
.none { color: #555; background: #eee; border-color: #777; }
.note { background: #fff8dc; border-left: 3px solid #c9a227; padding: .3rem .8rem; margin-top: .6rem; }
.warn { color: #9b1c1c; }
table.facts { border-collapse: collapse; margin: .4rem 0 .8rem; font-size: .9rem; }
table.facts td, table.facts th { border: 1px solid #ccc; padding: .15rem .5rem; text-align: left; }
footer { color: #555; font-size: .85rem; border-top: 1px solid #ccc; margin-top: 2rem; padding-top: .5rem; }
@media print {
  body { max-width: none; margin: 0; font-size: 11pt; }
  * { background: none !important; box-shadow: none !important; }
  section.q { border-color: #999; }
  a.m { color: inherit; }
  .badge { border-width: 1.5px; }
  h2, h3 { break-after: avoid; page-break-after: avoid; }
  ol.sources li, .checks, .note { break-inside: avoid; page-break-inside: avoid; }
}
"""


def _summary(script: Script, results: list[Result]) -> str:
    checked = [r for r in results if r.checks]
    passed = sum(r.passed for r in checked)
    return (
        f"{len(results)} of {len(script.questions)} questions answered; "
        f"{passed} of {len(checked)} with expectations passed"
    )


def _result_word(result: Result) -> str:
    if not result.checks:
        return "NO CHECKS"
    return "PASS" if result.passed else "FAIL"


def to_markdown(script: Script, results: list[Result], today: dt.date | None = None) -> str:
    """The transcript as Markdown, one section per answered question."""
    today = today or dt.date.today()
    lines = [f"# {script.title}", ""]
    if script.audience:
        lines.append(f"Audience: {script.audience}  ")
    lines += [f"Date: {today.isoformat()}  ", _summary(script, results), ""]
    for r in results:
        a = r.answer
        heading = f"Case: {a.question}" if r.assessment else a.question
        lines += [f"## {r.id}. {heading}", "", f"**{_result_word(r)}**", ""]
        lines += [f"- {'✓' if c.passed else '✗'} {c.kind}: {c.expected}" for c in r.checks]
        if r.checks:
            lines.append("")
        if r.assessment:
            from rag.faces.assess_render import facts_markdown

            lines += [facts_markdown(r.assessment), ""]
        for para in [*preamble(a), *a.answer.splitlines()]:
            if para.strip():
                lines += [f"*{para.strip()}*" if a.refused else para.strip(), ""]
        lines += [f"! {w}" for w in a.warnings]
        if note := coverage_note(a):
            lines += [f"*{note}*", ""]
        if r.note:
            lines += [f"> **Trainer's note:** {r.note}", ""]
        if a.citations:
            lines += [sources_heading(a) + ":", ""]
        for c in a.citations:
            mark = "" if c.verified or a.refused else f" **[{not_verified(a)}]**"
            lines.append(f"{c.n}. **{source_name(c)}**{mark} — `{c.path}`")
            lines.append(f"   > {' '.join(c.quote.split())}")
        if a.citations:
            lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def _answer_html(result: Result) -> str:
    """The answer's paragraphs, each marker of a listed source a link to it; the quoted text's own [12] stays text."""
    qid = result.id
    listed = {c.n for c in result.answer.citations}

    def piece(text: str, n: int | None) -> str:
        if n is None or n not in listed:
            return escape(text)
        return f'<a class="m" href="#q{qid}-s{n}">[{n}]</a>'

    css = ' class="refused"' if result.answer.refused else ""
    paras = [p.strip() for p in result.answer.answer.splitlines() if p.strip()]
    return "".join(f"<p{css}>{''.join(piece(t, n) for t, n in segments(p))}</p>" for p in paras)


VERBS = {"cite": "cites", "mention": "mentions", "forum": "forum", "child": "child", "step": "step"}


def _facts_html(result: Result) -> str:
    """A case's facts as understood, each with the words of the case it came from."""
    from rag.faces.assess_render import fact_lines

    assert result.assessment is not None
    rows = "".join(
        f"<tr><td>{escape(label)}</td><td>{escape(shown)}</td><td>{escape(f'“{words}”') if words else ''}</td></tr>"
        for label, shown, words in fact_lines(result.assessment.case)
    )
    return f'<table class="facts"><tr><th>fact</th><th>understood</th><th>from the case</th></tr>{rows}</table>'


def _question_html(result: Result) -> str:
    a = result.answer
    word = _result_word(result)
    badge = {"PASS": "pass", "FAIL": "fail"}.get(word, "none")
    out = [f'<section class="q" id="q{result.id}">']
    heading = f"Case: {a.question}" if result.assessment else a.question
    out.append(f'<h2><span class="badge {badge}">{word}</span>{result.id}. {escape(heading)}</h2>')
    if result.assessment:
        out.append(_facts_html(result))
    out += [f'<p class="lead">{escape(line)}</p>' for line in preamble(a)]
    out.append(f'<div class="answer">{_answer_html(result)}</div>')
    out += [f'<p class="warn">{escape(w)}</p>' for w in a.warnings]
    if note := coverage_note(a):
        out.append(f'<p class="coverage">{escape(note)}</p>')
    if result.checks:
        out.append('<ul class="checks">')
        for chk in result.checks:
            cls, label = ("pass", "PASS") if chk.passed else ("fail", "FAIL")
            verb = VERBS.get(chk.kind, chk.kind)
            out.append(f'<li><span class="badge {cls}">{label}</span>{verb} {escape(chk.expected)}</li>')
        out.append("</ul>")
    if result.note:
        out.append(f'<p class="note"><strong>Trainer\'s note:</strong> {escape(result.note)}</p>')
    if a.citations:
        out.append(f"<h3>{escape(sources_heading(a))}</h3>")
        out.append('<ol class="sources">')
        for c in a.citations:
            flag = "" if c.verified or a.refused else f' <span class="warn">[{escape(not_verified(a))}]</span>'
            out.append(
                f'<li id="q{result.id}-s{c.n}" value="{c.n}"><span class="src">{escape(source_name(c))}</span>{flag}'
                f'<br><span class="path">{escape(c.path)} · relevance {c.score:.2f}</span>'
                f"<blockquote>{escape(' '.join(c.quote.split()))}</blockquote></li>"
            )
        out.append("</ol>")
    out.append("</section>")
    return "\n".join(out)


def to_html(script: Script, results: list[Result], today: dt.date | None = None) -> str:
    """The transcript as one HTML page: inline CSS, no scripts, no external resources."""
    today = today or dt.date.today()
    meta = [f"Audience: {escape(script.audience)}"] if script.audience else []
    meta.append(f"Date: {today.isoformat()}")
    body = "\n".join(_question_html(r) for r in results)
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{escape(script.title)}</title>
<style>{CSS}</style>
</head>
<body>
<header>
<h1>{escape(script.title)}</h1>
<p class="meta">{" · ".join(meta)}</p>
<p class="meta">{escape(_summary(script, results))}</p>
</header>
<main>
{body}
</main>
<footer>Answers come only from the indexed sources; each [n] points to the passage quoted under it.
Check every quotation against the official text before relying on it.</footer>
</body>
</html>
"""


def write(out_dir: Path, script: Script, results: list[Result]) -> None:
    """(Re)write transcript.md and transcript.html from the results so far."""
    write_atomic(out_dir / "transcript.md", to_markdown(script, results))
    write_atomic(out_dir / "transcript.html", to_html(script, results))
