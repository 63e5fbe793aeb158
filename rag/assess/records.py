"""Typed records of a case assessment: the facts read from the case, the steps, the assessment."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from rag.core.records import Citation

STATUSES = ("supports", "against", "unknown", "not applicable")
STAGES = ("investigation", "charge", "trial", "sentence", "post-conviction")
FORUMS = ("UK-EW", "UK-SC", "UK-NI", "EU", "AZ", "US")
FORUM_NAMES = {
    "UK-EW": "England and Wales",
    "UK-SC": "Scotland",
    "UK-NI": "Northern Ireland",
    "EU": "an EU Member State",
    "AZ": "Azerbaijan",
    "US": "the United States",
}
DISCLAIMER = (
    "A structured reading of the indexed sources, not legal advice; the decision is the prosecutor's or the court's."
)
# The facts of a case, in the order they are shown and asked about.
FACTS = (
    "forum",
    "member_state",
    "age",
    "child",
    "nationality",
    "offence",
    "offence_class",
    "stage",
    "indicators",
    "identification",
    "link",
)


@dataclass(frozen=True)
class CaseFacts:
    """What was understood from the case; `spans` holds, per fact, the words of the case it came from."""

    forum: str | None = None
    member_state: str | None = None  # the EU Member State when the forum is EU
    age: int | None = None
    child: bool | None = None
    nationality: str | None = None
    offence: str | None = None
    offence_class: str | None = None
    stage: str | None = None
    indicators: tuple[str, ...] = ()
    identification: str | None = None
    link: str | None = None
    spans: dict[str, str] = field(default_factory=dict)

    @property
    def forum_name(self) -> str:
        """The forum as a reader names it: 'England and Wales', 'Spain (EU)', 'not known'."""
        if self.forum == "EU" and self.member_state:
            return f"{self.member_state} (EU Member State)"
        return FORUM_NAMES.get(self.forum or "", "not known")

    def value(self, fact: str) -> Any:
        return getattr(self, fact)

    def known(self, fact: str) -> bool:
        value = self.value(fact)
        return bool(value) if isinstance(value, tuple) else value is not None

    def merged(self, newer: CaseFacts) -> CaseFacts:
        """These facts with every fact the newer reading found put in place of the old one."""
        changes: dict[str, Any] = {}
        spans = dict(self.spans)
        for fact in FACTS:
            if newer.known(fact):
                value = newer.value(fact)
                if fact == "indicators":
                    value = tuple(dict.fromkeys((*self.indicators, *value)))
                changes[fact] = value
                if fact in newer.spans:
                    spans[fact] = newer.spans[fact]
        if newer.known("age") and not newer.known("child"):
            changes["child"] = newer.age is not None and newer.age < 18
            spans["child"] = newer.spans.get("age", "")
        return replace(self, **changes, spans=spans)

    def as_dict(self) -> dict[str, Any]:
        return {
            "forum": self.forum,
            "member_state": self.member_state,
            "age": self.age,
            "child": self.child,
            "nationality": self.nationality,
            "offence": self.offence,
            "offence_class": self.offence_class,
            "stage": self.stage,
            "indicators": list(self.indicators),
            "identification": self.identification,
            "link": self.link,
            "spans": dict(self.spans),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CaseFacts:
        values: dict[str, Any] = {k: data.get(k) for k in FACTS}
        values["indicators"] = tuple(data.get("indicators") or ())
        return cls(**values, spans=dict(data.get("spans") or {}))


@dataclass
class Step:
    """One step of the pathway: its question, the status the facts give it, a one-line finding, its sources."""

    id: str
    question: str
    status: str
    finding: str
    citations: list[Citation] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "question": self.question,
            "status": self.status,
            "finding": self.finding,
            "citations": [c.as_dict() for c in self.citations],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Step:
        cites = [Citation.from_dict(c) for c in data.get("citations") or []]
        return cls(str(data["id"]), str(data["question"]), str(data["status"]), str(data["finding"]), cites)


@dataclass
class Assessment:
    """The whole reading of one case, as every face shows it."""

    case: CaseFacts
    steps: list[Step]
    open_questions: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    coverage: str = "full"  # "full" | "partial": what the sources lack is in not_covered
    not_covered: list[str] = field(default_factory=list)
    disclaimer: str = DISCLAIMER
    text: str = ""  # the case as given
    warnings: list[str] = field(default_factory=list)
    timings_ms: dict[str, float] = field(default_factory=dict)

    def step(self, step_id: str) -> Step | None:
        return next((s for s in self.steps if s.id == step_id), None)

    def as_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "case": self.case.as_dict(),
            "steps": [s.as_dict() for s in self.steps],
            "open_questions": list(self.open_questions),
            "changed": list(self.changed),
            "coverage": self.coverage,
            "not_covered": list(self.not_covered),
            "disclaimer": self.disclaimer,
        }
        if self.warnings:
            data["warnings"] = list(self.warnings)
        if self.timings_ms:
            data["timings_ms"] = {k: round(v, 1) for k, v in self.timings_ms.items()}
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Assessment:
        return cls(
            case=CaseFacts.from_dict(data.get("case") or {}),
            steps=[Step.from_dict(s) for s in data.get("steps") or []],
            open_questions=list(data.get("open_questions") or []),
            changed=list(data.get("changed") or []),
            coverage=str(data.get("coverage", "full")),
            not_covered=list(data.get("not_covered") or []),
            disclaimer=str(data.get("disclaimer", DISCLAIMER)),
            warnings=list(data.get("warnings") or []),
        )
