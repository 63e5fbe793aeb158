"""rag.toml: where it is found, precedence (defaults < file < environment < options), origins, and bad files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from rag.core.config import Settings
from rag.core.errors import ConfigError
from rag.core.settings_file import default_config_path
from rag.faces.cli import app

runner = CliRunner()

TEAM = """\
# the team's settings
chroma_url = "http://10.0.0.5:8000"
k = 8
llm = "ollama:llama3.2"
corpus = "bench-book"
lock_timeout = 30
"""


def team_file(tmp_path: Path, text: str = TEAM, name: str = "rag.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_file_then_environment_then_options(tmp_path: Path) -> None:
    path = team_file(tmp_path)
    env = {"RAG_HOME": str(tmp_path / "home"), "RAG_K": "12"}
    settings = Settings.from_env(env, config=path, llm="openai:m@http://127.0.0.1:8080/v1")
    assert settings.chroma_url == "http://10.0.0.5:8000"  # file over the default
    assert settings.k == 12  # environment over the file
    assert settings.llm == "openai:m@http://127.0.0.1:8080/v1"  # option over the file
    assert settings.corpus == tmp_path / "bench-book"  # relative to the file's folder
    assert settings.lock_timeout == 30.0 and isinstance(settings.lock_timeout, float)
    assert settings.collection == "nonpunishment"  # untouched default
    origins = {name: origin for name, _, origin in settings.explain()}
    assert origins == {
        "home": "$RAG_HOME",
        "corpus": f"{path}:5",
        "chroma_url": f"{path}:2",
        "llm": "--llm",
        "collection": "default",
        "embeddings": "default",
        "k": "$RAG_K",
        "min_score": "default",
        "lock_timeout": f"{path}:6",
        "lang": "default",
    }


def test_an_empty_variable_switches_a_file_setting_off(tmp_path: Path) -> None:
    settings = Settings.from_env({"RAG_LLM": ""}, config=team_file(tmp_path))
    assert settings.llm is None and dict(settings.origins)["llm"] == "$RAG_LLM"


def test_the_users_config_folder_is_read_by_default(tmp_path: Path, isolated_home: Path) -> None:
    path = default_config_path()
    assert path == isolated_home / "user-config" / "rag-nonpunishment" / "rag.toml"
    path.parent.mkdir(parents=True)
    path.write_text('collection = "team-index"\nlang = "fr"\n')
    settings = Settings.from_env()
    assert settings.collection == "team-index" and settings.lang == "fr"
    assert settings.config_file == path and dict(settings.origins)["lang"] == f"{path}:2"


def test_rag_config_names_the_file_and_the_option_beats_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RAG_CONFIG", str(team_file(tmp_path, "k = 7\n", "env.toml")))
    assert Settings.from_env().k == 7
    option = team_file(tmp_path, "k = 9\n", "option.toml")
    result = runner.invoke(app, ["config", "--json", "--config", str(option)])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["config_file"] == str(option)
    assert data["settings"]["k"] == {"value": 9, "origin": f"{option}:1"}
    before = runner.invoke(app, ["--config", str(option), "config", "--json"])  # before the command name too
    assert json.loads(before.stdout)["settings"]["k"]["value"] == 9
    again = runner.invoke(app, ["config", "--json"])  # a later command line does not inherit --config
    assert json.loads(again.stdout)["settings"]["k"] == {"value": 7, "origin": f"{tmp_path / 'env.toml'}:1"}


def test_rag_config_shows_each_value_and_its_origin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = team_file(tmp_path)
    monkeypatch.setenv("RAG_K", "3")
    result = runner.invoke(app, ["config", "--config", str(path)])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0] == f"config file: {path}"
    assert "k: 3  ($RAG_K)" in lines
    assert f"chroma_url: http://10.0.0.5:8000  ({path}:2)" in lines
    assert "collection: nonpunishment  (default)" in lines
    assert "lang: (unset)  (default)" in lines
    assert "store: http://10.0.0.5:8000" in lines and "engine: ollama:llama3.2" in lines


def test_without_a_file_rag_config_says_where_it_would_be(isolated_home: Path) -> None:
    result = runner.invoke(app, ["config"])
    expected = isolated_home / "user-config" / "rag-nonpunishment" / "rag.toml"
    assert result.stdout.splitlines()[0] == f"config file: none ({expected} does not exist)"


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        ('k = 8\ncolection = "x"\n', 2, "unknown key 'colection'; did you mean 'collection'?"),
        ("k = 8\n\nmin-score = 0.5\n", 3, "unknown key 'min-score'; did you mean 'min_score'?"),
        ("zzz = 1\n", 1, "unknown key 'zzz'; the keys are home, corpus, chroma_url, llm, collection,"),
        ("# team\nk = 0\n", 2, "k = 0: choose between 1 and 50 passages"),
        ('k = "8"\n', 1, "k = '8': give a number, e.g. 8"),
        ("k = 8.5\n", 1, "k = 8.5: give a whole number, e.g. 8"),
        ("min_score = 2\n", 1, "min_score = 2: give a relevance between 0 and 1"),
        ('chroma_url = "10.0.0.5:8000"\n', 1, "chroma_url = '10.0.0.5:8000': give it as http://HOST:PORT"),
        ('lang = "de"\n', 1, "lang = 'de': use ru, az, tr, fr, en"),
        ("home = 5\n", 1, 'home = 5: give it as a string in quotes, e.g. "..."'),
        ("k = 8\n[serve]\nport = 1\n", 2, "[serve]: rag.toml has no sections"),
        ("k = 8\nllm = ollama:x\n", 2, "Invalid value; write one setting a line as KEY = VALUE, text in quotes"),
    ],
)
def test_a_bad_file_gets_one_line_naming_file_and_line(tmp_path: Path, text: str, line: int, message: str) -> None:
    path = team_file(tmp_path, text)
    with pytest.raises(ConfigError) as caught:
        Settings.from_env({}, config=path)
    assert str(caught.value).startswith(f"{path}:{line}: {message}")
    result = runner.invoke(app, ["config", "--config", str(path)])
    assert result.exit_code == 1 and result.stdout == ""
    assert result.stderr.startswith(f"Error: {path}:{line}: ") and result.stderr.count("\n") == 1


def test_a_missing_config_file_is_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    result = runner.invoke(app, ["ask", "Is Article 26 binding?", "--config", str(tmp_path / "nope.toml")])
    assert result.exit_code == 1
    missing = tmp_path / "nope.toml"
    assert (
        result.stderr
        == f"Error: --config {missing}: no such file; give the path of a rag.toml file (see `rag config --help`)\n"
    )
    monkeypatch.setenv("RAG_CONFIG", str(tmp_path))
    with pytest.raises(ConfigError, match=rf"^RAG_CONFIG {tmp_path}: is a folder"):
        Settings.from_env()


def test_bad_environment_values_keep_their_messages() -> None:
    with pytest.raises(ConfigError, match=r"^RAG_K='many' is not a valid int$"):
        Settings.from_env({"RAG_K": "many"})
    with pytest.raises(ConfigError, match=r"^RAG_K='0': choose between 1 and 50 passages$"):
        Settings.from_env({"RAG_K": "0"})
    with pytest.raises(ConfigError, match=r"^RAG_EMBEDDINGS='bert': use 'minilm'"):
        Settings.from_env({"RAG_EMBEDDINGS": "bert"})
    with pytest.raises(ConfigError, match=r"^--k 99: choose between 1 and 50 passages$"):
        Settings.from_env({}, k=99)


def test_an_option_overrides_a_bad_value_below_it(tmp_path: Path) -> None:
    """Only the value in force is checked: --k 5 rescues a file whose k is out of range."""
    assert Settings.from_env({}, config=team_file(tmp_path, "k = 0\n"), k=5).k == 5
