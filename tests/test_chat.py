"""The terminal chat: commands and transcripts without a terminal, then end to end through a pseudo-terminal."""

from __future__ import annotations

import io
import os
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from conftest import venv_bin
from typer.testing import CliRunner

from rag.core.config import Settings
from rag.core.errors import LLMError
from rag.core.records import Answer, Citation
from rag.faces.chat import Chat, Command, parse_command, privacy_note, servers
from rag.faces.chat_render import Exchange, transcript_markdown
from rag.faces.cli import app

ART26 = "What does Article 26 of the CoE Convention require?"


def citation(n: int = 1, verified: bool = True, **changes: Any) -> Citation:
    values: dict[str, Any] = {
        "n": n,
        "doc_id": "coe-convention",
        "title": "Council of Europe Convention on Action against Trafficking in Human Beings",
        "citation": "CETS No. 197",
        "pinpoint": "Article 26",
        "page": None,
        "quote": "Each Party shall provide for the possibility of not imposing penalties on victims.",
        "path": "corpus/instruments/coe-convention.md",
        "score": 0.8,
        "verified": verified,
    }
    values.update(changes)
    return Citation(**values)


def answer(question: str, text: str = "Article 26, CETS No. 197: not imposing penalties. [1]", **kw: Any) -> Answer:
    return Answer(question, text, False, "extractive", kw.pop("citations", [citation()]), {"total": 12.0}, **kw)


@dataclass
class FakeEngine:
    name: str = "extractive"


@dataclass
class FakeAssistant:
    """Replays answers and records what it was asked, with which filters."""

    engine: Any = field(default_factory=FakeEngine)
    asked: list[tuple[str, dict[str, str]]] = field(default_factory=list)
    fail: BaseException | None = None
    tokens: list[str] = field(default_factory=list)

    def ask(
        self,
        question: str,
        k: int | None = None,
        filters: dict[str, str] | None = None,
        on_token: Callable[[str], Any] | None = None,
    ) -> Answer:
        self.asked.append((question, dict(filters or {})))
        if self.fail is not None:
            raise self.fail
        if on_token is not None:
            for token in self.tokens:
                on_token(token)
        return answer(question)


def make_chat(tmp_path: Path, assistant: FakeAssistant | None = None) -> tuple[Chat, io.StringIO, FakeAssistant]:
    out = io.StringIO()
    from rich.console import Console

    console = Console(file=out, width=200, highlight=False, color_system=None)
    fake = assistant or FakeAssistant()
    settings = Settings.from_env({"RAG_HOME": str(tmp_path / "home"), "RAG_CORPUS": str(tmp_path / "corpus")})
    return Chat(settings, console, fake), out, fake  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("What does Article 26 require?", None),
        ("/help", Command("help")),
        ("  /OPEN 2 ", Command("open", ("2",))),
        ("/filter jurisdiction=EU type=eu-law", Command("filter", ("jurisdiction=EU", "type=eu-law"))),
        ('/save "my notes.md"', Command("save", ("my notes.md",))),
        ("/save 'unbalanced.md", Command("save", ("'unbalanced.md",))),
        ("/", Command("")),
    ],
)
def test_parse_command(line: str, expected: Command | None) -> None:
    assert parse_command(line) == expected


def test_a_followup_is_searched_as_a_standalone_question_and_shown(tmp_path: Path) -> None:
    chat, out, fake = make_chat(tmp_path)
    assert chat.handle(ART26)
    assert chat.handle("And under the EU Directive?")
    assert [q for q, _ in fake.asked] == [ART26, "What does the EU Directive require on non-punishment?"]
    shown = out.getvalue()
    assert "(searched for: What does the EU Directive require on non-punishment?)" in shown
    assert shown.count("searched for") == 1  # not for the first question, which was searched as typed
    assert "[1] Article 26, Council of Europe Convention on Action against Trafficking in Human Beings" in shown
    assert "(CETS No. 197) — corpus/instruments/coe-convention.md" in shown


