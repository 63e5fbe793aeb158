"""YAML for metadata (front matter, .meta.yaml sidecars, sources.yaml): plain data, no aliases.

An alias (*name) repeats a node by reference; a few lines of nested aliases ("billion laughs") expand to
gigabytes once the values are turned into text. Metadata never needs them, so they are refused outright.
"""

from __future__ import annotations

import functools
from typing import Any

ALIAS_REFUSED = "a YAML alias (*name) or merge key (<<)"


@functools.cache
def _loader() -> Any:
    import yaml

    class NoAliasLoader(yaml.SafeLoader):
        """The safe loader, refusing aliases before they are resolved (merge keys use them too)."""

        def compose_node(self, parent: Any, index: Any) -> Any:
            if self.check_event(yaml.AliasEvent):
                mark = self.peek_event().start_mark
                raise yaml.composer.ComposerError(None, None, f"found {ALIAS_REFUSED}", mark)
            return super().compose_node(parent, index)

    return NoAliasLoader


def load(text: str) -> object:
    """The data in a YAML text; raises yaml.YAMLError for malformed YAML, aliases and nesting too deep to read."""
    import yaml

    try:
        return yaml.load(text, Loader=_loader())
    except RecursionError:  # [[[[... thousands deep: the composer recurses once per level
        raise yaml.YAMLError("nested too deeply") from None


def line_of(exc: Exception, offset: int = 0) -> str:
    """' line N' for a YAML error that knows where it is (offset: lines before the YAML text), else ''."""
    mark = getattr(exc, "problem_mark", None)
    return f" line {mark.line + 1 + offset}" if mark is not None else ""


def is_alias_error(exc: Exception) -> bool:
    return ALIAS_REFUSED in str(getattr(exc, "problem", "") or "")
