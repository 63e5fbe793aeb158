"""Bad input: every bad file gets one clear line and the rest is indexed; bad questions and scripts are one line."""

from __future__ import annotations

import io
import json
import os
import resource
import tempfile
import time
from pathlib import Path

import pytest
from chroma_server import untouched
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_formats import make_pdf
from typer.testing import CliRunner

from rag.core.config import Settings
from rag.core.errors import LoadError
from rag.faces.cli import app
from rag.ingest.chunk import chunk_document
from rag.ingest.document import MAX_TEXT_BYTES
from rag.ingest.load import load_document
from rag.ingest.pipeline import ingest

pytest_plugins = ["chroma_server"]
runner = CliRunner()
GOOD = "---\ntitle: Good Note\n---\n# Good Note\n\n## Article 1\n\nVictims shall not be punished for compelled acts.\n"
TWIN = "---\ntitle: Twin\n---\n# Twin\n\nSame bytes under two names.\n"
LINE = ("Article 5 victims of trafficking compelled offences non-punishment " * 20 + "\n\n").encode()

# file name -> what its one line must say
FAILS = {
    "empty.txt": "empty file",
    "blank.md": "empty file",
    "picture.txt": "looks binary",
    "noise.txt": "looks binary",
    "bad-utf16.txt": "not valid UTF-16",
    "corrupt.pdf": "not a readable PDF",
    "locked.pdf": "PDF is encrypted",
    "scanned.pdf": "no text layer",
    "front.md": "malformed front matter",
    "huge.txt": "over the 10 MB limit for a text file",
    "loop": "symbolic link loop",
    "self.md": "symbolic link loop",
    "broken.md": "broken symbolic link",
}
DECODED = {  # file name -> text that must reach the index intact
    "cp1252.txt": "The “non-punishment” principle costs 5 € — nothing else.",
    "latin1.txt": "Señora Müller was compelled to work in Zürich.",
    "utf16.txt": "Die Straße: Opfer werden nicht bestraft.",
    "stray-bytes.md": "Café and a stray \ufffd byte here.",
}


