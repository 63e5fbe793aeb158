"""How every face shows an assessment: what was understood, the steps with their sources, what is open."""

from __future__ import annotations

import textwrap

from rag.assess.records import Assessment, CaseFacts, Step
from rag.core.records import Citation

_LABELS = {
    "forum": "forum",
    "age": "age",
    "child": "child",
    "nationality": "nationality",
    "offence": "offence",
    "stage": "stage",
    "indicators": "indicators",
    "identification": "identification",
    "link": "link to the offence",
}
MARKS = {"supports": "SUPPORTS", "against": "AGAINST", "unknown": "UNKNOWN", "not applicable": "N/A"}


def fact_lines(case: CaseFacts) -> list[tuple[str, str, str | None]]:
    """(label, value, the words of the case) for each fact, in order; the words None when not stated."""
    rows = []
    for fact, label in _LABELS.items():
        value = case.value(fact)
        if fact == "forum":
            shown = case.forum_name if case.forum else "not known"
            if case.forum:
                shown = f"{case.forum}: {shown}"
        elif fact == "child":
            shown = "not stated" if value is None else ("yes (under 18)" if value else "no (adult)")
        elif fact == "offence" and value:
            shown = f"{value} ({case.offence_class})" if case.offence_class else str(value)
        elif isinstance(value, tuple):
            shown = ", ".join(value) if value else "none found"
        else:
            shown = "not stated" if value is None else str(value)
        words = case.spans.get(fact) if case.known(fact) else None
        rows.append((label, shown, words))
    return rows


def _wrap(text: str, indent: str, width: int = 100, hang: str | None = None) -> list[str]:
    later = hang if hang is not None else indent
    return textwrap.wrap(text, width=width, initial_indent=indent, subsequent_indent=later) or [indent]


def cited_as(c: Citation) -> str:
    """A citation's label, with its section's heading when the passage has no pinpoint."""
    last = c.heading_path[-1] if len(c.heading_path) > 1 else ""
    if not last or (c.pinpoint and c.pinpoint in last):
        return c.label
    return f"{c.label} ({last})" if c.pinpoint else f"{c.label}: {last}"


def step_lines(n: int, step: Step, quotes: bool = False) -> list[str]:
    lines = [f"{n}. {step.question}  [{step.id}]"]
    lines += _wrap(f"{MARKS.get(step.status, step.status)}: {step.finding}", "   ")
    if step.status == "not applicable":
        return lines
    for c in step.citations:
        mark = "" if c.verified else "  [NOT VERIFIED]"
        lines += _wrap(f"[{c.n}] {cited_as(c)}{mark}", "   ", hang="       ")
        if quotes:
            flat = " ".join(c.quote.split())
            short = flat if len(flat) <= 200 else flat[:199].rsplit(" ", 1)[0] + " …"
            lines += _wrap(f"“{short}”", "       ")
    return lines


def assessment_text(a: Assessment, quotes: bool = False) -> str:
    """Plain text for the terminal: understood facts (with their words), steps, open questions, disclaimer."""
    lines = ["What was understood (correct anything wrong):"]
    for label, shown, words in fact_lines(a.case):
        lines.append(f"  {label:<21}{shown}" + (f"   ← “{words}”" if words else ""))
    if a.changed:
        lines += ["", "What changed:"]
        lines += [w for c in a.changed for w in _wrap(c, "  - ", hang="    ")]
    lines += ["", f"Steps for {a.case.forum_name if a.case.forum else 'an unknown forum (international standards)'}:"]
    for n, step in enumerate(a.steps, start=1):
        lines += step_lines(n, step, quotes)
    if a.open_questions:
        lines += ["", "Open questions that could change the outcome:"]
        lines += [w for q in a.open_questions for w in _wrap(q, "  - ", hang="    ")]
    if a.not_covered:
        lines += ["", "Not in the indexed sources: " + "; ".join(a.not_covered)]
    for w in a.warnings:
        lines.append(f"! {w}")
    lines += ["", a.disclaimer]
    return "\n".join(lines)


def _md(text: str) -> str:
    return text.replace("|", "\\|")


def facts_markdown(a: Assessment) -> str:
    """What was understood, as a Markdown table (fact, understood, the words of the case)."""
    out = ["| fact | understood | from the case |", "|---|---|---|"]
    for label, shown, words in fact_lines(a.case):
        out.append(f"| {label} | {_md(shown)} | {_md(f'“{words}”') if words else ''} |")
    return "\n".join(out)
