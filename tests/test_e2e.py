"""The installed `rag` console script in a subprocess, as a user runs it."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import CORPUS, venv_bin

pytestmark = pytest.mark.slow


def run(args: list[str], home: Path, timeout: int = 300) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "RAG_HOME": str(home), "RAG_CORPUS": str(CORPUS)}
    return subprocess.run([venv_bin("rag"), *args], env=env, capture_output=True, text=True, timeout=timeout)


def test_ingest_then_ask_through_the_console_script(tmp_path: Path) -> None:
    home = tmp_path / "home"
    # A fresh machine embeds the corpus and its quoted sentences with e5 here: about 2 minutes idle.
    ingested = run(["ingest", "--json"], home, timeout=900)
    assert ingested.returncode == 0, ingested.stderr
    assert json.loads(ingested.stdout)["chunks"] > 100
    asked = run(["ask", "Is the non-punishment provision of the CoE Convention binding?", "--json"], home)
    assert asked.returncode == 0, asked.stderr
    data = json.loads(asked.stdout)
    assert not data["refused"] and data["citations"][0]["doc_id"] == "coe-convention"
    assert data["citations"][0]["path"].endswith("corpus/instruments/coe-convention.md")
    again = run(["ingest"], home)
    assert "0 added, 0 updated, 25 unchanged" in again.stdout.replace("  ", " ") or "unchanged" in again.stdout


def test_help_imports_nothing_heavy() -> None:
    code = (
        "import sys; from rag.faces.cli import app; from typer.testing import CliRunner;"
        "r = CliRunner().invoke(app, ['--help']); assert r.exit_code == 0;"
        "r = CliRunner().invoke(app, ['ask', '--help']); assert r.exit_code == 0;"
        "heavy = ('torch', 'chromadb', 'langchain_core', 'sentence_transformers', 'rich');"
        "heavy = [m for m in heavy if m in sys.modules];"
        "print(','.join(heavy))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == ""


def test_errors_exit_1_without_traceback(tmp_path: Path) -> None:
    result = run(["ask", "Is Article 26 binding?"], tmp_path / "empty-home")
    assert result.returncode == 1 and result.stderr.startswith("Error: ") and "Traceback" not in result.stderr
