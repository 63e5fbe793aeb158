"""Retrieval quality on the gold set must not fall below the recorded figures."""

import json
from pathlib import Path

import pytest
from conftest import REPO

from rag.answer.assistant import Assistant
from rag.answer.evaluate import evaluate, load_gold
from rag.core.config import Settings

pytestmark = pytest.mark.slow
GOLD = REPO / "tests" / "gold" / "gold.jsonl"


SETS = ["gold", "heldout", "heldout2", "heldout3", "heldout4", "bench2", "multilingual"]


@pytest.mark.parametrize("name", SETS)
def test_gold_set_is_well_formed(name: str) -> None:
    items = load_gold(GOLD.with_name(f"{name}.jsonl"))
    # heldout2 has 7 since k033 turned out answered by the second edition (relabelled blind, 2026-12-01).
    assert len(items) >= 30 and sum(not i.answerable for i in items) >= 7
    docs = {p.stem for p in (REPO / "corpus").rglob("*.md") if p.name != "README.md"}
    for item in items:
        assert all(doc in docs for e in item.expected for doc, _ in e.places), item.id
        assert item.answerable == bool(item.expected), item.id


def test_every_alternative_label_comes_from_the_blind_review_with_its_quote() -> None:
    """An "or" in a gold line is a passage the review (tests/gold/review) found stating the same point, with the
    sentence that states it; the quote must still be in that note."""
    review = [json.loads(line) for line in (GOLD.parent / "review" / "second-edition-alternatives.jsonl").open()]
    reviewed = {(r["set"], r["id"], r["expected_index"], r["alternative"]["doc"]) for r in review if "alternative" in r}
    reviewed |= {(r["set"], r["id"], r["expected_index"], r["now_at"]["doc"]) for r in review if r.get("now_at")}
    notes = {p.stem: " ".join(p.read_text(encoding="utf-8").split()) for p in (REPO / "corpus").rglob("*.md")}
    for r in review:
        if "alternative" in r:
            assert " ".join(r["quote"].split())[:80] in notes[r["alternative"]["doc"]], (r["id"], r["alternative"])
    for name in ("gold", "heldout", "heldout2", "heldout3"):
        for item in load_gold(GOLD.with_name(f"{name}.jsonl")):
            for i, e in enumerate(item.expected):
                for doc, _ in e.alternatives:
                    assert (name, item.id, i, doc) in reviewed, (name, item.id, doc)


@pytest.mark.parametrize("name", SETS)
def test_metrics_stay_at_or_above_the_recorded_figures(real_home: Path, name: str) -> None:
    recorded = json.loads((REPO / "tests" / "gold" / "floor.json").read_text())
    floor = recorded if name == "gold" else recorded[name]
    report = evaluate(load_gold(GOLD.with_name(f"{name}.jsonl")), Assistant(Settings.from_env()), k=5)
    summary = report.summary()
    assert summary["doc_recall"] >= floor["doc_recall"], summary
    assert summary["pin_recall"] >= floor["pin_recall"], summary
    assert summary["mrr"] >= floor["mrr"], summary
    assert summary["refusal_accuracy"] >= floor["refusal_accuracy"], summary
    assert summary["false_refusals"] <= floor["false_refusals_max"], summary
    # Refused, or the ask the sources lack named in not_covered (issue 14).
    assert summary["unanswerable_handled"] >= floor["unanswerable_handled"], summary


def test_extractive_answers_are_deterministic_and_fully_verified(real_home: Path) -> None:
    assistant = Assistant(Settings.from_env())
    questions = [i.question for i in load_gold(GOLD) if i.answerable][:12]
    for question in questions:
        first, second = assistant.ask(question), assistant.ask(question)
        assert first.answer == second.answer, question
        if not first.refused:
            assert all(c.verified for c in first.citations), (question, first.warnings)
