"""Pinpoints read from headings and compared the way a lawyer would."""

from rag.core import pinpoint as pp
from rag.retrieve.query import find_pinpoints, parse


def test_headings_name_their_pinpoints() -> None:
    assert pp.from_heading("## Article 26 — Non-punishment provision") == "Article 26"
    assert pp.from_heading("Article 4(2) — No prosecution") == "Article 4(2)"
    assert pp.from_heading("Recital (14)") == "Recital 14"
    assert pp.from_heading("Section 45(4) — Under 18s") == "Section 45(4)"
    assert pp.from_heading("Guideline 4, para 5") == "Guideline 4.5"
    assert pp.from_heading("Principle 7 — Trafficked persons") == "Principle 7"
    assert pp.from_heading("22 U.S.C. 7101(b)(19) — Finding") == "22 U.S.C. 7101(b)(19)"
    assert pp.from_heading("§ Holdings — Article 4") == "§ Holdings — Article 4"
    assert pp.from_heading("The duress model") is None


def test_pinpoints_match_finer_and_coarser_forms() -> None:
    assert pp.matches("Article 4(2)", "Article 4")
    assert pp.matches("Article 4", "Article 4(2)")
    assert pp.matches("article 26", "Article 26")
    assert not pp.matches("Article 2", "Article 26")
    assert not pp.matches("Article 26", None)


def test_questions_name_pinpoints_in_practitioners_shorthand() -> None:
    assert find_pinpoints("art 26 binding?") == ["Article 26"]
    assert find_pinpoints("s.45(4) MSA") == ["Section 45(4)"]
    assert find_pinpoints("what does 7101(b)(19) say") == ["22 U.S.C. 7101(b)(19)"]
    assert "Recital 14" in find_pinpoints("Recital 14 of the Directive")


def test_abbreviations_expand_and_point_at_instruments() -> None:
    parsed = parse("VCL duties under CoE art 26 for kids")
    assert "Council of Europe" in parsed.text and "child" in parsed.text
    assert "vcl-and-an-v-uk" in parsed.doc_hints and "coe-convention" in parsed.doc_hints


def test_practitioners_names_for_the_section_45_defence_point_at_the_act() -> None:
    for question in ("Can she run the modern slavery defence?", "s45 defence for kids", "the Modern Slavery Act"):
        # The bench book's note, then the official texts `rag corpus fetch` brings (corpus/sources.yaml).
        assert parse(question).doc_hints == [
            "uk-modern-slavery-act-s45",
            "uk-modern-slavery-act-s45-official",
            "uk-modern-slavery-act-sch4-official",
        ], question
