"""`/case` in the chat: one case at a time, its facts changed by later messages, re-assessed each time."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rag.assess.records import Assessment

if TYPE_CHECKING:
    from rich.console import Console

    from rag.answer.assistant import Assistant
    from rag.assess.service import CaseReader

HELP = """  /case [TEXT]        assess a case: the text after /case, or your next message; later messages add or
                      change facts ("she was 16", "the offence is robbery") and re-run it; a message
                      ending in ? is still asked as a question. /case alone shows the facts and the
                      assessment, /case forum CODE corrects the forum (UK-EW, UK-SC, UK-NI, EU:STATE,
                      AZ, US), /case clear ends the case"""


class CaseChat:
    """The open case of a chat, if any, and whether the next message should start one."""

    def __init__(self, assistant: Assistant, console: Console) -> None:
        self.assistant = assistant
        self.console = console
        self.current: Assessment | None = None
        self.waiting = False
        self._reader: CaseReader | None = None

    @property
    def reader(self) -> CaseReader:
        if self._reader is None:
            from rag.assess.service import CaseReader

            self._reader = CaseReader(self.assistant)
        return self._reader

    def _say(self, text: str, style: str = "") -> None:
        from rich.text import Text

        self.console.print(Text(text, style=style))

    def _show(self, a: Assessment) -> None:
        from rag.faces.assess_render import assessment_text

        self._say(assessment_text(a))

    def _show_change(self, before: Assessment, after: Assessment) -> None:
        from rag.faces.assess_render import MARKS

        if before.case == after.case:
            self._say("Nothing in that message changed the facts of the case; /case shows them.", "yellow")
            return
        if not after.changed:
            self._say("The facts changed, but no step's reading did.", "dim")
        else:
            self._say("What changed:", "bold")
            for line in after.changed:
                self._say(f"  - {line}")
        summary = ", ".join(f"{s.id} {MARKS.get(s.status, s.status)}" for s in after.steps)
        self._say(f"Steps now: {summary}. /case shows the whole assessment.", "dim")

    def command(self, args: tuple[str, ...]) -> None:
        """/case, /case TEXT, /case clear, /case forum CODE."""
        if args and args[0].lower() == "clear" and len(args) == 1:
            self.current, self.waiting = None, False
            self._say("Case closed: messages are questions again.", "dim")
        elif args and args[0].lower() == "forum" and len(args) == 2 and self.current is not None:
            before = self.current
            self.current = self.reader.reassess(before, args[1])
            self._show_change(before, self.current)
        elif args:
            self.start(" ".join(args))
        elif self.current is not None:
            self._show(self.current)
        else:
            self.waiting = True
            self._say("Describe the case in your next message (facts, place, age, offence, stage).", "dim")

    def start(self, text: str) -> None:
        self.waiting = False
        self.current = self.reader.read(text)
        self._show(self.current)

    def message(self, line: str) -> bool:
        """Take the message as the case or as facts of the open case; False when it is a question to answer."""
        if self.waiting:
            self.start(line)
            return True
        if self.current is None or line.rstrip().endswith("?"):
            return False
        before = self.current
        self.current = self.reader.update(before, line)
        self._show_change(before, self.current)
        return True
