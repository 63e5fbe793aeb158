"""The assessment: facts -> the forum's steps in order, each with status, finding and verified citations."""

from __future__ import annotations

import time
import unicodedata
from dataclasses import replace

from rag.assess import pathways as pathways_file
from rag.assess.changes import changed
from rag.assess.extract import extract
from rag.assess.passages import citation, fetch, listing, verified
from rag.assess.pathways import Cite, Pathways, Rule
from rag.assess.records import FORUMS, Assessment, CaseFacts, Step
from rag.assess.rules import fact_values, finding, first_rule
from rag.core.errors import BadCase
from rag.core.knowledge import Knowledge
from rag.core.knowledge import load as load_knowledge
from rag.core.records import Chunk
from rag.retrieve.hybrid import Retriever

MAX_CASE_CHARS = 20000


def clean_case(text: str) -> str:
    """The case text without control characters (line breaks kept as spaces); BadCase when unusable."""
    flat = " ".join("".join(" " if unicodedata.category(ch).startswith("C") else ch for ch in text).split())
    if not flat:
        raise BadCase(
            'the case is empty; describe it, e.g. rag assess "A 15-year-old found in a cannabis farm in Leeds"'
        )
    if len(flat) > MAX_CASE_CHARS:
        raise BadCase(
            f"the case is {len(flat):,} characters; keep it under {MAX_CASE_CHARS:,} (the facts, not the file)"
        )
    return flat


def parse_forum(code: str, knowledge: Knowledge) -> tuple[str, str | None]:
    """A --forum value: a forum code (UK-EW ...), 'EU:Spain', or an EU Member State's name; BadCase otherwise."""
    text = code.strip()
    head, _, state = text.partition(":")
    if head.upper() in FORUMS and not state:
        return head.upper(), None
    name = state or text
    country = knowledge.by_name.get(name.strip().title()) or knowledge.by_name.get(name.strip())
    if (head.upper() == "EU" or not state) and country is not None and country.eu:
        return "EU", country.name
    raise BadCase(
        f"unknown forum {code!r}; use one of {', '.join(FORUMS)}, or EU:STATE (e.g. EU:Spain), or leave it out"
    )


class Assessor:
    """Reads cases against the pathways with one open retriever (the chat and servers keep one)."""

    def __init__(self, retriever: Retriever, pathways: Pathways | None = None) -> None:
        self.retriever = retriever
        self.knowledge = load_knowledge(retriever.settings.corpus)
        self.pathways = pathways or pathways_file.load(retriever.settings.corpus)
        self._checked: tuple[int, str] | None = None
        self._chunks: dict[Cite, Chunk | None] = {}
        self._verdicts: dict[tuple[Cite, str], bool] = {}  # the pathways' statements are fixed: checked once

    def _check(self) -> None:
        """Every passage the pathways cite must be in the index (checked again after an ingest)."""
        key = (id(self.pathways), str(self.retriever.keywords.generation))
        if self._checked != key:
            pathways_file.check_cited(self.pathways, listing(self.retriever))
            self._checked, self._chunks, self._verdicts = key, {}, {}

    def facts(self, text: str, forum: str | None = None) -> CaseFacts:
        facts = extract(clean_case(text), self.knowledge, self.pathways)
        if forum:
            code, member = parse_forum(forum, self.knowledge)
            facts = replace(facts, forum=code, member_state=member, spans={**facts.spans, "forum": f"--forum {forum}"})
        return facts

    def assess(self, facts: CaseFacts, text: str = "", previous: Assessment | None = None) -> Assessment:
        from rag.answer.verify import Scorer

        t0 = time.perf_counter()
        self._check()
        forum = self.pathways.forum(facts.forum)
        excluded = None if facts.offence is None else facts.offence in forum.excluded
        values = fact_values(facts, excluded)
        statuses: dict[str, str] = {}
        scorer = Scorer(self.retriever.embeddings)
        steps: list[Step] = []
        warnings: list[str] = []
        for rule_step in forum.steps:
            rule = first_rule(rule_step, values, statuses)
            statuses[rule_step.id] = rule.status
            cites = []
            for n, (cite, chunk) in enumerate(fetch(self.retriever, rule_step.cite, self._chunks), start=1):
                c = citation(n, chunk)
                key = (cite, chunk.chunk_id)
                if key not in self._verdicts:
                    self._verdicts[key] = verified(scorer, cite, c)
                c.verified = self._verdicts[key]
                if not c.verified:
                    warnings.append(f"step {rule_step.id}: {c.label} does not support “{cite.states}”")
                cites.append(c)
            steps.append(Step(rule_step.id, rule_step.question, rule.status, finding(rule, values), cites))
        read = {f for s in forum.steps for f in s.reads} | {"forum"}
        read |= {"age"} if "child" in read else set()
        unknown = {f for f in self.pathways.questions if not facts.known(f)} - (
            {"age"} if facts.child is not None else set()
        )
        asked = [q for f, q in self.pathways.questions.items() if f in unknown & read]
        not_covered = [finding_text(t, values) for t in forum.not_covered]
        result = Assessment(
            case=facts,
            steps=steps,
            open_questions=asked,
            coverage="partial" if not_covered else "full",
            not_covered=not_covered,
            text=text,
            warnings=warnings,
        )
        if previous is not None:
            result.changed = changed(previous, result)
        result.timings_ms = {"total": (time.perf_counter() - t0) * 1000}
        return result

    def read(self, text: str, forum: str | None = None) -> Assessment:
        """One case text, assessed."""
        return self.assess(self.facts(text, forum), clean_case(text))

    def update(self, previous: Assessment, more: str) -> Assessment:
        """The case with the facts of a further message added or changed, re-assessed, with what changed."""
        newer = extract(clean_case(more), self.knowledge, self.pathways)
        merged = previous.case.merged(newer)
        return self.assess(merged, f"{previous.text} {clean_case(more)}".strip(), previous)


def finding_text(template: str, values: dict[str, object]) -> str:
    """A text of the pathways (a `not_covered` entry) with its placeholders filled in."""
    return finding(Rule((), "unknown", template), values, sentence=False)