def test_an_engine_that_condenses_is_used_instead_of_the_rules(tmp_path: Path) -> None:
    seen: list[tuple[str, list[tuple[str, str]]]] = []

    @dataclass
    class Condensing(FakeEngine):
        name: str = "openai:tiny"

        def condense(self, question: str, history: list[tuple[str, str]]) -> str:
            seen.append((question, history))
            return "What does Article 8 of Directive 2011/36/EU require?"

    chat, _, fake = make_chat(tmp_path, FakeAssistant(engine=Condensing()))
    chat.handle(ART26)
    chat.handle("And under the EU Directive?")
    assert fake.asked[1][0] == "What does Article 8 of Directive 2011/36/EU require?"
    assert seen[0][0] == "And under the EU Directive?"
    assert seen[0][1][0][0] == ART26 and "not imposing penalties" in seen[0][1][0][1]


def test_filters_apply_to_the_following_questions_until_turned_off(tmp_path: Path) -> None:
    chat, out, fake = make_chat(tmp_path)
    chat.handle("/filter jurisdiction=EU type=eu-law")
    chat.handle("Is Article 8 binding?")
    chat.handle("/filter off")
    chat.handle("Is Article 26 binding?")
    assert fake.asked[0][1] == {"jurisdiction": "EU", "type": "eu-law"}
    assert fake.asked[1][1] == {}
    assert "Filters: jurisdiction=EU, type=eu-law" in out.getvalue()
    assert "Filters: none" in out.getvalue()


def test_a_bad_filter_is_one_error_line_naming_the_command(tmp_path: Path) -> None:
    chat, out, _ = make_chat(tmp_path)
    assert chat.handle("/filter colour=red")
    assert "Error: /filter 'colour=red': unknown key 'colour'" in out.getvalue()
    assert chat.filters == {}


def test_unknown_command_lists_the_commands(tmp_path: Path) -> None:
    chat, out, _ = make_chat(tmp_path)
    assert chat.handle("/frobnicate")
    (line,) = out.getvalue().strip().splitlines()
    assert line.startswith("Unknown command /frobnicate; commands: /help, /sources, /open N, /filter")
    assert "/quit" in line


def test_quit_ends_and_help_explains_multiline_input(tmp_path: Path) -> None:
    chat, out, _ = make_chat(tmp_path)
    assert chat.handle("/help")
    assert "backslash" in out.getvalue() and "Esc then Enter" in out.getvalue()
    assert chat.handle("/quit") is False
    assert chat.handle("/exit") is False


def test_library_errors_are_one_line_and_the_chat_goes_on(tmp_path: Path) -> None:
    chat, out, _ = make_chat(tmp_path, FakeAssistant(fail=LLMError("the model server at http://x failed")))
    assert chat.handle("Is Article 26 binding?")
    assert out.getvalue().strip() == "Error: the model server at http://x failed"
    assert chat.exchanges == []


def test_ctrl_c_during_an_answer_cancels_it_and_keeps_the_session(tmp_path: Path) -> None:
    chat, out, fake = make_chat(tmp_path, FakeAssistant(fail=KeyboardInterrupt()))
    assert chat.handle("Is Article 26 binding?")
    assert "Cancelled." in out.getvalue()
    fake.fail = None
    assert chat.handle("Is Article 26 binding?")
    assert len(chat.exchanges) == 1


def test_streamed_tokens_are_printed_once_then_the_sources(tmp_path: Path) -> None:
    chat, out, _ = make_chat(tmp_path, FakeAssistant(tokens=["Compelled victims ", "need not be ", "punished [1]."]))
    chat.handle("Is Article 26 binding?")
    shown = out.getvalue()
    assert "Compelled victims need not be punished [1]." in shown
    assert "not imposing penalties. [1]" not in shown  # the final text is not printed again
    assert shown.index("punished [1].") < shown.index("Sources:")


def test_sources_and_open_need_an_answer_first(tmp_path: Path) -> None:
    chat, out, _ = make_chat(tmp_path)
    chat.handle("/sources")
    chat.handle("/open 1")
    assert "No answer yet" in out.getvalue() and "No sources yet" in out.getvalue()
    chat.handle(ART26)
    chat.handle("/open 7")
    assert "Usage: /open N, where N is a source of the last answer (1-1)." in out.getvalue()


