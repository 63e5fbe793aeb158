"""`rag assess` bad input: one line `Error: ...`, exit 1, no traceback (fast, no model)."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from rag.faces.cli import app

runner = CliRunner()


def _error(args: list[str]) -> str:
    result = runner.invoke(app, ["assess", *args])
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: ")
    return lines[0]


def test_an_empty_case_is_refused() -> None:
    assert "the case is empty" in _error(["   "])
    assert "no case given" in _error([])


def test_text_and_file_together_and_an_unreadable_file(tmp_path: Path) -> None:
    case = tmp_path / "case.md"
    case.write_text("A 15-year-old in Leeds", encoding="utf-8")
    assert "not both" in _error(["some text", "--file", str(case)])
    assert "cannot read the case file" in _error(["--file", str(tmp_path / "missing.md")])
    (tmp_path / "bin.md").write_bytes(b"\xff\xfe\x00bad")
    assert "not UTF-8" in _error(["--file", str(tmp_path / "bin.md")])


def test_an_unknown_forum_names_the_codes() -> None:
    message = _error(["A man in Leeds", "--forum", "Narnia"])
    assert "unknown forum 'Narnia'" in message and "UK-EW" in message and "EU:Spain" in message
    assert "unknown forum 'EU:Norway'" in _error(["A man", "--forum", "EU:Norway"])


def test_an_index_without_the_cited_passages_is_a_clear_error(fake_embeddings: None, sample_corpus: Path) -> None:
    assert runner.invoke(app, ["ingest", str(sample_corpus)]).exit_code == 0
    message = _error(["A 15-year-old found in a cannabis farm in Leeds"])
    assert "is not in the index" in message and "forum UK-EW step victim cites" in message


def test_an_empty_index_says_to_ingest() -> None:
    assert "rag ingest" in _error(["A 15-year-old found in a cannabis farm in Leeds"])


def test_help_has_examples() -> None:
    result = runner.invoke(app, ["assess", "--help"])
    assert result.exit_code == 0 and "rag assess --file case.md --forum UK-SC" in result.output
