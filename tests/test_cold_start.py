"""What a fresh process pays before its first answer: the knowledge file read by libyaml."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from rag.core import knowledge
from rag.core.errors import KnowledgeError


def test_knowledge_files_read_by_libyaml_as_by_safe_load() -> None:
    assert hasattr(yaml, "CSafeLoader"), "PyYAML without libyaml: knowledge.yaml reads ten times slower"
    for name in (knowledge.FILE_NAME, "sources.yaml"):
        path = knowledge.beside_corpus(None, name)
        assert path is not None
        text = path.read_text(encoding="utf-8")
        assert knowledge.read_yaml(text) == yaml.safe_load(text)


def test_a_bad_knowledge_file_is_still_named(tmp_path: Path) -> None:
    bad = tmp_path / knowledge.FILE_NAME
    bad.write_text("countries: [unclosed\n")
    with pytest.raises(KnowledgeError, match="fix its YAML"):
        knowledge._load(bad, bad.stat().st_mtime)
