"""Pathways as data: `pathways.yaml` beside the corpus, read and checked here into typed records.

The file names the offences and indicators a case may show and, per forum, the ordered steps with the rule
that sets each step's status and the passages that state its test. A malformed file is a PathwayError that
names the file, the forum and the step; `check_cited` fails the same way on a passage the index lacks.
"""

from __future__ import annotations

import re
import string
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from rag.assess.records import FACTS, STAGES, STATUSES
from rag.core.errors import PathwayError

FILE_NAME = "pathways.yaml"
DERIVED = ("excluded",)  # facts the assessment derives from the forum's data


@dataclass(frozen=True)
class Term:
    """An offence or an indicator and the patterns (case-insensitive) that name it."""

    name: str
    patterns: tuple[re.Pattern[str], ...]
    kind: str = ""  # an offence's class


@dataclass(frozen=True)
class Rule:
    """When every condition holds, the step gets this status and finding."""

    when: tuple[tuple[str, Any], ...]
    status: str
    finding: str


@dataclass(frozen=True)
class Cite:
    """A passage that states a step's test: a document and a pinpoint or a section heading, and what it says."""

    doc: str
    pinpoint: str | None
    section: str | None
    states: str

    @property
    def where(self) -> str:
        return f"{self.doc} {self.pinpoint}" if self.pinpoint else f"{self.doc} section {self.section!r}"


@dataclass(frozen=True)
class StepRule:
    id: str
    question: str
    reads: tuple[str, ...]
    rules: tuple[Rule, ...]
    cite: tuple[Cite, ...]


@dataclass(frozen=True)
class Forum:
    code: str
    name: str
    steps: tuple[StepRule, ...]
    excluded: frozenset[str] = frozenset()
    not_covered: tuple[str, ...] = ()


@dataclass(frozen=True, eq=False)
class Pathways:
    offences: tuple[Term, ...]
    indicators: tuple[Term, ...]
    courts: tuple[Term, ...]
    stages: tuple[Term, ...]
    identification: tuple[Term, ...]
    links: tuple[Term, ...]
    questions: dict[str, str]
    forums: dict[str, Forum]
    source: str = ""

    def forum(self, code: str | None) -> Forum:
        return self.forums[code if code in self.forums else "unknown"]

    def cited(self) -> Iterable[tuple[Forum, StepRule, Cite]]:
        for forum in self.forums.values():
            for step in forum.steps:
                for cite in step.cite:
                    yield forum, step, cite


def _placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def _terms(data: dict[str, Any], key: str, where: str) -> tuple[Term, ...]:
    entries = data.get(key)
    if not isinstance(entries, list) or not entries:
        raise PathwayError(f"{where}: '{key}' must be a non-empty list of {{name, patterns}} entries")
    out = []
    for entry in entries:
        if not isinstance(entry, dict) or not entry.get("name") or not isinstance(entry.get("patterns"), list):
            raise PathwayError(f"{where}: every entry of '{key}' needs a name and a list of patterns (got {entry!r})")
        compiled = []
        for p in entry["patterns"]:
            try:
                compiled.append(re.compile(str(p), re.I))
            except re.error as exc:
                raise PathwayError(f"{where}: {key} {entry['name']!r}: bad pattern {p!r} ({exc})") from None
        out.append(Term(str(entry["name"]), tuple(compiled), str(entry.get("class", ""))))
    return tuple(out)


def _rule(entry: Any, where: str) -> Rule:
    if not isinstance(entry, dict) or "status" not in entry or "finding" not in entry:
        raise PathwayError(f"{where}: every rule needs a status and a finding (got {entry!r})")
    status, finding = str(entry["status"]), str(entry["finding"])
    if status not in STATUSES:
        raise PathwayError(f"{where}: status {status!r} is not one of {', '.join(STATUSES)}")
    when = entry.get("when") or {}
    if not isinstance(when, dict):
        raise PathwayError(f"{where}: 'when' must be a mapping of fact: value")
    for fact in when:
        if fact not in (*FACTS, *DERIVED) and not str(fact).startswith("step."):
            raise PathwayError(f"{where}: the condition names an unknown fact {fact!r}; facts: {', '.join(FACTS)}")
    for name in _placeholders(finding):
        if name not in (*FACTS, *DERIVED):
            raise PathwayError(f"{where}: the finding uses an unknown placeholder {{{name}}}")
    return Rule(tuple(when.items()), status, finding)


