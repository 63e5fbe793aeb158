"""Session scripts: validation with line numbers, checks, the runner, resume, transcripts and the CLI."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest
from conftest import REPO, venv_bin
from typer.testing import CliRunner

from rag.core.errors import SessionOutputError
from rag.core.records import Answer, Citation
from rag.faces.cli import app
from rag.faces.script import Question, load_script, parse_script
from rag.faces.sessions import RESULTS, check, read_results, run_session

runner = CliRunner()

SCRIPT = """\
title: "Judges' workshop <basics>"
audience: judges
questions:
  - ask: "Is Article 26 binding?"
    expect:
      cite: ["Article 26"]
      mention: ["compelled"]
    note: "Discuss penalties versus prosecution."
  - ask: "What does Section 45(4) say?"
    expect: {cite: ["Section 45(4)"]}
  - ask: "What about Article 10?"
    k: 3
    where: {jurisdiction: CoE}
"""


def write(tmp_path: Path, text: str, name: str = "script.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def citation(n: int, pinpoint: str | None, verified: bool = True) -> Citation:
    return Citation(
        n=n,
        doc_id="doc",
        title="Sample Convention",
        citation="SCT No. 1",
        pinpoint=pinpoint,
        page=None,
        quote=f"The passage of {pinpoint} <quoted> in full.",
        path="corpus/sample.md",
        score=0.7,
        verified=verified,
    )


def answer(question: str, text: str, pinpoints: list[str | None], refused: bool = False) -> Answer:
    cites = [citation(i, p) for i, p in enumerate(pinpoints, 1)]
    return Answer(question=question, answer=text, refused=refused, engine="fake", citations=cites)


class FakeAssistant:
    """Replays a canned answer per question and records what it was asked."""

    def __init__(self, answers: dict[str, Answer]) -> None:
        self.answers = answers
        self.calls: list[tuple[str, int | None, dict[str, str] | None]] = []

    def ask(self, question: str, k: int | None = None, filters: dict[str, str] | None = None) -> Answer:
        self.calls.append((question, k, filters))
        return self.answers[question]


def good_answers() -> dict[str, Answer]:
    canned = [
        ("Is Article 26 binding?", "Article 26: victims who were COMPELLED may be spared penalties. [1]", "Article 26"),
        ("What does Section 45(4) say?", "Children need no compulsion. [1]", "Section 45(4)"),
        ("What about Article 10?", "Identification <early> & trained staff. [1]", None),
    ]
    return {q: answer(q, text, [pin]) for q, text, pin in canned}


# ---- validation -----------------------------------------------------------------------------------


def test_valid_script_loads_with_lines_filters_and_k(tmp_path: Path) -> None:
    script = load_script(write(tmp_path, SCRIPT))
    assert script.title == "Judges' workshop <basics>"
    assert [q.line for q in script.questions] == [4, 9, 11]
    assert script.questions[0].cite == ("Article 26",) and script.questions[0].mention == ("compelled",)
    assert script.questions[2].where == {"jurisdiction": "CoE"} and script.questions[2].k == 3


def test_check_command_ok(tmp_path: Path) -> None:
    result = runner.invoke(app, ["session", "check", str(write(tmp_path, SCRIPT))])
    assert result.exit_code == 0, result.output
    assert result.stdout == "OK: 3 questions\n"


def test_check_points_at_the_line_of_each_mistake(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """\
title: "T"
audiense: judges
questions:
  - ask: "Fine question?"
    expect:
      cite: "Article 26"
      mentions: ["x"]
  - note: "no ask here"
  - ask: "   "
  - ask: "Q?"
    k: 99
    where: {country: UK}
