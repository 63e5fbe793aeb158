"""Case entries of a session script: what `expect:` may say of an assessment."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rag.assess.records import FORUMS, STATUSES

if TYPE_CHECKING:
    from yaml import Node

_NULL = "tag:yaml.org,2002:null"
_BOOL = "tag:yaml.org,2002:bool"
CASE_EXPECT_KEYS = ("forum", "child", "steps", "cite", "mention")  # what a case entry may expect


def case_expectations(v: Any, node: Node, where: str) -> dict[str, Any]:
    """The Question fields a case's `expect:` sets; problems go to the validator `v` with their lines."""
    import yaml

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
