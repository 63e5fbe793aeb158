"""Loading files and cutting them along their legal structure."""

from pathlib import Path

import pytest
from conftest import SAMPLE_NOTE, official_or_skip

from rag.core.errors import LoadError
from rag.ingest.chunk import MAX_CHARS, chunk_document
from rag.ingest.discover import discover
from rag.ingest.load import load_document


def test_front_matter_becomes_metadata(tmp_path: Path) -> None:
    path = tmp_path / "sample-convention.md"
    path.write_text(SAMPLE_NOTE)
    doc = load_document(path)
    assert doc.doc_id == "sample-convention"
    assert doc.meta.citation == "SCT No. 1" and doc.meta.type == "treaty" and doc.meta.date == "2005-05-16"
    assert not doc.text.startswith("---")


def test_markdown_sections_keep_their_pinpoints(tmp_path: Path) -> None:
    path = tmp_path / "n.md"
    path.write_text(
        "---\ntitle: T\n---\n# T\n\nIntro text here.\n\n## Article 26 — Non-punishment\n\nBody of 26.\n\n"
        "### How practitioners apply it\n\nPractice under 26.\n\n## Recital 14\n\nRecital text.\n"
    )
    chunks = chunk_document(load_document(path))
    assert [(c.pinpoint, c.text) for c in chunks] == [
        (None, "Intro text here."),
        ("Article 26", "Body of 26."),
        ("Article 26", "Practice under 26."),
        ("Recital 14", "Recital text."),
    ]
    assert chunks[2].heading_path == ("T", "Article 26 — Non-punishment", "How practitioners apply it")


def test_chunk_text_is_always_a_span_of_the_document(tmp_path: Path) -> None:
    path = tmp_path / "long.txt"
    paragraphs = [f"{i}. " + f"The Party shall act with care in paragraph {i}. " * 12 for i in range(1, 8)]
    path.write_text("Article 5\n\nTitle line\n\n" + "\n".join(paragraphs) + "\n\nArticle 6\n\nShort article.\n")
    doc = load_document(path)
    chunks = chunk_document(doc)
    assert all(doc.text[c.start : c.end] == c.text for c in chunks)
    assert all(len(c.text) <= MAX_CHARS for c in chunks)
    assert {c.pinpoint for c in chunks} >= {"Article 5(1)", "Article 5(7)", "Article 6"}


def test_bad_files_give_one_line_errors(tmp_path: Path) -> None:
    empty = tmp_path / "empty.md"
    empty.write_text("   \n")
    binary = tmp_path / "binary.txt"
    binary.write_bytes(b"\x00\x01\x02abc" * 10)
    broken = tmp_path / "broken.md"
    broken.write_text("---\ntitle: [unclosed\n---\nBody\n")
    for path, reason in ((empty, "empty file"), (binary, "binary"), (broken, "malformed front matter")):
        with pytest.raises(LoadError, match=reason) as info:
            load_document(path)
        assert "\n" not in str(info.value) and str(path) in str(info.value)


def test_legacy_encodings_decode(tmp_path: Path) -> None:
    path = tmp_path / "legacy.txt"
    path.write_bytes("Déclaration – “non-punishment” principle".encode("cp1252"))
    assert "Déclaration – “non-punishment”" in load_document(path).text


def test_discover_skips_readme_and_hidden_files(tmp_path: Path) -> None:
    (tmp_path / "README.md").write_text("# readme")
    (tmp_path / ".hidden.md").write_text("# hidden")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "a.md").write_text("# a")
    (tmp_path / "image.png").write_bytes(b"png")
    assert [p.name for p in discover([tmp_path])] == ["a.md"]


def test_official_texts_chunk_into_their_provisions() -> None:
    folder = official_or_skip()
    coe = chunk_document(load_document(folder / "coe-convention-2005.txt"))
    art26 = [c for c in coe if c.pinpoint == "Article 26"]
    assert len(art26) == 1 and "compelled" in art26[0].text and "possibility of not imposing penalties" in art26[0].text
    assert coe[0].meta.title.startswith("Council of Europe Convention on Action against Trafficking")
    ilo = chunk_document(load_document(folder / "ilo-forced-labour-protocol-2014.txt"))
    art4 = [c for c in ilo if c.pinpoint in ("Article 4", "Article 4(2)") and "entitled not to prosecute" in c.text]
    assert len(art4) == 1
    usc = chunk_document(load_document(folder / "us-tvpa-22usc-ch78-selected.txt"))
    finding = [c for c in usc if c.pinpoint == "22 U.S.C. 7101(b)(19)"]
    assert len(finding) == 1 and "inappropriately incarcerated" in finding[0].text
