"""`/case` in the chat: a case, then fact changes, then what changed (a fake reader, then a real terminal)."""

from __future__ import annotations

import io
import os
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from conftest import REPO, venv_bin
from rich.console import Console

from rag.assess.records import Assessment, CaseFacts, Step
from rag.faces.chat_case import CaseChat


class FakeReader:
    """Reads 'child' into the facts; records what it was given."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str]] = []

    def _assessment(self, facts: CaseFacts, changed: list[str]) -> Assessment:
        status = "supports" if facts.child else "unknown"
        return Assessment(facts, [Step("defence", "Defence?", status, "...")], changed=changed)

    def read(self, text: str, forum: str | None = None) -> Assessment:
        self.calls.append(("read", text))
        return self._assessment(CaseFacts(forum="UK-EW", child="16" in text or None), [])

    def update(self, previous: Assessment, more: str) -> Assessment:
        self.calls.append(("update", more))
        facts = replace(previous.case, child=True) if "16" in more else previous.case
        changed = ["age 16: defence unknown → supports: ..."] if facts != previous.case else []
        return self._assessment(facts, changed)


def a_case_chat() -> tuple[CaseChat, FakeReader, io.StringIO]:
    out = io.StringIO()
    chat = CaseChat(None, Console(file=out, width=120))  # type: ignore[arg-type]
    reader = FakeReader()
    chat._reader = reader  # type: ignore[assignment]
    return chat, reader, out


def test_case_then_facts_then_a_question_then_clear() -> None:
    chat, reader, out = a_case_chat()
    assert not chat.message("Is Article 26 binding?")  # no case open: a question
    chat.command(())
    assert "Describe the case in your next message" in out.getvalue()
    assert chat.message("An adult found in a cannabis farm in Leeds")
    assert reader.calls == [("read", "An adult found in a cannabis farm in Leeds")]
    assert chat.message("she was 16")
    assert "age 16: defence unknown → supports" in out.getvalue() and "defence SUPPORTS" in out.getvalue()
    assert chat.message("nothing new here")
    assert "Nothing in that message changed the facts" in out.getvalue()
    assert not chat.message("What does section 45 say?")  # a question, even with a case open
    chat.command(("clear",))
    assert chat.current is None and not chat.message("she was 17")


def test_case_with_text_starts_at_once_and_case_alone_shows_it() -> None:
    chat, reader, out = a_case_chat()
    chat.command(("A", "16-year-old", "in", "Leeds"))
    assert reader.calls == [("read", "A 16-year-old in Leeds")]
    before = len(out.getvalue())
    chat.command(())
    assert "What was understood" in out.getvalue()[before:]


def _expect_prompt(child: Any) -> None:
    child.expect(r"\? \x1b\[")


@pytest.mark.slow
def test_a_case_and_a_fact_change_in_a_terminal(real_home: Path, tmp_path: Path) -> None:
    pexpect = pytest.importorskip("pexpect")
    env = {**os.environ, "RAG_HOME": str(real_home), "TERM": "xterm-256color", "PROMPT_TOOLKIT_NO_CPR": "1"}
    env["PYTHONPATH"] = str(REPO)  # this checkout's rag, whatever the console script's own install is
    child = pexpect.spawn(
        venv_bin("rag") + " chat", env=env, encoding="utf-8", timeout=180, dimensions=(60, 200), cwd=str(tmp_path)
    )
    log = io.StringIO()
    child.logfile_read = log
    started = time.monotonic()
    try:
        _expect_prompt(child)
        child.send("/case An adult charged with production of cannabis after being found in a cannabis farm in Leeds\r")
        child.expect("What was understood")
        child.expect(r"Adult \(s\.45\(1\)\): the facts do not show compulsion")
        child.expect("A structured reading of the indexed sources, not legal advice")
        _expect_prompt(child)
        child.send("she was 16\r")
        child.expect("What changed:")
        child.expect("age 16: defence unknown → supports: Under 18")
        child.expect("compulsion is")
        _expect_prompt(child)
        child.send("the offence is robbery\r")
        child.expect("offence robbery: exclusion supports → against")
        child.expect("defence supports → against")
        _expect_prompt(child)
        child.send("she was referred to the NRM and got a positive conclusive grounds decision\r")
        child.expect("identification positive conclusive grounds: identification unknown → supports")
        _expect_prompt(child)
        child.send("/case\r")
        child.expect(r"identification\s+positive conclusive grounds")
        _expect_prompt(child)
        child.send("/case clear\r")
        child.expect("Case closed")
        _expect_prompt(child)
        child.send("/quit\r")
        child.expect(pexpect.EOF)
    finally:
        child.close()
        print(f"case chat took {time.monotonic() - started:.1f} s")
    assert child.exitstatus == 0, log.getvalue()[-2000:]
