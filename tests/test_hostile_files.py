"""Hostile files (issue 18): aliases, bombs and pathological sizes are refused or read in bounded time and memory.

Each reproduction runs in a child process with a memory ceiling and a timeout (tests/bounded.py), so a regression
fails its test instead of hanging the suite or swapping the machine.
"""

from __future__ import annotations

from pathlib import Path

import bounded
import pytest
from hostile_inputs import LAUGHS, write_docx, write_pdf

from rag.core.errors import LoadError
from rag.ingest.load import load_document

LOAD = """
from pathlib import Path
from rag.core.errors import RagError
from rag.ingest.load import load_document
from rag.ingest.fetch import load_catalog
try:
    {call}
    print("loaded")
except RagError as exc:
    print(exc)
"""


@pytest.mark.parametrize(
    ("name", "files", "call"),
    [
        ("front matter", {"note.md": f"---\n{LAUGHS}title: *i\n---\n# Note\n\nText.\n"},
         "load_document(Path('note.md'))"),
        ("sidecar", {"page.html": "<h1>Page</h1><p>Text.</p>", "page.meta.yaml": f"{LAUGHS}citation: *i\n"},
         "load_document(Path('page.html'))"),
        ("sources.yaml", {"sources.yaml": f"{LAUGHS}sources:\n  - name: x\n    url: https://e.org/x\n    title: *i\n"},
         "load_catalog(Path('sources.yaml'))"),
    ],
)  # fmt: skip
def test_yaml_aliases_are_refused_in_metadata(tmp_path: Path, name: str, files: dict[str, str], call: str) -> None:
    for file, text in files.items():
        (tmp_path / file).write_text(text)
    code = f"import os; os.chdir({str(tmp_path)!r})\n" + LOAD.format(call=call)
    run = bounded.python(code, timeout=60, memory_mb=1500)
    assert run.returncode == 0, run.stderr[-2000:]
    assert "uses a YAML alias (*name) or merge key (<<); write the value out" in run.stdout, (name, run.stdout)
    assert run.seconds < 30 and run.peak_mb < 300, (run.seconds, run.peak_mb)


def test_yaml_nested_too_deeply_is_malformed_front_matter(tmp_path: Path) -> None:
    path = tmp_path / "deep.md"
    path.write_text("---\ntitle: " + "[" * 50_000 + "]" * 50_000 + "\n---\n# Deep\n\nText.\n")
    with pytest.raises(LoadError, match="malformed front matter"):
        load_document(path)


@pytest.mark.parametrize("key", ["title", "citation", "jurisdiction"])
def test_a_front_matter_value_over_its_limit_is_refused_by_name(tmp_path: Path, key: str) -> None:
    path = tmp_path / "long.md"
    path.write_text(f"---\n{key}: {'Lorem ipsum dolor ' * 2300}\n---\n# Long\n\nText.\n")  # about 40,000 characters
    with pytest.raises(LoadError, match=rf"metadata '{key}' is 41,399 characters, over \d+; shorten it"):
        load_document(path)


def test_a_title_taken_from_a_huge_heading_is_cut_at_a_word(tmp_path: Path) -> None:
    path = tmp_path / "heading.md"
    path.write_text("# " + "Convention on the rights of victims " * 1200 + "\n\nText under the heading.\n")
    title = load_document(path).meta.title
    assert len(title) <= 302 and title.endswith(" …") and title.startswith("Convention on the rights of victims")


def test_splitting_a_long_title_and_many_sentences_into_sentences_is_linear() -> None:
    code = """
    import time
    from rag.core import sentences
    title = "Guidance on the non-punishment of victims of trafficking " * 700 + ". A second sentence."
    many = "The victim was compelled to act under duress. " * 5000
    took = {}
    for name, text in (("title", title), ("many", many)):
        started = time.perf_counter()
        spans = sentences.split(text)
        took[name] = time.perf_counter() - started
        assert all(text[a:b].strip() for a, b in spans)
    assert len(sentences.split(many)) == 5000
    print(took["title"], took["many"])
    """
    run = bounded.python(code, timeout=60, memory_mb=1000)
    assert run.returncode == 0, run.stderr[-2000:]
    title_s, many_s = map(float, run.stdout.split())
    assert title_s < 0.5 and many_s < 2, (title_s, many_s)  # 40,000 and 235,000 characters