def _step(entry: Any, shared: dict[str, Any], where: str, earlier: list[str]) -> StepRule:
    if isinstance(entry, dict) and "use" in entry:
        name = str(entry["use"])
        if name not in shared:
            raise PathwayError(f"{where}: 'use: {name}' names no entry of shared_steps")
        entry = shared[name]
    if not isinstance(entry, dict) or not entry.get("id") or not entry.get("question"):
        raise PathwayError(f"{where}: every step needs an id and a question (got {entry!r})")
    sid = str(entry["id"])
    at = f"{where} step {sid}"
    if sid in earlier:
        raise PathwayError(f"{at}: the id is given twice in this forum")
    rules = tuple(_rule(r, at) for r in entry.get("rules") or [])
    if not rules or rules[-1].when:
        raise PathwayError(f"{at}: the last rule must have no 'when', so every case gets a status")
    for rule in rules:
        for fact, _ in rule.when:
            if fact.startswith("step.") and fact[5:] not in earlier:
                raise PathwayError(f"{at}: the condition {fact} names no earlier step of this forum")
    cites = []
    for c in entry.get("cite") or []:
        where_in = isinstance(c, dict) and (c.get("pinpoint") or c.get("section"))
        if not isinstance(c, dict) or not c.get("doc") or not c.get("states") or not where_in:
            raise PathwayError(f"{at}: every cite needs a doc, a pinpoint or a section, and states (got {c!r})")
        cites.append(Cite(str(c["doc"]), c.get("pinpoint") and str(c["pinpoint"]), c.get("section"), str(c["states"])))
    if not cites:
        raise PathwayError(f"{at}: a step must cite at least one passage that states its test")
    reads = tuple(str(r) for r in entry.get("reads") or [])
    return StepRule(sid, str(entry["question"]), reads, rules, tuple(cites))


def parse(data: Any, where: str) -> Pathways:
    """Check the file's content and build the record."""
    if not isinstance(data, dict):
        raise PathwayError(f"{where}: must be a mapping with offences, indicators, questions and forums")
    offences = _terms(data, "offences", where)
    indicators = _terms(data, "indicators", where)
    questions = data.get("questions") or {}
    if not isinstance(questions, dict) or any(k not in FACTS for k in questions):
        raise PathwayError(f"{where}: 'questions' must map facts ({', '.join(FACTS)}) to the question to ask")
    shared = data.get("shared_steps") or {}
    forums: dict[str, Forum] = {}
    names = {o.name for o in offences}
    for code, entry in (data.get("forums") or {}).items():
        at = f"{where}: forum {code}"
        if not isinstance(entry, dict) or not isinstance(entry.get("steps"), list):
            raise PathwayError(f"{at}: needs a name and a list of steps")
        steps: list[StepRule] = []
        for s in entry["steps"]:
            steps.append(_step(s, shared, at, [x.id for x in steps]))
        excluded = frozenset(str(x) for x in entry.get("excluded") or [])
        for name in sorted(excluded - names):
            raise PathwayError(f"{at}: the excluded offence {name!r} is not an offence of the lexicon")
        not_covered = tuple(str(x) for x in entry.get("not_covered") or [])
        forums[str(code)] = Forum(str(code), str(entry.get("name", code)), tuple(steps), excluded, not_covered)
    if "unknown" not in forums:
        raise PathwayError(f"{where}: needs a forum 'unknown' (the pathway when the forum is not known)")
    courts, stages, identification, links = (
        _terms(data, k, where) for k in ("courts", "stages", "identification", "links")
    )
    for court in courts:
        if court.name not in forums:
            raise PathwayError(f"{where}: court entry {court.name!r} names no forum of the file")
    for stage in stages:
        if stage.name not in STAGES:
            raise PathwayError(f"{where}: stage {stage.name!r} is not one of {', '.join(STAGES)}")
    questions_ = {str(k): str(v) for k, v in questions.items()}
    return Pathways(offences, indicators, courts, stages, identification, links, questions_, forums, where)


def check_cited(pathways: Pathways, passages: Iterable[tuple[str, str | None, str]]) -> None:
    """PathwayError on the first cited passage the index lacks; `passages` are (doc id, pinpoint, heading)."""
    pins: set[tuple[str, str]] = set()
    sections: set[tuple[str, str]] = set()
    for doc, pin, heading in passages:
        if pin:
            pins.add((doc, pin))
        if heading:
            sections.add((doc, heading))
    for forum, step, cite in pathways.cited():
        found = (cite.doc, cite.pinpoint) in pins if cite.pinpoint else (cite.doc, str(cite.section)) in sections
        if not found:
            raise PathwayError(
                f"{pathways.source}: forum {forum.code} step {step.id} cites {cite.where}, which is not in the "
                "index; ingest the note that holds it or fix the pathway"
            )


@lru_cache(maxsize=4)
def _load(path: Path, mtime: float) -> Pathways:
    import yaml

    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise PathwayError(f"{path}: cannot read the pathways file ({exc}); fix its YAML") from None
    return parse(data, str(path))


def load(corpus: Path | None = None) -> Pathways:
    """The pathways file beside `corpus` if it has one, else the bench book's own; validated, cached."""
    from rag.core.knowledge import beside_corpus, packaged_corpus

    if (path := beside_corpus(corpus, FILE_NAME)) is not None:
        return _load(path, path.stat().st_mtime)
    raise PathwayError(f"no {FILE_NAME} beside the corpus in {corpus or packaged_corpus()}; reinstall rag")