def test_sources_show_full_quotes_and_flag_unverified_citations(tmp_path: Path) -> None:
    long_quote = "Each Party shall provide for the possibility of not imposing penalties. " * 8
    two = [citation(1, quote=long_quote), citation(2, verified=False, pinpoint="Article 10")]
    chat, out, _ = make_chat(tmp_path)
    chat.exchanges.append(Exchange("q", "q", answer("q", citations=two)))
    chat.handle("/sources")
    shown = out.getvalue()
    assert " ".join(long_quote.split()) in " ".join(shown.replace("“", " ").replace("”", " ").split())
    assert re.search(r"\[2\] Article 10, .* NOT VERIFIED", shown)


def test_open_shows_the_whole_passage_with_its_headings_and_path(tmp_path: Path) -> None:
    note = tmp_path / "sample-convention.md"  # never read: the headings come with the citation, as ingest stored them
    quote = (
        "Article 26 of the Sample Convention requires each Party to provide for the possibility of not\n"
        "imposing penalties on victims who were compelled to take part in unlawful activities."
    )
    headings = ("Sample Convention on Trafficking", "Article 26 — Non-punishment provision")
    cited = citation(
        1,
        quote=quote,
        path=str(note),
        title="Sample Convention on Trafficking",
        citation="SCT No. 1",
        heading_path=headings,
    )
    chat, out, _ = make_chat(tmp_path)
    chat.exchanges.append(Exchange("q", "q", answer("q", citations=[cited])))
    chat.handle("/open 1")
    shown = out.getvalue()
    assert "Sample Convention on Trafficking › Article 26 — Non-punishment provision" in shown
    assert str(note) in shown
    assert "compelled to take part in unlawful activities." in shown


def test_engine_shows_and_switches_back_to_extractive(tmp_path: Path) -> None:
    chat, out, fake = make_chat(tmp_path, FakeAssistant(engine=FakeEngine(name="openai:tiny")))
    chat.handle("/engine")
    chat.handle("/engine extractive")
    assert "Engine: openai:tiny" in out.getvalue()
    assert "Engine: extractive; nothing leaves this machine" in out.getvalue()
    assert fake.engine.name == "extractive"


def test_privacy_note_names_the_servers() -> None:
    local = Settings.from_env({"RAG_HOME": "/tmp/x"})
    assert privacy_note(local) == "nothing leaves this machine"
    remote = Settings.from_env(
        {
            "RAG_HOME": "/tmp/x",
            "RAG_CHROMA_URL": "http://chroma.example:8000",
            "RAG_LLM": "openai:m@http://127.0.0.1:8080/v1",
        }
    )
    assert servers(remote) == [("Chroma", "http://chroma.example:8000"), ("LLM", "http://127.0.0.1:8080/v1")]
    assert privacy_note(remote).startswith("talks to Chroma at http://chroma.example:8000 and LLM at http://127.0.0.1")
    assert "not all on this machine" in privacy_note(remote)
    assert "(all on this machine)" in privacy_note(Settings.from_env({"RAG_HOME": "/x", "RAG_LLM": "ollama:gemma3"}))


def test_transcript_markdown_holds_questions_searches_answers_and_sources() -> None:
    first = Exchange(ART26, ART26, answer(ART26))
    flagged = answer("What does the EU Directive require on non-punishment?", citations=[citation(verified=False)])
    second = Exchange("And under the EU Directive?", flagged.question, flagged, {"jurisdiction": "EU"})
    text = transcript_markdown([first, second], {"Engine": "extractive"})
    assert text.startswith("# Chat transcript")
    assert "- Engine: extractive" in text
    assert f"## 1. {ART26}" in text and "## 2. And under the EU Directive?" in text
    assert "*Searched for:* What does the EU Directive require on non-punishment?" in text
    assert text.count("*Searched for:*") == 1
    assert "*Filters:* jurisdiction=EU" in text
    assert "1. Article 26, Council of Europe Convention" in text and "`corpus/instruments/coe-convention.md`" in text
    assert "> Each Party shall provide for the possibility of not imposing penalties on victims." in text
    assert text.count("**(not verified)**") == 1