CHUNK_MARKDOWN = """
import sys, time
from pathlib import Path
from rag.core.records import DocMeta, SourceDocument
from rag.ingest.chunk import chunk_document
section = "## Article {{n}} - Rule\\n\\nVictims shall not be punished for acts they were compelled to commit.\\n\\n"
parts = [section.format(n=n) + ("```\\n# code, not a heading\\n```\\n\\n" if n % 50 == 0 else "") for n in range({n})]
text = "# Big\\n\\n" + "".join(parts) + "# a" + " #" * 10000 + " b\\n\\nUnder a heading of 20,000 characters.\\n"
doc = SourceDocument(doc_id="big", path=Path("big.md"), text=text, meta=DocMeta(title="Big"), structured=True)
started = time.perf_counter()
chunks = chunk_document(doc)
took = time.perf_counter() - started
assert not any("code, not a heading" in c.heading_path for c in chunks)
assert all(doc.text[c.start : c.end] == c.text for c in chunks[::97])
print(len(text), len(chunks), took)
"""


def test_chunking_markdown_of_many_short_sections_is_linear() -> None:
    run = bounded.python(CHUNK_MARKDOWN.format(n=11_000), timeout=60, memory_mb=1000)  # 1 MB, 11,000 headings
    assert run.returncode == 0, run.stderr[-2000:]
    size, chunks, took = run.stdout.split()
    assert int(chunks) > 11_000 and float(took) < 3, (size, chunks, took)


@pytest.mark.slow
def test_chunking_a_10_mb_markdown_file_takes_seconds() -> None:
    run = bounded.python(CHUNK_MARKDOWN.format(n=110_000), timeout=180, memory_mb=2000)  # 10 MB, 110,000 headings
    assert run.returncode == 0, run.stderr[-2000:]
    size, chunks, took = run.stdout.split()
    assert int(size) > 10_000_000 and float(took) < 60 and run.peak_mb < 600, (size, chunks, took, run.peak_mb)


DOCX = """
from pathlib import Path
from rag.core.errors import LoadError
from rag.ingest.load import load_document
try:
    print(len(load_document(Path({path!r})).text))
except LoadError as exc:
    print(exc)
"""


@pytest.mark.parametrize(
    ("count", "refusal"),
    [
        (10_000_000, "unzips to 344 MB, over the 64 MB of XML and 256 MB in all a .docx may hold"),  # 1 MB zipped
        (150_000, "150,000 paragraphs and 468,655 XML elements, over the 100,000 and 2,000,000 a .docx may hold"),
    ],
)
def test_a_docx_bomb_is_refused_before_it_is_parsed(tmp_path: Path, count: int, refusal: str) -> None:
    path = tmp_path / "bomb.docx"
    write_docx(path, b"<w:p><w:r><w:t>lol</w:t></w:r></w:p>", count)
    assert path.stat().st_size < 2 * 2**20
    run = bounded.python(DOCX.format(path=str(path)), timeout=60, memory_mb=1500)
    assert run.returncode == 0, run.stderr[-2000:]
    assert refusal in run.stdout, run.stdout
    assert run.seconds < 20 and run.peak_mb < 150, (run.seconds, run.peak_mb)


PDF = """
import time
from pathlib import Path
from rag.core.errors import LoadError
from rag.ingest import pdf_file
from rag.ingest.load import load_document
pdf_file.MAX_TEXT_BYTES = {limit}
try:
    print(len(load_document(Path({path!r})).text))
except LoadError as exc:
    print(exc)
"""


@pytest.mark.parametrize(
    ("shared", "limit", "refusal"),
    [
        (True, 10_000_000, "over 10,000,000 characters of text by page 25 of 100, over the limit; split it"),
        (False, 1_000_000, "over 1,000,000 characters of text by page 3 of 100, over the limit; split it"),
    ],
)
def test_a_pdf_over_the_text_limit_is_refused_page_by_page(
    tmp_path: Path, shared: bool, limit: int, refusal: str
) -> None:
    path = tmp_path / "long.pdf"
    write_pdf(path, pages=100, lines=5000, shared=shared)  # some 420,000 characters a page
    assert path.stat().st_size < (30_000 if shared else 3_000_000)
    run = bounded.python(PDF.format(path=str(path), limit=limit), timeout=90, memory_mb=1500)
    assert run.returncode == 0, run.stderr[-2000:]
    assert refusal in run.stdout, run.stdout
    assert run.seconds < 30 and run.peak_mb < 400, (run.seconds, run.peak_mb)


def test_text_with_lone_surrogates_from_a_parser_is_stored_as_replacement_characters(tmp_path: Path) -> None:
    from rag.ingest.document import document_from

    text = "Article 26 \ud800 applies.\udc80"
    doc = document_from(tmp_path / "broken-map.pdf", text, "Title \udcff", page_starts=(0,))
    assert doc.text == "Article 26 \ufffd applies.\ufffd" and doc.meta.title == "Title \ufffd"
    doc.text.encode("utf-8")  # what the store needs
