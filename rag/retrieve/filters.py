"""--where filters: KEY=VALUE pairs on the stored metadata."""

from __future__ import annotations

from rag.core.errors import BadFilter

FILTER_KEYS = {
    "doc": "doc_id",
    "doc_id": "doc_id",
    "jurisdiction": "jurisdiction",
    "type": "type",
    "language": "language",
    "citation": "citation",
    "pinpoint": "pinpoint",
    "authority": "authority",
    "forum": "forum",
}


def parse_filters(items: list[str] | None) -> dict[str, str]:
    filters: dict[str, str] = {}
    for item in items or []:
        key, sep, value = item.partition("=")
        key, value = key.strip().lower(), value.strip()
        if not sep or not key or not value:
            raise BadFilter(f"--where {item!r}: write it as KEY=VALUE, e.g. jurisdiction=EU")
        if key not in FILTER_KEYS:
            raise BadFilter(
                f"--where {item!r}: unknown key '{key}'; use one of {', '.join(sorted(set(FILTER_KEYS) - {'doc_id'}))}"
            )
        filters[FILTER_KEYS[key]] = value
    return filters
