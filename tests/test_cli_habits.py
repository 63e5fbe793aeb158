"""CLI habits: --version, python -m rag, shell completion, -v/-q, examples in every --help, session check --json."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import typer
from conftest import REPO, venv_bin
from typer.testing import CliRunner

import rag
from rag.faces.cli import app

runner = CliRunner()
ZETA = "What does Article 26 of the Sample Convention require?"


def commands(group: object, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    """Every command path of the click group, e.g. ("session", "run")."""
    found: list[tuple[str, ...]] = []
    for name, command in getattr(group, "commands", {}).items():
        path = (*prefix, name)
        found += commands(command, path) if hasattr(command, "commands") else [path]
    return found


def test_version() -> None:
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0 and result.stdout == f"rag {rag.__version__}\n"
    module = subprocess.run([sys.executable, "-m", "rag", "--version"], capture_output=True, text=True, timeout=60)
    assert module.returncode == 0 and module.stdout == f"rag {rag.__version__}\n"


def test_python_m_rag_is_the_rag_command() -> None:
    result = subprocess.run([sys.executable, "-m", "rag", "ask", ""], capture_output=True, text=True, timeout=60)
    assert result.returncode == 1 and result.stderr.startswith("Error: the question is empty")


def test_every_command_has_examples_in_its_help() -> None:
    paths = commands(typer.main.get_command(app))
    assert {("ask",), ("ingest",), ("session", "run"), ("session", "check"), ("corpus", "fetch")} <= set(paths)
    for path in paths:
        result = runner.invoke(app, [*path, "--help"])
        assert result.exit_code == 0, path
        examples = result.stdout.split("Examples:\n", 1)
        assert len(examples) == 2, f"rag {' '.join(path)} --help has no examples"
        assert f"rag {' '.join(path)}" in examples[1], path  # each shows its own command, on its own line


def test_shell_completion() -> None:
    env = {**os.environ, "_RAG_COMPLETE": "complete_bash", "COMP_WORDS": "rag session r", "COMP_CWORD": "2"}
    done = subprocess.run([venv_bin("rag")], env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and done.stdout.split() == ["run"]
    script = subprocess.run([venv_bin("rag"), "--show-completion", "bash"], capture_output=True, text=True, timeout=60)
    assert script.returncode == 0 and "_rag_completion" in script.stdout and "complete " in script.stdout


def test_help_loads_neither_docx_nor_the_lock_library() -> None:
    code = (
        "import sys; from rag.faces.cli import app; from typer.testing import CliRunner;"
        "assert CliRunner().invoke(app, ['session', 'run', '--help']).exit_code == 0;"
        "print(','.join(m for m in ('docx', 'lxml', 'portalocker', 'tomllib', 'platformdirs') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0 and out.stdout.strip() == "", out.stdout + out.stderr


def test_session_check_json(tmp_path: Path) -> None:
    good = runner.invoke(app, ["session", "check", str(REPO / "sessions" / "judges-basics.yaml"), "--json"])
    assert good.exit_code == 0
    assert json.loads(good.stdout) == {
        "script": str(REPO / "sessions" / "judges-basics.yaml"),
        "ok": True,
        "questions": 12,
        "problems": [],
    }
    bad_file = tmp_path / "bad.yaml"
    bad_file.write_text('title: T\naudiense: judges\nquestions:\n  - ask: ""\n')
    bad = runner.invoke(app, ["session", "check", str(bad_file), "--json"])
    assert bad.exit_code == 1 and bad.stderr == ""
    data = json.loads(bad.stdout)
    assert data["ok"] is False and data["questions"] is None
    assert [p["line"] for p in data["problems"]] == [2, 4]
    assert data["problems"][0]["message"].startswith("unknown key 'audiense' in the script; did you mean 'audience'?")


def test_session_examples_come_with_the_package() -> None:
    listed = runner.invoke(app, ["session", "examples"])
    assert listed.exit_code == 0
    assert "judges-basics: Judges' workshop: non-punishment basics (12 questions)" in listed.stdout
    path = runner.invoke(app, ["session", "examples", "--path", "judges-basics"])
    assert path.stdout.strip() == str(REPO / "sessions" / "judges-basics.yaml")
    missing = runner.invoke(app, ["session", "examples", "--path", "nope"])
    assert missing.exit_code == 1
    assert missing.stderr == (
        "Error: no example session 'nope'; the examples are: "
        "azerbaijan-framework, case-assessments, judges-basics, prosecutors-vcl\n"
    )


@pytest.mark.usefixtures("fake_embeddings")
def test_verbose_says_the_settings_and_the_timings(sample_corpus: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert runner.invoke(app, ["ingest", str(sample_corpus)]).exit_code == 0
    monkeypatch.setenv("RAG_K", "4")
    plain = runner.invoke(app, ["ask", ZETA])
    assert plain.exit_code == 0 and plain.stderr == ""
    loud = runner.invoke(app, ["ask", ZETA, "-v"])
    assert loud.exit_code == 0 and loud.stdout == plain.stdout
    lines = loud.stderr.splitlines()
    assert lines[0].startswith("settings: no config file; home=") and "k=4 ($RAG_K)" in lines[0]
    assert lines[1].startswith("timings: retrieve ") and lines[1].endswith(" ms")
    assert runner.invoke(app, ["-v", "-q", "ask", ZETA]).stderr == ""  # quiet wins


@pytest.mark.usefixtures("fake_embeddings")
def test_quiet_drops_the_waiting_line_not_the_error(sample_corpus: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from rag.core.config import Settings
    from rag.index import locks

    assert runner.invoke(app, ["ingest", str(sample_corpus)]).exit_code == 0
    monkeypatch.setenv("RAG_LOCK_TIMEOUT", "0.3")
    with locks.write_lock(Settings.from_env()):  # an ingest holds the index
        told = runner.invoke(app, ["ask", ZETA])
        hushed = runner.invoke(app, ["ask", ZETA, "--quiet"])
    assert told.exit_code == 1 and told.stderr.splitlines()[0].startswith("an ingest is updating")
    assert told.stderr.splitlines()[1].startswith("Error: an ingest has held")
    assert hushed.exit_code == 1 and hushed.stderr == told.stderr.split("\n", 1)[1]


@pytest.mark.usefixtures("fake_embeddings")
def test_quiet_session_run_prints_only_the_summary(sample_corpus: Path, tmp_path: Path) -> None:
    assert runner.invoke(app, ["ingest", str(sample_corpus)]).exit_code == 0
    script = tmp_path / "s.yaml"
    script.write_text(f'title: T\nquestions:\n  - ask: "{ZETA}"\n    expect: {{cite: ["Article 26"]}}\n')
    result = runner.invoke(app, ["session", "run", str(script), "--out", str(tmp_path / "out"), "-q"])
    assert result.exit_code == 0, result.output
    assert result.stdout == f"1 of 1 questions passed; transcript: {tmp_path / 'out' / 'transcript.html'}\n"
