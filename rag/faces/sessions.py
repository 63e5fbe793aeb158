"""Running a session: ask each question, check the answer, append the result, write the transcripts."""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, Protocol

from rag.answer.citations import plain
from rag.assess.records import Assessment
from rag.core import pinpoint
from rag.core.errors import SessionOutputError
from rag.core.files import write_atomic
from rag.core.records import Answer
from rag.faces import transcript
from rag.faces.script import Check, Question, Result, Script, flat

RESULTS = "results.jsonl"


class Asker(Protocol):
    def ask(self, question: str, k: int | None = None, filters: dict[str, str] | None = None) -> Answer: ...


class CaseAsker(Protocol):
    def read(self, text: str, forum: str | None = None) -> Assessment: ...


# ---- validation ---------------------------------------------------------------------------------


def check(question: Question, answer: Answer) -> list[Check]:
    """Each expectation met or not; a refused answer meets none."""
    cited = [c.pinpoint for c in answer.citations if c.verified] if not answer.refused else []
    text = flat(plain(answer.answer)).casefold()
    checks = [Check("cite", want, any(pinpoint.matches(want, got) for got in cited)) for want in question.cite]
    checks += [
        Check("mention", word, not answer.refused and flat(word).casefold() in text) for word in question.mention
    ]
    return checks


def check_case(question: Question, a: Assessment) -> list[Check]:
    """Each expectation of a case entry met or not."""
    from rag.faces.assess_render import assessment_text

    checks = [Check("forum", str(want or "unknown"), a.case.forum == want) for want in question.expect_forum]
    if question.expect_child is not None:
        checks.append(Check("child", str(question.expect_child).lower(), a.case.child is question.expect_child))
    for step_id, status in question.expect_steps:
        step = a.step(step_id)
        checks.append(Check("step", f"{step_id}: {status}", step is not None and step.status == status))
    cited = [c.pinpoint for s in a.steps for c in s.citations if c.verified]
    checks += [Check("cite", want, any(pinpoint.matches(want, got) for got in cited)) for want in question.cite]
    text = flat(assessment_text(a)).casefold()
    checks += [Check("mention", word, flat(word).casefold() in text) for word in question.mention]
    return checks


# ---- results file and runner --------------------------------------------------------------------


def read_results(path: Path) -> list[Result]:
    """The results recorded so far; a last line cut off by a kill is dropped from the file."""
    if not path.exists():
        return []
    raw = path.read_text(encoding="utf-8", errors="replace")
    lines = raw.split("\n")
    tail = lines.pop()  # "" when the file ends with a newline
    results: list[Result] = []
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            results.append(Result.from_dict(json.loads(line)))
        except (ValueError, KeyError, TypeError):
            raise SessionOutputError(
                f"{path}:{n} is not a result line; move {path.name} away or choose another --out"
            ) from None
    if tail.strip():
        try:
            results.append(Result.from_dict(json.loads(tail)))
        except (ValueError, KeyError, TypeError):
            pass  # written halfway when the run was killed: ask that question again
        write_atomic(path, "".join(json.dumps(r.as_dict(), ensure_ascii=False) + "\n" for r in results))
    return results


def _append(path: Path, result: Result) -> None:
    with open(path, "a", encoding="utf-8") as fh:
        fh.write(json.dumps(result.as_dict(), ensure_ascii=False) + "\n")
        fh.flush()
        os.fsync(fh.fileno())


def prepare_output(out_dir: Path, resume: bool) -> None:
    """Refuse to mix a new run into earlier results unless --resume was asked for."""
    if out_dir.exists() and not out_dir.is_dir():
        raise SessionOutputError(f"--out {out_dir} is a file; choose a folder")
    if (out_dir / RESULTS).exists() and not resume:
        raise SessionOutputError(f"{out_dir / RESULTS} exists; pass --resume to continue or choose another --out")


@contextlib.contextmanager
def output_lock(out_dir: Path) -> Iterator[None]:
    """This run alone writes to out_dir: a second `rag session run` into it fails at once.

    Without it both runs record every answer. The lock is on the folder itself, so it leaves no file behind.
    """
    try:
        fd = os.open(out_dir, os.O_RDONLY | os.O_DIRECTORY)
    except OSError as exc:
        raise SessionOutputError(f"--out {out_dir}: cannot open the folder ({exc.strerror})") from None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise SessionOutputError(
                f"another `rag session run` is writing to {out_dir}; wait for it to finish or choose another --out"
            ) from None
        yield
    finally:
        os.close(fd)  # closing the descriptor releases the lock


def answered(script: Script, results: list[Result]) -> dict[int, Result]:
    """The latest recorded result of each script question still asked the same way."""
    asks = {q.id: flat(q.ask) for q in script.questions}
    return {r.id: r for r in results if asks.get(r.id) == flat(r.answer.question)}


def run_session(
    script: Script,
    asker: Asker,
    out_dir: Path,
    resume: bool = False,
    on_question: Callable[[int, int, Question], Any] | None = None,
    cases: CaseAsker | None = None,
) -> list[Result]:
    """Ask every question (assess every case) not yet done, recording each result and the transcripts as it arrives."""
    prepare_output(out_dir, resume)
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise SessionOutputError(f"--out {out_dir}: cannot create the folder ({exc.strerror})") from None
    with output_lock(out_dir):
        prepare_output(out_dir, resume)  # again, now that no other run can be writing there
        return _run(script, asker, out_dir, resume, on_question, cases)


def _one(q: Question, asker: Asker, cases: CaseAsker | None) -> Result:
    if not q.case:
        answer = asker.ask(q.ask, q.k, q.where or None)
        return Result(q.id, answer, check(q, answer), q.note)
    from rag.faces.case_results import as_answer

    if cases is None:
        from rag.assess.service import CaseReader

        cases = CaseReader(asker)  # type: ignore[arg-type]
    assessment = cases.read(q.ask, q.forum)
    return Result(q.id, as_answer(q.ask, assessment), check_case(q, assessment), q.note, assessment)


def _run(
    script: Script,
    asker: Asker,
    out_dir: Path,
    resume: bool,
    on_question: Callable[[int, int, Question], Any] | None,
    cases: CaseAsker | None = None,
) -> list[Result]:
    path = out_dir / RESULTS
    done = answered(script, read_results(path) if resume else [])
    total = len(script.questions)
    for q in script.questions:
        if q.id in done:
            continue
        if on_question:
            on_question(q.id, total, q)
        result = _one(q, asker, cases)
        _append(path, result)
        done[q.id] = result
        transcript.write(out_dir, script, [done[x.id] for x in script.questions if x.id in done])
    results = [done[q.id] for q in script.questions]
    transcript.write(out_dir, script, results)
    return results
