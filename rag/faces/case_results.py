"""An assessment shown where an answer is expected (session results and transcripts)."""

from __future__ import annotations

from dataclasses import replace

from rag.assess.records import Assessment
from rag.core.records import Answer, Citation
from rag.faces.assess_render import MARKS


def as_answer(case_text: str, a: Assessment) -> Answer:
    """The assessment as an Answer: one line per step with its status and finding, citations numbered through."""
    lines: list[str] = []
    citations: list[Citation] = []
    for i, step in enumerate(a.steps, start=1):
        marks = []
        for c in step.citations:
            citations.append(replace(c, n=len(citations) + 1))
            marks.append(f"[{len(citations)}]")
        lines.append(f"{i}. {step.question} {MARKS.get(step.status, step.status)}: {step.finding} {''.join(marks)}")
    if a.open_questions:
        lines.append("Open questions: " + " ".join(a.open_questions))
    lines.append(a.disclaimer)
    answer = Answer(case_text, "\n".join(lines), False, "assessment", citations, dict(a.timings_ms), list(a.warnings))
    answer.coverage, answer.not_covered = a.coverage, list(a.not_covered)
    return answer
