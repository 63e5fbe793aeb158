"""PDF, DOCX, HTML and legacy-encoded text files load with their structure, pages and metadata."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from rag.core.errors import LoadError
from rag.ingest.chunk import chunk_document
from rag.ingest.discover import discover
from rag.ingest.load import load_document

TREATY_PAGES = [
    [
        "Sample Treaty on Trafficking",
        "Article 1",
        "The purpose of this treaty is to protect victims of trafficking (all forms).",
    ],
    [
        "Article 41",
        "Each Party shall grant victims a reflection period of forty days",
        "before any decision to prosecute them is taken.",
    ],
]


def make_pdf(pages: list[list[str] | None], title: str | None = None) -> bytes:
    """A minimal valid PDF: one Helvetica text line per string; a None page has no content stream."""
    page_nos: list[tuple[int, int | None, list[str] | None]] = []
    next_no = 4
    for lines in pages:
        page_no, next_no = next_no, next_no + 1
        content_no = None
        if lines is not None:
            content_no, next_no = next_no, next_no + 1
        page_nos.append((page_no, content_no, lines))
    info_no = next_no
    out: list[bytes] = [b"%PDF-1.4\n"]
    offsets: dict[int, int] = {}

    def add(no: int, body: bytes) -> None:
        offsets[no] = sum(len(x) for x in out)
        out.append(b"%d 0 obj\n" % no + body + b"\nendobj\n")

    add(1, b"<< /Type /Catalog /Pages 2 0 R >>")
    kids = b" ".join(b"%d 0 R" % no for no, _, _ in page_nos)
    add(2, b"<< /Type /Pages /Kids [" + kids + b"] /Count %d >>" % len(pages))
    add(3, b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>")
    for page_no, content_no, lines in page_nos:
        contents = b" /Contents %d 0 R" % content_no if content_no else b""
        add(
            page_no,
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 3 0 R >> >>"
            + contents
            + b" >>",
        )
        if content_no and lines is not None:
            ops = [b"BT /F1 11 Tf 14 TL 72 740 Td"]
            for line in lines:
                escaped = line.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
                ops.append(b"(" + escaped.encode("cp1252") + b") Tj T*")
            ops.append(b"ET")
            stream = b"\n".join(ops)
            add(content_no, b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream")
    add(info_no, b"<< /Title (" + (title or "").encode("latin-1") + b") >>")
    xref_at = sum(len(x) for x in out)
    out.append(b"xref\n0 %d\n0000000000 65535 f \n" % (info_no + 1))
    out.extend(b"%010d 00000 n \n" % offsets[no] for no in range(1, info_no + 1))
    out.append(
        b"trailer\n<< /Size %d /Root 1 0 R /Info %d 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (info_no + 1, info_no, xref_at)
    )
    return b"".join(out)


def make_docx(path: Path) -> Path:
    import docx

    document = docx.Document()
    document.core_properties.title = "Sample Convention (Word edition)"
    document.add_heading("Sample Convention", 1)
    document.add_paragraph("The Sample Convention protects victims of trafficking in human beings.")
    document.add_heading("Chapter III Protection of victims", 2)
    document.add_heading("Article 26 — Non-punishment provision", 3)
    document.add_paragraph(
        "Each Party shall provide for the possibility of not imposing penalties on victims for their "
        "involvement in unlawful activities, to the extent that they have been compelled to do so."
    )
    document.add_paragraph().add_run("Article 27 – Ex parte and ex officio applications").bold = True
    document.add_paragraph("Investigations shall not depend on a report or accusation made by a victim.")
    table = document.add_table(rows=1, cols=2)
    table.rows[0].cells[0].text = "Signed"
    table.rows[0].cells[1].text = "Warsaw, 16 May 2005"
    document.save(str(path))
    return path


SAMPLE_HTML = """<!DOCTYPE html>
<html lang="en"><head><title>Sample Directive – Official Journal</title>
<style>.banner { color: red }</style><script>var tracking = "SCRIPT-NOISE";</script></head>
<body>
<header><a href="/">Home</a> SITE-HEADER-NOISE</header>
<nav class="main-nav"><ul><li>MENU-NOISE one</li><li>Menu two</li></ul></nav>
<div id="cookie-consent">COOKIE-NOISE: we use cookies. <button>Accept</button></div>
<div class="breadcrumb">BREADCRUMB-NOISE Home &gt; Law</div>
<main>
  <h1>Sample Directive on trafficking in human beings</h1>
  <p>This Directive
     establishes minimum rules on victims' protection.</p>
  <h2>Article 8 — Non-prosecution of victims</h2>
  <p>Member States shall ensure that competent national authorities are entitled not to prosecute
     victims for criminal activities they were compelled to commit.</p>
  <p class="ti-art">Article 9</p>
  <p>Investigation into offences shall not depend on a report by the victim.<br>Second line of Article 9.</p>
  <table><tr><td><p>(a)</p></td><td><p>first listed</p><p>case</p></td></tr></table>
