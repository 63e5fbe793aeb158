"""Case entries in session scripts: validation, checks, results lines and transcripts; a real run."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import REPO
from typer.testing import CliRunner

from rag.assess.records import Assessment, CaseFacts, Step
from rag.core.records import Citation
from rag.faces import transcript
from rag.faces.case_results import as_answer
from rag.faces.cli import app
from rag.faces.script import Result, load_script, parse_script
from rag.faces.sessions import RESULTS, check_case

runner = CliRunner()

CASE_SCRIPT = """\
title: Cases
questions:
  - case: "A 16-year-old found in a cannabis farm in Leeds"
    forum: UK-EW
    expect: {forum: UK-EW, child: true, steps: {defence: supports}, cite: ["Section 45(4)"]}
  - ask: "Is Article 26 binding?"
    expect: {cite: ["Article 26"]}
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "script.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def an_assessment() -> Assessment:
    cite = Citation(1, "uk-modern-slavery-act-s45", "MSA", "MSA s.45", "Section 45(4)", None, "Under 18s ...", "p", 1.0)
    facts = CaseFacts(forum="UK-EW", age=16, child=True, offence="cannabis production", spans={"age": "16-year-old"})
    steps = [
        Step("victim", "A victim?", "supports", "Indicators."),
        Step("defence", "Defence?", "supports", "s.45(4).", [cite]),
    ]
    return Assessment(facts, steps, ["Referred to the NRM?"])


def test_a_case_entry_is_read_with_its_expectations(tmp_path: Path) -> None:
    script = load_script(write(tmp_path, CASE_SCRIPT))
    case, ask = script.questions
    assert case.case and not ask.case and case.forum == "UK-EW"
    assert (case.expect_forum, case.expect_child, case.expect_steps) == (("UK-EW",), True, (("defence", "supports"),))
    assert case.cite == ("Section 45(4)",)


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ('  - case: "x"\n    ask: "y"', "has both 'ask' and 'case'"),
        ('  - case: "x"\n    expect: {forum: Narnia}', "'forum' of question 1 must be one of UK-EW"),
        ('  - case: "x"\n    expect: {child: maybe}', "'child' of question 1 must be true or false"),
        ('  - case: "x"\n    expect: {steps: {defence: likely}}', "status 'likely' of question 1 is not one of"),
        ('  - case: "x"\n    k: 3', "'k' of question 1 applies to questions, not to a case"),
        ('  - ask: "x"\n    forum: UK-EW', "'forum' of question 1 belongs to a case entry"),
        ('  - case: "x"\n    expect: {steps: [defence]}', "'steps' of question 1 must map step ids to statuses"),
    ],
)
def test_case_entry_mistakes_name_their_line(tmp_path: Path, entry: str, message: str) -> None:
    script, problems = parse_script(write(tmp_path, f"title: T\nquestions:\n{entry}\n"))
    assert script is None and any(message in p.message for p in problems), problems
    assert all(p.line >= 3 for p in problems)


def test_an_unknown_forum_can_be_expected_with_null(tmp_path: Path) -> None:
    script = load_script(write(tmp_path, 'title: T\nquestions:\n  - case: "x"\n    expect: {forum: null}\n'))
    assert script.questions[0].expect_forum == (None,)


def test_checks_of_a_case_and_its_results_line_round_trip(tmp_path: Path) -> None:
    q = load_script(write(tmp_path, CASE_SCRIPT)).questions[0]
    a = an_assessment()
    checks = check_case(q, a)
    assert [(c.kind, c.passed) for c in checks] == [("forum", True), ("child", True), ("step", True), ("cite", True)]
    result = Result(1, as_answer(q.ask, a), checks, None, a)
    line = json.loads(json.dumps(result.as_dict()))
    assert line["kind"] == "case" and line["steps"][1]["status"] == "supports" and line["case"]["age"] == 16
    assert line["checks"][2] == {"kind": "step", "expected": "defence: supports", "passed": True}
    again = Result.from_dict(line)
    assert again.assessment is not None and again.assessment.as_dict() == a.as_dict()
    assert again.answer.question == q.ask and again.answer.citations[0].pinpoint == "Section 45(4)"


def test_transcripts_show_the_facts_and_the_steps(tmp_path: Path) -> None:
    script = load_script(write(tmp_path, CASE_SCRIPT))
    q, a = script.questions[0], an_assessment()
    result = Result(1, as_answer(q.ask, a), check_case(q, a), None, a)
    md = transcript.to_markdown(script, [result])
    assert "## 1. Case: A 16-year-old found in a cannabis farm in Leeds" in md
    assert "| age | 16 | “16-year-old” |" in md and "2. Defence? SUPPORTS: s.45(4). [1]" in md
    html = transcript.to_html(script, [result])
    assert '<table class="facts">' in html and "step defence: supports" in html


def test_the_example_case_script_is_valid() -> None:
    script = load_script(REPO / "sessions" / "case-assessments.yaml")
    assert len(script.questions) == 8 and all(q.case and q.cite for q in script.questions)


@pytest.mark.slow
def test_the_case_workshop_passes_on_the_real_index_with_all_transcripts(real_home: Path, tmp_path: Path) -> None:
    out = tmp_path / "cases"
    script = REPO / "sessions" / "case-assessments.yaml"
    result = runner.invoke(app, ["session", "run", str(script), "--out", str(out), "--format", "docx"])
    lines = [json.loads(x) for x in (out / RESULTS).read_text().splitlines()]
    assert result.exit_code == 0, [(r["id"], r["checks"]) for r in lines if not r["passed"]]
    assert "8 of 8 questions passed" in result.stdout
    assert all(r["kind"] == "case" and r["steps"] and r["disclaimer"] for r in lines)
    assert "| forum | UK-SC: Scotland |" in (out / "transcript.md").read_text()
    assert (out / "transcript.docx").stat().st_size > 0
    from docx import Document

    text = "\n".join(p.text for p in Document(str(out / "transcript.docx")).paragraphs)
    assert "SUPPORTS" in text and "Schedule 4" in text
