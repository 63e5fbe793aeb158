"""Assessments through an Assistant's open index, under its read lock: the one call every face makes."""

from __future__ import annotations

from dataclasses import replace

from rag.answer.assistant import Assistant
from rag.assess.engine import Assessor, clean_case, parse_forum
from rag.assess.records import Assessment
from rag.core.config import Settings
from rag.retrieve.hybrid import Retriever


class CaseReader:
    """Keeps one Assessor (its cited passages and their verdicts) across the cases of a chat or server."""

    def __init__(self, assistant: Assistant) -> None:
        self.assistant = assistant
        self._assessor: Assessor | None = None

    def _for(self, retriever: Retriever) -> Assessor:
        if self._assessor is None or self._assessor.retriever is not retriever:
            self._assessor = Assessor(retriever)
        return self._assessor

    def read(self, text: str, forum: str | None = None) -> Assessment:
        """One case text, assessed against its forum's pathway."""
        with self.assistant.reading("assessing a case") as retriever:
            return self._for(retriever).read(text, forum)

    def update(self, previous: Assessment, more: str) -> Assessment:
        """The case with a further message's facts added or changed, re-assessed, with what changed."""
        with self.assistant.reading("assessing a case") as retriever:
            return self._for(retriever).update(previous, more)

    def reassess(self, previous: Assessment, forum: str) -> Assessment:
        """The same facts in another forum (a correction of the forum)."""
        with self.assistant.reading("assessing a case") as retriever:
            assessor = self._for(retriever)
            code, member = parse_forum(forum, assessor.knowledge)
            spans = {**previous.case.spans, "forum": forum}
            facts = replace(previous.case, forum=code, member_state=member, spans=spans)
            return assessor.assess(facts, previous.text, previous)


def check_input(text: str, forum: str | None, settings: Settings) -> None:
    """BadCase for an empty or oversized case or an unknown forum, before the index is opened."""
    from rag.core.knowledge import load as load_knowledge

    clean_case(text)
    if forum:
        parse_forum(forum, load_knowledge(settings.corpus))


def assess(text: str, settings: Settings, forum: str | None = None) -> Assessment:
    """One case, one assessment (the `rag assess` command); a bad case or forum fails before the index opens."""
    check_input(text, forum, settings)
    return CaseReader(Assistant(settings)).read(text, forum)