def encrypted_pdf() -> bytes:
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter()
    writer.append(PdfReader(io.BytesIO(make_pdf([["Article 9", "Secret text about victims."]]))))
    writer.encrypt("secret", algorithm="AES-256")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def bad_corpus(root: Path) -> Path:
    root.mkdir()
    (root / "good.md").write_text(GOOD)
    (root / "empty.txt").write_bytes(b"")
    (root / "blank.md").write_text("   \n\n")
    (root / "picture.txt").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 4)
    (root / "noise.txt").write_bytes(bytes([1, 2, 3, 4, 5, 6, 7, 8, 11, 14, 15, 16]) * 100 + b"abc")
    (root / "cp1252.txt").write_bytes(f"Article 2\n\n{DECODED['cp1252.txt']}\n".encode("cp1252"))
    (root / "latin1.txt").write_bytes(f"Article 3\n\n{DECODED['latin1.txt']}\n".encode("latin-1"))
    (root / "utf16.txt").write_bytes(f"Article 4\n\n{DECODED['utf16.txt']}\n".encode("utf-16"))  # with its BOM
    (root / "bad-utf16.txt").write_bytes(b"\xff\xfe\x00\xd8a")
    (root / "stray-bytes.md").write_bytes(b"---\ntitle: Stray\n---\n# Stray\n\nCaf\xc3\xa9 and a stray \x81 byte here.")
    (root / "corrupt.pdf").write_bytes(b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer garbage")
    (root / "scanned.pdf").write_bytes(make_pdf([None, None]))
    (root / "locked.pdf").write_bytes(encrypted_pdf())
    (root / "front.md").write_text("---\ntitle: [unclosed\n---\n# Body\n\ntext\n")
    deep = root.joinpath(*[f"d{i}" for i in range(200)])
    deep.mkdir(parents=True)
    (deep / "deep.md").write_text("---\ntitle: Deep Note\n---\n# Deep Note\n\nDeeply nested shelter rules.\n")
    os.symlink(".", root / "loop")
    os.symlink("self.md", root / "self.md")
    os.symlink("/nonexistent/target.md", root / "broken.md")
    (root / "a-original.md").write_text(TWIN)
    (root / "b-copy.md").write_text(TWIN)
    with (root / "huge.txt").open("wb") as f:
        f.write(LINE * (50 * 2**20 // len(LINE) + 1))
    return root


def stored_texts(settings: Settings) -> str:
    from rag.index import store

    data = store.chunk_collection(store.open_client(settings), settings).get(include=["documents"])
    return "\n".join(data["documents"] or [])


def test_each_bad_file_is_one_line_and_the_rest_is_indexed(fake_embeddings: None, tmp_path: Path) -> None:
    root = bad_corpus(tmp_path / "corpus")
    with untouched(root):
        started = time.monotonic()
        result = runner.invoke(app, ["ingest", str(root)])
        took = time.monotonic() - started
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].startswith(f"7 added, 0 updated, 0 unchanged, 0 removed, {len(FAILS)} failed;")
    for name, reason in FAILS.items():
        mine = [ln for ln in lines if ln.startswith(f"  failed: {root / name}: ")]
        assert len(mine) == 1 and reason in mine[0], (name, mine)
    assert f"  duplicate: {root / 'b-copy.md'} (same as {root / 'a-original.md'})" in lines
    assert len(lines) == 1 + len(FAILS) + 1  # nothing else: no warnings, no tracebacks
    assert took < 60, f"ingest took {took:.0f} s"  # the 50 MB file is refused from its size, not read

    texts = stored_texts(Settings.from_env())
    for name, text in DECODED.items():
        assert text in texts, name
    assert "Deeply nested shelter rules." in texts and texts.count("Same bytes under two names.") == 1

    again = json.loads(runner.invoke(app, ["ingest", str(root), "--json"]).stdout)
    assert again["embedded"] == 0 and len(again["unchanged"]) == 7 and len(again["failed"]) == len(FAILS)
    assert again["duplicates"] == [{"path": str(root / "b-copy.md"), "same_as": str(root / "a-original.md")}]


def test_a_file_indexed_before_that_becomes_a_duplicate_leaves_the_index(fake_embeddings: None, tmp_path: Path) -> None:
    root = tmp_path / "corpus"
    root.mkdir()
    (root / "b-copy.md").write_text(TWIN)
    settings = Settings.from_env()
    with untouched(root):
        ingest([root], settings)
    (root / "a-original.md").write_text(TWIN)  # the same text arrives under a name that sorts first
    with untouched(root):
        report = ingest([root], settings)
    assert report.added == [str(root / "a-original.md")]
    assert report.duplicates == [(str(root / "b-copy.md"), str(root / "a-original.md"))]
    assert stored_texts(settings).count("Same bytes under two names.") == 1
    (root / "a-original.md").unlink()  # and when the first goes, the copy is indexed again
    with untouched(root):
        report = ingest([root], settings)
    assert report.added == [str(root / "b-copy.md")] and report.removed == [str(root / "a-original.md")]
    assert stored_texts(settings).count("Same bytes under two names.") == 1


def test_a_text_file_at_the_size_limit_loads_and_chunks_in_bounded_time_and_memory(tmp_path: Path) -> None:
    path = tmp_path / "limit.txt"
    with path.open("wb") as f:
        f.write(LINE * ((MAX_TEXT_BYTES - 4096) // len(LINE)))
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.monotonic()
    doc = load_document(path)
    chunks = chunk_document(doc)
    took = time.monotonic() - started
    grown_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    assert len(chunks) > 5000 and all(doc.text[c.start : c.end] == c.text for c in chunks[:: len(chunks) // 50])
    assert took < 30, f"{took:.1f} s to load and chunk 10 MB"
    assert grown_mb < 400, f"{grown_mb:.0f} MB of memory to load and chunk 10 MB"
    path.write_bytes(LINE * (MAX_TEXT_BYTES // len(LINE) + 1))
    with pytest.raises(LoadError, match="over the 10 MB limit"):
        load_document(path)


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("", "question is empty"),
        ("   \t  ", "question is empty"),
        ("\x00\x01\x07\x1b\x7f", "question is empty"),
        ("x" * 100_000, "100,000 characters"),
        ("victims " * 600, "4,799 characters"),
    ],
)
def test_unusable_questions_are_one_line(
    fake_embeddings: None, sample_corpus: Path, question: str, expected: str
) -> None:
    with untouched(sample_corpus):
        assert runner.invoke(app, ["ingest", str(sample_corpus)]).exit_code == 0
    result = runner.invoke(app, ["ask", question])
    assert result.exit_code == 1 and result.stdout == ""
    assert result.stderr.startswith("Error: ") and expected in result.stderr and result.stderr.count("\n") == 1


def test_a_question_with_control_characters_is_cleaned_and_answered(fake_embeddings: None, sample_corpus: Path) -> None:
    with untouched(sample_corpus):
        assert runner.invoke(app, ["ingest", str(sample_corpus)]).exit_code == 0
    question = "What does\x00 Article 26\x1b[2J of the\x07 Sample\r Convention require?"
    result = runner.invoke(app, ["ask", question, "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["question"] == "What does Article 26 [2J of the Sample Convention require?"
    assert data["citations"][0]["pinpoint"] == "Article 26"


def test_a_session_script_with_bad_yaml_is_one_line(fake_embeddings: None, sample_corpus: Path, tmp_path: Path) -> None:
    script = tmp_path / "broken.yaml"
    script.write_text('title: "Workshop"\nquestions:\n  - ask: "Is Article 26 binding?\n    expect: [\n')
    ran = runner.invoke(app, ["session", "run", str(script), "--out", str(tmp_path / "out")])
    assert ran.exit_code == 1 and ran.stdout == "", ran.output
    assert ran.stderr.startswith("Error: ") and str(script) in ran.stderr and ran.stderr.count("\n") == 1
    assert "line" in ran.stderr and "Traceback" not in ran.output
    assert not (tmp_path / "out" / "results.jsonl").exists()
    checked = runner.invoke(app, ["session", "check", str(script)])
    assert checked.exit_code == 1 and "Traceback" not in checked.output
    assert all(line.startswith(str(script)) for line in checked.stderr.splitlines())


# --- fuzzing the loaders and the chunker -------------------------------------------------------------

LEGAL_LINES = st.sampled_from(
    [
        "# Convention", "## Article 26 — Non-punishment", "Article 4", "ARTICLE 12", "Art. 3 - Scope",
        "§ 7101. Purposes", "(a) Findings", "1. The Parties shall", "(2) A person", "CHAPTER III", "Preamble",
        "Schedule 1", "---", "title: x", "```", "Recital 14", "", " ", "\t", "\f", "\r", "=====", "TITLE: A",
        "Principle 7", "Guideline 4.5",
        "<p>Article 5</p>", "<h2>Section 45(4)</h2>", "<nav>menu</nav>", "<script>x</script>", "&amp; &#x26;",
    ]
)  # fmt: skip
TEXT = st.one_of(
    st.text(max_size=3000),
    st.lists(st.one_of(LEGAL_LINES, st.text(max_size=200)), max_size=60).map("\n".join),
)
ENCODINGS = st.sampled_from(["utf-8", "utf-8-sig", "utf-16", "cp1252", "latin-1"])
SUFFIXES = st.sampled_from([".md", ".txt", ".html", ".md", ".txt"])


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=TEXT, encoding=ENCODINGS, suffix=SUFFIXES, front=st.booleans())
def test_fuzz_loaders_and_chunker_never_crash_and_chunks_are_spans(
    text: str, encoding: str, suffix: str, front: bool
) -> None:
    if front:
        text = "---\ntitle: Fuzz\n" + text[:80] + "\n---\n" + text
    data = text.encode(encoding, errors="replace")
    check_file(data, suffix)


@settings(max_examples=100, deadline=None)
@given(data=st.binary(max_size=4000), suffix=st.sampled_from([".md", ".txt", ".pdf", ".docx", ".html"]))
def test_fuzz_loaders_with_raw_bytes(data: bytes, suffix: str) -> None:
    check_file(data, suffix)


def check_file(data: bytes, suffix: str) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"fuzz{suffix}"
        path.write_bytes(data)
        try:
            doc = load_document(path)
        except LoadError as exc:
            assert str(exc).startswith(str(path)) and "\n" not in str(exc)
            return
        chunks = chunk_document(doc)
    for c in chunks:
        assert c.text == doc.text[c.start : c.end] and c.text.strip() and c.start < c.end
    assert len({c.chunk_id for c in chunks}) == len(chunks)
