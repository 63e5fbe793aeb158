"""The small rule language of the pathways: conditions on facts and earlier steps, findings with placeholders."""

from __future__ import annotations

from typing import Any

from rag.assess.pathways import Rule, StepRule
from rag.assess.records import CaseFacts


def listed(values: Any) -> str:
    """A list fact as a reader says it: 'a, b and c'."""
    items = [str(v) for v in values]
    if not items:
        return "none"
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def fact_values(facts: CaseFacts, excluded: bool | None) -> dict[str, Any]:
    """Every fact a condition or a finding may name, with the derived ones."""
    values: dict[str, Any] = {name: facts.value(name) for name in CaseFacts.__dataclass_fields__ if name != "spans"}
    values["excluded"] = excluded
    return values


def holds(expected: Any, actual: Any) -> bool:
    """One condition: `known`/`unknown`, a list of accepted values, or one value."""
    present = bool(actual) if isinstance(actual, tuple) else actual is not None
    if expected == "known":
        return present
    if expected == "unknown":
        return not present
    if isinstance(expected, list):
        return actual in expected
    return bool(actual == expected)


def _status_is(expected: Any, status: str | None) -> bool:
    """A condition on an earlier step: its status is the one named (or one of those listed); 'unknown' is a status."""
    return status in expected if isinstance(expected, list) else status == expected


def first_rule(step: StepRule, values: dict[str, Any], statuses: dict[str, str]) -> Rule:
    """The first rule of the step whose conditions all hold (the last has none, so one always does)."""
    for rule in step.rules:
        if all(
            _status_is(v, statuses.get(k[5:])) if k.startswith("step.") else holds(v, values.get(k))
            for k, v in rule.when
        ):
            return rule
    return step.rules[-1]


def finding(rule: Rule, values: dict[str, Any], sentence: bool = True) -> str:
    """The rule's finding with its placeholders filled in from the facts (a sentence: capitalised)."""
    shown = {k: listed(v) if isinstance(v, tuple) else ("not stated" if v is None else v) for k, v in values.items()}
    text = rule.finding.format(**shown)
    return text[0].upper() + text[1:] if text and sentence else text
