"""The terminal chat: a prompt with history, follow-up questions and slash commands over Assistant.ask."""

from __future__ import annotations

import os
import shlex
import sys
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlparse

from rag.core.config import Settings
from rag.core.errors import RagError
from rag.core.files import write_atomic
from rag.core.records import Answer
from rag.faces.chat_case import HELP as CASE_HELP
from rag.faces.chat_case import CaseChat
from rag.faces.chat_render import Exchange

if TYPE_CHECKING:
    from rich.console import Console

    from rag.answer.assistant import Assistant

COMMANDS = (
    "/help, /sources, /open N, /filter KEY=VALUE|off, /engine [extractive], /case [TEXT|clear], /save FILE, "
    "/clear, /quit"
)
HELP_COMMANDS = f"""  /help               this help
  /sources            the last answer's sources with their full quotes
  /open N             the whole passage behind source N, with its place in the document and its file
  /filter KEY=VALUE   search only matching passages (several allowed; keys: doc, jurisdiction, type,
                      language, citation, pinpoint), e.g. /filter jurisdiction=EU; /filter shows them,
                      /filter off removes them
  /engine             show the answering engine; /engine extractive switches back to quoting only
{CASE_HELP}
  /save FILE          write this session as a Markdown transcript (FILE.docx: a Word document)
  /clear              forget the conversation (follow-ups start afresh; /save starts a new transcript)
  /quit               leave (or Ctrl-D)

Enter sends the question. For several lines, end a line with a backslash, or press Esc then Enter.
Up and down arrows recall earlier questions. Ctrl-C while an answer is being searched cancels it;
Ctrl-C at the prompt clears the line.
Commands: {COMMANDS}"""


def help_text(lang: str | None = None) -> str:
    """/help: what the chat does in the user's language, then its commands (their names are the same in all)."""
    from rag.core.language import say

    return f"{say('help_intro', lang)}\n\n{HELP_COMMANDS}"


LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1", "0.0.0.0"}


@dataclass(frozen=True)
class Command:
    """A slash command as typed: its name (without the slash, lower-cased) and its arguments."""

    name: str
    args: tuple[str, ...] = ()


def parse_command(line: str) -> Command | None:
    """The slash command on the line, or None when the line is a question."""
    text = line.strip()
    if not text.startswith("/"):
        return None
    try:
        words = shlex.split(text[1:])
    except ValueError:  # an unbalanced quote: take the words as they are
        words = text[1:].split()
    if not words:
        return Command("")
    return Command(words[0].lower(), tuple(words[1:]))


def servers(settings: Settings) -> list[tuple[str, str]]:
    """The servers this chat sends questions to, as (what, URL): a Chroma server, an LLM server."""
    from rag.answer.llm import parse_spec

    found = []
    if settings.chroma_url:
        found.append(("Chroma", settings.chroma_url))
    if settings.llm:
        spec = parse_spec(settings.llm)
        if spec.provider == "openai":
            found.append(("LLM", spec.url or "https://api.openai.com/v1"))
        elif spec.provider == "ollama":
            found.append(("Ollama", spec.where))
    return found


def privacy_note(settings: Settings) -> str:
    """'nothing leaves this machine', or which servers the questions go to."""
    talks_to = servers(settings)
    if not talks_to:
        return "nothing leaves this machine"
    hosts = {urlparse(url if "://" in url else f"http://{url}").hostname for _, url in talks_to}
    where = "all on this machine" if hosts <= LOCAL_HOSTS else "not all on this machine: mind confidential details"
    return "talks to " + " and ".join(f"{what} at {url}" for what, url in talks_to) + f" ({where})"


