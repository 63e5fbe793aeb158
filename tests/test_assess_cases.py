"""Case assessments end to end: the 16 gold cases on the real index, the JSON contract, re-assessment."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from rag.faces.cli import app

GOLD = Path(__file__).resolve().parent / "gold"
runner = CliRunner()
# Measured on 2026-12-01 over cases.yaml (8 blind; blind figures in the commit "Blind score of
# tests/gold/cases.yaml") and cases2.yaml (8 written after the rules): every field 16/16 or all steps.
FLOORS = {"forum": 1.0, "child": 1.0, "offence_class": 1.0, "stage": 1.0, "steps": 1.0, "cite": 1.0}


@pytest.fixture(scope="module")
def assessor(real_index: Path) -> object:
    from rag.assess.engine import Assessor
    from rag.core.config import Settings
    from rag.retrieve.hybrid import Retriever

    return Assessor(Retriever(Settings.from_env({"RAG_HOME": str(real_index)})))


@pytest.mark.slow
def test_the_sixteen_gold_cases_reach_their_floors_with_every_citation_verified(assessor: object) -> None:
    from rag.assess.engine import Assessor
    from rag.assess.evaluate import load_cases, score

    assert isinstance(assessor, Assessor)
    cases = load_cases(GOLD / "cases.yaml") + load_cases(GOLD / "cases2.yaml")
    assert len(cases) == 16
    forums = set()
    warnings: list[str] = []

    def run(text: str) -> object:
        a = assessor.read(text)
        forums.add(a.case.forum)
        warnings.extend(a.warnings)
        return a

    result = score(cases, run)  # type: ignore[arg-type]
    accuracy = result.accuracy()
    for field, floor in FLOORS.items():
        assert accuracy[field] is not None and accuracy[field] >= floor, (field, accuracy, result.misses)
    assert forums == {"UK-EW", "UK-SC", "UK-NI", "EU", "AZ", "US", None}
    assert not warnings  # every pathway statement is supported by the passage it cites


@pytest.mark.slow
def test_a_fact_change_re_runs_and_says_what_changed(assessor: object) -> None:
    from rag.assess.engine import Assessor

    assert isinstance(assessor, Assessor)
    first = assessor.read("An adult found in a cannabis farm in Leeds, charged with production of cannabis")
    assert first.step("defence").status == "unknown"  # type: ignore[union-attr]
    later = assessor.update(first, "she was 16")
    assert later.case.child is True and later.case.age == 16
    assert later.step("defence").status == "supports"  # type: ignore[union-attr]
    assert any(
        line.startswith("age 16: defence unknown → supports") and "compulsion is not needed" in line
        for line in later.changed
    )
    robbery = assessor.update(later, "the offence is robbery")
    assert robbery.step("exclusion").status == "against"  # type: ignore[union-attr]
    assert any("offence robbery: exclusion supports → against" in line for line in robbery.changed)


@pytest.mark.slow
def test_assess_json_has_the_contract_shape(real_home: Path) -> None:
    result = runner.invoke(app, ["assess", "A 15-year-old found in a cannabis farm in Leeds", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert set(data) >= {"case", "steps", "open_questions", "changed", "coverage", "not_covered", "disclaimer"}
    case_keys = {"forum", "age", "child", "nationality", "offence", "offence_class", "stage", "indicators"}
    assert set(data["case"]) >= case_keys | {"identification", "link", "spans"}
    assert data["case"]["forum"] == "UK-EW" and data["case"]["spans"]["forum"] == "Leeds"
    defence = next(s for s in data["steps"] if s["id"] == "defence")
    assert defence["status"] == "supports"
    assert {c["pinpoint"] for c in defence["citations"]} == {"Section 45(1)", "Section 45(4)"}
    assert all(c["verified"] and c["label"] for s in data["steps"] for c in s["citations"])
    assert data["disclaimer"].startswith("A structured reading of the indexed sources, not legal advice")


@pytest.mark.slow
def test_assess_text_shows_the_facts_with_their_words_then_the_steps(real_home: Path) -> None:
    result = runner.invoke(app, ["assess", "An adult man with a false passport at Baku airport"])
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert out.index("What was understood") < out.index("Steps for Azerbaijan") < out.index("Open questions")
    assert "AZ: Azerbaijan   ← “Baku”" in out and "use of a false document (documents)   ← “false passport”" in out
    assert "FLAGGED" in out and "statutory basis is not verified" in out
    assert out.rstrip().endswith("the decision is the prosecutor's or the court's.")


@pytest.mark.slow
def test_a_forum_given_on_the_command_line_wins_and_an_eu_state_is_kept(real_home: Path) -> None:
    result = runner.invoke(app, ["assess", "A woman forced to sell drugs in Leeds", "--forum", "EU:Spain", "--json"])
    data = json.loads(result.stdout)
    assert (data["case"]["forum"], data["case"]["member_state"]) == ("EU", "Spain")
    assert data["coverage"] == "partial" and data["not_covered"] == ["the national law of Spain on non-punishment"]
