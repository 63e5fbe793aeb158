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


def sources_of(collection: str, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("RAG_COLLECTION", collection)
    result = runner.invoke(app, ["sources"])
    return result.output


def test_rebuilding_one_collection_keeps_the_others(
    fake_embeddings: None, sample_corpus: Path, tmp_path: Path, isolated_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    other = tmp_path / "other"
    other.mkdir()
    (other / "other-note.md").write_text(NOTE)
    assert runner.invoke(app, ["ingest", str(sample_corpus)]).exit_code == 0  # the default collection
    monkeypatch.setenv("RAG_COLLECTION", "trial")
    assert runner.invoke(app, ["ingest", str(other)]).exit_code == 0
    default_before = sources_of("nonpunishment", monkeypatch)
    assert "2 documents" in default_before and (isolated_home / "keyword" / "nonpunishment").is_dir()

    monkeypatch.setenv("RAG_COLLECTION", "trial")
    rebuilt = runner.invoke(app, ["ingest", str(other), "--rebuild"])
    assert rebuilt.exit_code == 0, rebuilt.output
    assert rebuilt.stdout.startswith("1 added, 0 updated, 0 unchanged"), rebuilt.stdout
    assert sources_of("nonpunishment", monkeypatch) == default_before  # untouched, its keyword cache too
    assert (isolated_home / "keyword" / "nonpunishment").is_dir()
    assert "1 documents" in sources_of("trial", monkeypatch)
    monkeypatch.delenv("RAG_COLLECTION")
    again = runner.invoke(app, ["ingest", str(sample_corpus)])
    assert again.stdout.startswith("0 added, 0 updated, 2 unchanged") and "(0 embedded now)" in again.stdout


def damage(sqlite: Path) -> None:
    """Overwrite 64 KB in the middle of the database, where a bad disk block or a bad copy would."""
    size = sqlite.stat().st_size
    with sqlite.open("r+b") as f:
        f.seek(size // 2 - 32 * 1024)
        f.write(bytes(range(256)) * 256)


def test_a_store_damaged_in_the_middle_is_found_by_ingest_and_rebuilt(
    fake_embeddings: None, sample_corpus: Path, isolated_home: Path
) -> None:
    big = sample_corpus / "many.md"
    sections = "".join(f"## Section {i}\n\nRule {i} on victims' protection.\n\n" for i in range(600))
    big.write_text("# Many\n\n" + sections)  # enough pages that the middle of the file holds data
    assert runner.invoke(app, ["ingest", str(sample_corpus)]).exit_code == 0
    damage(isolated_home / "chroma" / "chroma.sqlite3")
    result = runner.invoke(app, ["ingest", str(sample_corpus)])
    assert result.exit_code == 1, result.output
    assert result.stderr.startswith(f"Error: {isolated_home / 'chroma'}: the index is damaged (")
    assert result.stderr.rstrip().endswith("run `rag ingest --rebuild` to build it anew from your files")
    assert result.stderr.count("\n") == 1
    rebuilt = runner.invoke(app, ["ingest", str(sample_corpus), "--rebuild"])
    assert rebuilt.exit_code == 0 and rebuilt.stdout.startswith("3 added"), rebuilt.output
    assert runner.invoke(app, ["ingest", str(sample_corpus)]).stdout.startswith("0 added, 0 updated, 3 unchanged")
    asked = runner.invoke(app, ["ask", "What does Article 26 of the Sample Convention require?"])
    assert asked.exit_code == 0 and "Sample Convention" in asked.stdout, asked.output


@pytest.mark.slow
def test_rebuilding_on_a_server_drops_only_that_collection(
    fake_embeddings: None, on_server: object, sample_corpus: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fresh = runner.invoke(app, ["ingest", str(sample_corpus), "--rebuild"])  # nothing to drop yet
    assert fresh.exit_code == 0 and fresh.stdout.startswith("2 added"), fresh.output
    mine = os.environ["RAG_COLLECTION"]
    monkeypatch.setenv("RAG_COLLECTION", mine + "-other")
    assert runner.invoke(app, ["ingest", str(sample_corpus)]).exit_code == 0
    other_before = sources_of(mine + "-other", monkeypatch)
    monkeypatch.setenv("RAG_COLLECTION", mine)
    rebuilt = runner.invoke(app, ["ingest", str(sample_corpus), "--rebuild"])
    assert rebuilt.exit_code == 0 and rebuilt.stdout.startswith("2 added"), rebuilt.output
    assert sources_of(mine + "-other", monkeypatch) == other_before


KILLED = """
import os, signal
from pathlib import Path
import bm25s
from rag.core.config import Settings
from rag.ingest.pipeline import ingest

def die(*args, **kwargs):
    os.kill(os.getpid(), signal.SIGKILL)

real_save, real_replace = bm25s.BM25.save, os.replace
if {while_saving}:  # killed with the keyword index half saved
    bm25s.BM25.save = lambda self, *a, **k: (real_save(self, *a, **k), die())
else:  # killed between writing the "store changed" stamp and renaming it into place
    os.replace = lambda src, dst: die() if str(dst).endswith("index.written") else real_replace(src, dst)
ingest([Path({corpus!r})], Settings.from_env())
"""


@pytest.mark.parametrize("while_saving", [True, False])
def test_a_kill_leaves_no_temporary_files_after_the_next_ingest(
    fake_embeddings: None, sample_corpus: Path, isolated_home: Path, while_saving: bool
) -> None:
    run = bounded.python(
        KILLED.format(while_saving=while_saving, corpus=str(sample_corpus)), timeout=90, memory_mb=4000
    )
    assert run.returncode == -9, run.stderr[-2000:]
    left = [p.name for p in [*isolated_home.iterdir(), *(isolated_home / "keyword").iterdir()]]
    assert any(".tmp-" in n or n.startswith("index.written.") for n in left), left  # the kill left one behind
    result = runner.invoke(app, ["ingest", str(sample_corpus)])
    assert result.exit_code == 0, result.output
    left = [p.name for p in [*isolated_home.iterdir(), *(isolated_home / "keyword").iterdir()]]
    assert not [n for n in left if ".tmp" in n or n.endswith(".old") or n.startswith("index.written.")], left