class Chat:
    """The state of one chat: the conversation, the filters and the last answer; handles each line."""

    def __init__(self, settings: Settings, console: Console, assistant: Assistant) -> None:
        self.settings = settings
        self.console = console
        self.assistant = assistant
        self.filters: dict[str, str] = {}
        self.exchanges: list[Exchange] = []
        self.started = datetime.now()
        self.cases = CaseChat(assistant, console)

    @property
    def last(self) -> Answer | None:
        return self.exchanges[-1].answer if self.exchanges else None

    def say(self, message: str, style: str = "") -> None:
        from rich.text import Text

        self.console.print(Text(message, style=style))

    def handle(self, line: str) -> bool:
        """Answer a question or run a command; False when the chat should end."""
        command = parse_command(line)
        if command is None:
            if line.strip():
                try:
                    taken = self.cases.message(line)
                except RagError as exc:
                    self.say(f"Error: {exc}", "red")
                    return True
                if not taken:
                    self.ask(line)
            return True
        if command.name in ("quit", "exit", "q"):
            return False
        action: Callable[[tuple[str, ...]], None] | None = getattr(self, f"cmd_{command.name}", None)
        if action is None:
            self.say(f"Unknown command /{command.name}; commands: {COMMANDS}", "yellow")
        else:
            try:
                action(command.args)
            except RagError as exc:
                self.say(f"Error: {exc}", "red")
        return True

    def standalone(self, question: str) -> str:
        """The question as searched: rewritten to stand on its own when it leans on the previous one."""
        from rag.answer.assistant import clean_question
        from rag.answer.followup import contextualise

        question = clean_question(question)
        if not self.exchanges:
            return question
        condense = getattr(self.assistant.engine, "condense", None)
        if callable(condense):
            from rag.answer.citations import plain

            return str(condense(question, [(ex.standalone, plain(ex.answer.answer)) for ex in self.exchanges]))
        return contextualise(question, [ex.standalone for ex in self.exchanges])

    def ask(self, question: str) -> None:
        from rag.faces import chat_render

        streamed = False
        status = self.console.status("Searching the sources…", spinner="dots")

        def on_token(token: str) -> None:
            nonlocal streamed
            if not streamed:
                status.stop()
                streamed = True
            self.console.print(token, end="", markup=False, highlight=False, soft_wrap=True)

        try:
            typed = " ".join(question.split())
            searched = self.standalone(question)
            if searched != typed:
                chat_render.show_searched_for(self.console, searched)
            status.start()
            try:
                answer = self.assistant.ask(searched, filters=self.filters, on_token=on_token)
            finally:
                status.stop()
        except RagError as exc:
            self.say(f"Error: {exc}", "red")
            return
        except KeyboardInterrupt:
            self.say("\nCancelled.", "yellow")
            return
        chat_render.show_answer(self.console, answer, streamed)
        self.exchanges.append(Exchange(typed, searched, answer, dict(self.filters)))

    def cmd_case(self, args: tuple[str, ...]) -> None:
        self.cases.command(args)

    @property
    def language(self) -> str | None:
        """The chat's language: the `lang` setting, else the last question's."""
        return self.settings.lang or (self.last.language if self.last is not None else None)

    def cmd_help(self, args: tuple[str, ...]) -> None:
        self.say(help_text(self.language))

    def cmd_sources(self, args: tuple[str, ...]) -> None:
        from rag.faces.chat_render import show_sources

        if self.last is None:
            self.say("No answer yet: ask a question first.", "yellow")
        elif not self.last.citations:
            self.say("The last answer has no sources.", "yellow")
        else:
            show_sources(self.console, self.last)

    def cmd_open(self, args: tuple[str, ...]) -> None:
        from rag.faces.chat_render import show_passage

        if self.last is None or not self.last.citations:
            self.say("No sources yet: ask a question first.", "yellow")
            return
        numbers = [c.n for c in self.last.citations]
        if len(args) != 1 or not args[0].isdigit() or int(args[0]) not in numbers:
            self.say(
                f"Usage: /open N, where N is a source of the last answer ({min(numbers)}-{max(numbers)}).", "yellow"
            )
            return
        cited = next(c for c in self.last.citations if c.n == int(args[0]))
        show_passage(self.console, cited, cited.heading_path)

    def cmd_filter(self, args: tuple[str, ...]) -> None:
        from rag.core.errors import BadFilter
        from rag.retrieve.filters import parse_filters

        if [a.lower() for a in args] in (["off"], ["clear"], ["none"]):
            self.filters = {}
        elif args:
            try:
                self.filters = {**self.filters, **parse_filters(list(args))}
            except BadFilter as exc:
                raise BadFilter(str(exc).replace("--where", "/filter")) from None
        described = ", ".join(f"{k}={v}" for k, v in self.filters.items())
        self.say(f"Filters: {described} (for the following questions)" if described else "Filters: none")

    def cmd_engine(self, args: tuple[str, ...]) -> None:
        from rag.answer.assistant import make_engine

        if args:
            spec = args[0]
            settings = replace(self.settings, llm=None if spec == "extractive" else spec)
            self.assistant.engine = make_engine(settings)  # a bad spec raises before anything changes
            self.settings = settings
        self.say(f"Engine: {self.assistant.engine.name}; {privacy_note(self.settings)}")

    def cmd_save(self, args: tuple[str, ...]) -> None:
        from rag.faces.chat_render import transcript_markdown

        if len(args) != 1:
            self.say("Usage: /save FILE, e.g. /save transcript.md or /save transcript.docx", "yellow")
            return
        path = Path(args[0]).expanduser()
        header = {
            "Started": self.started.strftime("%Y-%m-%d %H:%M"),
            "Saved": datetime.now().strftime("%Y-%m-%d %H:%M"),
            "Engine": self.assistant.engine.name,
            "Corpus": str(self.settings.corpus),
        }
        try:
            if path.suffix.lower() == ".docx":
                from rag.faces import docx_transcript

                docx_transcript.save(docx_transcript.chat_document(self.exchanges, header), path)
            else:
                write_atomic(path, transcript_markdown(self.exchanges, header))
        except OSError as exc:
            self.say(f"Error: cannot write {path}: {exc.strerror or exc}; choose another file", "red")
            return
        self.say(f"Saved {len(self.exchanges)} question(s) to {path}")

    def cmd_clear(self, args: tuple[str, ...]) -> None:
        self.exchanges = []
        self.started = datetime.now()
        self.console.clear()
        self.say("Conversation forgotten: the next question starts afresh.", "dim")