def test_save_writes_the_transcript_atomically(tmp_path: Path) -> None:
    chat, out, _ = make_chat(tmp_path)
    chat.handle(ART26)
    chat.handle("And under the EU Directive?")
    target = tmp_path / "notes" / "session.md"
    chat.handle(f"/save {target}")
    assert "Error: cannot write" in out.getvalue()  # the folder does not exist: one line, no traceback
    target.parent.mkdir()
    chat.handle(f"/save {target}")
    text = target.read_text()
    assert ART26 in text and "And under the EU Directive?" in text
    assert f"Saved 2 question(s) to {target}" in out.getvalue()
    assert [p.name for p in target.parent.iterdir()] == ["session.md"]  # no temporary file left behind


def test_clear_forgets_the_conversation(tmp_path: Path) -> None:
    chat, _, fake = make_chat(tmp_path)
    chat.handle(ART26)
    chat.handle("/clear")
    chat.handle("And under the EU Directive?")
    assert fake.asked[-1][0] == "And under the EU Directive?"  # no earlier subject to carry
    assert len(chat.exchanges) == 1


def test_chat_on_an_empty_index_exits_1_with_one_line(fake_embeddings: None) -> None:
    result = CliRunner().invoke(app, ["chat"])
    assert result.exit_code == 1
    assert result.output.strip().startswith("Error: nothing is indexed")
    assert "Traceback" not in result.output


def test_piped_chat_answers_from_a_real_store(fake_embeddings: None, sample_corpus: Path, tmp_path: Path) -> None:
    from rag.ingest.pipeline import ingest

    ingest([sample_corpus], Settings.from_env())
    script = "What does Article 26 of the Sample Convention require?\nAnd Article 10?\n/sources\n/bogus\n/quit\n"
    result = CliRunner().invoke(app, ["chat"], input=script)
    assert result.exit_code == 0, result.output
    out = result.output
    assert re.search(r"corpus \S+ · 2 documents, \d+ chunks indexed · engine extractive", out)
    assert "nothing leaves this machine" in out
    assert "? What does Article 26 of the Sample Convention require?" in out
    assert "searched for: What does Article 10 of the Sample Convention require on non-punishment?" in out
    assert "identify victims early" in out
    assert "Unknown command /bogus" in out


def test_an_llm_engine_streams_and_condenses_follow_ups(
    fake_embeddings: None, sample_corpus: Path, tmp_path: Path
) -> None:
    """The real Assistant and LLMEngine over a real store, with a LangChain fake chat model."""
    from langchain_core.language_models import GenericFakeChatModel
    from langchain_core.messages import AIMessage

    from rag.answer.assistant import Assistant
    from rag.answer.llm import LLMEngine
    from rag.ingest.pipeline import ingest

    ingest([sample_corpus], Settings.from_env())
    replies = [
        "Article 26 requires each Party to provide for the possibility of not imposing penalties on victims [1].",
        "What does Article 10 of the Sample Convention require?",  # the condensed follow-up
        "Article 10 requires competent authorities to identify victims early [1].",
    ]
    model = GenericFakeChatModel(messages=iter(AIMessage(content=r) for r in replies))
    engine = LLMEngine("openai:fake@http://127.0.0.1:9/v1", model=model)
    out = io.StringIO()
    from rich.console import Console

    console = Console(file=out, width=200, highlight=False, color_system=None)
    settings = Settings.from_env(llm="openai:fake@http://127.0.0.1:9/v1")
    chat = Chat(settings, console, Assistant(settings, engine=engine))
    chat.handle("What does Article 26 of the Sample Convention require?")
    chat.handle("And Article 10?")
    shown = out.getvalue()
    assert "possibility of not imposing penalties on victims [1]." in shown
    assert "(searched for: What does Article 10 of the Sample Convention require?)" in shown
    assert "identify victims early [1]." in shown
    assert shown.count("identify victims early [1].") == 1  # streamed, not printed twice
    assert re.search(r"\[1\] Article 10, Sample Convention on Trafficking \(SCT No\. 1\) — ", shown)
    assert [ex.standalone for ex in chat.exchanges][1] == "What does Article 10 of the Sample Convention require?"
    chat.handle("/engine")
    assert "talks to LLM at http://127.0.0.1:9/v1 (all on this machine)" in out.getvalue()