</main>
<aside>SIDEBAR-NOISE related links</aside>
<footer>FOOTER-NOISE copyright</footer>
</body></html>
"""


def test_pdf_pages_are_kept_and_cited(tmp_path: Path) -> None:
    path = tmp_path / "sample-treaty.pdf"
    path.write_bytes(make_pdf(TREATY_PAGES, title="Sample Treaty"))
    doc = load_document(path)
    assert doc.meta.title == "Sample Treaty"
    assert doc.page_starts == (0, doc.text.index("Article 41"))
    assert doc.text.startswith("Sample Treaty on Trafficking\nArticle 1\n")
    assert "victims of trafficking (all forms)." in doc.text
    chunks = {c.pinpoint: c for c in chunk_document(doc)}
    assert chunks["Article 1"].page == 1
    assert chunks["Article 41"].page == 2
    assert "reflection period of forty days" in chunks["Article 41"].text


def test_pdf_without_metadata_title_uses_first_line(tmp_path: Path) -> None:
    path = tmp_path / "untitled.pdf"
    path.write_bytes(make_pdf(TREATY_PAGES))
    assert load_document(path).meta.title == "Sample Treaty on Trafficking"


def test_scanned_pdf_without_text_layer_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "scanned.pdf"
    path.write_bytes(make_pdf([None, None]))
    with pytest.raises(LoadError, match=r"scanned\.pdf: PDF has no text layer \(scanned\?\); run OCR first"):
        load_document(path)


@pytest.mark.parametrize("data", [b"%PDF-1.4\nthis is not really a pdf\n", b"\x00\x01garbage" * 50])
def test_corrupt_pdf_is_one_line_error(tmp_path: Path, data: bytes, capfd: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "broken.pdf"
    path.write_bytes(data)
    with pytest.raises(LoadError) as info:
        load_document(path)
    message = str(info.value)
    assert message.startswith(f"{path}: not a readable PDF")
    assert "\n" not in message
    assert capfd.readouterr().err == ""  # pypdf's repair warnings are not shown


def test_encrypted_pdf_is_reported(tmp_path: Path) -> None:
    from pypdf import PdfWriter

    plain = tmp_path / "plain.pdf"
    plain.write_bytes(make_pdf(TREATY_PAGES))
    locked = tmp_path / "locked.pdf"
    writer = PdfWriter(clone_from=str(plain))
    writer.encrypt(user_password="secret", algorithm="RC4-128")
    writer.write(str(locked))
    with pytest.raises(LoadError, match="PDF is encrypted"):
        load_document(locked)
    # An empty user password (permissions only) opens without asking.
    open_ = tmp_path / "permissions-only.pdf"
    writer = PdfWriter(clone_from=str(plain))
    writer.encrypt(user_password="", owner_password="owner", algorithm="RC4-128")
    writer.write(str(open_))
    assert "Article 41" in load_document(open_).text


def test_docx_headings_become_structure(tmp_path: Path) -> None:
    doc = load_document(make_docx(tmp_path / "sample-convention.docx"))
    assert doc.structured
    assert doc.doc_id == "sample-convention"
    assert doc.meta.title == "Sample Convention (Word edition)"
    assert "# Sample Convention\n" in doc.text
    assert "### Article 26 — Non-punishment provision" in doc.text
    assert "Signed | Warsaw, 16 May 2005" in doc.text
    chunks = chunk_document(doc)
    art26 = next(c for c in chunks if c.pinpoint == "Article 26")
    assert "compelled to do so" in art26.text
    assert art26.heading_path[-1] == "Article 26 — Non-punishment provision"
    assert "Chapter III Protection of victims" in art26.heading_path
    art27 = next(c for c in chunks if c.pinpoint == "Article 27")  # a bold line, not a Heading style
    assert "report or accusation" in art27.text
    assert art27.heading_path[-2:] == (
        "Chapter III Protection of victims",
        "Article 27 – Ex parte and ex officio applications",
    )


def test_corrupt_docx_is_one_line_error(tmp_path: Path) -> None:
    path = tmp_path / "broken.docx"
    path.write_bytes(b"PK\x03\x04 not really a zip archive")
    with pytest.raises(LoadError, match=r"broken\.docx: not a readable \.docx file") as info:
        load_document(path)
    assert "\n" not in str(info.value)


def test_html_keeps_main_text_and_drops_boilerplate(tmp_path: Path) -> None:
    path = tmp_path / "sample-directive.html"
    path.write_text(SAMPLE_HTML, encoding="utf-8")
    doc = load_document(path)
    assert doc.structured
    assert doc.meta.title == "Sample Directive – Official Journal"
    for noise in ("SCRIPT", "SITE-HEADER", "MENU", "COOKIE", "BREADCRUMB", "SIDEBAR", "FOOTER", "color: red"):
        assert noise not in doc.text
    assert "# Sample Directive on trafficking in human beings" in doc.text
    assert "This Directive establishes minimum rules on victims' protection." in doc.text  # whitespace collapsed
    assert "by the victim.\nSecond line of Article 9." in doc.text  # <br> is a line break
    assert "(a) first listed case" in doc.text
    chunks = {c.pinpoint: c for c in chunk_document(doc)}
    assert "entitled not to prosecute" in chunks["Article 8"].text
    assert "shall not depend on a report" in chunks["Article 9"].text  # a styled <p>, promoted to a heading
    assert chunks["Article 9"].heading_path == ("Sample Directive on trafficking in human beings", "Article 9")


def test_html_without_main_uses_body(tmp_path: Path) -> None:
    path = tmp_path / "page.htm"
    path.write_text(
        "<html><body><nav>NAV-NOISE</nav><div class='content'><h1>Section 45 defence</h1>"
        "<p>A person is not guilty of an offence if compelled.</p></div><footer>FOOT</footer></body></html>",
        encoding="utf-8",
    )
    doc = load_document(path)
    assert doc.text == "# Section 45 defence\n\nA person is not guilty of an offence if compelled."
    assert doc.meta.title == "Section 45 defence"


def test_html_with_no_text_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "app.html"
    path.write_text("<html><head><script>render()</script></head><body><nav>menu</nav></body></html>")
    with pytest.raises(LoadError, match="no text in the HTML page"):
        load_document(path)


def test_sidecar_metadata_overrides(tmp_path: Path) -> None:
    path = tmp_path / "sample-directive.html"
    path.write_text(SAMPLE_HTML, encoding="utf-8")
    (tmp_path / "sample-directive.meta.yaml").write_text(
        "title: Directive 2099/1/EU\ncitation: OJ L 1\ntype: eu-law\njurisdiction: EU\ndate: 2099-01-01\n"
        "url: https://example.org/d\nlanguage: en\nsha256: abc\nbytes: 12\n",
        encoding="utf-8",
    )
    meta = load_document(path).meta
    assert meta.as_dict() == {
        "title": "Directive 2099/1/EU",
        "citation": "OJ L 1",
        "type": "eu-law",
        "jurisdiction": "EU",
        "date": "2099-01-01",
        "url": "https://example.org/d",
        "language": "en",
        "authority": "primary",  # a file without `authority:` is the text itself
    }
    (tmp_path / "sample-directive.meta.yaml").write_text("title: [unclosed\n", encoding="utf-8")
    with pytest.raises(LoadError, match=r"sample-directive\.meta\.yaml: unreadable metadata sidecar"):
        load_document(path)


def test_discover_ignores_sidecars_and_partial_downloads(tmp_path: Path) -> None:
    (tmp_path / "a.pdf").write_bytes(make_pdf(TREATY_PAGES))
    (tmp_path / "a.meta.yaml").write_text("title: A\n")
    (tmp_path / "b.part").write_bytes(b"%PDF-1.4 partial")
    assert [p.name for p in discover([tmp_path])] == ["a.pdf"]


def test_text_in_legacy_encodings(tmp_path: Path) -> None:
    text = "Non-punishment – “compelled” offences; café déjà vu\n"
    cp1252 = tmp_path / "windows.txt"
    cp1252.write_bytes(text.encode("cp1252"))
    utf16 = tmp_path / "utf16.txt"
    utf16.write_bytes(text.encode("utf-16"))
    assert load_document(cp1252).text == text
    assert load_document(utf16).text == text


def test_ingest_and_ask_over_pdf_docx_html(tmp_path: Path, fake_embeddings: None) -> None:
    from rag.faces.cli import app

    folder = tmp_path / "mixed"
    folder.mkdir()
    (folder / "sample-treaty.pdf").write_bytes(make_pdf(TREATY_PAGES, title="Sample Treaty"))
    make_docx(folder / "sample-convention.docx")
    (folder / "sample-directive.html").write_text(SAMPLE_HTML, encoding="utf-8")
    runner = CliRunner()
    result = runner.invoke(app, ["ingest", str(folder), "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert sorted(Path(p).name for p in report["added"]) == [
        "sample-convention.docx",
        "sample-directive.html",
        "sample-treaty.pdf",
    ]
    assert report["failed"] == []

    question = "Must each Party grant victims a reflection period of forty days before any decision to prosecute?"
    result = runner.invoke(app, ["ask", question, "--json"])
    assert result.exit_code == 0, result.output
    answer = json.loads(result.stdout)
    assert not answer["refused"]
    cited = [c for c in answer["citations"] if c["doc_id"] == "sample-treaty"]
    assert cited, answer
    assert cited[0]["pinpoint"] == "Article 41"
    assert cited[0]["page"] == 2
    assert "forty days" in cited[0]["quote"]
