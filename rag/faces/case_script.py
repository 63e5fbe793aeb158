"""Case entries of a session script: what `expect:` may say of an assessment, and the checks of one."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rag.assess.records import FORUMS, STATUSES, Assessment
from rag.core import pinpoint

if TYPE_CHECKING:
    from yaml import Node

    from rag.faces.script import Check, Question

_NULL = "tag:yaml.org,2002:null"
_BOOL = "tag:yaml.org,2002:bool"


def case_expectations(v: Any, node: Node, where: str) -> dict[str, Any]:
    """The Question fields a case's `expect:` sets; problems go to the validator `v` with their lines."""
    import yaml

    from rag.faces.script import CASE_EXPECT_KEYS

    found: dict[str, Any] = {}
    keys = v.mapping(node, CASE_EXPECT_KEYS, f"'expect' of {where}")
    if "forum" in keys:
        value = keys["forum"][1]
        code = None if value.tag == _NULL else str(value.value).strip()
        if code is not None and code not in FORUMS:
            v.fail(value, f"'forum' of {where} must be one of {', '.join(FORUMS)} or null (unknown)")
        found["expect_forum"] = (code,)
    if "child" in keys:
        value = keys["child"][1]
        if value.tag != _BOOL:
            v.fail(value, f"'child' of {where} must be true or false")
        else:
            found["expect_child"] = str(value.value).lower() in ("true", "yes", "on")
    if "steps" in keys:
        value = keys["steps"][1]
        steps = []
        if not isinstance(value, yaml.MappingNode):
            v.fail(value, f"'steps' of {where} must map step ids to statuses, e.g. steps: {{defence: supports}}")
        else:
            for key_node, status_node in value.value:
                status = str(status_node.value).strip()
                if status not in STATUSES:
                    v.fail(status_node, f"status '{status}' of {where} is not one of {', '.join(STATUSES)}")
                steps.append((str(key_node.value), status))
        found["expect_steps"] = tuple(steps)
    if "cite" in keys:
        found["cite"] = v.texts(keys["cite"][1], "'cite'", 'cite: ["Section 45(4)"]')
    if "mention" in keys:
        found["mention"] = v.texts(keys["mention"][1], "'mention'", 'mention: ["compulsion"]')
    return found


def check_case(question: Question, a: Assessment) -> list[Check]:
    """Each expectation of a case entry met or not."""
    from rag.faces.assess_render import assessment_text
    from rag.faces.script import Check, flat

    checks = [Check("forum", str(want or "unknown"), a.case.forum == want) for want in question.expect_forum]
    if question.expect_child is not None:
        checks.append(Check("child", str(question.expect_child).lower(), a.case.child is question.expect_child))
    for step_id, status in question.expect_steps:
        step = a.step(step_id)
        checks.append(Check("step", f"{step_id}: {status}", step is not None and step.status == status))
    cited = [c.pinpoint for s in a.steps for c in s.citations if c.verified]
    checks += [Check("cite", want, any(pinpoint.matches(want, got) for got in cited)) for want in question.cite]
    text = flat(assessment_text(a)).casefold()
    checks += [Check("mention", word, flat(word).casefold() in text) for word in question.mention]
    return checks