def _expect_prompt(child: Any) -> None:
    child.expect(r"\? \x1b\[")  # the prompt, then prompt_toolkit's cursor handling


@pytest.mark.slow
def test_chat_end_to_end_in_a_terminal(real_home: Path, tmp_path: Path) -> None:
    pexpect = pytest.importorskip("pexpect")
    env = {
        **os.environ,
        "RAG_HOME": str(real_home),
        "TERM": "xterm-256color",
        "PROMPT_TOOLKIT_NO_CPR": "1",  # pexpect does not answer cursor position requests
        "COLUMNS": "200",
    }
    saved = tmp_path / "chat.md"
    started = time.monotonic()
    child = pexpect.spawn(
        venv_bin("rag") + " chat", env=env, encoding="utf-8", timeout=180, dimensions=(60, 200), cwd=str(tmp_path)
    )
    log = io.StringIO()
    child.logfile_read = log
    try:
        child.expect("nothing leaves this machine")
        _expect_prompt(child)
        child.send(ART26 + "\r")
        child.expect("Bench book note on CETS No. 197, Article 26: ")  # the answer's own label, not the question
        child.expect("citations verified")
        _expect_prompt(child)
        child.send("And under the EU Directive?\r")
        child.expect(r"searched for: What does the EU Directive require on non-punishment\?")
        child.expect("Bench book note on Directive 2011/36/EU")
        child.expect("citations verified")
        _expect_prompt(child)
        child.send("/sources\r")
        child.expect("Bench book note on Directive 2011/36/EU")
        _expect_prompt(child)
        child.send("/open 1\r")
        child.expect("eu-directive-2011-36.md")
        _expect_prompt(child)
        child.send(f"/save {saved}\r")
        child.expect("Saved 2 question")
        _expect_prompt(child)
        child.send("half a question\x03")  # Ctrl-C at the prompt clears the line; the chat goes on
        _expect_prompt(child)
        child.send("/engine\r")
        child.expect("Engine: extractive")
        _expect_prompt(child)
        child.send("/quit\r")
        child.expect(pexpect.EOF)
    finally:
        child.close()
        print(f"chat session took {time.monotonic() - started:.1f} s")
    assert child.exitstatus == 0, log.getvalue()[-2000:]
    text = saved.read_text()
    assert ART26 in text and "And under the EU Directive?" in text
    history = (real_home / "chat_history").read_text()
    assert ART26 in history and "half a question" not in history


def test_history_falls_back_to_memory_when_the_home_is_read_only(tmp_path: Path) -> None:
    from prompt_toolkit.history import FileHistory, InMemoryHistory

    from rag.faces.chat import _history

    assert isinstance(_history(tmp_path / "home" / "chat_history"), FileHistory)
    blocked = tmp_path / "file"
    blocked.write_text("not a folder")
    assert isinstance(_history(blocked / "chat_history"), InMemoryHistory)


def test_brackets_in_questions_answers_and_sources_are_shown_as_written(tmp_path: Path) -> None:
    from rag.faces.chat_render import show_answer, show_passage, show_sources

    chat, out, fake = make_chat(tmp_path)
    chat.handle("Is the [/] duty in Article 26 [bold]binding?")
    assert fake.asked == [("Is the [/] duty in Article 26 [bold]binding?", {})]
    odd = citation(title="R v L [sic] [/]", quote="[12] The appellants [sic] were victims.")
    said = answer("q", "The appellants [sic] were victims [bold] of it. [1]", citations=[odd])
    show_answer(chat.console, said)
    show_sources(chat.console, said)
    show_passage(chat.console, odd, ("Judgment [/]",))
    shown = out.getvalue()
    assert "The appellants [sic] were victims [bold] of it. [1]" in shown
    assert "R v L [sic] [/]" in shown and "[12] The appellants [sic] were victims." in shown
    assert "Judgment [/]" in shown
