"""`rag eval` on a gold file it cannot use: one line naming the file and line, exit 1, never a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from rag.faces.cli import app

runner = CliRunner()
GOOD = '{"id": "q1", "question": "Is Article 26 binding?", "expected": [{"doc": "coe", "pinpoint": "Article 26"}]}\n'


@pytest.mark.parametrize(
    ("line", "says"),
    [
        (b"[1, 2]", "a gold item must be a JSON object with id and question, not a list"),
        (b'"just a question"', "a gold item must be a JSON object with id and question, not a string"),
        (b"null", "not null"),
        (b'{"id": 2, "question": "Binding?", "expected": "coe"}', '"expected" must be a list'),
        (b'{"id": 2, "question": "Binding?", "expected": [3]}', '"expected" must be a list'),
        (b'{"id": 2, "question": "Binding?", "expected": [{"doc": "coe", "or": "echr"}]}', '"or" optional'),
        (b'{"id": 2, "question": ["Binding?"]}', 'needs an "id" and a "question" (text)'),
        (b'{"id": 2, "question": "Binding?"', "not JSON"),
        (b'{"id": 2, "question": "Is it binding \xe9?"}', "not UTF-8 text; save the gold set as UTF-8"),
    ],
)
def test_a_bad_gold_line_is_one_error_naming_it(tmp_path: Path, line: bytes, says: str) -> None:
    gold = tmp_path / "gold.jsonl"
    gold.write_bytes(GOOD.encode() + line + b"\n")
    result = runner.invoke(app, ["eval", str(gold)])
    assert result.exit_code == 1, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert result.stderr.startswith(f"Error: {gold}:2: ") and says in result.stderr, result.stderr
    assert result.stderr.count("\n") == 1


def test_a_gold_file_in_another_encoding_names_its_first_bad_line(tmp_path: Path) -> None:
    gold = tmp_path / "gold.jsonl"
    gold.write_bytes(GOOD.encode("utf-16"))
    result = runner.invoke(app, ["eval", str(gold)])
    assert result.exit_code == 1
    assert result.stderr == f"Error: {gold}:1: not UTF-8 text; save the gold set as UTF-8\n"


def test_a_gold_file_with_a_byte_order_mark_loads(tmp_path: Path) -> None:
    from rag.answer.evaluate import load_gold

    gold = tmp_path / "gold.jsonl"
    gold.write_bytes(b"\xef\xbb\xbf" + GOOD.encode())
    assert [i.question for i in load_gold(gold)] == ["Is Article 26 binding?"]
