"""Hostile and unlucky corpus input (issue 18): each file fails alone, with its own line, in bounded time."""

from __future__ import annotations

import os
from pathlib import Path

import bounded
import pytest
from conftest import venv_bin
from typer.testing import CliRunner

from rag.faces.cli import app

runner = CliRunner()
NOTE = "---\ntitle: Good Note\n---\n# Good Note\n\n## Article 1\n\nVictims shall not be punished for compelled acts.\n"


def test_a_file_name_that_is_not_utf8_fails_alone_and_the_index_is_kept(
    fake_embeddings: None, sample_corpus: Path
) -> None:
    first = runner.invoke(app, ["ingest", str(sample_corpus)])
    assert first.exit_code == 0, first.output
    folder = os.fsencode(sample_corpus)
    with open(folder + b"/caf\xe9-note.md", "wb") as f:  # a Latin-1 name from an old archive
        f.write(NOTE.encode())
    os.mkdir(folder + b"/d\xe9cisions")
    with open(folder + b"/d\xe9cisions/inside.md", "wb") as f:
        f.write(b"# Inside\n\nA note in a folder whose name is not UTF-8.\n")
    (sample_corpus / "fine.md").write_text("# Fine\n\nA note that indexes next to the bad names.\n")
    result = runner.invoke(app, ["ingest", str(sample_corpus)])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].startswith("1 added, 0 updated, 2 unchanged, 0 removed, 2 failed;"), lines
    assert f"  failed: {sample_corpus}/caf\\xe9-note.md: the name is not valid UTF-8; rename it" in result.stdout
    assert f"  failed: {sample_corpus}/d\\xe9cisions: the name is not valid UTF-8; rename it" in result.stdout
    assert "--rebuild" not in result.output and "index failed" not in result.output
    json_out = runner.invoke(app, ["ingest", str(sample_corpus), "--json"])
    assert json_out.exit_code == 0 and "caf\\\\xe9-note.md" in json_out.stdout


def test_a_named_pipe_called_md_is_listed_and_never_read(fake_embeddings: None, sample_corpus: Path) -> None:
    os.mkfifo(sample_corpus / "pipe.md")  # opening it for reading would wait for a writer for ever
    run = bounded.command([venv_bin("rag"), "ingest", str(sample_corpus)], timeout=90)
    assert run.returncode == 0, run.stderr
    assert run.stdout.startswith("2 added, 0 updated, 0 unchanged, 0 removed, 1 failed;"), run.stdout
    assert f"  failed: {sample_corpus / 'pipe.md'}: not a regular file (a named pipe); skipped" in run.stdout
    given = runner.invoke(app, ["ingest", str(sample_corpus / "pipe.md")])  # named on its own (never opened)
    assert given.exit_code == 0 and "not a regular file (a named pipe)" in given.stdout, given.output


def test_asking_with_a_missing_home_says_to_ingest_and_creates_nothing(
    fake_embeddings: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = tmp_path / "never-made"
    monkeypatch.setenv("RAG_HOME", str(home))
    result = runner.invoke(app, ["ask", "Is Article 26 binding?"])
    assert result.exit_code == 1
    assert result.stderr.strip() == f"Error: nothing is indexed in {home / 'chroma'} yet; run `rag ingest` first"
    assert not home.exists()
    listed = runner.invoke(app, ["sources"])
    assert "run `rag ingest` first" in listed.output and not home.exists()