""",
    )
    result = runner.invoke(app, ["session", "check", str(path)])
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr.splitlines() == [
        f"{path}:2: unknown key 'audiense' in the script; did you mean 'audience'?",
        f"{path}:6: 'cite' must be a list; write it as cite: [\"Article 26\"]",
        f"{path}:7: unknown key 'mentions' in 'expect' of question 1; did you mean 'mention'?",
        f'{path}:8: question 2 has no \'ask\'; add ask: "the question" (or case: "the facts")',
        f"{path}:9: 'ask' of question 3 is empty; e.g. ask: \"Is Article 26 binding?\"",
        f"{path}:11: 'k' of question 4 must be a whole number from 1 to 50 (passages to retrieve)",
        f"{path}:12: unknown key 'country' in 'where' of question 4; "
        "use authority, citation, doc, forum, jurisdiction, language, pinpoint, type",
    ]


def test_check_reports_yaml_syntax_errors_at_their_line(tmp_path: Path) -> None:
    path = write(tmp_path, 'title: "T"\nquestions:\n  - ask: "one"\n  - ask: "two\n    note: x\n')
    script, problems = parse_script(path)
    assert script is None and len(problems) == 1
    assert problems[0].message.startswith("YAML syntax:")
    assert problems[0].line in (4, 5, 6)  # the scanner reports where the unclosed quote ends the file
    result = runner.invoke(app, ["session", "check", str(path)])
    assert result.exit_code == 1 and result.stderr.startswith(f"{path}:{problems[0].line}: YAML syntax:")


def test_check_missing_sections_and_empty_files(tmp_path: Path) -> None:
    _, problems = parse_script(write(tmp_path, "audience: judges\n"))
    assert [p.message.split(";")[0] for p in problems] == [
        "the script has no 'title'",
        "the script has no 'questions'",
    ]
    _, problems = parse_script(write(tmp_path, "title: T\nquestions: []\n"))
    assert problems[0].line == 2 and "non-empty list" in problems[0].message
    _, problems = parse_script(write(tmp_path, "\n# nothing\n"))
    assert problems[0].message.startswith("the script is empty")
    _, problems = parse_script(write(tmp_path, "- just\n- a list\n"))
    assert problems[0].line == 1 and "must be a mapping" in problems[0].message


def test_check_prints_at_most_twenty_problems(tmp_path: Path) -> None:
    body = "".join(f'  - ask: "q{i}"\n    bogus: 1\n' for i in range(25))
    result = runner.invoke(app, ["session", "check", str(write(tmp_path, "title: T\nquestions:\n" + body))])
    lines = result.stderr.splitlines()
    assert result.exit_code == 1
    assert len(lines) == 21 and lines[-1] == "... and 5 more problems"
    assert lines[0].endswith(":4: unknown key 'bogus' in question 1; use ask, case, forum, expect, note, where, k")


def test_check_missing_file_is_one_error_line(tmp_path: Path) -> None:
    result = runner.invoke(app, ["session", "check", str(tmp_path / "nope.yaml")])
    assert result.exit_code == 1
    assert result.stderr == (
        f"Error: {tmp_path / 'nope.yaml'}: no such script; check the path, e.g. sessions/judges-basics.yaml\n"
    )


def test_duplicate_keys_are_reported(tmp_path: Path) -> None:
    _, problems = parse_script(write(tmp_path, 'title: T\nquestions:\n  - ask: "a"\n    ask: "b"\n'))
    assert [(p.line, p.message) for p in problems] == [(4, "'ask' appears twice in question 1; keep one")]


# ---- checks ---------------------------------------------------------------------------------------


def test_checks_match_pinpoints_and_words() -> None:
    q = Question(1, "q", 1, cite=("Article 4(2)", "Recital 14"), mention=("Compelled", "direct  consequence"))
    a = answer("q", "They were compelled as a direct\nconsequence. [1]", ["Article 4"])
    assert [(c.kind, c.expected, c.passed) for c in check(q, a)] == [
        ("cite", "Article 4(2)", True),
        ("cite", "Recital 14", False),
        ("mention", "Compelled", True),
        ("mention", "direct  consequence", True),
    ]


def test_refused_answers_and_unverified_citations_fail_expectations() -> None:
    q = Question(1, "q", 1, cite=("Article 26",), mention=("sources",))
    refused = answer("q", "The sources do not address this.", ["Article 26"], refused=True)
    assert [c.passed for c in check(q, refused)] == [False, False]
    unverified = answer("q", "sources", [])
    unverified.citations = [citation(1, "Article 26", verified=False)]
    assert [c.passed for c in check(q, unverified)] == [False, True]
    assert check(Question(2, "q", 1), refused) == []


# ---- runner, resume and transcripts -------------------------------------------------------------------


def test_run_records_every_answer_and_writes_transcripts(tmp_path: Path) -> None:
    script = load_script(write(tmp_path, SCRIPT))
    fake = FakeAssistant(good_answers())
    out = tmp_path / "out"
    results = run_session(script, fake, out)
    assert [r.passed for r in results] == [True, True, True]
    assert fake.calls[2] == ("What about Article 10?", 3, {"jurisdiction": "CoE"})
    assert fake.calls[0] == ("Is Article 26 binding?", None, None)
    lines = [json.loads(line) for line in (out / RESULTS).read_text().splitlines()]
    assert [line["id"] for line in lines] == [1, 2, 3]
    first = lines[0]
    assert {"question", "answer", "refused", "engine", "citations", "timings_ms"} <= set(first)
    assert first["checks"] == [
        {"kind": "cite", "expected": "Article 26", "passed": True},
        {"kind": "mention", "expected": "compelled", "passed": True},
    ]
    assert first["passed"] is True and first["note"] == "Discuss penalties versus prosecution."
    md = (out / "transcript.md").read_text()
    assert "# Judges' workshop <basics>" in md and "## 2. What does Section 45(4) say?" in md
    assert "> **Trainer's note:** Discuss penalties versus prosecution." in md
    assert "3 of 3 questions answered; 2 of 2 with expectations passed" in md
    html = (out / "transcript.html").read_text()
    assert "Judges&#x27; workshop &lt;basics&gt;" in html and "<basics>" not in html
    assert "Identification &lt;early&gt; &amp; trained staff." in html
    assert '<a class="m" href="#q1-s1">[1]</a>' in html and 'id="q1-s1"' in html
    assert "<blockquote>The passage of Article 26 &lt;quoted&gt; in full.</blockquote>" in html
    assert "@media print" in html and "<script" not in html and "http" not in html.split("<footer>")[0]
    assert not list(out.glob(".*.tmp"))


def test_failed_expectations_show_in_results_and_transcript(tmp_path: Path) -> None:
    script = load_script(write(tmp_path, SCRIPT))
    answers = good_answers()
    answers["Is Article 26 binding?"] = answer("Is Article 26 binding?", "Nothing relevant.", [], refused=True)
    results = run_session(script, FakeAssistant(answers), tmp_path / "out")
    assert [r.passed for r in results] == [False, True, True]
    html = (tmp_path / "out" / "transcript.html").read_text()
    assert '<span class="badge fail">FAIL</span>cites Article 26' in html
    assert '<p class="refused">Nothing relevant.</p>' in html


def test_existing_results_need_resume(tmp_path: Path) -> None:
    script = load_script(write(tmp_path, SCRIPT))
    out = tmp_path / "out"
    run_session(script, FakeAssistant(good_answers()), out)
    with pytest.raises(SessionOutputError, match=r"results\.jsonl exists; pass --resume to continue or choose another"):
        run_session(script, FakeAssistant(good_answers()), out)


def test_resume_skips_answered_questions_and_drops_a_truncated_line(tmp_path: Path) -> None:
    script = load_script(write(tmp_path, SCRIPT))
    out = tmp_path / "out"
    run_session(script, FakeAssistant(good_answers()), out)
    lines = (out / RESULTS).read_text().splitlines(keepends=True)
    # Killed while writing the second line: the first is whole, the second half-written.
    (out / RESULTS).write_text(lines[0] + lines[1][: len(lines[1]) // 2])
    fake = FakeAssistant(good_answers())
    results = run_session(script, fake, out, resume=True)
    assert [c[0] for c in fake.calls] == ["What does Section 45(4) say?", "What about Article 10?"]
    assert [r.id for r in results] == [1, 2, 3]
    ids = [json.loads(line)["id"] for line in (out / RESULTS).read_text().splitlines()]
    assert ids == [1, 2, 3]
    assert "3 of 3 questions answered" in (out / "transcript.md").read_text()


def test_resume_asks_again_a_question_whose_text_changed(tmp_path: Path) -> None:
    out = tmp_path / "out"
    run_session(load_script(write(tmp_path, SCRIPT)), FakeAssistant(good_answers()), out)
    edited = SCRIPT.replace("What does Section 45(4) say?", "What does Section 45(4) say about children?")
    answers = good_answers()
    new = "What does Section 45(4) say about children?"
    answers[new] = answer(new, "x", [])
    fake = FakeAssistant(answers)
    results = run_session(load_script(write(tmp_path, edited)), fake, out, resume=True)
    assert [c[0] for c in fake.calls] == ["What does Section 45(4) say about children?"]
    assert results[1].answer.question.endswith("about children?") and not results[1].passed


def test_a_corrupt_middle_line_is_an_error_naming_the_line(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / RESULTS).write_text('{"id": 1}\nnot json\n')
    with pytest.raises(SessionOutputError, match=r"results\.jsonl:1 is not a result line"):
        read_results(out / RESULTS)


# ---- the CLI over a real (hash-embedded) index --------------------------------------------------------

SAMPLE_SCRIPT = """\
title: Sample session
audience: testers
questions:
  - ask: "Is Article 26 of the Sample Convention binding on victims who were compelled?"
    expect: {cite: ["Article 26"], mention: ["compelled"]}
  - ask: "What defence do children have under Section 45(4)?"
    expect: {cite: ["Section 45(4)"], mention: ["direct consequence"]}
  - ask: "What does Article 10 require for identification of victims?"
    expect: {cite: ["Article 10"], mention: ["trained staff"]}
