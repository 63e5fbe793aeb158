"""One answerability decision for every engine, and a filter that matches nothing said as such (issue 18: 14, 18)."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_llm import scripted
from typer.testing import CliRunner

from rag.answer.assistant import Assistant
from rag.answer.extractive import ExtractiveEngine
from rag.answer.llm import LLMEngine
from rag.core.config import Settings
from rag.core.errors import BadFilter
from rag.faces.cli import app
from rag.ingest.pipeline import ingest


@pytest.fixture
def settings(sample_corpus: Path, fake_embeddings: None, monkeypatch: pytest.MonkeyPatch) -> Settings:
    monkeypatch.setenv("RAG_CORPUS", str(sample_corpus))
    settings = Settings.from_env()
    ingest(None, settings)
    return settings


@pytest.mark.parametrize("question", ["Is Article 26 binding?", "What is the boiling point of mercury in kelvin?"])
def test_the_llm_engine_and_the_extractive_one_refuse_the_same_questions(settings: Settings, question: str) -> None:
    model = scripted("Article 26 requires the possibility of not imposing penalties on compelled victims [1].")
    with_llm = Assistant(settings, engine=LLMEngine("ollama:scripted", model=model)).ask(question)
    extractive = Assistant(settings, engine=ExtractiveEngine("hash")).ask(question)
    assert with_llm.refused == extractive.refused, (with_llm.answer, extractive.answer)
    # The model is asked exactly when the sources address the question.
    assert len(model.calls) == (0 if extractive.refused else 1)


def test_a_filter_that_matches_nothing_names_the_known_values(settings: Settings) -> None:
    with pytest.raises(BadFilter, match=r"jurisdiction=XX matches no indexed passage; jurisdiction is one of: CoE, UK"):
        Assistant(settings).ask("Is Article 26 binding?", filters={"jurisdiction": "XX"})
    with pytest.raises(BadFilter, match="no passage matches them all"):
        Assistant(settings).ask("Is Article 26 binding?", filters={"jurisdiction": "UK", "type": "treaty"})


def test_the_cli_says_the_filter_matches_nothing_in_one_line(settings: Settings) -> None:
    result = CliRunner().invoke(app, ["ask", "Is Article 26 binding?", "--where", "jurisdiction=XX"])
    assert result.exit_code == 1
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: --where jurisdiction=XX matches no indexed passage")
