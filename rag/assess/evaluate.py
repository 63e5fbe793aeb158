"""Scoring assessments against a gold file of cases (tests/gold/cases.yaml): per-field accuracy."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rag.assess.records import Assessment
from rag.core import pinpoint as pp
from rag.core.errors import RagError

FIELDS = ("forum", "child", "offence_class", "stage", "steps", "cite")


@dataclass
class Score:
    """Right and checked per field, and what was wrong, case by case."""

    right: dict[str, int] = field(default_factory=lambda: dict.fromkeys(FIELDS, 0))
    checked: dict[str, int] = field(default_factory=lambda: dict.fromkeys(FIELDS, 0))
    misses: list[str] = field(default_factory=list)

    def accuracy(self) -> dict[str, float | None]:
        return {f: (self.right[f] / self.checked[f] if self.checked[f] else None) for f in FIELDS}

    def add(self, name: str, ok: bool, case_id: str, detail: str) -> None:
        self.checked[name] += 1
        self.right[name] += ok
        if not ok:
            self.misses.append(f"{case_id} {name}: {detail}")


def load_cases(path: Path) -> list[dict[str, Any]]:
    import yaml

    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(data, list) or not all(isinstance(c, dict) and "case" in c for c in data):
        raise RagError(f"{path}: must be a list of cases, each with id, case and expect")
    return data


def cites(a: Assessment, wanted: str) -> bool:
    """Whether any step cites the pinpoint (or a passage labelled with it)."""
    for step in a.steps:
        for c in step.citations:
            if pp.matches(wanted, c.pinpoint) or wanted.casefold() in c.label.casefold():
                return True
    return False


def score(cases: list[dict[str, Any]], assess: Callable[[str], Assessment]) -> Score:
    result = Score()
    for case in cases:
        expect, cid = case.get("expect") or {}, str(case.get("id", "?"))
        a = assess(str(case["case"]))
        got = a.case
        for name in ("forum", "child", "offence_class", "stage"):
            if name in expect:
                value = getattr(got, name)
                result.add(name, value == expect[name], cid, f"expected {expect[name]!r}, got {value!r}")
        for step_id, status in (expect.get("steps") or {}).items():
            step = a.step(step_id)
            actual = step.status if step else "absent"
            result.add("steps", actual == status, cid, f"{step_id} expected {status!r}, got {actual!r}")
        for wanted in expect.get("cite") or []:
            result.add("cite", cites(a, str(wanted)), cid, f"{wanted!r} not cited")
    return result