"""


def ingest_sample(corpus: Path) -> None:
    from rag.core.config import Settings
    from rag.ingest.pipeline import ingest

    report = ingest([corpus], Settings.from_env())
    assert not report.failed


@pytest.mark.usefixtures("fake_embeddings")
def test_cli_run_passes_and_fails_with_exit_codes(sample_corpus: Path, tmp_path: Path) -> None:
    ingest_sample(sample_corpus)
    script = write(tmp_path, SAMPLE_SCRIPT)
    out = tmp_path / "out"
    result = runner.invoke(app, ["session", "run", str(script), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "3 of 3 questions passed" in result.stdout and "Session results" in result.stdout
    assert len((out / RESULTS).read_text().splitlines()) == 3

    again = runner.invoke(app, ["session", "run", str(script), "--out", str(out)])
    assert again.exit_code == 1
    assert again.stderr == f"Error: {out / RESULTS} exists; pass --resume to continue or choose another --out\n"

    failing = write(tmp_path, SAMPLE_SCRIPT.replace('"trained staff"', '"extradition"'), "failing.yaml")
    result = runner.invoke(app, ["session", "run", str(failing), "--out", str(tmp_path / "f"), "--json"])
    assert result.exit_code == 1
    summary = json.loads(result.stdout)
    assert (summary["questions"], summary["passed"], summary["failed"]) == (3, 2, 1)
    assert summary["results"][2]["checks"][1] == {"kind": "mention", "expected": "extradition", "passed": False}


@pytest.mark.usefixtures("fake_embeddings")
def test_cli_run_default_out_dir_and_user_errors(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    script = write(tmp_path, SAMPLE_SCRIPT, "my-session.yaml")
    result = runner.invoke(app, ["session", "run", str(script)])
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: ") and "rag ingest" in result.stderr and "Traceback" not in result.output
    assert not (tmp_path / "session-out" / "my-session" / RESULTS).exists()
    bad = runner.invoke(app, ["session", "run", str(write(tmp_path, "title: T\nquestions: 3\n", "bad.yaml"))])
    assert bad.exit_code == 1
    assert bad.stderr.startswith(f"Error: {tmp_path / 'bad.yaml'}:2: 'questions' must be a non-empty list")
    missing = runner.invoke(app, ["session", "run", "nowhere.yaml"])
    assert missing.exit_code == 1 and "no such script" in missing.stderr


def test_example_scripts_are_valid() -> None:
    for path in sorted((REPO / "sessions").glob("*.yaml")):
        script = load_script(path)
        assert 8 <= len(script.questions) <= 12, path
        assert all(q.cite or q.mention for q in script.questions), path


@pytest.mark.slow
def test_judges_session_passes_on_the_real_index(real_home: Path, tmp_path: Path) -> None:
    out = tmp_path / "judges"
    result = runner.invoke(app, ["session", "run", str(REPO / "sessions" / "judges-basics.yaml"), "--out", str(out)])
    failed = [r for r in map(json.loads, (out / RESULTS).read_text().splitlines()) if not r["passed"]]
    assert result.exit_code == 0, [(r["id"], r["question"], r["checks"]) for r in failed]
    assert "12 of 12 questions passed" in result.stdout
    assert "V.C.L. and A.N." in (out / "transcript.html").read_text()


@pytest.mark.usefixtures("fake_embeddings")
def test_killed_run_resumes_with_every_question_once(sample_corpus: Path, tmp_path: Path) -> None:
    from rag.core.config import Settings
    from rag.index import locks

    ingest_sample(sample_corpus)
    script = write(tmp_path, SAMPLE_SCRIPT)
    out = tmp_path / "out"
    results = out / RESULTS
    env = dict(os.environ)
    cmd = [venv_bin("rag"), "session", "run", str(script), "--out", str(out)]
    stderr = tmp_path / "stderr.txt"
    with open(stderr, "w") as err:
        proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=err)
    try:
        deadline = time.monotonic() + 90
        while not (results.exists() and results.read_text().count("\n") >= 1):
            assert proc.poll() is None, stderr.read_text()
            assert time.monotonic() < deadline, "no result line within 90 s"
            time.sleep(0.005)
        # Hold the index the way an ingest does: the run blocks before its next question, then dies mid-run.
        with locks.write_lock(Settings.from_env(), wait=True):
            while "waiting" not in stderr.read_text():
                assert proc.poll() is None and time.monotonic() < deadline, stderr.read_text()
                time.sleep(0.02)
            proc.send_signal(signal.SIGKILL)
            proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    done_before = results.read_text().count("\n")
    assert 1 <= done_before < 3
    with open(results, "a") as fh:  # and as if it had died halfway through writing a line
        fh.write('{"question": "What defence do children')
    resumed = subprocess.run([*cmd, "--resume"], env=env, capture_output=True, text=True, timeout=120)
    assert resumed.returncode == 0, resumed.stderr
    ids = [json.loads(line)["id"] for line in results.read_text().splitlines()]
    assert sorted(ids) == [1, 2, 3]
    assert "3 of 3 questions answered" in (out / "transcript.md").read_text()


@pytest.mark.usefixtures("fake_embeddings")
def test_brackets_in_questions_and_expectations_are_shown_as_typed(sample_corpus: Path, tmp_path: Path) -> None:
    ingest_sample(sample_corpus)
    script = write(
        tmp_path,
        'title: T\nquestions:\n  - ask: "Is Article 26 [/] binding on victims [sic] who were compelled?"\n'
        '    expect: {mention: ["[sic]", "[bold]compelled"]}\n',
    )
    result = runner.invoke(app, ["session", "run", str(script), "--out", str(tmp_path / "out")])
    assert result.exit_code == 1 and result.exception is not None and isinstance(result.exception, SystemExit)
    table = " ".join(result.stdout.split())
    assert "[/]" in table and "✗ [sic]" in table and "✗ [bold]compelled" in table, result.stdout


def test_the_progress_line_shows_a_question_with_markup_as_typed(monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    from rag.faces.session_cmd import _progress

    monkeypatch.setattr(sys.stderr, "isatty", lambda: True, raising=False)
    with _progress(enabled=True) as update:
        assert update is not None
        update(1, 2, Question(1, "What about [/] and [sic]?", 3))


@pytest.mark.usefixtures("fake_embeddings")
def test_two_runs_into_one_out_folder_record_each_answer_once(sample_corpus: Path, tmp_path: Path) -> None:
    ingest_sample(sample_corpus)
    script = write(tmp_path, SAMPLE_SCRIPT)
    out = tmp_path / "out"
    cmd = [venv_bin("rag"), "session", "run", str(script), "--out", str(out)]
    started = time.monotonic()
    procs = [subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True) for _ in range(2)]
    try:
        errors = [p.communicate(timeout=120)[1] for p in procs]
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
    elapsed = time.monotonic() - started
    assert sorted(p.returncode for p in procs) == [0, 1], errors
    loser = errors[[p.returncode for p in procs].index(1)]
    assert loser.startswith("Error: ") and loser.count("\n") == 1, loser
    assert "another `rag session run` is writing to" in loser or "pass --resume" in loser, loser
    ids = [json.loads(line)["id"] for line in (out / RESULTS).read_text().splitlines()]
    assert ids == [1, 2, 3], f"answers recorded {ids} ({elapsed:.1f} s)"


@pytest.mark.usefixtures("fake_embeddings")
def test_a_run_into_a_folder_another_run_writes_to_fails_at_once(sample_corpus: Path, tmp_path: Path) -> None:
    from rag.faces.sessions import output_lock

    ingest_sample(sample_corpus)
    script = write(tmp_path, SAMPLE_SCRIPT)
    out = tmp_path / "out"
    out.mkdir()
    with output_lock(out):
        result = runner.invoke(app, ["session", "run", str(script), "--out", str(out), "--resume"])
    assert result.exit_code == 1
    assert result.stderr == (
        f"Error: another `rag session run` is writing to {out}; wait for it to finish or choose another --out\n"
    )
    assert not (out / RESULTS).exists()
