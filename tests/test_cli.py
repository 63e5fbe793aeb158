"""The CLI as a user sees it: exit codes, JSON shapes and one-line errors (fake embeddings)."""

import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from rag.faces.cli import app

runner = CliRunner()


def ingest(corpus: Path) -> dict:  # type: ignore[type-arg]
    result = runner.invoke(app, ["ingest", str(corpus), "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_ingest_json_has_the_contract_keys(fake_embeddings: None, sample_corpus: Path) -> None:
    data = ingest(sample_corpus)
    assert set(data) >= {"added", "updated", "unchanged", "removed", "failed", "chunks"}
    assert len(data["added"]) == 2 and data["chunks"] >= 3


def test_ask_json_cites_the_pinpoint(fake_embeddings: None, sample_corpus: Path) -> None:
    ingest(sample_corpus)
    result = runner.invoke(app, ["ask", "What does Article 26 of the Sample Convention require?", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert set(data) >= {"question", "answer", "refused", "engine", "citations", "timings_ms"}
    assert data["engine"] == "extractive" and data["refused"] is False
    first = data["citations"][0]
    assert first["pinpoint"] == "Article 26" and first["citation"] == "SCT No. 1"
    assert set(first) >= {"n", "doc_id", "title", "pinpoint", "page", "quote", "path", "score", "verified"}
    assert "[1]" in data["answer"] and first["quote"] in Path(sample_corpus / "sample-convention.md").read_text()


def test_ask_text_shows_answer_and_sources(fake_embeddings: None, sample_corpus: Path) -> None:
    ingest(sample_corpus)
    result = runner.invoke(app, ["ask", "Does a child need to show compulsion under Section 45(4)?"])
    assert result.exit_code == 0
    assert "Sources:" in result.stdout and "Section 45(4)" in result.stdout


def test_where_filter_limits_sources(fake_embeddings: None, sample_corpus: Path) -> None:
    ingest(sample_corpus)
    result = runner.invoke(app, ["ask", "victims", "--where", "jurisdiction=uk", "--json"])
    assert result.exit_code == 0, result.output
    assert {c["doc_id"] for c in json.loads(result.stdout)["citations"]} <= {"sample-act"}


def test_off_topic_question_is_refused(fake_embeddings: None, sample_corpus: Path) -> None:
    ingest(sample_corpus)
    result = runner.invoke(app, ["ask", "Who won the football match last night?", "--json"])
    data = json.loads(result.stdout)
    assert data["refused"] is True and data["answer"] == "The indexed sources do not address this."


def test_sources_lists_documents(fake_embeddings: None, sample_corpus: Path) -> None:
    ingest(sample_corpus)
    result = runner.invoke(app, ["sources", "--json"])
    docs = {d["doc_id"]: d for d in json.loads(result.stdout)}
    assert set(docs) == {"sample-convention", "sample-act"} and docs["sample-act"]["jurisdiction"] == "UK"


def one_line_error(args: list[str], expected: str) -> None:
    result = runner.invoke(app, args)
    assert result.exit_code == 1, result.output
    assert result.stderr.startswith("Error: ") and expected in result.stderr
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.output


def test_errors_are_one_line(fake_embeddings: None, sample_corpus: Path, tmp_path: Path) -> None:
    one_line_error(["ask", "Is Article 26 binding?"], "rag ingest")  # empty index
    one_line_error(["ingest", str(tmp_path / "missing")], "missing")
    one_line_error(["sources"], "rag ingest")
    ingest(sample_corpus)
    one_line_error(["ask", "   "], "question is empty")
    one_line_error(["ask", "x" * 100_000], "100,000 characters")
    one_line_error(["ask", "victims", "--where", "colour=blue"], "unknown key")
    one_line_error(["ask", "victims", "--where", "nonsense"], "KEY=VALUE")


def test_corrupt_store_is_reported(fake_embeddings: None, sample_corpus: Path, isolated_home: Path) -> None:
    ingest(sample_corpus)
    (isolated_home / "chroma" / "chroma.sqlite3").write_bytes(b"this is not a database" * 100)
    one_line_error(["ask", "Article 26?"], "rag ingest --rebuild")
    result = runner.invoke(app, ["ingest", str(sample_corpus), "--rebuild"])
    assert result.exit_code == 0, result.output
    assert runner.invoke(app, ["ask", "Article 26 Sample Convention?"]).exit_code == 0


def test_control_characters_are_stripped(fake_embeddings: None, sample_corpus: Path) -> None:
    ingest(sample_corpus)
    result = runner.invoke(app, ["ask", "Article\x00 26\x1b[31m Sample Convention?", "--json"])
    assert result.exit_code == 0, result.output
    assert "\x00" not in json.loads(result.stdout)["question"]


def test_the_ingest_progress_bar_shows_a_file_name_with_markup(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import sys

    from rag.faces.cli import _progress

    monkeypatch.setattr(sys.stderr, "isatty", lambda: True, raising=False)
    monkeypatch.setenv("FORCE_COLOR", "1")  # rich draws the bar as on a terminal
    with _progress(enabled=True) as update:
        update("/corpus/notes [sic] [bold]x.md", 1, 2)
    drawn = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", capsys.readouterr().err)
    assert "Indexing notes [sic] [bold]x.md" in drawn
