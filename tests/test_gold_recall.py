"""The recall rule of `rag eval`: a point counts once, found at its labelled passage or at an alternative."""

from __future__ import annotations

from pathlib import Path

from rag.answer.evaluate import Expected, recall

ARTICLE_26 = Expected("coe-convention", "Article 26")
DUTIES = Expected(
    "vcl-and-an-v-uk", "§ Duties of prosecutors", alternatives=(("uk-nrm-naba-2022", None), ("cps-guidance", "Stage 1"))
)


def test_without_alternatives_only_the_labelled_passage_counts() -> None:
    assert recall((ARTICLE_26,), [("coe-convention", "Article 10"), ("eu-directive-2011-36", "Article 8")]) == (
        1.0,
        0.0,
        1.0,
    )
    assert recall((ARTICLE_26,), [("echr-convention", None), ("coe-convention", "Article 26")]) == (1.0, 1.0, 0.5)


def test_an_alternative_passage_finds_the_point_and_its_document() -> None:
    got = [("practice-guide", None), ("uk-nrm-naba-2022", "Section 63")]
    assert recall((DUTIES, ARTICLE_26), got) == (0.5, 0.5, 0.5)


def test_an_alternative_with_a_pinpoint_needs_that_pinpoint() -> None:
    doc, pin, _ = recall((DUTIES,), [("cps-guidance", "Stage 2")])
    assert (doc, pin) == (1.0, 0.0)
    assert recall((DUTIES,), [("cps-guidance", "Stage 1")])[:2] == (1.0, 1.0)


def test_two_points_in_one_document_are_two_pinpoints_but_one_document() -> None:
    both = (
        Expected("uk-modern-slavery-act-s45", "Section 45(1)"),
        Expected("uk-modern-slavery-act-s45", "Section 45(4)"),
    )
    assert recall(both, [("uk-modern-slavery-act-s45", "Section 45(4)")]) == (1.0, 0.5, 1.0)


def test_a_gold_line_reads_its_alternatives(tmp_path: Path) -> None:
    from rag.answer.evaluate import load_gold

    gold = tmp_path / "g.jsonl"
    gold.write_text(
        '{"id": "q1", "question": "Must I give reasons?", "expected": [{"doc": "vcl", "pinpoint": "§ Duties",'
        ' "or": [{"doc": "nrm"}, {"doc": "cps", "pinpoint": "Stage 1"}]}]}\n',
        encoding="utf-8",
    )
    (item,) = load_gold(gold)
    assert item.expected[0].places == (("vcl", "§ Duties"), ("nrm", None), ("cps", "Stage 1"))