def _prompt_reader(settings: Settings) -> Callable[[], str]:
    """Lines from a prompt_toolkit prompt: persistent history, Enter sends, Esc Enter or a final \\ continues."""
    from prompt_toolkit import PromptSession
    from prompt_toolkit.formatted_text import FormattedText
    from prompt_toolkit.key_binding import KeyBindings

    keys = KeyBindings()

    @keys.add("enter")
    def _send(event: Any) -> None:
        buffer = event.current_buffer
        if buffer.document.text_before_cursor.endswith("\\"):
            buffer.delete_before_cursor(1)
            buffer.insert_text("\n")
        else:
            buffer.validate_and_handle()

    @keys.add("escape", "enter")
    def _newline(event: Any) -> None:
        event.current_buffer.insert_text("\n")

    session: PromptSession[str] = PromptSession(
        history=_history(settings.home / "chat_history"),
        multiline=True,
        key_bindings=keys,
        prompt_continuation=lambda width, line, wrap: "… ".rjust(width),
    )
    return lambda: session.prompt(FormattedText([("ansicyan bold", "? ")]))


def _history(path: Path) -> Any:
    """Questions remembered across sessions in the home folder; only for this session if it is read-only."""
    from prompt_toolkit.history import FileHistory, InMemoryHistory

    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("a", encoding="utf-8"):
            pass
    except OSError:
        return InMemoryHistory()
    return FileHistory(str(path))


def _plain_reader(console: Console) -> Callable[[], str]:
    """Lines from stdin when it is not a terminal (piped input); a final backslash continues."""

    def read() -> str:
        lines = [input()]
        while lines[-1].endswith("\\"):
            lines[-1] = lines[-1][:-1]
            lines.append(input())
        text = "\n".join(lines)
        if text.strip():
            console.print(f"? {text}", markup=False, highlight=False, style="bold")
        return text

    return read


def welcome(settings: Settings, assistant: Assistant, console: Console) -> None:
    """Check that something is indexed, then greet with the corpus, the index size, the engine and privacy."""
    from rich.text import Text

    from rag.core.errors import EmptyIndex
    from rag.core.language import say
    from rag.index import store
    from rag.index.catalog import list_sources

    found = list_sources(settings)
    if not found:
        raise EmptyIndex(f"the index in {store.where(settings)} is empty; run `rag ingest` first")
    chunks = sum(s.chunks for s in found)
    line = Text()
    line.append("Non-punishment reference assistant", style="bold")
    line.append(
        f" · corpus {settings.corpus} · {len(found)} documents, {chunks} chunks indexed"
        f" · engine {assistant.engine.name} · {privacy_note(settings)}"
    )
    console.print(line)
    console.print(Text(say("welcome", settings.lang), style="dim"))


def run_chat(settings: Settings) -> None:
    """The chat loop; an empty index or a bad engine setting raises before the first prompt."""
    from rich.console import Console

    from rag.answer.assistant import Assistant

    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")  # no model-loading bars across the chat
    console = Console(highlight=False)
    console.soft_wrap = not console.is_terminal  # piped output keeps whole lines for the reader's tools
    assistant = Assistant(settings, on_wait=lambda msg: console.print(msg, style="dim", markup=False))
    welcome(settings, assistant, console)
    with console.status("Loading the embedding model…", spinner="dots"):
        assistant.retrieve("non-punishment")  # so the first answer does not wait for the model
    chat = Chat(settings, console, assistant)
    read = _prompt_reader(settings) if sys.stdin.isatty() else _plain_reader(console)
    while True:
        try:
            line = read()
        except KeyboardInterrupt:
            continue
        except EOFError:
            console.print()
            return
        try:
            if not chat.handle(line):
                return
        except KeyboardInterrupt:
            console.print("Cancelled.", style="yellow")
