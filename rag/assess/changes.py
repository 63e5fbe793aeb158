"""What changed between two assessments of one case: the facts, then each step whose reading changed."""

from __future__ import annotations

from rag.assess.records import FACTS, Assessment
from rag.assess.rules import listed


def _shown(value: object) -> str:
    if value is None:
        return "not stated"
    if isinstance(value, tuple):
        return listed(value)
    if value is True:
        return "yes"
    if value is False:
        return "no"
    return str(value)


def fact_changes(old: Assessment, new: Assessment) -> list[str]:
    """'age 16', 'offence robbery': each fact whose value changed, as the user would say it."""
    out = []
    for fact in FACTS:
        a, b = old.case.value(fact), new.case.value(fact)
        if a != b and fact not in ("offence_class", "child", "member_state"):
            out.append(f"{fact.replace('_', ' ')} {_shown(b)}")
    return out


def changed(old: Assessment, new: Assessment) -> list[str]:
    """One line per step whose status or finding changed, led by the facts that changed."""
    facts = "; ".join(fact_changes(old, new)) or "no fact changed"
    before = {s.id: s for s in old.steps}
    lines = []
    for step in new.steps:
        was = before.get(step.id)
        if was is None:
            lines.append(f"{facts}: {step.id} is now a step ({step.status}): {step.finding}")
        elif was.status != step.status:
            lines.append(f"{facts}: {step.id} {was.status} → {step.status}: {step.finding}")
        elif was.finding != step.finding:
            lines.append(f"{facts}: {step.id} ({step.status}): {step.finding}")
    for sid in before.keys() - {s.id for s in new.steps}:
        lines.append(f"{facts}: {sid} no longer applies")
    return lines
